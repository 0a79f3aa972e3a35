"""Room for the database: a checkpoint every few minutes, and a warning when the disk runs low.

On a nearly full disk SQLite's WAL cannot be copied back into the database file, so it stops shrinking
and every write fails. kefu keeps the WAL small (``journal_size_limit``, a checkpoint every 256 pages,
see :mod:`bot.store.sqlite`), checkpoints every :data:`CHECK_EVERY_S` and right after a write the disk
refused,
and says so in the log and the staff chat when less than :data:`LOW_FREE_BYTES` is free, once per
episode, before the disk is full. README and deploy/README.md give the same figure as the minimum.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.desk import texts
from bot.store.sqlite import Storage

__all__ = ["CHECK_EVERY_S", "LOW_FREE_BYTES", "free_bytes", "look_after_disk"]

log = logging.getLogger(__name__)

#: Below this much free space on the database's file system kefu warns (log and staff chat).
LOW_FREE_BYTES = 64 * 1024 * 1024
CHECK_EVERY_S = 60.0


def free_bytes(path: Path) -> int:
    """Return the bytes free for kefu on the file system holding ``path`` (its folder when it is a file)."""
    folder = path if path.is_dir() else path.resolve().parent
    return shutil.disk_usage(folder).free


def _mib(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MiB"


async def look_after_disk(
    storage: Storage,
    tell_staff: Callable[[str], Awaitable[object]] | None,
    *,
    every_s: float = CHECK_EVERY_S,
    probe: Callable[[Path], int] = free_bytes,
    rounds: int | None = None,
) -> None:
    """Every ``every_s``: checkpoint, then warn once when free space falls under :data:`LOW_FREE_BYTES`.

    Runs until cancelled (or for ``rounds`` rounds, for tests); nothing here ever stops the bot.
    """
    if storage.path is None:
        raise ValueError("look_after_disk needs a storage opened on a file")
    low = False
    done = 0
    while rounds is None or done < rounds:
        try:
            busy, _, _ = await storage.run(storage.checkpoint)
            if busy:
                log.info("checkpoint held back by a reader of the database; next time")
        except Exception as exc:
            log.warning("checkpoint failed (%s: %s); trying again later", type(exc).__name__, exc)
        try:
            free = probe(storage.path)
        except OSError as exc:
            log.warning("cannot measure the free space under %s: %s", storage.path, exc)
            free = LOW_FREE_BYTES
        if free < LOW_FREE_BYTES and not low:
            low = True
            log.warning(
                "only %s free on the disk of %s (keep at least %s free): free space soon, or new messages "
                "cannot be stored",
                _mib(free),
                storage.path,
                _mib(LOW_FREE_BYTES),
            )
            if tell_staff is not None:
                try:
                    await tell_staff(texts.NOTICE_LOW_DISK.format(free=_mib(free), low=_mib(LOW_FREE_BYTES)))
                except Exception as exc:
                    log.error("telling the staff chat that the disk is low failed: %s", exc)
        elif free >= LOW_FREE_BYTES and low:
            low = False
            log.info("free space on the disk of %s is back to %s", storage.path, _mib(free))
        done += 1
        if rounds is None or done < rounds:
            await asyncio.sleep(every_s)
