"""The database file under a running bot: noticed when it is deleted or replaced, and written back.

SQLite's open connection keeps working on a file deleted from under it, so the bot would go on
storing everything into a file no one can find again, and the next start would begin empty. Every
``WATCH_S`` the runner's :func:`watch` checks that ``KEFU_DB_PATH`` is still the file it opened; if
not, it stops the bot, and at the end :func:`rescue_and_close` copies everything to ``KEFU_DB_PATH``
(or beside it, when another file is there now) and returns the :class:`DatabaseLost` to raise, so
that a supervisor restarts the bot on that file.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from bot.ops.clock import sleep_or_stop, utc_now

if TYPE_CHECKING:
    from bot.store.sqlite import Storage

__all__ = [
    "WATCH_S",
    "DatabaseLost",
    "create_private",
    "file_identity",
    "is_lost",
    "put_back",
    "rescue_and_close",
    "watch",
]

log = logging.getLogger(__name__)

WATCH_S = 5.0  # how often the file is checked to still be the one open


class DatabaseLost(Exception):
    """The database file was deleted or replaced while kefu ran; the message says where the data went."""


def is_lost(storage: Storage) -> bool:
    """Return whether ``storage``'s file was deleted or replaced (False when it cannot be checked now)."""
    try:
        return storage.file_is_lost()
    except OSError as exc:  # e.g. the directory's permissions changed: say so, look again later
        log.warning("cannot check the database file %s: %s", storage.path, exc)
        return False


async def watch(storage: Storage, stop: asyncio.Event) -> None:
    """Set ``stop`` when the database file is deleted or replaced; return then, or once stopped."""
    while not stop.is_set():
        await sleep_or_stop(WATCH_S, stop)
        if is_lost(storage):
            log.critical(
                "the database file %s was deleted or replaced while kefu was running: stopping; "
                "everything stored is written back first",
                storage.path,
            )
            stop.set()


def rescue_and_close(storage: Storage) -> DatabaseLost:
    """Copy everything stored back to the file's path, close ``storage``; return the error to raise."""
    path = storage.path
    copy = path.with_name(f"{path.name}.recovering")
    try:
        copy.unlink(missing_ok=True)
        storage.copy_to(copy)
    except Exception as exc:  # the only copy left is the deleted file this process still holds
        storage.close()
        log.critical("writing the database back beside %s failed: %s: %s", path, type(exc).__name__, exc)
        return DatabaseLost(
            f"the database file {path} was deleted or replaced while kefu was running, "
            f"and writing it back failed ({type(exc).__name__}: {exc})"
        )
    storage.close()  # first: closing removes the dead file's -wal, which must never meet the copy
    where = put_back(copy, path)
    moved = "" if where == path else f" (move it to {path} to go on with it)"
    return DatabaseLost(
        f"the database file {path} was deleted or replaced while kefu was running; "
        f"everything stored was written back to {where}{moved}"
    )


def put_back(copy: Path, path: Path) -> Path:
    """Move the written-back ``copy`` to ``path`` when nothing is there now, else aside; return where."""
    if path.exists():  # replaced by someone: keep theirs, put ours beside it
        target = path.with_name(f"{path.stem}.recovered-{utc_now():%Y%m%dT%H%M%SZ}{path.suffix}")
    else:
        target = path
        for stale in (f"{path}-wal", f"{path}-shm"):  # left from the deleted file; never replay them
            Path(stale).unlink(missing_ok=True)
    copy.replace(target)
    return target


def file_identity(path: Path) -> tuple[int, int] | None:
    """Return ``path``'s (device, inode), which changes when the file is replaced; None when missing."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino


def create_private(path: str | Path) -> None:
    """Create ``path`` empty with mode 0600 if it does not exist (only kefu's user may read it).

    SQLite gives the ``-wal`` and ``-shm`` files the mode of the database file, so they are 0600 too.
    An existing file keeps its mode; ``:memory:`` and a missing folder are left to SQLite.
    """
    if str(path) in ("", ":memory:") or str(path).startswith("file:"):
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except (FileExistsError, FileNotFoundError):
        pass
