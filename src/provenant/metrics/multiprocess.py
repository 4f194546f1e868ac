"""For ``provenant serve`` with metrics on: the directory where the server's processes share their values
(prometheus-client's multiprocess mode). Set up before any worker, or the app, imports prometheus-client, which
reads ``PROMETHEUS_MULTIPROC_DIR`` when imported."""

import os
import shutil
import tempfile
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_OURS = "provenant-metrics-"


def prepare() -> Path:
    """The directory, emptied: a previous run's values, written by processes long gone, must not be added to this
    run's. An operator's own ``PROMETHEUS_MULTIPROC_DIR`` is used (its *.db files removed) when set; otherwise a
    new directory under the system's temporary directory, removed again by ``remove``."""
    chosen = os.environ.get(MULTIPROC_ENV)
    if chosen:
        directory = Path(chosen)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
    else:
        directory = Path(tempfile.mkdtemp(prefix=_OURS))
    os.environ[MULTIPROC_ENV] = str(directory)
    return directory


def remove(directory: Path) -> None:
    """Removes the directory ``prepare`` made (an operator's own is left where it is)."""
    if directory.name.startswith(_OURS):
        shutil.rmtree(directory, ignore_errors=True)
