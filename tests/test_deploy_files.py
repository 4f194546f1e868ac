"""The deployment files say what the server reads: the Dockerfile builds from the base CI can make, and
compose.yaml and docs/configuration.md name every setting."""

import re
from pathlib import Path

import yaml

from provenant.config import Settings

ROOT = Path(__file__).parents[1]
SETTINGS = sorted(f"PROVENANT_{name.upper()}" for name in Settings.model_fields)


def test_every_stage_of_the_dockerfile_builds_from_the_chosen_python_image() -> None:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    assert lines[:2] == ["ARG PYTHON_IMAGE=python:3.12-slim-bookworm", "FROM ${PYTHON_IMAGE}"]
    stages = [line for line in lines if line.startswith("FROM ")]
    assert len(stages) >= 2 and all(line.split()[1] == "${PYTHON_IMAGE}" for line in stages)


def test_compose_runs_provenant_with_postgresql_and_redis_and_names_every_setting() -> None:
    text = (ROOT / "compose.yaml").read_text()
    services = yaml.safe_load(text)["services"]
    assert {"provenant", "postgres", "redis"} <= set(services)
    assert services["mailpit"]["profiles"] == ["mail"]  # the mail catcher only when asked for
    environment = services["provenant"]["environment"]
    assert environment["PROVENANT_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert environment["PROVENANT_REDIS_URL"].startswith("redis://")
    assert "/api/ready" in " ".join(services["provenant"]["healthcheck"]["test"])
    assert [name for name in SETTINGS if name not in text] == []


def test_the_configuration_reference_documents_every_setting() -> None:
    configuration = (ROOT / "docs" / "configuration.md").read_text()
    documented = set(re.findall(r"PROVENANT_[A-Z_]+", configuration))
    # Siblings are written short beside the first of them (`PROVENANT_INIT_ORG_NAME`, `…_ORG_SLUG`), and the
    # windows beside their limits (`…_PER_IP_WINDOW`).
    shortened = set(re.findall(r"…(_[A-Z_]+)", configuration))
    missing = [
        name for name in SETTINGS if name not in documented and not any(name.endswith(tail) for tail in shortened)
    ]
    assert missing == []
