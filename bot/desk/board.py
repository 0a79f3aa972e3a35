"""The dashboard in the staff chat's General topic: ``/stats`` and a pinned board kept current in place.

:func:`collect` reads today's figures from the database (the day is the shop's local day; the time is
an argument): conversations, the share the bot settled alone, held-back agent messages by category
and by agent, open and overdue tickets, and how long the oldest unanswered customer has waited in
business time (:meth:`replies.Schedule.business_seconds`, so a night does not count). :class:`Board`
keeps one pinned message up to date by editing it (``editMessageText``), at most every ``every_s``
seconds and only when its content changed; if the message is gone it sends and pins a new one. An edit
costs a message of the group's 20 a minute: given ``put_off`` (a call that refuses with
:class:`bot.telegram.budget.NotYet` while the group is short), the board is put off at a peak and kept
at most ``stale_s`` (5 minutes) behind.

Example::

    stats = collect(storage, schedule, at)
    print(stats_text(stats))
    board = Board(storage, staff_chat_id, sender.call, schedule)
    await board.refresh(at)
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from bot.desk import texts
from bot.store.protocol import Store
from bot.store.records import from_iso
from bot.telegram.budget import NotYet
from replies.schedule import Schedule

__all__ = [
    "BOARD_EVERY_S",
    "BOARD_STALE_S",
    "Board",
    "Stats",
    "board_text",
    "collect",
    "group_figures",
    "run_board",
    "stats_text",
    "wait_text",
]

log = logging.getLogger(__name__)

BOARD_EVERY_S = 60.0
BOARD_STALE_S = 300.0  # the longest a board is put off while its group is short of budget
STATE_KEY = "board_message_id"
STATE_TEXT = "board_text"

Call = Callable[[str, dict[str, Any]], Awaitable[Any]]


@dataclass(frozen=True)
class Stats:
    """Today's figures for the dashboard (see :func:`collect`)."""

    day: str
    conversations: int
    auto_answered: int
    held_by_category: tuple[tuple[str, int], ...]
    held_by_agent: tuple[tuple[str, int], ...]
    tickets_open: int
    tickets_overdue: int
    waiting: int
    oldest_wait_s: float | None
    oldest_customer: str | None
    # With several staff groups: (group, customers waiting for an answer, deliveries queued) per group.
    groups: tuple[tuple[int, int, int], ...] = ()

    @property
    def auto_share(self) -> float:
        """Return the share of today's conversations the bot settled with no agent answer (0.0 – 1.0)."""
        return self.auto_answered / self.conversations if self.conversations else 0.0

    @property
    def held(self) -> int:
        """Return how many agent messages were held back today."""
        return sum(n for _, n in self.held_by_category)


def _day_bounds(schedule: Schedule, at: datetime) -> tuple[str, datetime, datetime]:
    local = at.astimezone(schedule.tz)
    start = datetime.combine(local.date(), time(0), schedule.tz)
    return local.date().isoformat(), start, start + timedelta(days=1)


def group_figures(storage: Store, groups: Sequence[int]) -> tuple[tuple[int, int, int], ...]:
    """Return ``(group, customers waiting, deliveries queued)`` per staff group; () for one group or none."""
    if len(groups) < 2:
        return ()
    waiting = storage.waiting_by_group(groups[0])
    return tuple((g, waiting.get(g, 0), storage.staff_load(g)) for g in groups)


def collect(storage: Store, schedule: Schedule, at: datetime, groups: Sequence[int] = ()) -> Stats:
    """Return today's dashboard figures as of ``at`` (today = the shop's local day containing ``at``).

    The figures cover every staff group; with several (``groups``), each one's waiting customers and
    queued deliveries are added.
    """
    day, start, end = _day_bounds(schedule, at)
    conversations = storage.day_conversations(start, end)
    held = storage.held_checks(start, end)
    by_category: Counter[str] = Counter()
    by_agent: Counter[str] = Counter()
    for row in held:
        hits = json.loads(row.hits or "[]")
        by_category[hits[0]["category"] if hits else texts.GUARD_ERROR_CATEGORY] += 1
        by_agent[row.agent] += 1
    tickets = storage.ticket_figures(at)
    waiting = storage.waiting_customers()
    oldest_wait, oldest_customer = None, None
    if waiting:
        first = waiting[0]
        since = from_iso(first.waiting_since)
        oldest_wait = schedule.business_seconds(since, at) if since is not None else None
        handle = f"@{first.username}" if first.username else str(first.id)
        oldest_customer = first.name or handle
    return Stats(
        day=day,
        conversations=len(conversations),
        auto_answered=sum(1 for c in conversations if c.by_bot and not c.by_agent),
        held_by_category=tuple(by_category.most_common()),
        held_by_agent=tuple(sorted(by_agent.items(), key=lambda kv: (-kv[1], kv[0]))),
        tickets_open=tickets.open,
        tickets_overdue=tickets.overdue,
        waiting=len(waiting),
        oldest_wait_s=oldest_wait,
        oldest_customer=oldest_customer,
        groups=group_figures(storage, groups),
    )


def wait_text(seconds: float | None) -> str:
    """Return a waiting time in words, e.g. ``1小时05分`` or ``3分20秒``; ``—`` for None.

    >>> wait_text(3725), wait_text(200)
    ('1小时02分', '3分20秒')
    """
    if seconds is None:
        return texts.NO_TIME
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return texts.WAIT_HOURS.format(hours=hours, minutes=minutes)
    return texts.WAIT_MINUTES.format(minutes=minutes, seconds=secs)


def _pairs(pairs: tuple[tuple[str, int], ...]) -> str:
    return "、".join(f"{k} {n}" for k, n in pairs) or texts.NOTHING


def stats_text(stats: Stats) -> str:
    """Return the ``/stats`` answer: today's conversations, auto share, held back, tickets, waiting."""
    values = {
        "day": stats.day,
        "conversations": stats.conversations,
        "auto_answered": stats.auto_answered,
        "auto_share": stats.auto_share,
        "held": stats.held,
        "by_category": _pairs(stats.held_by_category),
        "by_agent": _pairs(stats.held_by_agent),
        "tickets_open": stats.tickets_open,
        "tickets_overdue": stats.tickets_overdue,
        "waiting": stats.waiting,
        "oldest_wait": wait_text(stats.oldest_wait_s),
    }
    return "\n".join([line.format(**values) for line in texts.STATS_LINES] + _group_lines(stats))


def _group_lines(stats: Stats) -> list[str]:
    return [texts.GROUP_LINE.format(group=g, waiting=w, queued=q) for g, w, q in stats.groups]


def board_text(stats: Stats) -> str:
    """Return the pinned board's text (without a clock, so an unchanged board is not edited)."""
    if stats.oldest_wait_s is None:
        waiting = texts.BOARD_NOBODY_WAITING
    else:
        minute_wait = (stats.oldest_wait_s // 60) * 60  # shown by the minute: one edit a minute at most
        waiting = texts.BOARD_WAITING.format(
            waiting=stats.waiting, oldest=stats.oldest_customer, wait=wait_text(minute_wait)
        )
    return "\n".join(
        [
            texts.BOARD_TITLE,
            waiting,
            texts.BOARD_TICKETS.format(
                tickets_open=stats.tickets_open, tickets_overdue=stats.tickets_overdue
            ),
            texts.BOARD_TODAY.format(
                conversations=stats.conversations, auto_share=stats.auto_share, held=stats.held
            ),
            *_group_lines(stats),
        ]
    )


class Board:
    """The pinned board in the General topic, edited in place (never re-sent while it exists)."""

    def __init__(
        self,
        storage: Store,
        staff_chat_id: int,
        call: Call,
        schedule: Schedule,
        *,
        every_s: float = BOARD_EVERY_S,
        primary: bool = True,
        groups: Sequence[int] = (),
        put_off: Call | None = None,
        stale_s: float = BOARD_STALE_S,
    ) -> None:
        self.storage = storage
        self.staff_chat_id = staff_chat_id
        # Each staff group has its own pinned board; the primary keeps the keys it always had.
        suffix = "" if primary else f":{staff_chat_id}"
        self._message_key, self._text_key = STATE_KEY + suffix, STATE_TEXT + suffix
        self.groups = tuple(groups)
        self.call = call
        self.schedule = schedule
        self.every_s = every_s
        # The call for an edit that may wait (NotYet while the group is short), for at most stale_s.
        self.put_off = put_off
        self.stale_s = stale_s
        self._last: datetime | None = None
        self._shown: datetime | None = None  # when the board last showed the figures

    async def refresh(self, at: datetime, *, force: bool = False) -> str:
        """Bring the board up to date; return what happened: ``skipped``, ``same``, ``put off``, ``edited``
        or ``sent``.

        Skipped when the last refresh is less than ``every_s`` ago (unless ``force``); ``same`` when the
        text did not change (no call is made); ``put off`` when the edit would spend the budget of a group
        that is short (``put_off`` refused it) and the board is less than ``stale_s`` behind.
        """
        if not force and self._last is not None and (at - self._last).total_seconds() < self.every_s:
            return "skipped"
        self._last = at
        run = self.storage.run  # every read and write on the storage thread, off the event loop
        text = board_text(await run(collect, self.storage, self.schedule, at, self.groups))
        message_id = await run(self.storage.state, self._message_key)
        if message_id is not None:
            if await run(self.storage.state, self._text_key) == text:
                self._shown = at
                return "same"
            fresh = self._shown is not None and (at - self._shown).total_seconds() < self.stale_s
            call = self.put_off if self.put_off is not None and fresh else self.call
            try:
                await call(
                    "editMessageText",
                    {"chat_id": self.staff_chat_id, "message_id": int(message_id), "text": text},
                )
            except NotYet:
                return "put off"
            except Exception as exc:
                if "not modified" in str(exc).lower():
                    await run(self.storage.set_state, self._text_key, text)
                    return "same"
                if "not found" not in str(exc).lower() and "can't be edited" not in str(exc).lower():
                    raise
                log.warning("the pinned board is gone (%s); sending a new one", exc)
            else:
                await run(self.storage.set_state, self._text_key, text)
                self._shown = at
                return "edited"
        sent = await self.call("sendMessage", {"chat_id": self.staff_chat_id, "text": text})
        await run(self.storage.set_state, self._message_key, str(sent.message_id))
        await run(self.storage.set_state, self._text_key, text)
        try:
            await self.call(
                "pinChatMessage",
                {"chat_id": self.staff_chat_id, "message_id": sent.message_id, "disable_notification": True},
            )
        except Exception as exc:  # no pin rights: the board still works, unpinned
            log.warning("pinning the board failed: %s", exc)
        self._shown = at
        return "sent"


async def run_board(board: Board, clock: Callable[[], datetime], every_s: float = BOARD_EVERY_S) -> None:
    """Refresh the board every ``every_s`` seconds until cancelled (errors are logged, never fatal)."""
    while True:
        try:
            await board.refresh(clock())
        except Exception:
            log.exception("refreshing the board failed")
        await asyncio.sleep(every_s)
