"""Where a read's server CPU goes, per layer: py-spy on `provenant serve` (one worker) while wrk loads it.

Run by hand (needs `wrk`, and py-spy in the venv: .venv/bin/pip install py-spy; root or ptrace rights):
    .venv/bin/python benchmarks/profile_layers.py [--duration 10] [--postgres URL] [--src OLD_SRC]

For each endpoint of auth_throughput.py, and the bare Starlette list, wrk runs as there while py-spy samples
the server's busy threads; each sample is put in the layer of its innermost frame that names one (a sample in
sqlite3 under the key lookup is the query, one in Starlette's header parsing under auth/deps.py is
authentication). The shares are scaled by the server CPU per request measured over the same run.
"""

import argparse
import subprocess
import sys
import tempfile
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import httpx
from auth_throughput import APP_ENDPOINTS, BARE, Server, _cpu_seconds, bare_list, provenant

# (where a frame's file path contains this, or its function is named this) -> layer; the first rule a frame
# matches names its layer, and the innermost frame that matches any rule names the sample's.
RULES: tuple[tuple[str, str], ...] = (
    ("serialize_response", "serialisation"),
    ("/provenant/hot_path_sql.py", "query"),
    ("/provenant/db.py", "query"),
    ("/sqlite3/", "query"),
    ("/psycopg/", "query"),
    ("/sqlalchemy/", "query"),
    ("/provenant/auth/", "authentication"),
    ("/pydantic/", "serialisation"),
    ("/json/", "serialisation"),
    ("/starlette/responses.py", "serialisation"),
    ("/fastapi/encoders.py", "serialisation"),
    ("/provenant/lean_route.py", "dependency solving"),
    ("/provenant/request_layer.py", "middlewares"),
    ("/provenant/request_id.py", "middlewares"),
    ("/provenant/headers.py", "middlewares"),
    ("/provenant/body_limit.py", "middlewares"),
    ("/provenant/request_guard.py", "middlewares"),
    ("/provenant/json_depth.py", "middlewares"),
    ("/provenant/asgi.py", "middlewares"),
    ("/provenant/unit_of_work.py", "middlewares"),
    ("/starlette/middleware/", "middlewares"),
    ("/starlette/_exception_handler.py", "middlewares"),
    ("/fastapi/middleware/", "middlewares"),
    ("/fastapi/_body_limit.py", "middlewares"),
    ("/fastapi/telemetry/", "middlewares"),
    ("/fastapi/dependencies/", "dependency solving"),
    ("/fastapi/routing.py", "routing"),
    ("/starlette/routing.py", "routing"),
    ("/fastapi/applications.py", "routing"),
    ("/starlette/applications.py", "routing"),
    ("/provenant/", "route itself"),
    ("bare_list.py", "route itself"),
    ("/uvicorn/", "HTTP server (uvicorn, httptools)"),
)
LAYERS = (
    "HTTP server (uvicorn, httptools)",
    "middlewares",
    "routing",
    "dependency solving",
    "authentication",
    "query",
    "route itself",
    "serialisation",
    "event loop, other",
)


def layer_of(stack: str) -> str:
    frames = stack.split(";")
    for frame in reversed(frames):  # innermost last in py-spy's raw format
        for needle, layer in RULES:
            if needle in frame:
                return layer
    return "event loop, other"


def profile(server: Server, path: str, credential: str | None, *, duration: int) -> tuple[Counter[str], float]:
    """Samples per layer, and server CPU µs per request, over one wrk run."""
    with tempfile.TemporaryDirectory() as directory:
        output = Path(directory) / "samples.txt"
        spy = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "py-spy"),
                "record",
                "--pid",
                str(server.process.pid),
                "--format",
                "raw",
                "--output",
                str(output),
                "--full-filenames",
                "--nolineno",
                "--rate",
                "250",
                "--nonblocking",
                "--duration",
                str(duration + 2),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        command = ["wrk", "-t2", "-c32", f"-d{duration}s", server.base + path]
        if credential:
            command[1:1] = ["-H", f"Authorization: Bearer {server.credentials[credential]}"]
        before = _cpu_seconds(server.process.pid)
        run = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        cpu = _cpu_seconds(server.process.pid) - before
        spy.wait()
        samples: Counter[str] = Counter()
        for line in output.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            samples[layer_of(stack)] += int(count)
    requests = int(run.split(" requests in")[0].split()[-1])
    return samples, cpu / requests * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--postgres", metavar="URL")
    parser.add_argument("--src", metavar="OLD_SRC", help="profile the code in OLD_SRC instead")
    args = parser.parse_args()
    columns: dict[str, tuple[Counter[str], float]] = {}
    with ExitStack() as stack:
        server = stack.enter_context(provenant(stack, args.src, args.postgres, 1))
        key = {"Authorization": f"Bearer {server.credentials['key']}"}
        bare = stack.enter_context(bare_list(stack, httpx.get(server.base + "/api/agents", headers=key).content, 1))
        columns[BARE] = profile(bare, "/agents", None, duration=args.duration)
        for label, path, credential in APP_ENDPOINTS:
            columns[label] = profile(server, path, credential, duration=args.duration)
    print("| layer (µs of server CPU per request) | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for layer in LAYERS:
        cells = []
        for samples, cpu in columns.values():
            total = sum(samples.values()) or 1
            cells.append(f"{samples[layer] / total * cpu:.0f}" if samples[layer] else "")
        print(f"| {layer} | " + " | ".join(cells) + " |")
    print("| **total (measured)** | " + " | ".join(f"**{cpu:.0f}**" for _, cpu in columns.values()) + " |")


if __name__ == "__main__":
    main()
