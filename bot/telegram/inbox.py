"""Inbound updates, stored before they are acknowledged, then handled in order per chat.

Telegram forgets an update once it is acknowledged (the next ``getUpdates`` offset, or a webhook's
200). So every raw update is written to the ``updates`` table first, in one transaction, and only
then acknowledged; handling happens afterwards and marks the row ``done``. After a crash, rows
still ``pending`` are handled again at start. Handlers are idempotent per Telegram message (the
desk stores and decides a message in one transaction and skips one it already has), so a replay
never answers twice.

Statuses: ``pending`` (stored, not yet handled), ``done``, ``ignored`` (no handler wanted it:
an unknown or unused update type), ``malformed`` (not a valid Update: kept verbatim for a look),
``failed`` (a handler raised: kept with the error, logged).

When the database itself cannot be written (locked by another process past the busy timeout,
read-only, full), handling an update is not a failure of that update: it stays ``pending`` and is
tried again with a backoff (its chat's later updates wait behind it, so their order holds), with an
error log line at each try. On stop it is left ``pending`` for the next start. So is recording how it
ended, when the handler's work committed just before the database became unavailable.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import Update
from aiogram.types.update import UpdateTypeLookupError
from aiogram.utils.backoff import Backoff, BackoffConfig
from pydantic import ValidationError

from bot.ops.clock import sleep_or_stop, utc_now
from bot.store.sqlite import Storage, is_unavailable
from bot.store.thread import GroupWrite

__all__ = ["Inbox", "UpdatePump", "chat_key", "done_in_job", "first_sight", "prune_forever"]

log = logging.getLogger(__name__)

PRUNE_EVERY_S = 3600.0
# Retrying an update while the database is unavailable.
STORAGE_BACKOFF = BackoffConfig(min_delay=0.5, max_delay=30.0, factor=2.0, jitter=0.1)
_LEFT_PENDING = object()


class _Handling:
    """The update a pump's task is handling, whether a handler's storage job recorded it done, and whether
    this is its first sight (it arrived just now and this is its first try: see :func:`first_sight`)."""

    __slots__ = ("first", "inbox", "recorded", "update_id")

    def __init__(self, inbox: Inbox, update_id: int, *, first: bool = False) -> None:
        self.inbox = inbox
        self.update_id = update_id
        self.recorded = False
        self.first = first


_HANDLING: ContextVar[_Handling | None] = ContextVar("kefu_handling", default=None)


def _nothing() -> None:
    return None


def done_in_job() -> Callable[[], None]:
    """Return what records the update this task handles as ``done``, to call at the end of the handler's
    last storage job: the mark then commits in the same transaction as the handler's work.

    For a handler whose work ends in one storage job (a customer message: the desk's transaction in its
    group). The pump then writes no mark of its own for the update: one storage write and one wait on the
    event loop less per update (issue 15), and a crash can no longer leave handled work with its update
    still ``pending`` (a replay that would only find it stored). When the job, or its group's
    transaction, fails, the mark goes with it and the pump records the update as before. Outside the
    pump (a handler called by a test) it does nothing.
    """
    handling = _HANDLING.get()
    if handling is None:
        return _nothing

    def record() -> None:
        handling.inbox.mark(handling.update_id, "done", utc_now())
        handling.recorded = True  # read by the pump only once the handler returned: committed by then

    return record


def first_sight() -> bool:
    """Return whether the update this task handles is handled for the first time: it arrived from Telegram
    just now (its update id was new to the ``updates`` table) and no try of it came before.

    Nothing of its handling can be stored yet then, so a handler need not look for what a replay after a
    crash would find (the desk's look for a stored copy of the message: one read less per customer
    message, issue 15). False for an update replayed at start, for a second try (the database was
    unavailable), and outside the pump (a handler called by a test): then the look is made.
    """
    handling = _HANDLING.get()
    return handling is not None and handling.first


def chat_key(raw: dict[str, Any]) -> int | None:
    """Return the chat (else the user) an update is about, so updates of one chat keep their order."""
    for value in raw.values():
        if isinstance(value, dict):
            for holder in (value, value.get("message")):
                if isinstance(holder, dict):
                    chat = holder.get("chat")
                    if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                        return chat["id"]
            sender = value.get("from")
            if isinstance(sender, dict) and isinstance(sender.get("id"), int):
                return sender["id"]
    return None


class Inbox:
    """The ``updates`` table: what arrived, and how far its handling got."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def store(self, raw_updates: Iterable[dict[str, Any]], at: datetime) -> list[dict[str, Any]]:
        """Store raw updates in one transaction; return those not seen before, in arrival order."""
        fresh = []
        with self.storage.transaction():
            for raw in raw_updates:
                update_id = raw.get("update_id") if isinstance(raw, dict) else None
                if not isinstance(update_id, int):
                    log.warning(
                        "an update without a numeric update_id cannot be acknowledged; skipped: %.200r", raw
                    )
                    continue
                if self.storage.add_update(update_id, json.dumps(raw, ensure_ascii=False), at):
                    fresh.append(raw)
        return fresh

    def next_offset(self) -> int | None:
        """Return the ``getUpdates`` offset that acknowledges everything stored (None when empty)."""
        last = self.storage.last_update_id()
        return None if last is None else last + 1

    def pending(self) -> list[dict[str, Any]]:
        """Return the raw updates stored but not handled yet (left by a crash), oldest first."""
        return [json.loads(raw) for raw in self.storage.pending_updates()]

    def mark(self, update_id: int, status: str, at: datetime, error: str | None = None) -> None:
        """Record how handling of ``update_id`` ended."""
        self.storage.mark_update(update_id, status, at, error)

    def mark_many(self, marks: list[tuple[int, str, datetime, str | None]]) -> list[BaseException | None]:
        """Record how the handling of several updates ended (update id, status, when, error), in one
        transaction; return one None per mark (a :class:`bot.store.thread.GroupWrite`'s ``write_many``)."""
        with self.storage.transaction():
            for update_id, status, at, error in marks:
                self.mark(update_id, status, at, error)
        return [None] * len(marks)

    def prune(self, before: datetime, batch: int = 1000) -> int:
        """Delete up to ``batch`` updates handled (done or ignored) before ``before``; return how many.

        ``failed`` and ``malformed`` ones stay for a look, and so does the newest update, whose id the
        next ``getUpdates`` offset is computed from.
        """
        return self.storage.prune_updates(before, batch)

    def counts(self) -> dict[str, int]:
        """Return how many updates are in each status."""
        return self.storage.update_counts()


async def prune_forever(inbox: Inbox, keep_days: int, *, every_s: float = PRUNE_EVERY_S) -> None:
    """Every ``every_s``, delete the raw updates handled more than ``keep_days`` ago; until cancelled.

    Their messages stay in the messages table; the raw copy only serves a replay after a crash.
    """
    while True:
        pruned = 0
        try:
            while (deleted := await inbox.storage.run(inbox.prune, utc_now() - timedelta(keep_days))) > 0:
                pruned += deleted  # in batches: other storage work goes on in between
        except Exception as exc:  # a locked database: next time
            log.warning("pruning old updates failed (%s); trying again later", exc)
        if pruned:
            log.info("pruned %d raw update(s) handled more than %d days ago", pruned, keep_days)
        await asyncio.sleep(every_s)


class UpdatePump:
    """Stores raw updates, then feeds them to the dispatcher: concurrently across chats, in order within one.

    ``accept`` returns once the updates are stored, so the caller may acknowledge them to Telegram.
    ``drain`` waits for everything accepted to be handled (used at shutdown and by tests).
    """

    def __init__(self, dispatcher: Dispatcher, bot: Bot, inbox: Inbox, **data: Any) -> None:
        self.dispatcher = dispatcher
        self.bot = bot
        self.inbox = inbox
        self.data = data
        self._tails: dict[int | None, asyncio.Task[None]] = {}
        self._fresh: set[int] = set()  # ids of updates stored just now, not handled yet (first_sight)
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self.backoff = STORAGE_BACKOFF
        # How updates ended, recorded a group at a time: those handled while a group waited go with it.
        self._marks: GroupWrite[tuple[int, str, datetime, str | None]] = GroupWrite(
            lambda: inbox.storage.thread, inbox.mark_many
        )

    def accept(self, raw_updates: list[dict[str, Any]]) -> int:
        """Store ``raw_updates`` and schedule the new ones for handling; return how many were new.

        Raises whatever the database raises (locked, read-only, disk full): the caller must then NOT
        acknowledge the updates, so Telegram delivers them again.
        """
        fresh = self.inbox.store(raw_updates, utc_now())
        for raw in fresh:
            self._fresh.add(raw["update_id"])
            self._schedule(raw)
        return len(fresh)

    async def receive(self, raw_updates: list[dict[str, Any]]) -> int:
        """Like :meth:`accept`, with the database work on the storage thread; return how many were new.

        Storing goes before the storage thread's other queued work: Telegram is waiting for the answer.
        """
        fresh = await self.inbox.storage.run(self.inbox.store, raw_updates, utc_now(), urgent=True)
        for raw in fresh:
            self._fresh.add(raw["update_id"])
            self._schedule(raw)
        return len(fresh)

    def replay_pending(self) -> int:
        """Schedule the updates a crash left stored but unhandled; return how many."""
        pending = self.inbox.pending()
        for raw in pending:
            self._schedule(raw)
        if pending:
            log.info("handling %d update(s) stored before the last stop", len(pending))
        return len(pending)

    def stop(self) -> None:
        """Stop retrying updates the database could not take; they stay ``pending`` for the next start."""
        self._stopping.set()

    async def drain(self) -> None:
        """Wait until every accepted update has been handled (or, after :meth:`stop`, left pending)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    @property
    def in_flight(self) -> int:
        """Return how many updates are accepted but not handled yet."""
        return len(self._tasks)

    def _schedule(self, raw: dict[str, Any]) -> None:
        key = chat_key(raw)
        previous = self._tails.get(key)
        task = asyncio.create_task(self._handle_after(previous, raw))
        self._tails[key] = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda t, k=key: self._tails.pop(k, None) if self._tails.get(k) is t else None)

    async def _handle_after(self, previous: asyncio.Task[None] | None, raw: dict[str, Any]) -> None:
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        await self.handle(raw)

    async def handle(self, raw: dict[str, Any]) -> str:
        """Validate and dispatch one stored update; record and return how it ended."""
        update_id = raw["update_id"]
        first = update_id in self._fresh
        self._fresh.discard(update_id)
        try:
            update = Update.model_validate(raw, context={"bot": self.bot})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            log.warning(
                "update %s is malformed (%s: %s); kept in the updates table", update_id, where, first["msg"]
            )
            return await self._mark(update_id, "malformed", f"{where}: {first['msg']}")
        try:
            update.event_type  # noqa: B018  (raises for an update type this aiogram does not know)
        except UpdateTypeLookupError:
            log.info(
                "update %s has an unknown type (%s); ignored, kept in the updates table",
                update_id,
                _event_type(raw),
            )
            return await self._mark(update_id, "ignored", "unknown update type")
        handling = _Handling(self.inbox, update_id, first=first)
        token = _HANDLING.set(handling)  # for done_in_job: the handler runs in this task
        try:
            result = await self._dispatch(update_id, update, handling)
        except Exception as exc:
            log.exception("update %s failed; kept in the updates table with the error", update_id)
            return await self._mark(update_id, "failed", f"{type(exc).__name__}: {exc}"[:1000])
        finally:
            _HANDLING.reset(token)
        if result is _LEFT_PENDING:
            return "pending"
        if result is UNHANDLED:
            log.info("update %s (%s) has no handler; ignored", update_id, _event_type(raw))
            return await self._mark(update_id, "ignored")
        if handling.recorded:  # the handler's own transaction marked it done (done_in_job)
            return "done"
        return await self._mark(update_id, "done")

    async def _dispatch(self, update_id: int, update: Update, handling: _Handling) -> Any:
        """Return the dispatcher's result for ``update``, trying again while the database is unavailable.

        Returns ``_LEFT_PENDING`` when :meth:`stop` came first; raises what a handler raised otherwise.
        """
        backoff = Backoff(config=self.backoff)
        while True:
            handling.recorded = False  # a try whose transaction failed recorded nothing
            try:
                return await self.dispatcher.feed_update(self.bot, update, **self.data)
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                handling.first = False  # the next try looks for what this one may have stored
                if self._stopping.is_set():
                    log.error("update %s left pending for the next start: %s", update_id, exc)
                    return _LEFT_PENDING
                log.error(
                    "update %s kept pending, the database is unavailable (%s); retrying in %.1f s",
                    update_id,
                    exc,
                    backoff.next_delay,
                )
                await sleep_or_stop(backoff.next_delay, self._stopping)
                next(backoff)

    async def _mark(self, update_id: int, status: str, error: str | None = None) -> str:
        """Record how ``update_id`` ended, trying again while the database is unavailable; return ``status``.

        The handler's work may have committed just before another process locked the file: the mark is
        then retried like a handler is, so the update does not stay ``pending`` until the next start.
        """
        backoff = Backoff(config=self.backoff)
        while True:
            try:
                await self._marks.write((update_id, status, utc_now(), error))
                return status
            except Exception as exc:
                if not is_unavailable(exc) or self._stopping.is_set():
                    # The update is handled; a lost mark is replayed at start and skipped as a duplicate.
                    log.exception("could not record that update %s is %s", update_id, status)
                    return status
                log.error(
                    "update %s is %s, not recorded yet: the database is unavailable (%s); retry in %.1f s",
                    update_id,
                    status,
                    exc,
                    backoff.next_delay,
                )
                await sleep_or_stop(backoff.next_delay, self._stopping)
                next(backoff)


def _event_type(raw: dict[str, Any]) -> str:
    return next((k for k in raw if k != "update_id"), "empty")
