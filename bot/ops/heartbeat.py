"""A heartbeat file that proves the bot is alive, read by ``kefu health`` (container healthchecks).

In polling mode the polling loop touches ``<KEFU_DB_PATH>.heartbeat`` when it starts and after every
answer from ``getUpdates`` (a long poll returns at least every 25 s), so the heartbeat stops when it hangs,
Telegram stays unreachable, or the process dies. In webhook mode a loop connects to the webhook
listener every :data:`HEARTBEAT_EVERY_S` seconds and touches the file only when it accepts. A clean
stop removes the file. ``kefu health`` exits 0 while the heartbeat is younger than ``--max-age``.

Example::

    heartbeat = Heartbeat(heartbeat_path(settings.db_path))
    heartbeat.beat()                                  # the file's mtime is now
    heartbeat_age(heartbeat.path, time.time())        # 0.0…
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from bot.ops.clock import sleep_or_stop
from bot.store.files import create_private

__all__ = [
    "DEFAULT_MAX_AGE_S",
    "HEARTBEAT_EVERY_S",
    "Heartbeat",
    "beat_while_listening",
    "heartbeat_age",
    "heartbeat_path",
]

log = logging.getLogger(__name__)

HEARTBEAT_EVERY_S = 20.0
MIN_INTERVAL_S = 5.0  # a busy polling loop touches the file at most this often
DEFAULT_MAX_AGE_S = 90  # > the 25 s long poll and its 60 s request timeout margin


def heartbeat_path(db_path: Path) -> Path:
    """Return the heartbeat file beside the database: ``kefu.db`` → ``kefu.db.heartbeat``."""
    return db_path.with_name(db_path.name + ".heartbeat")


def heartbeat_age(path: Path, now: float) -> float | None:
    """Return the seconds since the last heartbeat at ``path`` (``now`` as a Unix time), None if none."""
    try:
        return max(0.0, now - path.stat().st_mtime)
    except FileNotFoundError:
        return None


class Heartbeat:
    """Touches the heartbeat file (mode 0600), at most every :data:`MIN_INTERVAL_S` seconds."""

    def __init__(
        self, path: Path, *, clock: Callable[[], float] = time.time, min_interval_s: float = MIN_INTERVAL_S
    ) -> None:
        self.path = path
        self._clock = clock
        self._min_interval_s = min_interval_s
        self._last: float | None = None
        self._failing = False

    def beat(self) -> None:
        """Record that the bot is alive now (a failure to write is logged once, never raised)."""
        now = self._clock()
        if self._last is not None and now - self._last < self._min_interval_s:
            return
        try:
            create_private(self.path)
            os.utime(self.path, (now, now))
        except OSError as exc:
            if not self._failing:
                log.error("cannot write the heartbeat file %s (%s): kefu health will fail", self.path, exc)
            self._failing = True
            return
        self._failing = False
        self._last = now

    def remove(self) -> None:
        """Remove the heartbeat file (a clean stop): ``kefu health`` then says the bot is not running."""
        with contextlib.suppress(OSError):
            self.path.unlink()
        self._last = None


async def beat_while_listening(
    heartbeat: Heartbeat, host: str, port: int, stop: asyncio.Event, *, every_s: float = HEARTBEAT_EVERY_S
) -> None:
    """Beat every ``every_s`` seconds while the webhook listener at ``host:port`` accepts a connection."""
    address = "127.0.0.1" if host in ("0.0.0.0", "") else "::1" if host == "::" else host
    while not stop.is_set():
        try:
            async with asyncio.timeout(5):
                _, writer = await asyncio.open_connection(address, port)
            writer.close()
            await writer.wait_closed()
            heartbeat.beat()
        except (OSError, TimeoutError) as exc:
            log.error("the webhook listener %s:%d does not accept connections (%s)", address, port, exc)
        await sleep_or_stop(every_s, stop)
