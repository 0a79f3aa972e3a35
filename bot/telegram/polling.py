"""Long polling that acknowledges an update only after it is stored.

aiogram's own polling moves the offset as soon as it has read an update, before a handler has
stored it; a crash then would lose it. Here each ``getUpdates`` answer is read as raw JSON (so one
malformed update cannot make the whole batch unreadable), stored by the
:class:`~bot.telegram.inbox.UpdatePump`,
and only the next ``getUpdates`` call, whose offset is past it, acknowledges it. Network errors and
5xx answers are retried with aiogram's :class:`~aiogram.utils.backoff.Backoff`. A 409 Conflict (another
process polls this token, or a webhook is set) stops polling with
:class:`~bot.telegram.startup.AnotherPoller`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramConflictError
from aiogram.methods.base import TelegramMethod
from aiogram.utils.backoff import Backoff, BackoffConfig

from bot.ops.clock import sleep_or_stop
from bot.telegram.inbox import UpdatePump
from bot.telegram.startup import AnotherPoller

__all__ = ["GetRawUpdates", "poll"]

log = logging.getLogger(__name__)

POLL_TIMEOUT_S = 25
BACKOFF = BackoffConfig(min_delay=1.0, max_delay=30.0, factor=1.6, jitter=0.1)


class GetRawUpdates(TelegramMethod[list[dict[str, Any]]]):
    """``getUpdates`` answered as plain dicts: each update is validated on its own later."""

    __returning__ = list[dict[str, Any]]
    __api_method__ = "getUpdates"

    offset: int | None = None
    limit: int | None = None
    timeout: int | None = None
    allowed_updates: list[str] | None = None


async def poll(
    bot: Bot,
    pump: UpdatePump,
    *,
    allowed_updates: list[str] | None = None,
    stop: asyncio.Event | None = None,
    timeout: int = POLL_TIMEOUT_S,
    on_answer: Callable[[], None] | None = None,
) -> None:
    """Fetch, store, acknowledge and hand on updates until ``stop`` is set (or the task is cancelled).

    ``on_answer`` is called after every answer from ``getUpdates`` (the heartbeat, :mod:`bot.ops.heartbeat`).
    """
    stop = stop or asyncio.Event()
    backoff = Backoff(config=BACKOFF)
    offset = pump.inbox.next_offset()
    pump.replay_pending()
    request_timeout = int((bot.session.timeout or 60) + timeout)
    while not stop.is_set():
        method = GetRawUpdates(offset=offset, timeout=timeout, allowed_updates=allowed_updates)
        try:
            updates = await bot(method, request_timeout=request_timeout)
        except asyncio.CancelledError:
            raise
        except TelegramConflictError as exc:
            # Two consumers of one token each lose updates to the other: never keep fighting for them.
            raise AnotherPoller(exc.message) from None
        except Exception as exc:
            log.error(
                "getUpdates failed (%s: %s); retrying in %.1f s", type(exc).__name__, exc, backoff.next_delay
            )
            await sleep_or_stop(backoff.next_delay, stop)
            next(backoff)
            continue
        backoff.reset()
        if on_answer is not None:
            on_answer()
        if not updates:
            continue
        while True:
            try:
                await pump.receive(updates)
                break
            except Exception as exc:
                # Not stored means not acknowledged: keep the offset and try to store the batch again.
                log.error(
                    "could not store %d update(s) (%s); retrying, nothing acknowledged", len(updates), exc
                )
                await sleep_or_stop(backoff.next_delay, stop)
                next(backoff)
                if stop.is_set():
                    return
        ids = [u["update_id"] for u in updates if isinstance(u, dict) and isinstance(u.get("update_id"), int)]
        if ids:
            offset = max(ids) + 1
