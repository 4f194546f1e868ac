"""`provenant serve --workers 2` with metrics on: a scrape, whichever worker answers it, adds up every worker's
values (prometheus-client's multiprocess mode), and a previous run's values are not added to this one's."""

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.databases import sqlite_url
from tests.servers import serve

HEALTH = {"route": "/api/health", "method": "GET", "status": "200"}


def health_requests(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "provenant_http_requests_total" and sample.labels == HEALTH:
                return sample.value
    return 0.0


def test_every_workers_requests_are_summed_and_a_previous_runs_are_not(tmp_path: Path) -> None:
    shared = tmp_path / "metrics"
    shared.mkdir()
    # A previous run's values, left in the directory by processes long gone: 1,000 health checks.
    stale = (
        "from prometheus_client import Counter; "
        "Counter('provenant_http_requests', '', ['route', 'method', 'status'])"
        ".labels('/api/health', 'GET', '200').inc(1000)"
    )
    subprocess.run(
        [sys.executable, "-c", stale], env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(shared)}, check=True
    )
    assert health_requests_in(shared) == 1000

    server_env = {"PROVENANT_METRICS": "true", "PROMETHEUS_MULTIPROC_DIR": str(shared)}
    with serve(tmp_path, sqlite_url(tmp_path / "data" / "provenant.db"), workers=2, env=server_env) as server:
        before = health_requests(httpx.get(f"{server.url}/metrics", timeout=10).text)  # the start's own checks

        def check(_: int) -> int:
            # A connection each: the kernel spreads new connections over the workers.
            return httpx.get(f"{server.url}/api/health", timeout=10).status_code

        # Batches of 60 until both workers have answered some: a busy machine's kernel was seen handing one worker
        # every connection of a batch.
        sent, writers = 0, set()
        while len(writers) < 2 and sent < 600:
            with ThreadPoolExecutor(8) as pool:
                assert set(pool.map(check, range(60))) == {200}
            sent += 60
            writers = {path.name.split("_")[-1] for path in shared.glob("counter_*.db")}
        # Ten scrapes, each on a connection of its own (so answered by either worker): each sees every request.
        seen = {health_requests(httpx.get(f"{server.url}/metrics", timeout=10).text) for _ in range(10)}
    assert before < 1000
    assert seen == {before + sent}
    assert len(writers) == 2, writers  # two worker processes, each writing its own values


def health_requests_in(directory: Path) -> float:
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(directory))
    return health_requests(generate_latest(registry).decode())
