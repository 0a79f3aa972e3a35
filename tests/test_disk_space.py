"""A nearly full disk (issue 11, item 7): the WAL stays small, its space comes back once the disk is
freed, nothing stored is lost, a restart works, and low space is told in the log and the staff chat.

The full disk is real where the tests can mount one: an 8 MiB tmpfs (as root; skipped elsewhere). The
warning is tested everywhere, with the free-space probe replaced."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.desk.texts import NOTICE_LOW_DISK
from bot.ops.diskspace import LOW_FREE_BYTES, look_after_disk
from bot.store.sqlite import JOURNAL_SIZE_LIMIT, Storage, is_disk_trouble, open_storage

ROW_TEXT = "x" * 2000  # an outbox row of about 2 KB


@pytest.fixture
def small_disk(tmp_path: Path):
    """An 8 MiB file system of its own (tmpfs), unmounted afterwards; skipped where it cannot be mounted."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount_point)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield mount_point
    subprocess.run(["umount", "--lazy", str(mount_point)], check=False)  # even with a file left open


def _rows(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
    finally:
        conn.close()


async def test_a_full_disk_gives_its_space_back_once_freed_and_loses_nothing(small_disk: Path):
    path = small_disk / "kefu.db"
    storage = open_storage(path)
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * (4 * 1024 * 1024))  # less than about 4 MiB left for the bot
    stored = 0
    with pytest.raises(sqlite3.OperationalError) as full:
        for _ in range(10_000):
            await storage.run(storage.enqueue, 1, "sendMessage", {"text": ROW_TEXT}, datetime.now(UTC))
            stored += 1
    assert is_disk_trouble(full.value)
    assert stored > 100

    filler.unlink()  # the operator frees space
    for _ in range(50):  # and the bot simply goes on
        await storage.run(storage.enqueue, 1, "sendMessage", {"text": ROW_TEXT}, datetime.now(UTC))
    await look_after_disk(storage, None, rounds=1)
    wal = Path(f"{path}-wal")
    assert not wal.exists() or wal.stat().st_size <= JOURNAL_SIZE_LIMIT
    storage.finish()
    assert _rows(path) == stored + 50  # every write that was accepted is there

    # A restart (without the clean close that would delete the WAL) opens and writes as before.
    restarted = open_storage(path)
    await restarted.run(restarted.enqueue, 1, "sendMessage", {"text": "after restart"}, datetime.now(UTC))
    restarted.close()
    storage.close()
    assert _rows(path) == stored + 51


async def test_the_wal_never_grows_past_its_limit_in_normal_use(db_path: Path):
    storage = open_storage(db_path)
    for _ in range(1500):  # about 3 MB written, in 1,500 transactions
        await storage.run(storage.enqueue, 1, "sendMessage", {"text": ROW_TEXT}, datetime.now(UTC))
    wal = Path(f"{db_path}-wal")
    assert wal.stat().st_size <= JOURNAL_SIZE_LIMIT + 64 * 1024  # SQLite's 1,000-page default is 4 MiB
    storage.close()


async def test_a_write_the_full_disk_refused_triggers_a_checkpoint(db_path: Path, monkeypatch):
    storage = open_storage(db_path)
    checkpoints: list[tuple[int, int, int]] = []
    real = Storage.checkpoint
    monkeypatch.setattr(Storage, "checkpoint", lambda self: checkpoints.append(real(self)) or checkpoints[-1])

    def refused() -> None:
        raise sqlite3.OperationalError("database or disk is full")

    with pytest.raises(sqlite3.OperationalError):
        await storage.run(refused)
    storage.finish()
    assert len(checkpoints) == 1
    storage.close()


async def test_low_free_space_is_told_once_in_the_log_and_the_staff_chat(db_path: Path, caplog):
    storage = open_storage(db_path)
    free = iter([LOW_FREE_BYTES * 4, LOW_FREE_BYTES - 1, LOW_FREE_BYTES // 2, LOW_FREE_BYTES * 2, 1024])
    told: list[str] = []

    async def tell_staff(text: str) -> None:
        told.append(text)

    with caplog.at_level(logging.WARNING, logger="bot.ops.diskspace"):
        await look_after_disk(storage, tell_staff, every_s=0, probe=lambda _: next(free), rounds=5)
    storage.close()
    # Low at round 2 (told), still low at round 3 (not again), fine at 4, low again at 5 (told again).
    assert told == [
        NOTICE_LOW_DISK.format(free="64.0 MiB", low="64.0 MiB"),
        NOTICE_LOW_DISK.format(free="0.0 MiB", low="64.0 MiB"),
    ]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2 and all("keep at least 64.0 MiB free" in w for w in warnings)


def test_the_minimum_free_space_is_documented():
    root = Path(__file__).resolve().parent.parent
    figure = f"{LOW_FREE_BYTES // (1024 * 1024)} MiB"
    assert figure in (root / "README.md").read_text()
    assert figure in (root / "deploy" / "README.md").read_text()
