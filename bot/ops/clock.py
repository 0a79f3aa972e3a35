"""The one real clock of the bot's adapters; the pure cores and the desk take the time as an argument."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

__all__ = ["sleep_or_stop", "utc_now"]


def utc_now() -> datetime:
    """Return the current time, aware, in UTC."""
    return datetime.now(UTC)


async def sleep_or_stop(seconds: float, stop: asyncio.Event) -> None:
    """Return after ``seconds``, or as soon as ``stop`` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
