"""GET /metrics with PROVENANT_METRICS=true: what an operator's scraper reads, and what it must never read.

In-process: the metrics live in this process (prometheus-client's default registry) and outlast one app, so each
test compares the values before and after what it does. tests/test_metrics_workers.py covers ``--workers N``.
"""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from provenant import metrics
from provenant.app import create_app
from provenant.auth.encryption import EncryptionKey
from provenant.config import Settings
from provenant.db import Database
from provenant.email import outbox
from provenant.email.outbox import install_outbox
from provenant.email.sender import Sender
from tests import factories
from tests.email.mailbox import smtp_server, with_email
from tests.servers import free_port

pytestmark = pytest.mark.both_databases  # the pool and the turns' commit differ by dialect


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings.model_copy(update={"metrics": True})), raise_server_exceptions=False) as c:
        yield c


def scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_off_by_default_no_metrics_are_served(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        response = client.get("/metrics")
    # The dashboard's deep-link page, as for any path outside /api: no metric, no Prometheus text.
    assert "provenant_" not in response.text
    assert not response.headers["content-type"].startswith("text/plain")


def test_requests_are_counted_by_route_template_never_by_id_key_or_email(client: TestClient) -> None:
    owner = factories.register(client)
    key = factories.create_key(client, owner)
    agent = factories.create_agent(client, owner.headers)
    before = scrape(client)
    for _ in range(3):
        assert client.get(f"/api/agents/{agent['id']}", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert client.get("/api/agents/no-such-agent", headers=owner.headers).status_code == 404
    text = client.get("/metrics").text
    after = scrape(client)

    route = {"route": "/api/agents/{agent_id}", "method": "GET"}
    assert value(after, "provenant_http_requests_total", **route, status="200") == (
        value(before, "provenant_http_requests_total", **route, status="200") + 3
    )
    assert value(after, "provenant_http_requests_total", **route, status="404") == (
        value(before, "provenant_http_requests_total", **route, status="404") + 1
    )
    count = "provenant_http_request_duration_seconds_count"
    assert value(after, count, **route) == value(before, count, **route) + 4
    for secret in (agent["id"], "no-such-agent", key, key[:16], owner.email, owner.token, owner.org_id):
        assert secret not in text


def test_made_up_paths_and_methods_do_not_become_series(client: TestClient) -> None:
    before = scrape(client)
    for i in range(30):
        client.get(f"/api/nothing-{i}")
        client.request(f"BREW{i}", "/api/health")
    after = scrape(client)
    text = client.get("/metrics").text
    assert "nothing-" not in text and "BREW" not in text
    unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
    assert value(after, "provenant_http_requests_total", **unmatched) == (
        value(before, "provenant_http_requests_total", **unmatched) + 30
    )
    other = {"route": "/api/health", "method": "other", "status": "405"}
    assert value(after, "provenant_http_requests_total", **other) == (
        value(before, "provenant_http_requests_total", **other) + 30
    )


def test_the_dashboard_and_docs_are_counted_under_their_templates(client: TestClient) -> None:
    before = scrape(client)
    client.get("/agents/some-deep-link")
    client.get("/api/docs")
    after = scrape(client)
    for route in ("/{path:path}", "/api/docs"):
        labels = {"route": route, "method": "GET", "status": "200"}
        assert value(after, "provenant_http_requests_total", **labels) == (
            value(before, "provenant_http_requests_total", **labels) + 1
        )
    assert "some-deep-link" not in client.get("/metrics").text


def test_authentication_failures_are_counted_by_code(client: TestClient) -> None:
    owner = factories.register(client)
    before = scrape(client)
    bad_key = {"Authorization": "Bearer pk_live_" + "x" * 40}
    assert client.get("/api/auth/me", headers=bad_key).status_code == 401
    assert client.get("/api/auth/me", headers={"Authorization": "Bearer not.a.jwt"}).status_code == 401
    wrong = client.post("/api/auth/login", json={"email": owner.email, "password": "wrong password 123"})
    assert wrong.status_code == 401
    assert client.get("/api/agents", headers=owner.headers).status_code == 200  # not a failure
    after = scrape(client)
    name = "provenant_authentication_failures_total"
    for code in ("invalid_api_key", "invalid_token", "invalid_credentials"):
        assert value(after, name, code=code) == value(before, name, code=code) + 1, code
    assert owner.email not in client.get("/metrics").text


def test_turns_are_counted_once_committed_and_a_resend_is_not(client: TestClient) -> None:
    owner = factories.register(client)
    agent = factories.create_agent(client, owner.headers)
    session = client.post("/api/sessions", json={"agentId": agent["id"]}, headers=owner.headers).json()
    turns_url = f"/api/sessions/{session['id']}/turns"
    batch = [{"role": "USER", "content": f"turn {i}", "clientId": f"c{i}"} for i in range(3)]
    name = "provenant_turns_ingested_total"

    before = value(scrape(client), name)
    assert client.post(turns_url, json=batch, headers=owner.headers).status_code == 201
    assert client.post(turns_url, json=batch, headers=owner.headers).status_code == 201  # a resend: held turns
    assert client.post(turns_url, json={"role": "ASSISTANT", "content": "ok"}, headers=owner.headers).status_code == 201
    assert value(scrape(client), name) == before + 4

    # Refused and rolled back (the session has ended): nothing counted.
    assert client.post(f"/api/sessions/{session['id']}/end", json={}, headers=owner.headers).status_code == 200
    assert client.post(turns_url, json={"role": "USER", "content": "late"}, headers=owner.headers).status_code == 409
    assert value(scrape(client), name) == before + 4


def _send_one(settings: Settings, database: Database, port: int) -> None:
    """One email decided and handed to the sender once, through the SMTP server on ``port`` (or nothing there)."""
    emailing = with_email(settings, port)
    box = install_outbox(database, emailing, EncryptionKey(b"a-sealing-key-for-the-metrics-tt"))
    assert box is not None
    with database.transaction() as session:
        outbox.enqueue(session, to="ada@example.com", template="password_changed", context={"name": "A", "email": "e"})
    asyncio.run(Sender.from_settings(emailing, database, box).run_once())


def test_emails_sent_and_failed_are_counted_by_the_sender(client: TestClient, settings: Settings) -> None:
    name = "provenant_emails_total"
    database = Database(settings.resolved_database_url)
    try:
        before = scrape(client)
        with smtp_server() as (mailbox, port):
            _send_one(settings, database, port)
            assert len(mailbox.messages) == 1
        _send_one(settings, database, free_port())  # nothing listens there: refused, to be retried
    finally:
        database.dispose()
    after = scrape(client)
    assert value(after, name, result="sent") == value(before, name, result="sent") + 1
    assert value(after, name, result="failed") >= value(before, name, result="failed") + 1
    with pytest.raises(ValueError):
        metrics.record_email("bounced")  # type: ignore[arg-type]


def test_pool_in_use_returns_to_zero_and_its_limit_is_shown(client: TestClient, settings: Settings) -> None:
    owner = factories.register(client)
    for _ in range(5):
        factories.create_agent(client, owner.headers)
    samples = scrape(client)
    # Every request's connection went back: none is counted in use (the Reader's own connection is not the pool's).
    assert value(samples, "provenant_db_pool_connections_in_use") == 0
    assert value(samples, "provenant_db_pool_connections_limit") >= settings.db_pool_size + settings.db_max_overflow


def test_build_information(client: TestClient) -> None:
    import platform

    from provenant import __version__

    samples = scrape(client)
    assert value(samples, "provenant_build_info", version=__version__, python=platform.python_version()) == 1


def test_metrics_need_no_credentials_and_are_not_in_the_api_document(client: TestClient, tmp_path: Path) -> None:
    assert client.get("/metrics").status_code == 200
    assert "/metrics" not in client.get("/api/openapi.json").json()["paths"]
