"""Inbound updates are stored before Telegram is told they arrived, and handled once, in order per chat."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime

import pytest
from aiogram.utils.backoff import BackoffConfig
from conftest import BotStack, poll_until

from bot.store.sqlite import open_storage
from bot.telegram.inbox import Inbox, chat_key

CUSTOMER = 4242


class Rig(BotStack):
    """The bot stack, with what these tests read back."""

    def statuses(self) -> dict[int, str]:
        return dict(self.storage.db.execute("SELECT update_id, status FROM updates").fetchall())

    def customer_texts(self, chat_id: int = CUSTOMER) -> list[str]:
        return [
            c.params["text"]
            for c in self.fake.calls("sendMessage", ok=True)
            if c.params["chat_id"] == chat_id
        ]


@pytest.fixture
async def rig(fake, settings):
    rig = Rig(fake, settings)
    yield rig
    rig.close()


async def test_polling_stores_handles_and_then_acknowledges(rig):
    ids = [rig.fake.push_update(rig.fake.text_update(t, user_id=CUSTOMER)) for t in ["你好", "几点上班?"]]
    await poll_until(rig, lambda: len(rig.statuses()) == 2 and rig.fake.pending_updates() == 0)
    assert rig.statuses() == {ids[0]: "done", ids[1]: "done"}
    stored = [m.text for m in rig.storage.messages(CUSTOMER) if m.direction == "in"]
    assert stored == ["你好", "几点上班?"]
    # the offset sent after the batch acknowledges exactly what was stored
    offsets = [c.params.get("offset") for c in rig.fake.calls("getUpdates")]
    assert max(ids) + 1 in offsets


async def test_nothing_is_acknowledged_while_the_database_cannot_store(rig, monkeypatch):
    update_id = rig.fake.push_update(rig.fake.text_update("在吗", user_id=CUSTOMER))
    real_store = rig.inbox.store
    failures = {"left": 2}

    def flaky_store(raw, at):
        if failures["left"]:
            failures["left"] -= 1
            raise OSError("database is locked")
        return real_store(raw, at)

    monkeypatch.setattr(rig.inbox, "store", flaky_store)
    monkeypatch.setattr(
        "bot.telegram.polling.BACKOFF", BackoffConfig(min_delay=0.01, max_delay=0.02, factor=1.5, jitter=0.0)
    )
    await poll_until(rig, lambda: rig.statuses().get(update_id) == "done")
    assert failures["left"] == 0
    offsets = [c.params.get("offset") for c in rig.fake.calls("getUpdates")]
    first_ack = offsets.index(update_id + 1)
    assert all(o is None or o <= update_id for o in offsets[:first_ack])


async def test_a_malformed_update_is_kept_and_the_batch_goes_on(rig):
    bad = rig.fake.push_update({"message": {"message_id": "not-a-number", "chat": "nope"}})
    unknown = rig.fake.push_update({"message_from_the_future": {"chat": {"id": CUSTOMER}}})
    good = rig.fake.push_update(rig.fake.text_update("你好", user_id=CUSTOMER))
    await poll_until(rig, lambda: rig.statuses().get(good) == "done")
    assert rig.statuses() == {bad: "malformed", unknown: "ignored", good: "done"}
    raw, error = rig.storage.db.execute(
        "SELECT raw, error FROM updates WHERE update_id = ?", [bad]
    ).fetchone()
    assert json.loads(raw)["message"]["message_id"] == "not-a-number" and error
    assert rig.customer_texts()


async def test_updates_left_by_a_crash_are_handled_at_start_exactly_once(fake, settings):
    first = Rig(fake, settings)
    update = fake.text_update("你好", user_id=CUSTOMER)
    update["update_id"] = 900
    first.inbox.store([update], datetime.now(UTC))
    first.storage.close()  # "crash": stored, never handled

    second = Rig(fake, settings)
    assert second.pump.replay_pending() == 1
    await second.pump.drain()
    await second.sender.flush()
    assert second.statuses() == {900: "done"}
    replies = second.customer_texts()
    assert len(replies) == 1

    # crashed again after handling but before the mark: the replay is recognised, nothing is re-sent
    second.storage.db.execute("UPDATE updates SET status = 'pending'")
    second.storage.db.conn.commit()
    assert second.pump.replay_pending() == 1
    await second.pump.drain()
    await second.sender.flush()
    assert second.customer_texts() == replies
    assert len([m for m in second.storage.messages(CUSTOMER) if m.direction == "in"]) == 1
    second.storage.close()


async def test_a_failing_handler_is_recorded_not_lost(rig, monkeypatch):
    async def broken(*args, **kwargs):
        raise RuntimeError("handler exploded")

    monkeypatch.setattr(rig.dp, "feed_update", broken)
    rig.pump.accept([{**rig.fake.text_update("你好", user_id=CUSTOMER), "update_id": 31}])
    await rig.pump.drain()
    status, error = rig.storage.db.execute(
        "SELECT status, error FROM updates WHERE update_id = 31"
    ).fetchone()
    assert status == "failed" and "handler exploded" in error


async def test_an_update_handled_while_the_database_locks_is_marked_done_once_it_unlocks(rig, monkeypatch):
    # The desk's work committed just before another process locked the file; the mark came just after.
    real_mark = rig.inbox.mark
    failures = {"left": 2}

    def locked_mark(update_id, status, at, error=None):
        if failures["left"]:
            failures["left"] -= 1
            raise sqlite3.OperationalError("database is locked")
        return real_mark(update_id, status, at, error)

    monkeypatch.setattr(rig.inbox, "mark", locked_mark)
    rig.pump.backoff = BackoffConfig(min_delay=0.01, max_delay=0.02, factor=1.5, jitter=0.0)
    rig.pump.accept([{**rig.fake.text_update("你好", user_id=CUSTOMER), "update_id": 41}])
    await rig.pump.drain()
    assert failures["left"] == 0
    assert rig.statuses()[41] == "done"
    assert [m.text for m in rig.storage.messages(CUSTOMER) if m.direction == "in"] == ["你好"]


async def test_a_customer_message_is_marked_done_in_the_desks_own_transaction(rig):
    statements: list[str] = []
    rig.storage.db.conn.set_trace_callback(statements.append)
    rig.pump.accept([{**rig.fake.text_update("你好", user_id=CUSTOMER), "update_id": 51}])
    await rig.pump.drain()
    rig.storage.db.conn.set_trace_callback(None)
    assert rig.statuses()[51] == "done"
    stored = next(i for i, s in enumerate(statements) if s.startswith('INSERT INTO "messages"'))
    marked = [i for i, s in enumerate(statements) if s.startswith("UPDATE updates SET status")]
    assert len(marked) == 1 and marked[0] > stored  # marked once, after the message was stored …
    assert "COMMIT" not in statements[stored : marked[0]]  # … and before that transaction committed


async def test_an_update_whose_handler_fails_is_not_marked_done_by_its_job(rig, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("desk exploded")

    monkeypatch.setattr(rig.desk, "on_customer_message", broken)
    rig.pump.accept([{**rig.fake.text_update("你好", user_id=CUSTOMER), "update_id": 52}])
    await rig.pump.drain()
    status, error = rig.storage.db.execute(
        "SELECT status, error FROM updates WHERE update_id = 52"
    ).fetchone()
    assert status == "failed" and "desk exploded" in error


async def test_order_is_kept_within_a_chat(rig, monkeypatch):
    seen: list[tuple[int, int]] = []
    real_handle = rig.pump.handle

    async def slow_handle(raw):
        chat = chat_key(raw)
        await asyncio.sleep(0.05 if raw["update_id"] % 2 else 0)  # odd ids are slow
        seen.append((chat, raw["update_id"]))
        return await real_handle(raw)

    monkeypatch.setattr(rig.pump, "handle", slow_handle)
    batch = []
    for update_id, user in [(1, 10), (2, 10), (3, 20), (4, 10), (5, 20)]:
        batch.append({**rig.fake.text_update(f"第{update_id}条", user_id=user), "update_id": update_id})
    rig.pump.accept(batch)
    await rig.pump.drain()
    assert [u for c, u in seen if c == 10] == [1, 2, 4]
    assert [u for c, u in seen if c == 20] == [3, 5]


def test_chat_key_of_several_update_kinds():
    assert chat_key({"update_id": 1, "message": {"chat": {"id": 5}}}) == 5
    assert (
        chat_key({"update_id": 1, "callback_query": {"from": {"id": 6}, "message": {"chat": {"id": -7}}}})
        == -7
    )
    assert chat_key({"update_id": 1, "inline_query": {"from": {"id": 8}}}) == 8
    assert chat_key({"update_id": 1, "weird": 3}) is None


def test_prune_deletes_only_old_handled_updates_and_keeps_the_newest(settings):
    storage = open_storage(settings.db_path)
    inbox = Inbox(storage)
    old, recent = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC)
    rows = [  # update_id, status, handled at
        (1, "done", old),
        (2, "ignored", old),
        (3, "failed", old),
        (4, "malformed", old),
        (5, "pending", None),
        (6, "done", recent),
        (7, "done", old),  # the newest: the next getUpdates offset is computed from it
    ]
    for update_id, status, handled in rows:
        storage.db.execute(
            "INSERT INTO updates (update_id, raw, status, received_at, handled_at) VALUES (?, '{}', ?, ?, ?)",
            [update_id, status, old.isoformat(), handled.isoformat() if handled else None],
        )
    storage.db.conn.commit()
    cutoff = datetime(2026, 10, 23, tzinfo=UTC)
    assert inbox.prune(cutoff, batch=1) == 1 and inbox.prune(cutoff) == 1 and inbox.prune(cutoff) == 0
    left = [r[0] for r in storage.db.execute("SELECT update_id FROM updates ORDER BY update_id")]
    assert left == [3, 4, 5, 6, 7]
    assert inbox.next_offset() == 8
    storage.close()


async def test_a_message_is_looked_for_as_a_replay_only_when_its_update_may_have_been_seen(rig, monkeypatch):
    # An update stored just now and tried for the first time cannot have stored its message yet: the desk
    # skips its look for one (issue 15). A replay at start, and a second try, look.
    seen: list[tuple[int, bool]] = []
    real = rig.desk.on_customer_message
    locked = {"left": 1}

    def recording(customer, text, *args, fresh=False, **kwargs):
        seen.append((kwargs["telegram_message_id"], fresh))
        if text == "锁" and locked["left"]:
            locked["left"] -= 1
            raise sqlite3.OperationalError("database is locked")
        return real(customer, text, *args, fresh=fresh, **kwargs)

    monkeypatch.setattr(rig.desk, "on_customer_message", recording)
    rig.pump.backoff = BackoffConfig(min_delay=0.01, max_delay=0.02, factor=1.5, jitter=0.0)
    new = rig.fake.text_update("你好", user_id=CUSTOMER)
    rig.pump.accept([{**new, "update_id": 61}])
    await rig.pump.drain()
    retried = rig.fake.text_update("锁", user_id=CUSTOMER)
    rig.pump.accept([{**retried, "update_id": 62}])
    await rig.pump.drain()
    rig.storage.db.execute("UPDATE updates SET status = 'pending' WHERE update_id = 61")
    rig.storage.db.conn.commit()
    assert rig.pump.replay_pending() == 1
    await rig.pump.drain()
    first, second = new["message"]["message_id"], retried["message"]["message_id"]
    assert seen == [(first, True), (second, True), (second, False), (first, False)]
    assert rig.statuses() == {61: "done", 62: "done"}
    assert [m.text for m in rig.storage.messages(CUSTOMER) if m.direction == "in"] == ["你好", "锁"]
    # Accepted again (Telegram sent the same update once more): not new, not handled, nothing fresh left.
    assert rig.pump.accept([{**new, "update_id": 61}]) == 0 and not rig.pump._fresh
