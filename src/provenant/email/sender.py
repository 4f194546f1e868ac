"""The sender: a task in every server process that delivers the outbox's mail, and runs the hourly sweeps.

Claiming: one row at a time, in a short transaction that moves the row's ``next_attempt_at`` a lease
ahead (``LEASE``), so no other process takes it while this one talks to the SMTP server. PostgreSQL:
``FOR UPDATE SKIP LOCKED``, so processes claim different rows without waiting on each other. SQLite: the
claim's transaction takes the database's write lock up front (provenant.db), so claims are one after
another and the second sees the first's lease. Either way two processes never send one email twice.
(Only a process that dies between the SMTP server's "250 OK" and the write of ``sent_at`` would leave
the row to be sent again when its lease ends: at-least-once there, as with any SMTP client.)

Retries: after a failure the row waits ``PROVENANT_EMAIL_RETRY_DELAY`` (60 s), then twice as long each
time, at most an hour, and is given up on at the first failure 24 hours after it was written (logged as
an error). SMTP and the sender's transactions run in worker threads (each transaction begun and committed
within one thread, like a request's within one turn of the loop), so the event loop that answers requests
waits for neither: a request is never slowed by a slow or absent SMTP server, nor by the sender's work.

The process sends what its own requests enqueued at once (they wake it on commit) and looks at the
outbox every ``PROVENANT_EMAIL_POLL_INTERVAL`` seconds for the rest: retries, and mail of a process
that stopped before sending it.
"""

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import anyio.to_thread
from sqlalchemy import Executable, delete, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from provenant import metrics
from provenant.config import Settings
from provenant.db import Database
from provenant.email.outbox import Outbox, PayloadUnreadable
from provenant.email.smtp import SmtpServer
from provenant.email.templates import Rendered
from provenant.models import OutboxEmail

logger = logging.getLogger(__name__)

GIVE_UP_AFTER = timedelta(hours=24)
MAX_RETRY_DELAY = timedelta(hours=1)
SWEEP_EVERY = timedelta(hours=1)
# Sent and given-up rows (their payload already emptied) are kept this long as a record, then deleted.
KEEP_DONE = timedelta(days=30)

# A sweep run by the sender once an hour: (database, now) -> None.
Sweep = Callable[[Database, datetime], None]


@dataclass(frozen=True, slots=True)
class Claimed:
    id: str
    to: str
    template: str
    attempts: int
    created_at: datetime
    rendered: Rendered | None  # None: unreadable (sealed with another secret)


def retry_delay(first: timedelta, attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed delivery: ``first``, doubling, at most an hour."""
    doubled: timedelta = first * 2 ** min(attempts - 1, 20)
    return min(doubled, MAX_RETRY_DELAY)


class Sender:
    def __init__(
        self,
        database: Database,
        outbox: Outbox,
        server: SmtpServer,
        *,
        poll_interval: float,
        first_retry: timedelta,
        sweeps: tuple[Sweep, ...] = (),
    ) -> None:
        self._database = database
        self._outbox = outbox
        self._server = server
        self._poll_interval = poll_interval
        self._first_retry = first_retry
        self._sweeps = sweeps
        # Longer than a conversation can take: a claimed row is never taken by another process meanwhile.
        self._lease = timedelta(seconds=max(300.0, 4 * server.timeout))
        self._wake = asyncio.Event()
        self._stopping = False
        self._next_sweep = datetime.now(UTC)
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, database: Database, outbox: Outbox, *, sweeps: tuple[Sweep, ...] = ()
    ) -> "Sender":
        assert settings.smtp_url is not None
        server = SmtpServer.from_url(
            settings.smtp_url.get_secret_value(),
            sender=settings.email_from,
            timeout=settings.smtp_timeout,
            ca_file=settings.smtp_ca_file,
        )
        return cls(
            database,
            outbox,
            server,
            poll_interval=settings.email_poll_interval,
            first_retry=timedelta(seconds=settings.email_retry_delay),
            sweeps=sweeps,
        )

    # --- running ---------------------------------------------------------------------------------

    def start(self) -> None:
        loop = asyncio.get_running_loop()

        def wake() -> None:
            loop.call_soon_threadsafe(self._wake.set)

        self._outbox.on_enqueued(wake)
        self._task = loop.create_task(self._run(), name="provenant-email-sender")

    async def stop(self) -> None:
        """Lets the email being sent finish (a cut conversation could be delivered and sent again), then stops."""
        self._outbox.on_enqueued(None)
        self._stopping = True
        self._wake.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=self._server.timeout + 5)
        except TimeoutError:
            self._task.cancel()

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                await self.run_once()
            except SQLAlchemyError as error:
                logger.warning("the email sender waits for the database (%s)", type(error).__name__)
            except Exception:
                logger.exception("the email sender failed; it tries again in %s s", self._poll_interval)
            # Up to a tenth of the interval at random: processes started together do not poll in step.
            pause = self._poll_interval * (1 + random.random() / 10)  # noqa: S311 - spreading polls, not a secret
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=pause)

    async def run_once(self) -> None:
        """Sends every email due now, one by one; runs the sweeps when an hour has passed since the last."""
        while not self._stopping:
            now = datetime.now(UTC)
            if now >= self._next_sweep:
                self._next_sweep = now + SWEEP_EVERY
                await anyio.to_thread.run_sync(self._sweep, now)
            claimed = await anyio.to_thread.run_sync(self._claim, now)
            if claimed is None:
                return
            await self._deliver(claimed)

    # --- one email -----------------------------------------------------------------------------------

    def _claim(self, now: datetime) -> Claimed | None:
        with self._database.transaction() as session:
            email = session.scalars(
                select(OutboxEmail)
                .where(OutboxEmail.next_attempt_at <= now)
                .order_by(OutboxEmail.next_attempt_at)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if email is None:
                return None
            email.next_attempt_at = now + self._lease
            email.attempts += 1
            try:
                rendered = self._outbox.unseal(email.id, email.payload or "")
            except (PayloadUnreadable, ValueError):
                rendered = None
            return Claimed(email.id, email.to_address, email.template, email.attempts, email.created_at, rendered)

    async def _deliver(self, email: Claimed) -> None:
        if email.rendered is None:
            logger.error(
                "email %s (%s) cannot be read: it was sealed with another PROVENANT_ENCRYPTION_KEY; it is not sent",
                email.id,
                email.template,
            )
            metrics.record_email("failed")
            await self._finish(email.id, failed="unreadable: sealed with another PROVENANT_ENCRYPTION_KEY")
            return
        message = self._server.message(email.to, email.rendered, message_id=email.id)
        try:
            await anyio.to_thread.run_sync(self._server.send, message)
        except Exception as error:  # every way a delivery fails is retried the same way
            metrics.record_email("failed")
            await self._failed(email, error)
            return
        metrics.record_email("sent")
        logger.info("email %s (%s) sent through %s", email.id, email.template, self._server.description)
        await self._finish(email.id)

    async def _failed(self, email: Claimed, error: Exception) -> None:
        reason = f"{type(error).__name__}: {error}"[:500]
        now = datetime.now(UTC)
        if now - email.created_at >= GIVE_UP_AFTER:
            logger.error(
                "email %s (%s) given up after %d attempts: %s", email.id, email.template, email.attempts, reason
            )
            await self._finish(email.id, failed=reason)
            return
        delay = retry_delay(self._first_retry, email.attempts)
        logger.warning(
            "email %s (%s) not sent through %s (attempt %d; next in %d s): %s",
            email.id,
            email.template,
            self._server.description,
            email.attempts,
            delay.total_seconds(),
            reason,
        )
        await self._write(
            update(OutboxEmail)
            .where(OutboxEmail.id == email.id, OutboxEmail.sent_at.is_(None))
            .values(next_attempt_at=now + delay, last_error=reason)
        )

    async def _finish(self, email_id: str, *, failed: str | None = None) -> None:
        """Sent (or given up): never claimed again, and the payload with its link is gone."""
        now = datetime.now(UTC)
        values = {"failed_at": now, "last_error": failed} if failed else {"sent_at": now}
        await self._write(
            update(OutboxEmail).where(OutboxEmail.id == email_id).values(next_attempt_at=None, payload=None, **values)
        )

    async def _write(self, statement: Executable, attempts: int = 5) -> None:
        """A short write the sender must not lose to a busy moment: tried again after a pause (which holds
        nothing); failing that, logged, and the row is claimed again when its lease ends."""
        for attempt in range(1, attempts + 1):
            try:
                await anyio.to_thread.run_sync(self._execute, statement)
                return
            except SQLAlchemyError as error:
                if attempt == attempts:
                    logger.error("the outbox could not be updated: %s", type(error).__name__)
                    return
                await asyncio.sleep(attempt)

    def _execute(self, statement: Executable) -> None:
        with self._database.transaction() as session:
            session.execute(statement)

    # --- hourly -----------------------------------------------------------------------------------

    def _sweep(self, now: datetime) -> None:
        for sweep in self._sweeps:
            try:
                sweep(self._database, now)
            except SQLAlchemyError as error:
                logger.warning("%s did not run this hour: %s", sweep.__name__, type(error).__name__)
        try:
            with self._database.transaction() as session:
                session.execute(
                    delete(OutboxEmail).where(
                        OutboxEmail.next_attempt_at.is_(None),
                        or_(OutboxEmail.sent_at < now - KEEP_DONE, OutboxEmail.failed_at < now - KEEP_DONE),
                    )
                )
        except SQLAlchemyError as error:
            logger.warning("old outbox rows were not deleted this hour: %s", type(error).__name__)
