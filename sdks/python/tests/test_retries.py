"""Retries through a real flaky proxy in front of the real server."""

import threading
import time
from typing import Any

import pytest

from provenant_sdk import APIConnectionError, APIStatusError, APITimeoutError, ProvenantClient, RateLimitError

from accounts import Account
from servers import FlakyProxy, free_port


def through(proxy: FlakyProxy, account: Account, **options: Any) -> ProvenantClient:
    return ProvenantClient(base_url=proxy.url, api_key=account.api_key, **options)


def test_every_request_says_who_sends_it(proxy: FlakyProxy, account: Account) -> None:
    with through(proxy, account) as client:
        client.me()
    headers = proxy.hits[0].headers
    assert headers["user-agent"] == "provenant-python/0.1.0"
    assert headers["authorization"] == f"Bearer {account.api_key}"


def test_get_is_retried_after_a_503(proxy: FlakyProxy, account: Account) -> None:
    proxy.script = ["503"]
    with through(proxy, account) as client:
        assert client.list_agents() == []
    assert [hit.method for hit in proxy.hits] == ["GET", "GET"]


def test_get_is_retried_after_a_dropped_connection(proxy: FlakyProxy, account: Account) -> None:
    proxy.script = ["drop"]
    with through(proxy, account) as client:
        assert client.me()["email"] == account.email
    assert len(proxy.hits) == 2


def test_delete_is_retried_after_a_503(proxy: FlakyProxy, account: Account) -> None:
    with through(proxy, account) as client:
        key = client.create_api_key("to revoke")
        proxy.script = ["503"]
        assert client.revoke_api_key(key["id"]) == {"success": True}
    assert [hit.method for hit in proxy.hits] == ["POST", "DELETE", "DELETE"]


def test_retries_stop_after_max_retries(proxy: FlakyProxy, account: Account) -> None:
    proxy.script = ["503", "503", "503", "503"]
    with through(proxy, account) as client, pytest.raises(APIStatusError) as caught:
        client.list_agents()
    assert caught.value.status_code == 503
    assert caught.value.code == "unavailable"
    assert len(proxy.hits) == 3  # the request and max_retries=2 more


def test_max_retries_zero_sends_once(proxy: FlakyProxy, account: Account) -> None:
    proxy.script = ["503"]
    with through(proxy, account, max_retries=0) as client, pytest.raises(APIStatusError):
        client.list_agents()
    assert len(proxy.hits) == 1


def test_backoff_grows(proxy: FlakyProxy, account: Account) -> None:
    proxy.script = ["503", "503"]
    with through(proxy, account) as client:
        client.list_agents()
    first, second, third = (hit.at for hit in proxy.hits)
    assert 0.3 <= second - first <= 1.5
    assert 0.7 <= third - second <= 2.5


def test_post_is_not_retried_after_a_503(proxy: FlakyProxy, account: Account) -> None:
    proxy.script = ["503"]
    with through(proxy, account) as client, pytest.raises(APIStatusError) as caught:
        client.create_agent("Once", "once")
    assert caught.value.status_code == 503
    assert len(proxy.hits) == 1


def test_post_is_not_retried_after_the_connection_dropped(proxy: FlakyProxy, account: Account) -> None:
    proxy.script = ["drop"]
    with through(proxy, account) as client, pytest.raises(APIConnectionError) as caught:
        client.create_agent("Once", "once")
    assert caught.value.code == "connection_error"
    assert caught.value.status_code is None
    assert len(proxy.hits) == 1


def test_post_is_retried_when_the_connection_was_refused(server_url: str, account: Account) -> None:
    proxy = FlakyProxy(server_url)
    proxy.bind()  # the port refuses connections until listen()
    timer = threading.Timer(0.2, proxy.listen)
    timer.start()
    try:
        with through(proxy, account) as client:
            agent = client.create_agent("Patient", "patient")
        assert agent["slug"] == "patient"
        assert [hit.method for hit in proxy.hits] == ["POST"]  # the refused attempt never arrived
    finally:
        timer.join()
        proxy.stop()


def test_nothing_listening_is_a_connection_error(account: Account) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with ProvenantClient(base_url=url, api_key=account.api_key, max_retries=1) as client:
        started = time.monotonic()
        with pytest.raises(APIConnectionError) as caught:
            client.create_agent("Nobody", "nobody")
    assert caught.value.code == "connection_error"
    assert time.monotonic() - started >= 0.3  # one backoff: it was retried


def test_timeout_is_a_connection_error(proxy: FlakyProxy, account: Account) -> None:
    proxy.script = ["stall:2"]
    with (
        through(proxy, account, timeout=0.3, max_retries=0) as client,
        pytest.raises(APITimeoutError) as caught,
    ):
        client.list_agents()
    assert isinstance(caught.value, APIConnectionError)
    assert caught.value.code == "timeout"


def test_retry_after_is_honoured_on_429(proxy: FlakyProxy, account: Account) -> None:
    proxy.script = ["429:2"]
    with through(proxy, account) as client:
        assert client.list_agents() == []
    first, second = (hit.at for hit in proxy.hits)
    assert 2.0 <= second - first < 3.0  # our own backoff would have waited 0.5 s at most


def test_a_post_refused_with_429_is_sent_again_after_retry_after(proxy: FlakyProxy, account: Account) -> None:
    """A 429 (a key past its rate limit) is answered before the request does anything: a POST is resent."""
    proxy.script = ["429:1"]
    with through(proxy, account) as client:
        assert client.create_agent("Limited", "limited")["slug"] == "limited"
    assert [hit.method for hit in proxy.hits] == ["POST", "POST"]
    first, second = (hit.at for hit in proxy.hits)
    assert 1.0 <= second - first < 2.0


def test_a_rate_limit_that_outlasts_the_retries_is_raised(proxy: FlakyProxy, account: Account) -> None:
    proxy.script = ["429:1"]
    with through(proxy, account, max_retries=0) as client, pytest.raises(RateLimitError) as caught:
        client.list_agents()
    assert caught.value.status_code == 429
    assert caught.value.retry_after == 1.0


def test_a_retry_after_too_long_to_wait_is_raised_at_once(proxy: FlakyProxy, account: Account) -> None:
    proxy.script = ["429:3600"]
    started = time.monotonic()
    with through(proxy, account) as client, pytest.raises(RateLimitError) as caught:
        client.list_agents()
    assert time.monotonic() - started < 1.0
    assert caught.value.retry_after == 3600.0
    assert len(proxy.hits) == 1
