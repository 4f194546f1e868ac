"""`pip install` ships the dashboard: a wheel built from the project holds every static file."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_the_wheel_holds_every_dashboard_file(tmp_path: Path) -> None:
    # Built from a copy: setuptools writes build/ and egg-info beside the sources it builds.
    project = tmp_path / "project"
    project.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(ROOT / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(project)],
        check=True,
    )
    (wheel,) = tmp_path.glob("provenant-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = set(archive.namelist())
    static = project / "src" / "provenant" / "dashboard" / "static"  # the files this wheel was built from
    expected = {
        f"provenant/dashboard/static/{path.relative_to(static).as_posix()}"
        for path in static.rglob("*")
        if path.is_file()
    }
    assert "provenant/dashboard/static/index.html" in expected
    assert "provenant/dashboard/static/pages/keys.js" in expected
    assert expected <= shipped, sorted(expected - shipped)
    assert "provenant/dashboard/routes.py" in shipped
