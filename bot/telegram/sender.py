"""Delivery: drain the outbox into the Bot API in order per chat; a row is sent once Telegram confirmed it.

The desk writes replies into the outbox in the same transaction as their message records; the
:class:`Sender` sends them. Every Bot API call goes through :meth:`Sender.call` (the one place where
a call is made, so rate limits and retries have a single home). A row stays ``pending`` until
Telegram answered ``ok``; then it is marked ``sent`` with the returned message id.

Telegram has no idempotency key: a call Telegram carried out whose answer the database had not yet
recorded is sent again after a crash. Each chat is a lane with at most one call in flight (its rows go
in order; in a staff group, each customer's topic in order), and lanes to different chats run side
by side, at most ``KEFU_SEND_CONCURRENCY`` calls in all (default 10: Telegram's ~30/s is reached at a
150-300 ms round trip, where one call at a time made ~7/s). So **a crash repeats at most one message
per chat, and at most KEFU_SEND_CONCURRENCY in all**; 1 keeps the former one-per-crash bound.

Telegram's limits (30/s per bot, 1/s per private chat, 20/min per group, topic creations and edits
included) are predicted by :class:`bot.telegram.budget.SendBudget`: a call takes its slot before it
leaves, and
a chat whose budget is spent is skipped until it may send again, so a long queue for one group never
hides the other chats' rows.

Errors: 429 leaves the row pending and pauses that chat for ``retry_after``; 5xx and network errors
pause the chat with an exponential backoff; 403 (the customer blocked the bot) marks the row failed,
flags the customer and tells the staff topic ("user is deactivated" is told as such, not as blocked);
other 400s mark the row failed (a retry cannot help), and one to a customer is told in the topic.
A relay whose forum topic was deleted ("message thread not found") gets a new topic and is sent again;
one whose topic an admin closed ("TOPIC_CLOSED") reopens it and is sent again. A copy Telegram refuses
(a giveaway, an invoice, paid media, a message deleted meanwhile) is replaced by words saying what it was.

The staff chat itself can need fixing: the bot lost its rights ("have no write access", "not enough
rights", removed), Topics were switched off ("the chat is not a forum"; Telegram then drops the thread
id silently, so a relay would land in the main chat: a send answered without its thread counts too,
and ``getChat`` is asked before sending again), or the group was upgraded to a supergroup
(``migrate_to_chat_id``: the new id to set is logged and posted in the new group). Relays then wait,
retried with a backoff, and once a send works again the staff are told (in General) what happened.

The items of a customer's album are copied in one ``copyMessages`` call, which keeps them grouped, once
no new item arrived for :data:`ALBUM_SETTLE_S`.
A topic created on Telegram whose id the database could not store is kept in memory and stored at the
next try: a customer never gets a second topic for it.
When the database cannot record a send Telegram confirmed (locked past the busy timeout, read-only,
full), the sender keeps the confirmation in memory and sends nothing more until it is recorded: a
row is never sent twice while the process lives.
A call the outbound guard refuses (:class:`bot.telegram.outbound_guard.OutboundBlocked`: it would have
reached a
customer with a banned phrasing, or the guard failed) is marked failed and the customer's topic is told.

Groups (the staff chats) get at most ``group_per_min`` messages a minute (Telegram allows about 20);
once half of that is used, or the group had to wait, queued text relays of one topic are merged into
one message, each part under the time it was queued (``[10:01:05] 在吗``;
:func:`bot.telegram.relay.merge_burst`),
so a burst from one customer costs one message, not twenty, and nothing is lost or reordered; the
suggestions queued among those relays go in the same message in their place (numbered when there are
several, their buttons under it). A merge reads the topic's whole queue
(:meth:`bot.store.sqlite.Storage.pending_for_customer`), not only the rows fetched with it. While a group
is short, a new customer's first relay into a spare topic waits until the customer paused for
:data:`bot.telegram.budget.MERGE_QUIET_S` (at most :data:`bot.telegram.budget.MERGE_HOLD_MAX_S`), so one
message carries the customer's opening burst (:func:`bot.telegram.budget.merge_hold`); other topics go
meanwhile.

Example::

    sender = Sender(bot, storage, settings)
    await sender.flush()        # tests: send everything pending now
    task = asyncio.create_task(sender.run())   # the bot: wake on notify() or every second
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import dataclasses
import functools
import json
import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, TypeVar

from aiogram import Bot, methods
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramRetryAfter,
)

from bot.desk import texts
from bot.ops.clock import utc_now
from bot.ops.limits import Limits
from bot.ops.settings import SenderSettings, Settings
from bot.store.sqlite import OutboxRow, Storage, from_iso, is_disk_trouble, is_unavailable
from bot.store.thread import GroupWrite
from bot.telegram import relay
from bot.telegram.budget import NotYet, SendBudget, counts, merge_hold
from bot.telegram.kinds import uncopyable_text
from bot.telegram.outbound_guard import OutboundBlocked
from bot.telegram.staffgroups import StaffGroups

T = TypeVar("T")

__all__ = [
    "ALBUM_SETTLE_S",
    "BACKOFF_MAX_S",
    "LaneState",
    "NeverDelivered",
    "Sender",
    "in_lane",
    "method_for",
]

log = logging.getLogger(__name__)

# True inside a lane's task: its calls are for queued rows and never wait for the budget.
_IN_LANE: contextvars.ContextVar[bool] = contextvars.ContextVar("kefu_sender_in_lane", default=False)

BACKOFF_MAX_S = 60.0
IDLE_WAKE_S = 1.0
LANE_STUCK_S = 180.0  # longer than a group's minute plus the longest backoff: a lane that never ends
DRAIN_POLL_S = 0.05  # while stopping: how often paused chats are looked at again
THREAD_NOT_FOUND = "message thread not found"
# Bad requests that mean the staff chat itself is unusable (wrong id, bot removed, admin rights lost):
# relays wait for it to be fixed instead of failing.
STAFF_CHAT_GONE = (
    "chat not found",
    "not enough rights",
    "kicked",
    "not a member",
    "chat_admin_required",
    "have no write access",
    "the chat is not a forum",
)
NOT_A_FORUM = "the chat is not a forum"
TOPIC_CLOSED = "topic_closed"
# A copy Telegram will not make: protected or uncopyable content (giveaway, invoice, paid media …), or a
# message deleted before it was copied. The relay then says in words what the customer sent.
COPY_REFUSED = (
    "can't be copied",
    "message to copy not found",
    "message_id_invalid",
    "messages to copy not found",
)
DEACTIVATED = "user is deactivated"
# A customer's album is copied as one, once no new item came for this long (Telegram sends the items of
# an album within a fraction of a second, as separate messages).
ALBUM_SETTLE_S = 1.5
# Spare topics (KEFU_SPARE_TOPICS) are tended at most this often, and waited for this long at a stop.
TEND_EVERY_S = 1.0
TEND_STOP_S = 5.0
QUIET_S = 30.0  # a staff group with nothing relayed for this long may spend its spare budget on spares
SPARES_GONE_MAX = 10  # spare topics Telegram says are gone that one relay skips before it gives up
# A group whose lane sent nothing because its relays wait for a merge is looked at again after this long
# (or when the first hold ends): a new relay of a known customer waits at most this much for it.
MERGE_RECHECK_S = 1.0
REPEATED_FAILURES = 5  # then the staff topic and the log say so; the row is still retried, never dropped
# Customers remembered as having a topic (never held for a merge): the most recent ones. An older one is
# asked of the database again, and only when its group is short (:meth:`Sender._held_for_merge`).
TOPIC_KNOWN_MAX = 4096


class NeverDelivered(Exception):
    """An edit whose message never reached the chat (its send failed for good): nothing to edit."""


def _copy_refused(reason: str) -> bool:
    return any(marker in reason for marker in COPY_REFUSED)


def _landed_outside_topic(result: Any) -> bool:
    """Return whether a sent Message came back without the thread it was sent to (Topics are off)."""
    return hasattr(result, "chat") and getattr(result, "message_thread_id", None) is None


def _media_item(row: OutboxRow) -> dict[str, Any]:
    """Return the ``InputMedia`` dict of an album item queued as ``sendPhoto``/``sendVideo``/…."""
    kind = row.method.removeprefix("send").lower()
    params = row.params
    item = {"type": kind, "media": params[kind]}
    item.update({k: params[k] for k in ("caption", "caption_entities") if k in params})
    return item


def in_lane() -> bool:
    """Return whether the running task is one of the sender's lanes (sending queued rows).

    A lane reads three things of a sent message: its id, its chat and its thread
    (:meth:`Sender._deliver`), so the session may answer a lane's ``sendMessage`` with just those
    (:class:`bot.telegram.app.BotApiSession`).
    """
    return _IN_LANE.get()


def method_for(name: str, params: dict[str, Any]) -> methods.TelegramMethod:
    """Return the aiogram method object for a Bot API method name (``sendMessage``) and its parameters."""
    cls = getattr(methods, name[:1].upper() + name[1:], None)
    if cls is None or not isinstance(cls, type) or not issubclass(cls, methods.TelegramMethod):
        raise ValueError(f"unknown Bot API method {name!r}")
    return cls(**params)


def _awaiting(coro: Any) -> list[str]:
    """Return ``function:line`` down the chain of coroutines ``coro`` is suspended in (outermost first)."""
    chain = []
    while coro is not None and getattr(coro, "cr_frame", None) is not None:
        chain.append(f"{coro.cr_code.co_name}:{coro.cr_frame.f_lineno}")
        coro = coro.cr_await
    return chain


@dataclasses.dataclass(frozen=True)
class LaneState:
    """A snapshot of the sender's lanes (for a benchmark's report or a debugging session)."""

    busy: tuple[int, ...]  # chats with a lane running
    held_s: Mapping[int, float]  # chats held (a 429, a limit), with the seconds left
    locked: tuple[int, ...]  # chats with a call in flight


class Sender:
    """Sends the outbox through one Bot; ``flush()`` for tests, ``run()`` as the bot's background task."""

    def __init__(
        self,
        bot: Bot,
        storage: Storage,
        settings: Settings | SenderSettings,
        *,
        clock: Callable[[], datetime] = utc_now,
        batch: int = 100,
        group_per_min: float | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.bot = bot
        self.storage = storage
        settings = SenderSettings.of(settings)
        self.settings = settings  # only what the sender reads: limits, concurrency, staff groups, zone
        self.clock = clock
        self.batch = batch
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        limits = limits or settings.limits
        if group_per_min is not None:
            limits = Limits(limits.global_per_s, limits.private_per_s, group_per_min)
        self.limits = limits
        self.group_per_min = limits.group_per_min
        # Telegram's three limits, predicted: every counted call takes its slot before it leaves.
        self.budget = SendBudget(limits)
        self._stopping = False
        # At most KEFU_SEND_CONCURRENCY calls in flight, and at most one per chat (see :meth:`call`).
        self._in_flight = asyncio.Semaphore(settings.send_concurrency)
        # chat id -> (its lock, calls holding or waiting for it); dropped once none does, so that the
        # map holds the chats being called, not every chat ever called.
        self._chat_locks: dict[int, tuple[asyncio.Lock, list[int]]] = {}
        self._busy: dict[int, asyncio.Task[tuple[int, bool]]] = {}  # chat id -> its lane, running
        self._busy_since: dict[int, float] = {}  # chat id -> when its running lane started
        self._fetched = 0  # rows the last dispatch read (a full batch: more are waiting)
        self._ready_at: dict[int, float] = {}  # chat id -> when a held chat may send again (timestamp)
        self._backlog: set[int] = set()  # group chats that had to wait: their queued relays get merged
        self.calls_made = 0  # counted calls that left (for benchmarks and logs)
        self.retry_afters = 0  # 429s received
        # Sends Telegram confirmed that the database could not record yet (locked, read-only, full):
        # outbox id -> (Telegram message id, when). Nothing else is sent until they are recorded, so a
        # row is never sent twice while the process lives, and a crash meanwhile repeats at most these.
        self._unrecorded: dict[int, tuple[int | None, datetime]] = {}
        # staff chat id -> why it refused relays; told there once it works again
        self._staff_trouble: dict[int, str] = {}
        self._migrated_told: set[int] = set()  # new supergroup ids already told in their group
        self._albums: dict[str, tuple[int, datetime]] = {}  # album -> (items queued, since when)
        self._album_ids: dict[int, list[int | None]] = {}  # outbox id -> message ids of its copyMessages
        # Forum topics created on Telegram whose id the database could not store yet: customer id ->
        # (topic id, title). The next relay stores that one instead of creating another topic.
        self._unstored_topics: dict[int, tuple[int, str]] = {}
        # Spare topics given to customers whose first relay Telegram has not confirmed yet: one Telegram
        # says is gone is dropped and the next spare taken.
        self._spare_taken: set[int] = set()
        self._tending: asyncio.Task[int] | None = None
        self._relayed_at: dict[int, float] = {}  # group chat id -> when its lane last sent (timestamp)
        # Customers known to have a topic (a relay went, or one was found stored): never held for a merge.
        # The last TOPIC_KNOWN_MAX, as keys in the order last confirmed (a bounded set).
        self._topic_known: collections.OrderedDict[int, None] = collections.OrderedDict()
        self._pooled_new_customers: set[int] = set()  # new customers found with a spare at hand (held)
        self._merge_held: dict[int, float] = {}  # group -> when its first relay held for a merge may go
        self._tended_at = 0.0
        # Confirmed sends, marked a group at a time (:meth:`_mark_sent`), ahead of the desk's queued work.
        self._marks: GroupWrite[tuple[int, int | None, datetime]] = GroupWrite(
            lambda: storage.thread, storage.mark_sent_many, urgent=True
        )

    async def call(
        self, method: str, params: dict[str, Any], *, wait: bool | None = None, cosmetic: bool | None = None
    ) -> Any:
        """Make one Bot API call and return Telegram's result (the one place where calls are made).

        At most one call per chat and ``KEFU_SEND_CONCURRENCY`` in all are in flight at once (each is a
        message a crash could repeat). A call that makes a message first takes its slot of Telegram's
        limits (:class:`bot.telegram.budget.SendBudget`): it waits for it, or with ``wait=False`` raises
        :class:`bot.telegram.budget.NotYet`. ``cosmetic`` calls only use the first half of a group's minute.
        By default a call made for a queued row (inside a lane) does not wait and a topic rename there is
        cosmetic; any other call (the board's) waits. A 429 pauses the chat for its ``retry_after`` and
        is raised.
        """
        in_lane = _IN_LANE.get()
        wait = not in_lane if wait is None else wait
        cosmetic = in_lane and method == "editForumTopic" if cosmetic is None else cosmetic
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int):
            async with self._in_flight:
                return await self.bot(method_for(method, params))
        entry = self._chat_locks.get(chat_id)
        if entry is None:
            entry = self._chat_locks[chat_id] = (asyncio.Lock(), [0])
        lock, users = entry
        users[0] += 1
        counted = counts(method)
        try:
            async with lock:
                while True:
                    delay = self.budget.wait(chat_id, self._now(), cosmetic=cosmetic) if counted else 0.0
                    if delay > 0:
                        if not wait:
                            raise NotYet(delay)
                        await asyncio.sleep(delay)
                        continue
                    async with self._in_flight:
                        # Taken only now that a slot is free: the window holds when the call really leaves.
                        left = self._now()
                        if self.budget.reserve(chat_id, method, left, cosmetic=cosmetic) > 0:
                            continue
                        self.calls_made += counted
                        try:
                            return await self.bot(method_for(method, params))
                        except TelegramRetryAfter as exc:
                            self.retry_afters += 1
                            self.budget.pause(chat_id, exc.retry_after, self._now())
                            log.warning("flood limit in chat %s: retry after %ss", chat_id, exc.retry_after)
                            raise
                        finally:  # whatever Telegram made of it, it did so by now: the chat's window holds
                            if counted:
                                self.budget.answered(chat_id, left, self._now())
        finally:
            users[0] -= 1
            if not users[0]:
                del self._chat_locks[chat_id]

    async def _db(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Return ``fn(*args, **kwargs)`` run on the storage thread, ahead of the desk's queued work.

        The sender's records are small and each holds a chat's next send back; behind a burst of
        customer messages being decided they would starve the replies to those very messages.
        """
        return await self.storage.run(fn, *args, urgent=True, **kwargs)

    def notify(self) -> None:
        """Wake the background loop: something new is in the outbox."""
        self._wake.set()

    async def flush(self) -> int:
        """Send every pending row whose chat may send now; return how many were sent.

        Each chat is a lane served in queue order (in the staff group, each customer's topic in its
        order); lanes run side by side. A row that cannot go now holds back everything after it in its
        lane (its topic, for the staff group).
        """
        sent = 0
        async with self._lock:
            while True:
                if not await self._record_confirmed():
                    return sent
                lanes = await self.dispatch()
                more = self._fetched >= self.batch  # rows were left behind: another pass after this one
                if not lanes:
                    busy = list(self._busy.values())
                    if not busy:
                        return sent
                    await asyncio.wait(busy)  # lanes the background loop started: let them finish
                    continue
                results = await asyncio.gather(*lanes)
                progress = sum(count for count, _ in results)
                sent += progress
                if not progress or not more:  # what the sends queued (follow-ups) goes with the next flush
                    return sent

    async def run(self) -> None:
        """Deliver until :meth:`stop`: lanes start as soon as their chat may send, and wake on
        :meth:`notify`, a lane finishing, or the moment the first held chat may send again."""
        while not self._stopping:
            try:
                if await self._record_confirmed():
                    await self.dispatch()
                self.report_stuck_lanes()
            except Exception:
                log.exception("outbox dispatch failed; retrying")
            timeout = IDLE_WAKE_S
            if self._ready_at:
                timeout = max(0.005, min(IDLE_WAKE_S, min(self._ready_at.values()) - self._now()))
            self._tend_soon()
            waiters = [asyncio.ensure_future(self._wake.wait()), *self._busy.values()]
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            waiters[0].cancel()
            self._wake.clear()
        if self._tending is not None and not self._tending.done():  # at most one call per group
            done, _ = await asyncio.wait([self._tending], timeout=TEND_STOP_S)
            if not done:
                self._tending.cancel()

    def _tend_soon(self) -> None:
        """Start :meth:`tend_pools` in the background, at most once every :data:`TEND_EVERY_S`."""
        now = self._now()
        if not self.settings.staff_chat_ids or now - self._tended_at < TEND_EVERY_S:
            return
        if self._tending is not None and not self._tending.done():
            return
        self._tended_at = now
        self._tending = asyncio.create_task(self._tend_logged())

    async def _tend_logged(self) -> int:
        try:
            return await self.tend_pools()
        except Exception:
            log.exception("tending the spare topics failed; trying again later")
            return 0

    async def tend_pools(self) -> int:
        """Spend the staff groups' spare budget on their spare topics; return how many calls were made.

        For each staff group that is quiet (nothing queued for it, no lane running, nothing relayed there for
        :data:`QUIET_S`: during a peak every message of the group's minute is for relays) and has budget to
        spare (the cosmetic half of its minute, :data:`bot.telegram.budget.COSMETIC_SHARE`): at most one
        call, first renaming a spare topic a customer took to the customer's title, else making a spare
        topic (:data:`bot.desk.texts.TOPIC_SPARE`) until it has ``KEFU_SPARE_TOPICS``. The bot's loop runs
        it about once a second; a test may call it alone.
        """
        made = 0
        for group in self.settings.staff_chat_ids:
            if group in self._busy or group in self._ready_at or group in self._staff_trouble:
                continue
            now = self._now()
            if now - self._relayed_at.get(group, float("-inf")) < QUIET_S:
                continue
            if self.budget.wait(group, now, cosmetic=True) > 0:
                continue
            made += await self._tend_pool(group)
        return made

    async def _tend_pool(self, group: int) -> int:
        """Make at most one cosmetic call for one group's spare topics; return how many were made."""
        call = functools.partial(self.call, wait=False, cosmetic=True)
        try:
            if await self._db(self.storage.staff_load, group):  # relays are queued: they go first
                return 0
            claimed = await self._db(self.storage.claimed_spare_topics, group, 1)
            if claimed:
                topic_id, customer_id = claimed[0]
                return int(await relay.rename_claimed_topic(call, self.storage, group, topic_id, customer_id))
            wanted = self.settings.spare_topics
            if wanted <= 0 or await self._db(self.storage.spare_topics_free, group) >= wanted:
                return 0
            topic = await call("createForumTopic", {"chat_id": group, "name": texts.TOPIC_SPARE})
        except (NotYet, TelegramRetryAfter):
            return 0
        except Exception as exc:
            if is_unavailable(exc):
                return 0
            log.warning("spare topics of chat %s: %s", group, exc)
            self.budget.pause(group, BACKOFF_MAX_S, self._now())  # not again for a while: relays only
            return 0
        try:
            await self._db(self.storage.add_spare_topic, group, topic.message_thread_id, self.clock())
        except Exception as exc:  # an empty topic left on Telegram, never given to anyone
            log.warning("spare topic %s of chat %s not stored: %s", topic.message_thread_id, group, exc)
        return 1

    def stop(self) -> None:
        """Ask :meth:`run` to finish after its current lanes."""
        if self._unrecorded:
            log.error(
                "stopping with %d confirmed send(s) the database never recorded (outbox rows %s): "
                "they will be sent again at the next start",
                len(self._unrecorded),
                sorted(self._unrecorded),
            )
        if self._unstored_topics:
            log.error(
                "stopping with forum topic(s) whose id the database never stored (customer: topic %s); "
                "agents writing there are told the topic is unknown",
                self._unstored_topics,
            )
        log.info("sender stopping: %d counted calls, %d answered 429", self.calls_made, self.retry_afters)
        self._stopping = True
        self._wake.set()

    def storage_status(self, outbox_id: int) -> str | None:
        """Return the status of one outbox row."""
        return self.storage.outbox_status(outbox_id)

    def relay_budget(self, staff_chat_id: int) -> float:
        """Return a staff group's relay budget: messages it may still take this minute minus its queue.

        Called by :class:`bot.telegram.staffgroups.StaffGroups` on the storage thread (the desk's work):
        it reads
        the queue there and only reads the budget's windows, which the event loop writes.
        """
        free = self.budget.group_free(staff_chat_id, self._now())
        return free - self.storage.staff_load(staff_chat_id)

    @property
    def lanes(self) -> Mapping[int, asyncio.Task[tuple[int, bool]]]:
        """Return the lanes running now by chat id (read-only; a lane sends one chat's rows in order)."""
        return MappingProxyType(self._busy)

    @property
    def unrecorded(self) -> int:
        """Return how many sends Telegram confirmed that the database has not recorded yet (0 when none)."""
        return len(self._unrecorded)

    def lane_state(self) -> LaneState:
        """Return where the lanes stand now: chats sent to, chats held (and for how long), chats locked."""
        now = self._now()
        return LaneState(
            busy=tuple(self._busy),
            held_s={chat: t - now for chat, t in self._ready_at.items()},
            locked=tuple(chat for chat, (lock, _) in self._chat_locks.items() if lock.locked()),
        )

    # internals -------------------------------------------------------------------------------
    def _staff_of(self, customer_id: int | None) -> int | None:
        return StaffGroups(self.storage, self.settings).of_id(customer_id)

    def _known_topic(self, customer_id: int) -> None:
        """Remember that a customer has a topic, forgetting the least recent beyond TOPIC_KNOWN_MAX."""
        self._topic_known[customer_id] = None
        self._topic_known.move_to_end(customer_id)
        while len(self._topic_known) > TOPIC_KNOWN_MAX:
            self._topic_known.popitem(last=False)

    def _now(self) -> float:
        clock = self.clock
        return time.time() if clock is utc_now else clock().timestamp()

    async def dispatch(self) -> list[asyncio.Task[tuple[int, bool]]]:
        """Start a lane for each chat with pending rows that is neither busy nor held; return them.

        One step of :meth:`run` and :meth:`flush`; a test may take it alone.
        """
        now = self._now()
        self._ready_at = {c: t for c, t in self._ready_at.items() if t > now}
        skip = set(self._busy) | set(self._ready_at)
        rows = await self._db(self.storage.pending_outbox, self.batch, skip_chats=skip)
        self._fetched = len(rows)
        by_chat: dict[int, list[OutboxRow]] = {}
        for row in rows:
            by_chat.setdefault(row.chat_id, []).append(row)
        started = []
        for chat_id, chat_rows in by_chat.items():
            if chat_id in self._busy:  # a lane started while the rows were read (flush and run at once)
                continue
            task = asyncio.create_task(self._lane(chat_id, chat_rows))
            self._busy[chat_id] = task
            self._busy_since[chat_id] = now
            task.add_done_callback(lambda _t, chat=chat_id: self._lane_done(chat))
            started.append(task)
        return started

    def _lane_done(self, chat_id: int) -> None:
        self._busy.pop(chat_id, None)
        self._busy_since.pop(chat_id, None)
        self._wake.set()

    def report_stuck_lanes(self) -> None:
        """Log a lane that has run longer than any wait the limits can ask for, with where it waits."""
        now = self._now()
        for chat_id, since in list(self._busy_since.items()):
            task = self._busy.get(chat_id)
            if task is None or now - since < LANE_STUCK_S:
                continue
            where = " -> ".join(_awaiting(task.get_coro()))
            log.error("the sender's lane for chat %s has run for %.0f s (at %s)", chat_id, now - since, where)
            self._busy_since[chat_id] = now  # once per LANE_STUCK_S, not every wake

    async def _lane(self, chat_id: int, rows: list[OutboxRow]) -> tuple[int, bool]:
        """Send one chat's rows, each topic of it in order; return (how many were sent, whether held)."""
        _IN_LANE.set(True)  # this task's calls never wait for the budget: the row waits instead
        topics: dict[Any, list[OutboxRow]] = {}
        for row in rows:  # only a group has topics: a private chat's rows are not decoded here
            topics.setdefault(row.peek.get(relay.TOPIC_KEY) if chat_id < 0 else None, []).append(row)
        sent, held = 0, False
        for topic_rows in topics.values():
            count, was_held = await self._flush_topic(topic_rows)
            sent += count
            held = held or was_held
            if chat_id in self._ready_at:  # the chat's own budget is spent: the other topics wait too
                break
        if not held:
            self._backlog.discard(chat_id)
        if sent and chat_id < 0:
            self._relayed_at[chat_id] = self._now()
        merge_until = self._merge_held.pop(chat_id, None)
        if merge_until is not None and not sent:  # only relays waiting for a merge: look again in a while
            recheck = min(merge_until, self._now() + MERGE_RECHECK_S)
            self._ready_at[chat_id] = max(self._ready_at.get(chat_id, 0.0), recheck)
        return sent, held

    def _hold(self, chat_id: int, seconds: float) -> None:
        """Note that ``chat_id`` may not send for ``seconds``: it is skipped until then."""
        at = self._now() + max(seconds, 0.001)
        self._ready_at[chat_id] = max(self._ready_at.get(chat_id, 0.0), at)
        if chat_id < 0:
            self._backlog.add(chat_id)  # a queue builds up: merge it when it may go

    async def _flush_topic(self, rows: list[OutboxRow]) -> tuple[int, bool]:
        """Send one lane's pending rows in order; return (how many were sent, whether some had to wait)."""
        progress = 0
        merged: set[int] = set()
        for row in rows:
            if row.id in merged:
                continue
            if self._unrecorded:  # a confirmed send waits for the database: send nothing more
                return progress, True
            delay = self.budget.wait(row.chat_id, self._now())
            if delay > 0:
                self._hold(row.chat_id, delay)
                return progress, True
            if relay.ALBUM_KEY in row.peek:
                album = self._album(row, rows)
                if album is None:
                    return progress, True  # more items may come: wait (run() wakes every second)
                if await self._deliver_album(album):
                    merged.update(r.id for r in album)
                    progress += len(album)
                    continue
                if await self._db(self.storage_status, row.id) == "pending":
                    return progress, True
                continue
            pressed = row.chat_id in self._backlog or self.budget.pressed(row.chat_id, self._now())
            if pressed and not self._stopping and await self._held_for_merge(row, rows):
                return progress, True  # the lane's other topics go on; this one is looked at again soon
            burst = await self._burst(row, rows) if pressed else []
            if len(burst) > 1:
                if await self._deliver_merged(burst):
                    merged.update(r.id for r in burst)
                    progress += len(burst)
                    continue
            elif await self._deliver(row):
                progress += 1
                continue
            if await self._db(self.storage_status, row.id) == "pending":
                return progress, True  # keep the chat's order: nothing after a stuck row
        return progress, False

    async def drain(self, grace_s: float) -> int | None:
        """Send what can be sent within ``grace_s`` seconds (a graceful stop); return how many rows are left
        (None when the outbox cannot be read).

        Flushes again and again as paused chats (Telegram's pace, a backoff) become free, until the outbox
        is empty or the time is up. A call still in flight at the deadline is cancelled: like a crash, it
        may be repeated once at the next start. What is left is logged and sent at the next start.
        """
        deadline = asyncio.get_running_loop().time() + grace_s
        try:
            async with asyncio.timeout_at(deadline):
                while True:
                    try:
                        await self.flush()
                    except Exception:
                        log.exception(
                            "outbox flush failed while stopping; retrying until the grace period ends"
                        )
                    if not await self._db(self.storage.pending_outbox, 1) and not self._unrecorded:
                        return 0
                    await asyncio.sleep(DRAIN_POLL_S)
        except TimeoutError:
            pass
        try:
            left = len(await self._db(self.storage.pending_outbox, self.batch))
        except Exception as exc:
            log.error("stopping: the outbox could not be read (%s)", exc)
            return None
        if left:
            more = "+" if left >= self.batch else ""
            log.warning(
                "stopping after the %.0f s grace period with %d%s message(s) still queued; "
                "they are sent at the next start",
                grace_s,
                left,
                more,
            )
        return left

    def _pause(self, chat_id: int, seconds: float) -> None:
        self.budget.pause(chat_id, seconds, self._now())
        self._hold(chat_id, seconds)

    async def _held_for_merge(self, row: OutboxRow, rows: list[OutboxRow]) -> bool:
        """Return whether a pressed group's relay waits for the customer's next messages.

        Only a new customer's first text relay, with a spare topic at hand, waits
        (:func:`bot.telegram.budget.merge_hold` says how long).
        """
        customer_id = row.customer_id
        if (
            customer_id is None
            or customer_id in self._topic_known
            or row.params.get(relay.TOPIC_KEY) != customer_id
            or relay.mergeable_text(row.method, row.params) is None
            or not row.created_at
        ):
            return False
        if customer_id not in self._pooled_new_customers:  # stays so until its first relay goes
            if not await self._db(self._pooled_new, row.chat_id, customer_id):
                self._known_topic(customer_id)
                return False
            self._pooled_new_customers.add(customer_id)
        queued = [from_iso(r.created_at) for r in rows if r.customer_id == customer_id and r.created_at]
        first, last = from_iso(row.created_at).timestamp(), max(queued).timestamp()
        now = self._now()
        wait = merge_hold(first, last, now, pressed=True, new_customer=True)
        if wait > 0:
            log.debug("first relay of customer %s held %.1f s for a merge", customer_id, wait)
            until = self._merge_held.get(row.chat_id, now + wait)
            self._merge_held[row.chat_id] = min(until, now + wait)
        return wait > 0

    def _pooled_new(self, staff_chat_id: int, customer_id: int) -> bool:
        """Return whether a customer has no topic yet and its group has a spare one (storage thread)."""
        customer = self.storage.customer(customer_id)
        if customer is None or customer.topic_id is not None:
            return False
        return self.storage.spare_topics_free(staff_chat_id) > 0

    async def _burst(self, first: OutboxRow, rows: list[OutboxRow]) -> list[OutboxRow]:
        """Return the queued text relays of ``first``'s topic that can go as one message (in order).

        The whole topic's queue is read, not only the rows fetched with ``first``: a customer's later
        messages sit far back in a long queue, and one message should carry them all.
        """
        params = first.params
        topic = params.get(relay.TOPIC_KEY)
        if relay.mergeable_text(first.method, params) is None:
            return []
        if first.customer_id is not None and first.customer_id == topic:
            queue = await self._db(self.storage.pending_for_customer, first.chat_id, first.customer_id)
            if queue and queue[0].id == first.id:
                rows = queue
        burst, size, buttoned = [first], len(self._stamped(first)), 0
        for row in rows[rows.index(first) + 1 :]:
            other = row.params
            if row.chat_id != first.chat_id or other.get(relay.TOPIC_KEY) != topic:
                continue
            text = relay.mergeable_text(row.method, other)
            piece = self._stamped(row) if text is not None else relay.buttoned_text(row.method, other)
            if text is None and piece is not None:  # a suggestion: numbered once there are two
                piece = relay.numbered(piece, buttoned + 1)
            if (
                piece is None
                or size + 1 + len(piece) > relay.MAX_TEXT
                or (text is None and buttoned >= relay.MAX_MERGED_SUGGESTIONS)
            ):
                break  # keep the topic's order: nothing merged past a row that must go alone
            burst.append(row)
            size += 1 + len(piece)
            buttoned += text is None
        return burst

    def _stamped(self, row: OutboxRow) -> str:
        """Return a queued relay's text under the local time it was queued (``[10:01:05] 在吗``)."""
        text = relay.mergeable_text(row.method, row.params) or ""
        queued = from_iso(row.created_at) if row.created_at else None
        if queued is None:
            return text
        return f"[{queued.astimezone(self.settings.zone):%H:%M:%S}] {text}"

    async def _deliver_merged(self, burst: list[OutboxRow]) -> bool:
        """Send a burst as one message, each relay under its time and each suggestion in its place (numbered,
        with its numbered button under the message, when there are several); on success every row is
        marked sent."""
        first = burst[0]
        suggestions = [r.id for r in burst[1:] if relay.mergeable_text(r.method, r.params) is None]
        several = len(suggestions) > 1
        parts, keyboard = [], []
        for row in burst:
            if row.id not in suggestions:
                parts.append(self._stamped(row))
                continue
            number = suggestions.index(row.id) + 1
            text = relay.buttoned_text(row.method, row.params) or ""
            parts.append(relay.numbered(text, number) if several else text)
            rows = row.params["reply_markup"].get("inline_keyboard", [])
            keyboard += relay.numbered_buttons(rows, number) if several else rows
        params = {
            "chat_id": first.chat_id,
            relay.TOPIC_KEY: first.params[relay.TOPIC_KEY],
            "text": relay.merge_burst(parts)[0],
        }
        if keyboard:
            params["reply_markup"] = {"inline_keyboard": keyboard}
        payload = json.dumps(params, ensure_ascii=False)
        carrier = dataclasses.replace(first, method="sendMessage", payload=payload)
        if not await self._deliver(carrier):
            return False
        if first.id in self._unrecorded:
            telegram_id = self._unrecorded[first.id][0]
        else:
            row = await self._db(self.storage.outbox_row, first.id)
            telegram_id = row.telegram_message_id if row is not None else None
        for row in burst[1:]:
            await self._record_sent(row.id, telegram_id)
        log.info("merged %d queued relays into one message in chat %s", len(burst), first.chat_id)
        return True

    def _album(self, first: OutboxRow, rows: list[OutboxRow]) -> list[OutboxRow] | None:
        """Return the queued copies of ``first``'s album once no new item came for ``ALBUM_SETTLE_S``."""
        key = first.params[relay.ALBUM_KEY]
        album = [r for r in rows[rows.index(first) :] if r.params.get(relay.ALBUM_KEY) == key]
        now = self.clock()
        count, since = self._albums.get(key, (0, now))
        if count != len(album):
            self._albums[key] = (len(album), now)
            return None
        if (now - since).total_seconds() < ALBUM_SETTLE_S:
            return None
        del self._albums[key]
        return album

    async def _deliver_album(self, album: list[OutboxRow]) -> bool:
        """Send an album's items in one call; on success every row of it is marked sent.

        A customer's album relayed to staff is copied (``copyMessages``); an agent's album goes to the
        customer as ``sendMediaGroup`` of its items, each by file id with its checked caption.
        """
        first = min(album, key=lambda r: r.id)
        if first.method == "copyMessage":
            album = sorted(album, key=lambda r: r.params["message_id"])
            first = album[0]
            params = {k: v for k, v in first.params.items() if k != "message_id"}
            params["message_ids"] = [r.params["message_id"] for r in album]
            method = "copyMessages"
        else:
            album = sorted(album, key=lambda r: r.id)
            params = {"chat_id": first.chat_id, "media": [_media_item(r) for r in album]}
            method = "sendMediaGroup"
        carrier = dataclasses.replace(first, method=method, payload=json.dumps(params, ensure_ascii=False))
        if not await self._deliver(carrier):
            if await self._db(self.storage_status, first.id) == "failed":
                for row in album[1:]:
                    await self._db(
                        self.storage.mark_attempt, row.id, "album copy failed", self.clock(), failed=True
                    )
            return False
        ids = self._album_ids.pop(first.id, [])
        for row, telegram_id in zip(album[1:], ids[1:] or [None] * len(album), strict=False):
            await self._record_sent(row.id, telegram_id)
        return True

    async def _params(self, row: OutboxRow, *, fresh_topic: bool = False) -> tuple[str, dict[str, Any]]:
        """Return the Bot API method and parameters of a row, its topic resolved (made or taken if needed).

        The first relay into a spare topic not yet renamed names the customer (:func:`relay.named_relay`).
        """
        params = row.params
        copied_text = params.get(relay.TEXT_KEY)
        edit_of = params.pop(relay.EDIT_OF_KEY, None)
        if edit_of is not None:  # an edit queued behind its message: that message's id on Telegram now
            edited = await self._db(self.storage.message, edit_of)
            if edited is None or edited.telegram_message_id is None:
                raise NeverDelivered(f"the message outbox row {row.id} edits was never delivered")
            params["message_id"] = edited.telegram_message_id
        customer_id = params.pop(relay.TOPIC_KEY, None)
        for key in relay.PRIVATE_KEYS:
            params.pop(key, None)
        if customer_id is not None:
            params["message_thread_id"] = await relay.ensure_topic(
                self.call,
                self.storage,
                row.chat_id,
                customer_id,
                fresh=fresh_topic,
                unstored=self._unstored_topics,
                spares=self._spare_taken,
            )
            if params["message_thread_id"] in self._spare_taken:
                customer = await self._db(self.storage.customer, customer_id)
                if customer is not None and customer.topic_name == texts.TOPIC_SPARE:
                    name = relay.topic_name(customer.name, customer.username, customer.id)
                    return relay.named_relay(row.method, params, name, copied_text)
        return row.method, params

    async def _deliver(self, row: OutboxRow) -> bool:
        """Send one row; return True when Telegram confirmed it."""
        fresh = reopened = False
        staff = row.chat_id in self.settings.staff_chat_ids
        if staff and row.chat_id in self._staff_trouble and not await self._staff_ready(row):
            return False
        for _ in range(3 + SPARES_GONE_MAX):
            params: dict[str, Any] = {}
            try:
                method, params = await self._params(row, fresh_topic=fresh)
                result = await self.call(method, params)
            except NotYet as exc:
                self._hold(row.chat_id, exc.wait)
                return False
            except TelegramRetryAfter as exc:
                self._hold(row.chat_id, exc.retry_after)
                await self._db(
                    self.storage.mark_attempt, row.id, f"429 retry after {exc.retry_after}s", self.clock()
                )
                return False
            except OutboundBlocked as exc:
                await self._db(self._refused, row, exc)
                self.notify()
                return False
            except TelegramMigrateToChat as exc:
                if not staff:
                    await self._db(self.storage.mark_attempt, row.id, str(exc), self.clock(), failed=True)
                    return False
                await self._staff_migrated(row, exc)
                return False
            except NeverDelivered as exc:
                log.warning("%s; given up", exc)
                await self._db(self.storage.mark_attempt, row.id, str(exc), self.clock(), failed=True)
                return False
            except (TelegramForbiddenError, TelegramBadRequest) as exc:
                reason = str(exc).lower()
                thread = params.get("message_thread_id")
                if THREAD_NOT_FOUND in reason and thread in self._spare_taken:
                    log.warning("spare topic %s of chat %s is gone; taking the next", thread, row.chat_id)
                    self._spare_taken.discard(thread)
                    fresh = True
                    continue
                if THREAD_NOT_FOUND in reason and not fresh:
                    log.warning("topic of customer in chat %s is gone; creating a new one", row.chat_id)
                    fresh = True
                    continue
                if TOPIC_CLOSED in reason and not reopened and params.get("message_thread_id"):
                    reopened = await self._reopen(row.chat_id, params["message_thread_id"])
                    if reopened:
                        continue
                if staff and row.method in ("copyMessage", "copyMessages") and _copy_refused(reason):
                    return await self._deliver_words(row, exc)
                if staff and (
                    isinstance(exc, TelegramForbiddenError) or any(m in reason for m in STAFF_CHAT_GONE)
                ):
                    await self._staff_unreachable_now(row, exc)
                    return False
                if isinstance(exc, TelegramForbiddenError):
                    await self._db(self._blocked, row, str(exc))
                    return False
                log.error("outbox row %s rejected by Telegram: %s", row.id, exc)
                await self._db(self._rejected, row, exc)
                self.notify()
                return False
            except Exception as exc:
                delay = min(BACKOFF_MAX_S, 2.0 ** (row.attempts + 1))
                self._pause(row.chat_id, delay)
                await self._db(self._failed_attempt, row, exc, delay)
                return False
            if isinstance(result, list):  # copyMessages: one id per item
                self._album_ids[row.id] = [getattr(m, "message_id", None) for m in result]
                result = result[0] if result else None
            if staff and params.get("message_thread_id") and _landed_outside_topic(result):
                # Topics were switched off: Telegram dropped the thread id and posted in the main chat.
                await self._record_sent(row.id, getattr(result, "message_id", None))
                self._staff_trouble[row.chat_id] = NOT_A_FORUM
                self._pause(row.chat_id, min(BACKOFF_MAX_S, 2.0 ** (row.attempts + 1)))
                log.error(
                    "the staff chat %s has Topics switched off: a relay landed in the main chat; relays wait "
                    "until Topics are on again (group settings -> Topics)",
                    row.chat_id,
                )
                return True
            await self._record_sent(row.id, getattr(result, "message_id", None))
            self._spare_taken.discard(params.get("message_thread_id"))
            if staff and row.customer_id is not None and params.get("message_thread_id"):
                self._known_topic(row.customer_id)  # its first relay went: no more holding for it
                self._pooled_new_customers.discard(row.customer_id)
            if row.peek.get(relay.AFTER_KEY):
                await self._db(self._after_sent, row)
                self.notify()
            if staff and row.chat_id in self._staff_trouble:
                await self._db(self._staff_back, row, self._staff_trouble.pop(row.chat_id))
                self.notify()
            return True
        return False

    def _after_sent(self, row: OutboxRow) -> None:
        """Queue the call a row asked for once it was confirmed (e.g. 「修改已同步给客户」 after an edit)."""
        after = row.params.get(relay.AFTER_KEY)
        if not after:
            return
        try:
            self.storage.enqueue(
                after["params"]["chat_id"],
                after["method"],
                after["params"],
                self.clock(),
                customer_id=after.get("customer_id"),
            )
        except Exception as exc:  # the confirmation is recorded; only the staff's note is lost
            log.error("queuing the follow-up of outbox row %s failed: %s", row.id, exc)

    async def _reopen(self, chat_id: int, thread_id: int) -> bool:
        """Reopen a forum topic an admin closed; return whether Telegram did."""
        try:
            await self.call("reopenForumTopic", {"chat_id": chat_id, "message_thread_id": thread_id})
        except Exception as exc:
            log.warning("reopening topic %s in chat %s failed: %s", thread_id, chat_id, exc)
            return False
        log.info("reopened topic %s in chat %s (an admin had closed it)", thread_id, chat_id)
        return True

    async def _deliver_words(self, row: OutboxRow, exc: Exception) -> bool:
        """Telegram refused to copy a customer's message: say in the topic what it was instead."""
        log.warning("outbox row %s: Telegram refused the copy (%s); relayed as words", row.id, exc)
        params = row.params
        words = {"chat_id": row.chat_id, "text": uncopyable_text(params.get(relay.KIND_KEY))}
        if relay.TOPIC_KEY in params:
            words[relay.TOPIC_KEY] = params[relay.TOPIC_KEY]
        carrier = dataclasses.replace(
            row, method="sendMessage", payload=json.dumps(words, ensure_ascii=False)
        )
        return await self._deliver(carrier)

    def _rejected(self, row: OutboxRow, exc: Exception) -> None:
        """A 400 Telegram will answer again: give up on the row; one to a customer is told in the topic."""
        now = self.clock()
        staff = self._staff_of(row.customer_id)
        with self.storage.transaction():
            self.storage.mark_attempt(row.id, str(exc), now, failed=True)
            if (
                staff is not None
                and row.chat_id not in self.settings.staff_chat_ids
                and row.customer_id is not None
            ):
                text = f"{texts.NOTICE_REJECTED}({getattr(exc, 'message', exc)})"
                method, params = relay.notice_call(
                    staff_chat_id=staff, customer_id=row.customer_id, text=text
                )
                self.storage.enqueue(staff, method, params, now, customer_id=row.customer_id)

    async def _staff_ready(self, row: OutboxRow) -> bool:
        """With Topics switched off, ask ``getChat`` before sending again; return whether relays may go."""
        if self._staff_trouble.get(row.chat_id) != NOT_A_FORUM:
            return True
        try:
            chat = await self.call("getChat", {"chat_id": row.chat_id})
        except Exception as exc:
            chat, reason = None, exc
        else:
            reason = NOT_A_FORUM
        if chat is not None and chat.is_forum:
            return True
        delay = min(BACKOFF_MAX_S, 2.0 ** (row.attempts + 1))
        self._pause(row.chat_id, delay)
        await self._db(self.storage.mark_attempt, row.id, f"staff chat unreachable: {reason}", self.clock())
        return False

    def _staff_back(self, row: OutboxRow, trouble: str) -> None:
        """The staff chat takes relays again: tell the staff once, in General, what had been wrong.

        Runs on the storage thread; the trouble was cleared on the event loop.
        """
        log.info("the staff chat %s takes relays again (it had: %s)", row.chat_id, trouble)
        params = {"chat_id": row.chat_id, "text": f"{texts.NOTICE_STAFF_BACK}{trouble}"}
        self.storage.enqueue(row.chat_id, "sendMessage", params, self.clock())

    async def _staff_migrated(self, row: OutboxRow, exc: TelegramMigrateToChat) -> None:
        """The staff group became a supergroup: relays wait; the new id is logged and posted there once."""
        new = exc.migrate_to_chat_id
        await self._staff_unreachable_now(row, exc)
        self._staff_trouble[row.chat_id] = texts.TROUBLE_MIGRATED.format(new=new)
        log.error(
            "the staff group %s was upgraded to a supergroup: set KEFU_STAFF_CHAT_ID=%s (in its place in "
            "the list) and restart",
            row.chat_id,
            new,
        )
        if new in self._migrated_told:
            return
        self._migrated_told.add(new)
        try:
            text = texts.NOTICE_MIGRATED.format(old=row.chat_id, new=new)
            await self.call("sendMessage", {"chat_id": new, "text": text})
        except Exception as tell:
            log.warning("telling the new supergroup %s failed: %s", new, tell)

    async def _mark_sent(self, outbox_id: int, telegram_id: int | None, at: datetime) -> None:
        """Mark one confirmed row sent, in one transaction with the others confirmed meanwhile.

        Returns once it is committed; raises what the database raised (a disk trouble also queues a
        checkpoint, to give the WAL's space back). Each lane waits for its own mark before it sends its
        chat's next row, so a crash still repeats at most one message per chat.
        """
        try:
            await self._marks.write((outbox_id, telegram_id, at))
        except Exception as exc:
            if is_disk_trouble(exc):
                self.storage.submit(self.storage.checkpoint)
            raise

    async def _record_sent(self, outbox_id: int, telegram_id: int | None) -> None:
        """Mark a row Telegram confirmed as sent; if the database cannot take it now, keep it in memory."""
        at = self.clock()
        try:
            await self._mark_sent(outbox_id, telegram_id, at)
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            self._unrecorded[outbox_id] = (telegram_id, at)
            log.error(
                "Telegram confirmed outbox row %s but the database is unavailable (%s); "
                "nothing more is sent until it is recorded",
                outbox_id,
                exc,
            )

    async def _record_confirmed(self) -> bool:
        """Record the confirmed sends kept in memory; return True when none is left."""
        for outbox_id, (telegram_id, at) in list(self._unrecorded.items()):
            try:
                await self._db(self.storage.mark_sent, outbox_id, telegram_id, at)
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                return False
            del self._unrecorded[outbox_id]
            log.info("outbox row %s recorded as sent; sending resumes", outbox_id)
        return True

    async def _staff_unreachable_now(self, row: OutboxRow, exc: Exception) -> None:
        """The staff chat refused a relay: pause its lane here, record the attempt on the storage thread."""
        self._staff_trouble[row.chat_id] = getattr(exc, "message", None) or str(exc)
        delay = min(BACKOFF_MAX_S, 2.0 ** (row.attempts + 1))
        self._pause(row.chat_id, delay)
        await self._db(self._staff_unreachable, row, exc, delay)

    def _staff_unreachable(self, row: OutboxRow, exc: Exception, delay: float) -> None:
        """The staff chat refused a relay (gone, bot removed, no admin rights): log it, keep the row.

        Runs on the storage thread; the chat was paused for ``delay`` seconds on the event loop.
        """
        self.storage.mark_attempt(row.id, f"staff chat unreachable: {exc}", self.clock())
        log.error(
            "the staff chat %s refused a relay (%s): check KEFU_STAFF_CHAT_ID and that the bot is an admin "
            "with 'Manage topics'; %d relay(s) kept, retrying in %.0fs",
            row.chat_id,
            exc,
            len(self.storage.outbox("pending")),
            delay,
        )

    def _failed_attempt(self, row: OutboxRow, exc: Exception, delay: float) -> None:
        """A 5xx or network error: keep the row; after repeated failures, tell staff and logs.

        Runs on the storage thread; the chat was paused for ``delay`` seconds on the event loop.
        """
        attempts = row.attempts + 1
        now = self.clock()
        with self.storage.transaction():
            self.storage.mark_attempt(row.id, f"{type(exc).__name__}: {exc}", now)
            if attempts != REPEATED_FAILURES:
                log.warning("sending outbox row %s failed (%s); retry in %.0fs", row.id, exc, delay)
                return
            log.error(
                "outbox row %s to chat %s failed %d times (%s); still retrying",
                row.id,
                row.chat_id,
                attempts,
                exc,
            )
            staff = self._staff_of(row.customer_id)
            if staff is not None and row.chat_id != staff and row.customer_id is not None:
                method, params = relay.notice_call(
                    staff_chat_id=staff, customer_id=row.customer_id, text=texts.NOTICE_REPEATED_FAILURES
                )
                self.storage.enqueue(staff, method, params, now, customer_id=row.customer_id)

    def _blocked(self, row: OutboxRow, error: str) -> None:
        now = self.clock()
        self.storage.mark_attempt(row.id, error, now, failed=True)
        customer = self.storage.customer(row.customer_id) if row.customer_id is not None else None
        if customer is None or customer.chat_id != row.chat_id:
            log.error("outbox row %s forbidden: %s", row.id, error)
            return
        staff = self._staff_of(customer.id)
        # A deleted account is not a customer's choice: say so, and do not mark the customer as blocking.
        if DEACTIVATED in error.lower():
            log.warning("customer %s deleted their Telegram account", customer.id)
            if staff is not None:
                method, params = relay.notice_call(
                    staff_chat_id=staff, customer_id=customer.id, text=texts.NOTICE_DEACTIVATED
                )
                self.storage.enqueue(staff, method, params, now, customer_id=customer.id)
            return
        log.warning("customer %s blocked the bot", customer.id)
        with self.storage.transaction():
            if not customer.blocked:
                self.storage.update_customer(customer.id, blocked=1)
                staff = self._staff_of(customer.id)
                if staff is not None:
                    method, params = relay.notice_call(
                        staff_chat_id=staff, customer_id=customer.id, text=texts.NOTICE_BLOCKED
                    )
                    self.storage.enqueue(staff, method, params, now, customer_id=customer.id)

    def _refused(self, row: OutboxRow, exc: OutboundBlocked) -> None:
        """The outbound guard refused a call to a customer: give up on the row and tell the topic.

        Runs on the storage thread (the caller wakes the sender afterwards).
        """
        now = self.clock()
        log.warning("outbox row %s to chat %s refused by the outbound guard: %s", row.id, row.chat_id, exc)
        with self.storage.transaction():
            self.storage.mark_attempt(row.id, f"refused by the outbound guard: {exc}", now, failed=True)
            staff = self._staff_of(row.customer_id)
            if staff is not None and row.customer_id is not None and self.storage.customer(row.customer_id):
                text = f"{texts.NOTICE_GUARD_BLOCKED}({exc.reason})"
                customer_id = row.customer_id
                method, params = relay.notice_call(staff_chat_id=staff, customer_id=customer_id, text=text)
                self.storage.enqueue(staff, method, params, now, customer_id=row.customer_id)
