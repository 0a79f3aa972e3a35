"""A database another process has locked, or that became read-only: clear log lines, nothing lost, nothing
sent twice. The lock is real: a second SQLite connection holds ``BEGIN EXCLUSIVE`` on the file (the
busy timeout is shortened so the bot gives up waiting quickly)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

import pytest
from aiogram.utils.backoff import BackoffConfig
from conftest import STAFF_CHAT_ID, TEST_TOKEN, BotStack, poll_until

from bot.ops.settings import load_settings
from bot.store.sqlite import is_unavailable
from bot.telegram.inbox import Inbox, UpdatePump

CUSTOMER = 5151
QUICK = BackoffConfig(min_delay=0.05, max_delay=0.1, factor=1.5, jitter=0.0)


class OtherProcess:
    """A second connection to the bot's database file that can hold the write lock."""

    def __init__(self, path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=0)

    def lock(self) -> None:
        self.conn.execute("BEGIN EXCLUSIVE")

    def release(self) -> None:
        self.conn.execute("COMMIT")


class Rig(BotStack):
    """The bot stack, another process that can lock its database, and a pump that retries quickly."""

    def __init__(self, fake, settings) -> None:
        super().__init__(fake, settings)
        self.pump = self.new_pump()
        self.other = OtherProcess(settings.db_path)

    def new_pump(self) -> UpdatePump:
        """Return a fresh pump over the same stack (a restart), retrying every 0.05-0.1 s."""
        pump = UpdatePump(self.dp, self.bot, Inbox(self.storage))
        pump.backoff = QUICK
        return pump

    def to_customer(self) -> list[str]:
        return [
            c.params["text"]
            for c in self.fake.calls("sendMessage", ok=True)
            if c.params["chat_id"] == CUSTOMER
        ]

    def stored_texts(self) -> list[str]:
        return [m.text for m in self.storage.messages(CUSTOMER) if m.direction == "in"]


@pytest.fixture
async def rig(fake, db_path, monkeypatch):
    monkeypatch.setattr("bot.store.sqlite.BUSY_TIMEOUT_MS", 50)
    monkeypatch.setattr("bot.telegram.polling.BACKOFF", QUICK)
    # Open around the clock: these tests run on the real clock, and off-hours would add a reply.
    settings = load_settings(
        bot_token=TEST_TOKEN,
        staff_chat_id=STAFF_CHAT_ID,
        db_path=db_path,
        business_hours="00:00-24:00",
        send_limits="inf,inf,inf",
    )
    rig = Rig(fake, settings)
    yield rig
    rig.other.conn.close()
    rig.close()


def test_what_counts_as_unavailable():
    assert is_unavailable(sqlite3.OperationalError("database is locked"))
    assert is_unavailable(sqlite3.OperationalError("attempt to write a readonly database"))
    assert is_unavailable(sqlite3.OperationalError("database or disk is full"))
    assert not is_unavailable(sqlite3.OperationalError("no such column: nope"))  # a bug, not the file
    assert not is_unavailable(sqlite3.IntegrityError("UNIQUE constraint failed"))
    assert not is_unavailable(ValueError("database is locked"))


async def test_nothing_is_acknowledged_while_another_process_holds_the_lock(rig, caplog):
    update_id = rig.fake.push_update(rig.fake.text_update("在吗", user_id=CUSTOMER))
    rig.other.lock()
    while_locked: dict[str, int] = {}

    def release() -> None:
        while_locked["stored"] = rig.storage.db.execute("SELECT count(*) FROM updates").fetchone()[0]
        rig.other.release()

    asyncio.get_running_loop().call_later(0.5, release)
    await poll_until(rig, lambda: while_locked and rig.fake.pending_updates() == 0)
    assert while_locked["stored"] == 0
    assert "could not store 1 update(s)" in caplog.text and "database is locked" in caplog.text
    offsets = [c.params.get("offset") for c in rig.fake.calls("getUpdates")]
    first_ack = offsets.index(update_id + 1)
    assert all(o is None or o <= update_id for o in offsets[:first_ack])
    assert rig.status(update_id) == "done" and rig.stored_texts() == ["在吗"]
    assert len(rig.to_customer()) == 1


async def test_a_lock_while_handling_keeps_the_update_pending_and_retries_it(rig, caplog):
    caplog.set_level(logging.ERROR, logger="bot.telegram.inbox")
    first = rig.fake.text_update("我要投诉,东西是坏的", user_id=CUSTOMER)
    second = rig.fake.text_update("谢谢", user_id=CUSTOMER)
    rig.pump.accept([first, second])  # stored; handling starts at the next await
    rig.other.lock()
    await asyncio.sleep(0.4)
    assert rig.status(first["update_id"]) == "pending" and rig.status(second["update_id"]) == "pending"
    assert rig.stored_texts() == [] and rig.fake.calls("sendMessage") == []
    assert f"update {first['update_id']} kept pending, the database is unavailable" in caplog.text
    rig.other.release()
    async with asyncio.timeout(10):
        await rig.pump.drain()
    await rig.sender.flush()
    assert rig.status(first["update_id"]) == "done" and rig.status(second["update_id"]) == "done"
    assert rig.stored_texts() == ["我要投诉,东西是坏的", "谢谢"]  # once each, in order
    replies = rig.to_customer()
    assert len(replies) == 2 and "T20" in replies[0]  # the complaint got its ticket, once
    assert rig.storage.counts()["tickets"] == 1


async def test_stopping_while_locked_leaves_the_update_for_the_next_start(rig):
    update = rig.fake.text_update("客服几点上班?", user_id=CUSTOMER)
    rig.pump.accept([update])
    rig.other.lock()
    await asyncio.sleep(0.2)
    rig.pump.stop()
    async with asyncio.timeout(5):
        await rig.pump.drain()  # returns although the database is still locked
    assert rig.status(update["update_id"]) == "pending"
    rig.other.release()
    restarted = rig.new_pump()
    assert restarted.replay_pending() == 1
    await restarted.drain()
    await rig.sender.flush()
    assert rig.status(update["update_id"]) == "done" and len(rig.to_customer()) == 1


async def test_a_read_only_database_keeps_the_update_pending_until_it_is_writable(rig, caplog):
    update = rig.fake.text_update("你好", user_id=CUSTOMER)
    rig.pump.accept([update])
    rig.storage.db.execute("PRAGMA query_only = ON")  # writes now fail as on a read-only file
    await asyncio.sleep(0.3)
    assert "readonly database" in caplog.text and rig.status(update["update_id"]) == "pending"
    rig.storage.db.execute("PRAGMA query_only = OFF")
    async with asyncio.timeout(10):
        await rig.pump.drain()
    await rig.sender.flush()
    assert rig.status(update["update_id"]) == "done" and rig.stored_texts() == ["你好"]


async def test_a_confirmed_send_the_database_cannot_record_is_never_sent_again(rig, caplog):
    now = rig.sender.clock()
    first = rig.storage.enqueue(CUSTOMER, "sendMessage", {"chat_id": CUSTOMER, "text": "第一条"}, now)
    rig.storage.enqueue(CUSTOMER, "sendMessage", {"chat_id": CUSTOMER, "text": "第二条"}, now)
    real_call = rig.sender.call

    async def lock_after_confirmation(method, params):
        result = await real_call(method, params)
        if params.get("text") == "第一条":
            rig.other.lock()  # the lock arrives between Telegram's confirmation and the commit
        return result

    rig.sender.call = lock_after_confirmation
    await rig.sender.flush()
    assert rig.to_customer() == ["第一条"]
    assert f"Telegram confirmed outbox row {first} but the database is unavailable" in caplog.text
    for _ in range(3):  # still locked: nothing is sent again, nothing new goes out
        assert await rig.sender.flush() == 0
    assert rig.to_customer() == ["第一条"]
    rig.other.release()
    await rig.sender.flush()
    assert rig.to_customer() == ["第一条", "第二条"]
    assert rig.storage.outbox("pending") == []
    assert rig.storage.outbox_row(first).telegram_message_id is not None


async def test_a_full_disk_while_deciding_retries_the_message_instead_of_skipping_its_reply(rig, monkeypatch):
    real = rig.storage.update_conversation  # a write of the plan (the intent goes in the message's INSERT)
    failures = {"left": 1}

    def full_once(*args, **kwargs):
        if failures["left"]:
            failures["left"] -= 1
            raise sqlite3.OperationalError("database or disk is full")
        return real(*args, **kwargs)

    monkeypatch.setattr(rig.storage, "update_conversation", full_once)
    update = rig.fake.text_update("客服几点上班?", user_id=CUSTOMER)
    rig.pump.accept([update])
    async with asyncio.timeout(10):
        await rig.pump.drain()
    await rig.sender.flush()
    assert failures["left"] == 0 and rig.status(update["update_id"]) == "done"
    assert rig.stored_texts() == ["客服几点上班?"]
    assert len(rig.to_customer()) == 1  # answered, not "relayed to the staff without a reply"
