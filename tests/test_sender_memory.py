"""The sender's memory per chat and per customer stays bounded however many customers it ever served:
the customers known to have a topic are the last TOPIC_KNOWN_MAX seen (an older one is asked of the
database again, only when its group is short), and a chat's lock lives only while a call to it waits or
is in flight."""

from __future__ import annotations

import pytest
from conftest import STAFF_CHAT_ID, TEST_TOKEN, BotStack, FixedClock

import bot.telegram.sender as sender_module
from bot.ops.clock import utc_now
from bot.ops.settings import load_settings

FIRST = 7300


@pytest.fixture
def rig(fake, db_path):
    settings = load_settings(
        bot_token=TEST_TOKEN,
        staff_chat_id=STAFF_CHAT_ID,
        db_path=db_path,
        business_hours="00:00-24:00",
        send_limits="inf,inf,inf",
    )
    stack = BotStack(fake, settings)
    stack.sender.clock = FixedClock(utc_now())
    yield stack
    stack.close()


async def test_customers_known_to_have_a_topic_are_a_bounded_recent_set(rig, monkeypatch):
    monkeypatch.setattr(sender_module, "TOPIC_KNOWN_MAX", 3, raising=False)
    for n in range(8):
        rig.pump.accept([rig.fake.text_update("我的快递到哪了", user_id=FIRST + n, first_name="张三")])
        await rig.pump.drain()
        await rig.sender.flush()
    relays = [
        c
        for c in rig.fake.calls(ok=True)
        if c.method in ("sendMessage", "copyMessage") and c.params.get("chat_id") == STAFF_CHAT_ID
    ]
    assert len(relays) == 8  # every customer relayed
    known = rig.sender._topic_known
    assert len(known) == 3
    assert list(known) == [FIRST + 5, FIRST + 6, FIRST + 7]  # the most recent ones


async def test_a_chats_lock_is_dropped_once_nothing_waits_for_it(rig):
    for n in range(5):
        rig.pump.accept([rig.fake.text_update("在吗", user_id=FIRST + n, first_name="李四")])
    await rig.pump.drain()
    await rig.sender.flush()
    assert len(rig.fake.calls("sendMessage", ok=True)) >= 10  # replies and relays went
    assert rig.sender._chat_locks == {}
