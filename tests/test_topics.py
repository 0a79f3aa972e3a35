"""One forum topic per customer, even when the database cannot store a new topic's id (issue 11, item 5);
an agent writing in a topic the bot does not know is told so there."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import timedelta

import pytest
from conftest import STAFF_CHAT_ID, TEST_TOKEN, BotStack, FixedClock

from bot.desk.texts import UNKNOWN_TOPIC
from bot.ops.clock import utc_now
from bot.ops.settings import load_settings

CUSTOMER = 6161


class OtherProcess:
    """A second connection to the bot's database file that can hold the write lock."""

    def __init__(self, path) -> None:
        # It waits for a write of the bot's storage thread in progress, as a real second process would.
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=5)

    def lock(self) -> None:
        self.conn.execute("BEGIN EXCLUSIVE")

    def release(self) -> None:
        self.conn.execute("COMMIT")


@pytest.fixture
async def rig(fake, db_path, monkeypatch):
    monkeypatch.setattr("bot.store.sqlite.BUSY_TIMEOUT_MS", 50)
    settings = load_settings(
        bot_token=TEST_TOKEN,
        staff_chat_id=STAFF_CHAT_ID,
        db_path=db_path,
        business_hours="00:00-24:00",
        send_limits="inf,inf,inf",
    )
    rig = BotStack(fake, settings)
    rig.sender.clock = FixedClock(utc_now())
    rig.other = OtherProcess(db_path)
    yield rig
    rig.other.conn.close()
    rig.close()


async def flush_past_backoff(rig) -> None:
    """Let a paused chat go again and flush; a database error on the way is what the test is about."""
    rig.sender.clock.now += timedelta(minutes=2)
    with contextlib.suppress(sqlite3.OperationalError):
        await rig.sender.flush()


async def test_a_topic_whose_id_cannot_be_stored_is_kept_and_never_created_twice(rig, caplog):
    rig.pump.accept([rig.fake.text_update("我的快递到哪了", user_id=CUSTOMER)])
    await rig.pump.drain()
    real_call = rig.sender.call

    async def lock_after_topic(method, params):
        result = await real_call(method, params)
        if method == "createForumTopic":
            rig.other.lock()  # the topic exists on Telegram; storing its id will fail
        return result

    rig.sender.call = lock_after_topic
    for _ in range(3):  # retries while the database stays locked
        await flush_past_backoff(rig)
    assert len(rig.fake.calls("createForumTopic")) == 1
    rig.other.release()
    await flush_past_backoff(rig)
    (created,) = rig.fake.calls("createForumTopic", ok=True)
    (topic,) = rig.fake.topics(STAFF_CHAT_ID)
    assert rig.storage.customer(CUSTOMER).topic_id == topic and created.params["chat_id"] == STAFF_CHAT_ID
    relays = [c for c in rig.fake.calls(ok=True) if c.params.get("chat_id") == STAFF_CHAT_ID]
    assert relays[-1].params["message_thread_id"] == rig.storage.customer(CUSTOMER).topic_id
    assert rig.storage.outbox("pending") == []


async def test_an_agent_writing_in_an_unknown_topic_is_told_so_there(rig):
    orphan = (await rig.bot.create_forum_topic(STAFF_CHAT_ID, "旧话题")).message_thread_id
    update = rig.fake.group_text_update(STAFF_CHAT_ID, "您好，已为您查询，订单明天发货。", thread_id=orphan)
    rig.pump.accept([update])
    await rig.pump.drain()
    await rig.sender.flush()
    (notice,) = [c for c in rig.fake.calls("sendMessage", ok=True) if c.params["chat_id"] == STAFF_CHAT_ID]
    assert notice.params["message_thread_id"] == orphan and notice.params["text"] == UNKNOWN_TOPIC
    assert "\n" not in UNKNOWN_TOPIC
    assert notice.params["reply_parameters"]["message_id"] == update["message"]["message_id"]
    assert rig.storage.counts()["guard_events"] == 0  # nothing was checked or sent to anyone


async def test_general_chat_between_agents_gets_no_answer(rig):
    rig.pump.accept([rig.fake.group_text_update(STAFF_CHAT_ID, "今天谁值班?")])
    await rig.pump.drain()
    await rig.sender.flush()
    assert rig.fake.calls("sendMessage") == []
