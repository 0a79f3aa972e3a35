"""The database file under a running bot: written back when deleted, put aside when replaced."""

from __future__ import annotations

import sqlite3

import pytest

from bot.store.files import is_lost, put_back, rescue_and_close
from bot.store.sqlite import open_storage


def test_the_written_back_copy_goes_aside_when_the_file_was_replaced(tmp_path):
    path, copy = tmp_path / "kefu.db", tmp_path / "kefu.db.recovering"
    path.write_text("someone else's file")
    copy.write_text("ours")
    where = put_back(copy, path)
    assert where != path and where.name.startswith("kefu.recovered-") and where.read_text() == "ours"
    assert path.read_text() == "someone else's file"


def test_the_written_back_copy_takes_the_place_of_a_deleted_file_and_its_stale_wal(tmp_path):
    path, copy = tmp_path / "kefu.db", tmp_path / "kefu.db.recovering"
    copy.write_text("ours")
    (tmp_path / "kefu.db-wal").write_text("frames of the deleted file")
    assert put_back(copy, path) == path and path.read_text() == "ours"
    assert not (tmp_path / "kefu.db-wal").exists()


def test_a_deleted_file_is_lost_and_rescued_with_everything_in_it(db_path):
    storage = open_storage(db_path)
    storage.set_state("marker", "still here")
    assert not is_lost(storage)
    for name in (db_path.name, f"{db_path.name}-wal", f"{db_path.name}-shm"):
        (db_path.parent / name).unlink(missing_ok=True)
    assert is_lost(storage)
    storage.set_state("after", "written into the deleted file")  # the connection goes on working
    error = rescue_and_close(storage)
    assert f"written back to {db_path}" in str(error)
    rows = dict(sqlite3.connect(db_path).execute("SELECT key, value FROM bot_state"))
    assert rows == {"marker": "still here", "after": "written into the deleted file"}


def test_a_failed_write_back_is_reported_and_the_storage_closed(db_path, monkeypatch):
    storage = open_storage(db_path)
    db_path.unlink()

    def full(target):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(storage, "copy_to", full)
    error = rescue_and_close(storage)
    assert "writing it back failed (OperationalError: database or disk is full)" in str(error)
    assert not db_path.exists()
    with pytest.raises(sqlite3.ProgrammingError):  # closed
        storage.db.conn.execute("SELECT 1")
