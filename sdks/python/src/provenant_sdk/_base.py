"""What the sync and the async client share: their settings, and background mode (`log_turn`)."""

from __future__ import annotations

import os
import weakref
from collections.abc import Sequence
from typing import Any

import httpx

from provenant_sdk import _calls
from provenant_sdk._background import Sender
from provenant_sdk._http import Call, resolve_settings
from provenant_sdk._session import LiveSession, log_turn
from provenant_sdk._trusted_ci import TrustedCiAuth, trusted_ci_available
from provenant_sdk.types import Metadata, TurnRole


class BaseClient:
    base_url: str
    max_retries: int

    def __init__(
        self,
        *,
        base_url: str | None,
        api_key: str | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
        max_queued_turns: int,
        sender_transport: httpx.BaseTransport | None,
    ) -> None:
        given_key = api_key if api_key is not None else os.environ.get("PROVENANT_API_KEY")
        trusted_ci = not (given_key and given_key.strip()) and trusted_ci_available(os.environ)
        settings = resolve_settings(
            base_url=base_url,
            api_key=api_key,
            timeout=timeout,
            max_retries=max_retries,
            max_queued_turns=max_queued_turns,
            trusted_ci=trusted_ci,
        )
        if trusted_ci:
            auth = TrustedCiAuth(
                base_url=settings.base_url,
                headers=settings.headers,
                timeout=settings.timeout,
                max_retries=max_retries,
                transport=sender_transport,
                environ=os.environ,
            )
            settings = settings._replace(auth=auth)
        self._settings = settings
        self.base_url = self._settings.base_url
        self.max_retries = max_retries
        self._sender = Sender(self._settings, sender_transport)
        # A client dropped without close() still has its queued turns sent; then its thread ends.
        weakref.finalize(self, self._sender.retire)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, max_retries={self.max_retries})"

    def log_turn(
        self,
        session: str | LiveSession,
        role: TurnRole,
        content: str | dict[str, Any] | list[Any],
        *,
        tool_calls: Any = None,
        latency_ms: int | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        metadata: Metadata | None = None,
    ) -> None:
        """Queue a turn of ``session`` (an id, or what `session()` yields) and return at once; never raises.

        A background thread sends it with the turns around it, in order, retrying while the server is away;
        see the README's "Background mode". Do not change ``content``, ``tool_calls`` or ``metadata`` after
        logging them: they are read when the batch is sent.
        """
        log_turn(
            self._sender,
            session,
            role,
            content,
            tool_calls,
            latency_ms,
            input_tokens,
            output_tokens,
            metadata,
        )

    @property
    def dropped_turns(self) -> int:
        """Logged turns that will not be stored: the queue was full, the server refused them for good, or
        `close` gave up waiting; each reason is logged once as a warning."""
        return self._sender.dropped

    def _live_session(
        self,
        agent_id: str,
        external_id: str | None,
        user_id: str | None,
        metadata: Metadata | None,
        tags: Sequence[str] | None,
        agent_version_id: str | None,
        environment_id: str | None,
        create_now: Any,
    ) -> LiveSession:
        call: Call = _calls.create_session(
            agent_id, external_id, user_id, metadata, tags, agent_version_id, environment_id
        )
        return LiveSession(self._sender, call, create_now)

    def _runs_in_foreground(self, session: LiveSession) -> bool:
        """A block that logged nothing with `log_turn` ends its session as blocks always did."""
        return not session.in_background
