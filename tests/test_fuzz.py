"""schemathesis against the OpenAPI document of a real ``provenant serve`` (SQLite: the document and the
answers do not depend on the database, and the PostgreSQL paths are exercised by every other test).

Every operation, authenticated once with a real JWT and once with a real API key, a bounded number of examples,
with every check schemathesis has (``--checks all``): no 5xx, every status code, header and body as the document
declares them, a request the document allows is not refused and one it forbids is, a 405 whose ``Allow`` names
the resource's methods, no operation that answers without authentication when it declares it. The exceptions,
each a rule the document states in words and a test of its own pins, are in ``schemathesis.toml``.
"""

import json
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.factories import bearer, register
from tests.servers import LiveServer, serve

MAX_EXAMPLES = 12
# schemathesis' phases for each way to authenticate. The handlers behind a key and a JWT are the same code; what a
# key changes is decided before them (auth/deps.py, auth/roles.py). So the key's run is the document's examples and
# the coverage phase (every operation, each parameter at its boundaries and just past them, deterministic), and
# only the JWT's adds the random fuzzing phase: about 5 of the module's 23 s.
PHASES = {"jwt": "examples,coverage,fuzzing", "key": "examples,coverage"}
CONFIG = Path(__file__).with_name("schemathesis.toml")
# Each ends the credentials the run is using, and none takes an input to fuzz: tests/auth covers them.
ENDS_THE_CREDENTIALS = ("/api/auth/logout", "/api/auth/logout-all")
# The fuzzer is one client making thousands of failing sign-ins by design; the limits have their own tests.
UNLIMITED = {
    "PROVENANT_SIGN_IN_FAILURES_PER_ACCOUNT": "1000000",
    "PROVENANT_SIGN_IN_FAILURES_PER_IP": "1000000",
    "PROVENANT_API_KEY_FAILURES_PER_IP": "1000000",
    "PROVENANT_REGISTRATIONS_PER_IP": "1000000",
    "PROVENANT_LOG_LEVEL": "warning",
}
# schemathesis' command line, run once per credential in ONE process: importing it (hypothesis and all) costs
# about a CPU-second a process. Each run ends with a line saying how it exited, which splits the output per run.
# The process runs without the cyclic garbage collector: its garbage (about 100 MB) goes when it ends, and
# collecting it along the way cost about 2 of the runs' ~16 CPU-seconds.
RUN_EACH = """
import gc, json, sys
gc.disable()
from schemathesis.cli import schemathesis
for arguments in sys.argv[1:]:
    try:
        schemathesis.main(json.loads(arguments))
    except SystemExit as exit:
        print(f"\\nschemathesis exited with {int(exit.code or 0)}", flush=True)
"""
EXITED = re.compile(r"(.*?)^schemathesis exited with (\d+)$", re.DOTALL | re.MULTILINE)


@dataclass
class FuzzRun:
    exit_code: int
    output: str


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    directory = tmp_path_factory.mktemp("fuzz")
    with serve(directory, f"sqlite:///{directory / 'fuzz.db'}", env=UNLIMITED) as server:
        yield server


def credentials(server: LiveServer) -> dict[str, str]:
    with httpx.Client(base_url=server.url) as http:
        owner = register(http)
        created = http.post("/api/org/keys", json={"name": "fuzz"}, headers=owner.headers)
        assert created.status_code == 201
        return {"jwt": owner.token, "key": created.json()["key"]}


def schemathesis_run(server: LiveServer, token: str, phases: str, report_dir: Path) -> list[str]:
    return [
        "--config-file",
        str(CONFIG),
        "run",
        f"{server.url}/api/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        # No --checks: schemathesis runs every check it has, and a check named here would override the
        # per-operation exceptions in schemathesis.toml.
        "--max-examples",
        str(MAX_EXAMPLES),
        "--phases",
        phases,
        "--seed",
        "20261126",
        # The seed makes each run's examples; Hypothesis' example database (./.hypothesis by default) would only
        # replay what an earlier run found, and keeping it (its Pareto front) cost about a CPU-second a run.
        "--generation-database",
        "none",
        "--workers",
        "1",  # Python 3.11 compiling patterns in two threads failed once inside schemathesis
        "--request-timeout",
        "20",
        "--suppress-health-check",
        "all",
        "--report-dir",
        str(report_dir),
        *(argument for path in ENDS_THE_CREDENTIALS for argument in ("--exclude-path", path)),
    ]


@pytest.fixture(scope="module")
def fuzz_runs(fuzzed_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, FuzzRun]:
    """schemathesis against ``fuzzed_server`` once per way to authenticate ("key", "jwt"), in one process."""
    tokens = credentials(fuzzed_server)
    runs = [
        json.dumps(schemathesis_run(fuzzed_server, token, PHASES[method], tmp_path_factory.mktemp(method)))
        for method, token in tokens.items()
    ]
    process = subprocess.run(
        [sys.executable, "-c", RUN_EACH, *runs], capture_output=True, text=True, timeout=600, check=False
    )
    exits = EXITED.findall(process.stdout)
    assert process.returncode == 0 and len(exits) == len(tokens), process.stdout[-20000:] + process.stderr[-3000:]
    return {
        method: FuzzRun(int(code), output + process.stderr[-3000:])
        for method, (output, code) in zip(tokens, exits, strict=True)
    }


@pytest.mark.parametrize("method", ["key", "jwt"])
def test_every_operation_answers_as_documented(fuzz_runs: dict[str, FuzzRun], method: str) -> None:
    run = fuzz_runs[method]
    assert run.exit_code == 0, run.output[-20000:]


def test_every_authenticated_operation_without_credentials_answers_401(fuzzed_server: LiveServer) -> None:
    document = httpx.get(f"{fuzzed_server.url}/api/openapi.json").json()
    checked = 0
    with httpx.Client(base_url=fuzzed_server.url) as http:
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                if "security" not in operation:
                    continue
                concrete = path
                for parameter in operation.get("parameters", []):
                    if parameter["in"] == "path":
                        concrete = concrete.replace("{" + parameter["name"] + "}", str(uuid.uuid4()))
                for headers in ({}, bearer("not-a-token"), bearer("pk_live_" + "0" * 32)):
                    response = http.request(method.upper(), concrete, json={}, headers=headers)
                    assert response.status_code == 401, (method, path, headers, response.text)
                    assert response.headers["www-authenticate"] == "Bearer"
                checked += 1
    assert checked >= 25


def test_the_document_declares_every_error_in_the_one_shape(fuzzed_server: LiveServer) -> None:
    document = httpx.get(f"{fuzzed_server.url}/api/openapi.json").json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert document["components"]["schemas"]["Error"]["required"] == ["error", "code"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            errors = {int(status) for status in responses if int(status) >= 400}
            for status in errors:
                schema = responses[str(status)]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)
            if path in ("/api/health", "/api/ready"):  # no parameters, no database work: only ready's own 503
                continue
            assert {422, 503} <= errors, (method, path)
            if "security" in operation:
                assert {401, 403, 429} <= errors, (method, path)
            if "requestBody" in operation:
                assert {400, 413} <= errors, (method, path)
            if "{" in path:
                assert 404 in errors, (method, path)


def test_a_patch_field_that_may_not_be_null_is_not_documented_as_nullable(fuzzed_server: LiveServer) -> None:
    """PATCH /api/agents/{id} refuses ``"tags": null`` (422) while the document allowed it: schemathesis' ST202.
    name, slug and tags may be left out, never cleared; description and modelFamily may be cleared."""
    document = httpx.get(f"{fuzzed_server.url}/api/openapi.json").json()
    properties = document["components"]["schemas"]["AgentUpdate"]["properties"]
    for name in ("name", "slug", "tags"):
        assert "anyOf" not in properties[name] and "default" not in properties[name], properties[name]
        assert properties[name]["type"] in ("string", "array")
    for name in ("description", "modelFamily"):
        assert {"type": "null"} in properties[name]["anyOf"]
