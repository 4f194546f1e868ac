"""What users install: the server's and the Python SDK's wheels and sdists, and the TypeScript SDK's npm package,
each installed the way a user installs it (never editable, never from this checkout) and used.

Built once for the module: the sdists first, the wheels from the sdists (`uv build`), so a file missing from an
sdist fails here too. The server from its wheel serves the dashboard and the API docs; the npm package works from
`import` and from `require`, against that server.
"""

import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.factories import create_key, register
from tests.servers import free_port

ROOT = Path(__file__).parents[1]
UV = Path(sys.executable).with_name("uv")
TYPESCRIPT_SDK = ROOT / "sdks" / "typescript"


@dataclass
class Built:
    server_wheel: Path
    server_sdist: Path
    sdk_wheel: Path
    python: Path  # of a clean virtual environment holding both wheels


def _copy(source: Path, target: Path, names: tuple[str, ...]) -> Path:
    """The files a build needs, copied: setuptools writes build/ and egg-info beside the sources it builds."""
    target.mkdir(parents=True)
    for name in names:
        if (source / name).is_dir():
            shutil.copytree(source / name, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy(source / name, target / name)
    return target


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    work = tmp_path_factory.mktemp("packages")
    dist = work / "dist"
    server = _copy(ROOT, work / "server", ("pyproject.toml", "README.md", "src"))
    sdk = _copy(ROOT / "sdks" / "python", work / "sdk", ("pyproject.toml", "README.md", "src"))
    for project in (server, sdk):
        subprocess.run([str(UV), "build", "--quiet", "--out-dir", str(dist), str(project)], check=True)
    venv = work / "clean-venv"
    subprocess.run([str(UV), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    python = venv / "bin" / "python"
    wheels = sorted(dist.glob("*.whl"))
    subprocess.run([str(UV), "pip", "install", "--quiet", "--python", str(python), *map(str, wheels)], check=True)
    (server_wheel,) = dist.glob("provenant-*.whl")
    (server_sdist,) = dist.glob("provenant-*.tar.gz")
    (sdk_wheel,) = dist.glob("provenant_sdk-*.whl")
    return Built(server_wheel, server_sdist, sdk_wheel, python)


def test_the_wheel_and_the_sdist_hold_every_dashboard_file_and_migration(built: Built) -> None:
    with zipfile.ZipFile(built.server_wheel) as archive:
        in_wheel = set(archive.namelist())
    with tarfile.open(built.server_sdist) as archive:
        in_sdist = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    package = ROOT / "src" / "provenant"
    for directory in ("dashboard/static", "migrations/versions"):
        expected = {
            f"provenant/{directory}/{path.relative_to(package / directory).as_posix()}"
            for path in (package / directory).rglob("*")
            if path.is_file() and "__pycache__" not in path.parts
        }
        assert expected <= in_wheel, sorted(expected - in_wheel)
        assert {f"src/{name}" for name in expected} <= in_sdist, sorted({f"src/{n}" for n in expected} - in_sdist)
    assert "provenant/dashboard/static/index.html" in in_wheel


def test_each_python_package_has_one_version_and_installs_outside_this_checkout(built: Built) -> None:
    probe = (
        "import importlib.metadata as m, json, provenant, provenant_sdk; "
        "print(json.dumps([m.version('provenant'), provenant.__version__, m.version('provenant-sdk'), "
        "provenant_sdk.__version__, provenant.__file__, provenant_sdk.__file__]))"
    )
    output = subprocess.run([str(built.python), "-c", probe], check=True, capture_output=True, text=True, cwd="/")
    server_dist, server_code, sdk_dist, sdk_code, server_file, sdk_file = json.loads(output.stdout)
    assert server_dist == server_code and sdk_dist == sdk_code
    for installed in (server_file, sdk_file):
        assert Path(installed).is_relative_to(built.python.parents[1]), installed  # the venv's, not src/


@pytest.fixture(scope="module")
def wheel_server(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`provenant serve` of the clean environment: the wheel's own entry point, on SQLite."""
    data_dir = tmp_path_factory.mktemp("wheel-server")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVENANT_")}
    env |= {"PROVENANT_DATA_DIR": str(data_dir)}
    log = (data_dir / "server.log").open("wb")
    provenant = built.python.with_name("provenant")
    process = subprocess.Popen(
        [str(provenant), "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=data_dir
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{url}/api/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, (data_dir / "server.log").read_text()
            subprocess.run(["sleep", "0.1"], check=True)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def test_the_installed_server_serves_the_dashboard_and_the_api_docs(wheel_server: str) -> None:
    with httpx.Client(base_url=wheel_server, timeout=10) as client:
        page = client.get("/")
        assert page.status_code == 200 and '<script type="module" src="/app.js"' in page.text
        script = client.get("/app.js")
        assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
        docs = client.get("/api/docs")
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
        assert client.get("/api/openapi.json").json()["paths"]["/api/ready"]


def test_the_npm_package_works_from_import_and_require(wheel_server: str, tmp_path: Path) -> None:
    if not (TYPESCRIPT_SDK / "dist" / "index.js").exists():
        subprocess.run(["npm", "run", "build", "--silent"], cwd=TYPESCRIPT_SDK, check=True)
    # --ignore-scripts: scripts/test has just built dist (prepack would build it again).
    packed = subprocess.run(
        ["npm", "pack", "--ignore-scripts", "--silent", "--pack-destination", str(tmp_path)],
        cwd=TYPESCRIPT_SDK, check=True, capture_output=True, text=True,
    )  # fmt: skip
    tarball = tmp_path / packed.stdout.strip().splitlines()[-1]
    project = tmp_path / "scratch"
    project.mkdir()
    (project / "package.json").write_text(json.dumps({"name": "scratch", "version": "1.0.0", "private": True}))
    npm_install = ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", str(tarball)]
    subprocess.run(npm_install, cwd=project, check=True)

    with httpx.Client(base_url=wheel_server, timeout=10) as client:
        key = create_key(client, register(client), name="npm-package")
    version = json.loads((TYPESCRIPT_SDK / "package.json").read_text())["version"]
    call = "new ProvenantClient({ baseUrl: process.env.URL, apiKey: process.env.KEY }).me()"
    show = ".then((me) => console.log(JSON.stringify({ version: VERSION, org: me.org.slug })))"
    names = "{ ProvenantClient, VERSION }"
    scripts = {
        "import": ("--input-type=module", f"import {names} from '@provenant/sdk'; {call}{show};"),
        "require": ("--input-type=commonjs", f"const {names} = require('@provenant/sdk'); {call}{show};"),
    }
    env = {**os.environ, "URL": wheel_server, "KEY": key, "NODE_NO_WARNINGS": "1"}
    for how, (input_type, source) in scripts.items():
        ran = subprocess.run(
            ["node", input_type, "-e", source], cwd=project, env=env, capture_output=True, text=True, timeout=60
        )
        assert ran.returncode == 0, f"{how}: {ran.stderr}"
        answer = json.loads(ran.stdout.strip().splitlines()[-1])
        assert answer["version"] == version, how
        assert answer["org"], how
