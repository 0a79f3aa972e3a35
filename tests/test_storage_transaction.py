"""``Storage.transaction()``: one transaction, nested ones savepoints that roll back alone, what sqlite-utils'
``atomic()`` does, without drawing random bytes for savepoint names (issue 15, CPU per update)."""

from __future__ import annotations

import sqlite3

import pytest

from bot.store.sqlite import open_storage


@pytest.fixture
def storage(tmp_path):
    storage = open_storage(tmp_path / "k.db")
    yield storage
    storage.close()


def test_writes_commit_together(storage):
    statements: list[str] = []
    storage.db.conn.set_trace_callback(statements.append)
    with storage.transaction() as inside:
        assert inside is storage
        storage.set_state("a", "1")
        storage.set_state("b", "2")
    assert not storage.db.conn.in_transaction
    assert (storage.state("a"), storage.state("b")) == ("1", "2")
    assert statements[0] == "BEGIN" and "COMMIT" in statements


def test_an_error_rolls_everything_back_and_propagates(storage):
    with pytest.raises(ValueError, match="boom"), storage.transaction():
        storage.set_state("a", "1")
        raise ValueError("boom")
    assert not storage.db.conn.in_transaction
    assert storage.state("a") is None


def test_a_nested_transaction_is_a_savepoint_that_rolls_back_alone(storage):
    with storage.transaction():
        storage.set_state("outer", "kept")
        with pytest.raises(ValueError), storage.transaction():
            storage.set_state("inner", "lost")
            with storage.transaction():
                storage.set_state("innermost", "lost")
            raise ValueError
        with storage.transaction():
            storage.set_state("sibling", "kept")
        assert storage.db.conn.in_transaction
    states = [storage.state(k) for k in ("outer", "inner", "innermost", "sibling")]
    assert states == ["kept", None, None, "kept"]


def test_an_error_that_ended_the_transaction_propagates_as_itself(storage):
    storage.db.execute("CREATE TABLE t (x)")
    storage.db.execute("CREATE TRIGGER no_x BEFORE INSERT ON t BEGIN SELECT RAISE(ROLLBACK, 'refused'); END")
    with pytest.raises(sqlite3.IntegrityError, match="refused"), storage.transaction():
        storage.set_state("a", "1")
        with storage.transaction():
            storage.db.execute("INSERT INTO t VALUES (1)")
    assert not storage.db.conn.in_transaction
    assert storage.state("a") is None


def test_a_locked_database_rolls_back_and_raises(storage, tmp_path):
    other = sqlite3.connect(tmp_path / "k.db", timeout=0)
    storage.db.execute("PRAGMA busy_timeout = 0")
    storage.db.execute("CREATE TABLE t (x)")
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(sqlite3.OperationalError), storage.transaction():
        storage.db.execute("INSERT INTO t VALUES (1)")
    assert not storage.db.conn.in_transaction
    other.rollback()
    other.close()
    assert storage.db.execute("SELECT count(*) FROM t").fetchone()[0] == 0


def test_savepoints_are_named_by_depth_so_their_statements_recur(storage):
    statements: list[str] = []
    storage.db.conn.set_trace_callback(statements.append)
    for _ in range(2):
        with storage.transaction(), storage.transaction():
            with storage.transaction():
                storage.set_state("a", "1")
            with storage.transaction():
                storage.set_state("b", "2")
    savepoints = [s for s in statements if "SAVEPOINT" in s]
    # A savepoint inside a savepoint is released with the one around it: no RELEASE of its own.
    assert savepoints == 2 * [
        "SAVEPOINT kefu_1",
        "SAVEPOINT kefu_2",
        "SAVEPOINT kefu_2",
        "RELEASE SAVEPOINT kefu_1",
    ]
    assert (storage.state("a"), storage.state("b")) == ("1", "2")


def test_a_nested_savepoint_left_open_still_commits_and_rolls_back_as_released(storage):
    """kefu_2 that succeeded is not released alone; what commits and what rolls back stays the same."""
    with storage.transaction():
        with storage.transaction():  # kefu_1: a customer message in its group
            with storage.transaction():
                storage.set_state("kept", "1")  # a decision that went through
            with pytest.raises(ValueError), storage.transaction():  # a second one fails: it alone goes
                storage.set_state("lost", "1")
                raise ValueError
            assert (storage.state("kept"), storage.state("lost")) == ("1", None)
            with storage.transaction():
                storage.set_state("also", "1")
        with pytest.raises(ValueError), storage.transaction():  # the next message fails after a decision
            with storage.transaction():
                storage.set_state("undone", "1")
            raise ValueError
        assert storage.state("undone") is None
    assert not storage.db.conn.in_transaction
    assert (storage.state("kept"), storage.state("lost"), storage.state("also")) == ("1", None, "1")
    assert storage.state("undone") is None
    assert storage._depth == 0


def test_a_savepoint_inside_sqlite_utils_own_rolls_back_alone(storage):
    with storage.db.atomic(), storage.db.atomic():
        storage.set_state("outer", "kept")
        with pytest.raises(ValueError), storage.transaction():
            storage.set_state("inner", "lost")
            raise ValueError
    assert (storage.state("outer"), storage.state("inner")) == ("kept", None)
