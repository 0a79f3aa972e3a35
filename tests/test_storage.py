"""Storage: schema and migrations, pragmas, the small queries the desk and the sender use."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

import bot.store.sqlite as sqlite_module
from bot.store.sqlite import MIGRATIONS, TABLES, StorageError, from_iso, open_storage, table_counts, to_iso

AT = datetime(2026, 11, 23, 10, 0, tzinfo=timezone(timedelta(hours=8)))


@pytest.fixture
def storage(db_path):
    store = open_storage(db_path)
    yield store
    store.close()


def test_open_creates_every_table_with_wal_and_foreign_keys(storage):
    assert set(TABLES) <= set(storage.db.table_names())
    assert storage.db.journal_mode == "wal"
    assert storage.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert storage.db.execute("PRAGMA busy_timeout").fetchone()[0] > 0


def test_migrations_apply_once(db_path):
    open_storage(db_path).close()
    store = open_storage(db_path)
    assert MIGRATIONS.pending(store.db) == []
    assert [m.name for m in MIGRATIONS.applied(store.db)] == [m.name for m in MIGRATIONS._migrations]
    store.close()


def test_table_counts(db_path, storage):
    storage.upsert_customer(1, 1, "a", None, AT)
    storage.add_message(customer_id=1, direction="in", sender="customer", text="x", at=AT)
    counts = table_counts(db_path)
    assert set(counts) == set(TABLES)
    assert (counts["customers"], counts["messages"], counts["outbox"]) == (1, 1, 0)


@pytest.mark.parametrize("moment", [AT, AT.astimezone(UTC), datetime(2026, 1, 1, tzinfo=UTC)])
def test_times_are_utc_iso(moment):
    stamp = to_iso(moment)
    assert stamp.endswith("+00:00")
    assert from_iso(stamp) == moment


def test_naive_time_refused():
    with pytest.raises(ValueError, match="naive"):
        to_iso(datetime(2026, 1, 1))


def test_upsert_customer_refreshes_and_unblocks(storage):
    storage.upsert_customer(5, 5, "旧名", "old", AT)
    storage.update_customer(5, blocked=1, topic_id=9)
    customer = storage.upsert_customer(5, 5, "新名", "new", AT + timedelta(minutes=1))
    assert (customer.name, customer.username, customer.blocked, customer.topic_id) == ("新名", "new", 0, 9)


def test_foreign_keys_enforced(storage):
    with pytest.raises(sqlite3.IntegrityError):
        storage.add_message(customer_id=999, direction="in", sender="customer", text="x", at=AT)


def test_agent_numbers_assigned_in_order(storage):
    numbers = [storage.agent(uid, f"a{uid}", AT).number for uid in (70, 71, 70, 72)]
    assert numbers == ["001", "002", "001", "003"]


def test_ticket_numbers_unique_per_day(storage):
    storage.upsert_customer(1, 1, "a", None, AT)
    conv = storage.current_conversation(1, AT)
    made = [
        storage.create_ticket(1, conv.id, "complaint", day, AT, AT, AT).number
        for day in (date(2026, 11, 23), date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 23))
    ]
    assert made == ["T20261123-0001", "T20261123-0002", "T20261124-0001", "T20261123-0003"]


def test_current_conversation_reused_until_closed(storage):
    storage.upsert_customer(1, 1, "a", None, AT)
    first = storage.current_conversation(1, AT)
    assert storage.current_conversation(1, AT).id == first.id
    storage.update_conversation(first.id, status="closed_uncivil")
    assert storage.current_conversation(1, AT).id == first.id
    storage.update_conversation(first.id, status="closed")
    assert storage.current_conversation(1, AT).id != first.id


def test_customer_in_conversation_is_the_upsert_and_the_current_conversation_read_together(storage):
    customer, conv = storage.customer_in_conversation(5, 5, "旧名", "old", AT)  # new: both made
    assert customer == storage.customer(5) and conv == storage.current_conversation(5, AT)
    storage.update_customer(5, blocked=1, topic_id=9)
    storage.update_conversation(conv.id, status="closed_uncivil", uncivil_count=3)
    later = AT + timedelta(minutes=1)
    customer, again = storage.customer_in_conversation(5, 5, "新名", "new", later)
    assert customer == storage.upsert_customer(5, 5, "新名", "new", later)
    assert (customer.name, customer.blocked, customer.topic_id) == ("新名", 0, 9)
    assert again == storage.current_conversation(5, later) and again.uncivil_count == 3
    storage.update_conversation(conv.id, status="closed")
    _, fresh = storage.customer_in_conversation(5, 5, "新名", "new", later)  # closed: a new one is opened
    assert fresh.id != conv.id and fresh == storage.current_conversation(5, later)


def test_the_current_conversation_is_the_newest_open_or_uncivil_closed_one_read_without_a_sort(storage):
    storage.upsert_customer(1, 1, "a", None, AT)
    conversations = storage.db["conversations"]
    made = [
        conversations.insert({"customer_id": 1, "status": status, "opened_at": "x"}).last_pk
        for status in ("open", "closed_uncivil", "closed")
    ]
    assert storage.current_conversation(1, AT).id == made[1]
    assert storage.customer_in_conversation(1, 1, "a", None, AT)[1].id == made[1]
    # max(id), not ORDER BY id DESC LIMIT 1: that sorted in a temporary B-tree for every message (issue 15).
    for sql in (sqlite_module._CUSTOMER_IN_CONVERSATION, sqlite_module._CURRENT_CONVERSATION_ID.format("?")):
        plan = " | ".join(row[3] for row in storage.db.execute("EXPLAIN QUERY PLAN " + sql, [1]))
        assert "TEMP B-TREE" not in plan and "SCAN" not in plan, plan


def test_customer_in_conversation_drops_the_kept_topic_holder_only_on_a_new_name(storage):
    storage.customer_in_conversation(5, 5, "张三", "zs", AT)
    storage.topic_holder(5)
    storage.customer_in_conversation(5, 5, "张三", "zs", AT + timedelta(minutes=1))
    assert storage.kept_topic_holder(5) is not None
    storage.customer_in_conversation(5, 5, "张三丰", "zs", AT + timedelta(minutes=2))
    assert storage.kept_topic_holder(5) is None


def test_outbox_order_and_confirmation(storage):
    storage.upsert_customer(1, 1, "a", None, AT)
    message = storage.add_message(customer_id=1, direction="out", sender="bot", text="您好", at=AT)
    ids = [
        storage.enqueue(1, "sendMessage", {"chat_id": 1, "text": t}, AT, message_id=message) for t in "abc"
    ]
    assert [r.id for r in storage.pending_outbox()] == ids
    storage.mark_sent(ids[0], 321, AT)
    storage.mark_attempt(ids[1], "502 Bad Gateway", AT)
    storage.mark_attempt(ids[2], "400", AT, failed=True)
    assert [r.id for r in storage.pending_outbox()] == [ids[1]]
    assert storage.pending_outbox()[0].attempts == 1
    assert storage.message(message).telegram_message_id == 321
    assert [r.status for r in storage.outbox()] == ["sent", "pending", "failed"]


def test_outbox_payload_keeps_chinese_readable(db_path, storage):
    storage.enqueue(1, "sendMessage", {"chat_id": 1, "text": "您好"}, AT)
    raw = sqlite3.connect(db_path).execute("SELECT payload FROM outbox").fetchone()[0]
    assert "您好" in raw


def test_plain_sqlite_reads_the_file_while_open(db_path, storage):
    storage.upsert_customer(1, 1, "a", None, AT)
    reader = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    assert reader.execute("SELECT count(*) FROM customers").fetchone()[0] == 1
    reader.close()


@pytest.mark.parametrize("opener", [open_storage, table_counts])
def test_not_a_database_is_one_clear_error(tmp_path, opener):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError, match=r"junk\.db"):
        opener(path)


def test_counts_of_a_foreign_database_say_it_is_not_kefus(tmp_path):
    from bot.store.sqlite import NotKefuDatabase

    path = tmp_path / "other.db"
    sqlite3.connect(path).execute("CREATE TABLE x (a)").connection.commit()
    expected = r"other\.db: a SQLite database, but not kefu's \(its tables: x\): check KEFU_DB_PATH$"
    with pytest.raises(NotKefuDatabase, match=expected):
        table_counts(path)


def test_counts_of_a_kefu_database_missing_a_newer_table_are_zero(tmp_path):
    path = tmp_path / "kefu.db"
    open_storage(path).close()
    sqlite3.connect(path).execute("DROP TABLE staff_messages").connection.commit()
    assert table_counts(path)["staff_messages"] == 0


def test_ticket_numbers_keep_counting_past_9999_in_a_day(storage):
    storage.upsert_customer(1, 1, "a", None, AT)
    conv = storage.current_conversation(1, AT)
    day = date(2026, 11, 23)
    storage.db.execute(
        "INSERT INTO tickets (number, customer_id, conversation_id, kind, status, created_at, due_answer_at, "
        "due_settle_at) VALUES ('T20261123-9999', 1, ?, 'complaint', 'open', '', '', '')",
        [conv.id],
    )
    made = [storage.create_ticket(1, conv.id, "complaint", day, AT, AT, AT).number for _ in range(2)]
    assert made == ["T20261123-10000", "T20261123-10001"]


def _foreign_database(path):
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE moz_bookmarks (id INTEGER PRIMARY KEY, title TEXT)")
    conn.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
    conn.commit()
    conn.close()


def test_kefu_db_says_a_foreign_sqlite_file_is_not_kefus(tmp_path):
    from click.testing import CliRunner

    from bot.commands.cli import main

    path = tmp_path / "places.sqlite"
    _foreign_database(path)
    result = CliRunner().invoke(main, ["db", "--db", str(path)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == (
        f"kefu: {path}: a SQLite database, but not kefu's (its tables: moz_bookmarks, moz_places): "
        "check KEFU_DB_PATH"
    )


def test_open_storage_leaves_a_foreign_sqlite_file_untouched(tmp_path):
    from bot.store.sqlite import NotKefuDatabase

    path = tmp_path / "places.sqlite"
    _foreign_database(path)
    before = path.read_bytes()
    with pytest.raises(NotKefuDatabase, match="not kefu's"):
        open_storage(path)
    assert path.read_bytes() == before  # no kefu table, no WAL switch written into it
    assert not (tmp_path / "places.sqlite-wal").exists()


def test_an_empty_sqlite_file_becomes_kefus(tmp_path):
    path = tmp_path / "empty.db"
    path.write_bytes(b"")
    storage = open_storage(path)
    assert "customers" in storage.db.table_names()
    storage.close()
    assert table_counts(path)["customers"] == 0


def test_the_database_and_its_wal_and_shm_files_are_created_0600(tmp_path):
    import os
    import stat

    old = os.umask(0o022)  # a usual, permissive umask: the files must still be private
    try:
        path = tmp_path / "kefu.db"
        storage = open_storage(path)
        storage.upsert_customer(1, 1, "张三", None, AT)  # a write: the WAL and shared-memory files exist now
        modes = {
            p.name: stat.S_IMODE(p.stat().st_mode)
            for p in (path, tmp_path / "kefu.db-wal", tmp_path / "kefu.db-shm")
        }
        copy = tmp_path / "copy.db"
        storage.copy_to(copy)
        modes[copy.name] = stat.S_IMODE(copy.stat().st_mode)
        storage.close()
    finally:
        os.umask(old)
    assert modes == {"kefu.db": 0o600, "kefu.db-wal": 0o600, "kefu.db-shm": 0o600, "copy.db": 0o600}


def test_an_existing_database_keeps_its_mode(tmp_path):
    import stat

    path = tmp_path / "kefu.db"
    open_storage(path).close()
    path.chmod(0o640)  # the operator let a group read it (datasette as another user)
    open_storage(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_confirmed_sends_are_marked_together_and_a_row_that_is_gone_spoils_none_of_the_others(storage):
    storage.upsert_customer(1, 1, "a", None, AT)
    message = storage.add_message(customer_id=1, direction="out", sender="bot", text="您好", at=AT)
    first = storage.enqueue(1, "sendMessage", {"chat_id": 1, "text": "a"}, AT, message_id=message)
    second = storage.enqueue(2, "sendMessage", {"chat_id": 2, "text": "b"}, AT)
    errors = storage.mark_sent_many([(first, 501, AT), (9999, 502, AT), (second, 503, AT)])
    assert errors[0] is None and errors[2] is None and errors[1] is not None  # row 9999 never existed
    assert [(r.status, r.telegram_message_id) for r in storage.outbox()] == [("sent", 501), ("sent", 503)]
    assert storage.message(message).telegram_message_id == 501


def test_topic_holder_reads_the_customer_with_their_open_ticket(storage):
    assert storage.topic_holder(1) == (None, None)
    storage.upsert_customer(1, 1, "a", None, AT)
    assert storage.topic_holder(1) == (storage.customer(1), None)
    conversation = storage.current_conversation(1, AT)
    ticket = storage.create_ticket(1, conversation.id, "complaint", AT.date(), AT, AT, AT)
    assert storage.topic_holder(1) == (storage.customer(1), ticket)
    storage.update_ticket(ticket.id, status="closed")
    assert storage.topic_holder(1) == (storage.customer(1), None)


def test_a_kept_topic_holder_is_dropped_by_every_write_that_can_change_the_topic_or_its_title(storage):
    storage.upsert_customer(1, 1, "张三", "zhang", AT)

    def kept_after(change) -> bool:
        storage.topic_holder(1)
        assert storage.kept_topic_holder(1) == storage.topic_holder(1)
        change()
        return storage.kept_topic_holder(1) is not None

    conversation = storage.current_conversation(1, AT)
    assert kept_after(lambda: storage.upsert_customer(1, 1, "张三", "zhang", AT))  # nothing new in the title
    assert not kept_after(lambda: storage.upsert_customer(1, 1, "张三丰", "zhang", AT))
    assert not kept_after(lambda: storage.update_customer(1, topic_id=77, topic_name="张三丰"))
    day = AT.date()
    assert not kept_after(lambda: storage.create_ticket(1, conversation.id, "complaint", day, AT, AT, AT))
    ticket = storage.open_ticket(1)
    assert not kept_after(lambda: storage.update_ticket(ticket.id, status="closed"))
    assert not kept_after(lambda: storage.set_banned(1, AT))
    storage.update_customer(1, topic_id=None)
    storage.add_spare_topic(-100, 501, AT)
    assert not kept_after(lambda: storage.claim_spare_topic(-100, 1, "⏳ 待分配"))
    assert storage.topic_holder(1)[0].topic_id == 501


def test_a_kept_topic_holder_is_read_again_after_its_time(storage, monkeypatch):
    storage.upsert_customer(1, 1, "张三", "zhang", AT)
    storage.topic_holder(1)
    assert storage.kept_topic_holder(1) is not None
    monkeypatch.setattr("bot.store.sqlite.HOLDER_KEPT_S", -1.0)
    assert storage.kept_topic_holder(1) is None


def test_no_topic_holder_is_kept_from_inside_a_transaction(storage):
    storage.upsert_customer(1, 1, "张三", "zhang", AT)
    with storage.transaction():  # what it reads may yet be rolled back
        storage.topic_holder(1)
    assert storage.kept_topic_holder(1) is None


def test_the_kept_topic_holders_drop_the_least_recently_read_customer_first(storage, monkeypatch):
    monkeypatch.setattr("bot.store.sqlite.HOLDERS_KEPT", 3)
    for customer_id in (1, 2, 3, 4):
        storage.upsert_customer(customer_id, customer_id, f"客户{customer_id}", None, AT)
    storage.topic_holder(1)
    storage.topic_holder(2)
    storage.topic_holder(1)  # read again: now the most recent
    storage.topic_holder(3)
    storage.topic_holder(4)  # one too many: customer 2 was read least recently
    assert storage.kept_topic_holder(2) is None
    assert all(storage.kept_topic_holder(customer_id) is not None for customer_id in (1, 3, 4))


def test_a_state_is_read_once_then_kept_and_written_through(storage):
    ran: list[str] = []
    storage.db.conn.set_trace_callback(ran.append)
    assert storage.state("topic_closed:1") is None
    assert storage.state("topic_closed:1") is None  # kept: the closed-topic look of every message (issue 15)
    storage.set_state("topic_closed:1", "1")
    assert storage.state("topic_closed:1") == "1"
    storage.set_state("topic_closed:1", None)
    assert storage.state("topic_closed:1") is None
    storage.db.conn.set_trace_callback(None)
    assert sum(s.startswith("SELECT value FROM bot_state") for s in ran) == 1


@pytest.mark.parametrize("nested", [False, True])
def test_a_rolled_back_state_write_is_not_kept(storage, nested):
    storage.set_state("topic_closed:1", "1")
    with pytest.raises(RuntimeError), storage.transaction():
        if nested:
            with storage.transaction():  # a savepoint rolling back alone
                storage.set_state("topic_closed:1", None)
                assert storage.state("topic_closed:1") is None
                raise RuntimeError("decision failed")
        storage.set_state("topic_closed:1", None)
        raise RuntimeError("message failed")
    assert storage.state("topic_closed:1") == "1"


def test_a_kept_state_is_read_again_after_its_time(storage, db_path, monkeypatch):
    assert storage.state("album:1:x") is None
    other = sqlite3.connect(db_path)  # another process: an operator's sqlite3
    other.execute("INSERT INTO bot_state (key, value) VALUES ('album:1:x', 'seen')")
    other.commit()
    other.close()
    assert storage.state("album:1:x") is None  # kept for a while
    monkeypatch.setattr("bot.store.sqlite.HOLDER_KEPT_S", -1.0)
    assert storage.state("album:1:x") == "seen"


def test_the_kept_states_drop_the_oldest_first(storage, monkeypatch):
    monkeypatch.setattr("bot.store.sqlite.STATES_KEPT", 2)
    for key in ("a", "b", "c"):
        storage.state(key)
    assert list(storage._states) == ["b", "c"]
