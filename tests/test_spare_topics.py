"""Spare forum topics (KEFU_SPARE_TOPICS, issue 15): made in quiet time, so that at peak a new customer
costs its staff group one message (the relay), not two (the topic's creation counts like a send)."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta

import pytest
from conftest import STAFF_CHAT_ID, TEST_TOKEN, BotStack, FixedClock

from bot.desk.texts import HEADER_CUSTOMER, TOPIC_SPARE
from bot.ops.clock import utc_now
from bot.ops.settings import ConfigError, load_settings
from bot.telegram.budget import MERGE_QUIET_S
from bot.telegram.kinds import utf16_len
from bot.telegram.relay import named_relay, topic_name
from bot.telegram.sender import MERGE_RECHECK_S, QUIET_S

FIRST, SECOND = 7101, 7102


def make_rig(fake, db_path, *, spare_topics: int, send_limits: str = "inf,inf,inf") -> BotStack:
    settings = load_settings(
        bot_token=TEST_TOKEN,
        staff_chat_id=STAFF_CHAT_ID,
        db_path=db_path,
        business_hours="00:00-24:00",
        send_limits=send_limits,
        spare_topics=spare_topics,
    )
    rig = BotStack(fake, settings)
    rig.sender.clock = FixedClock(utc_now())
    return rig


@pytest.fixture
async def rigs(fake, db_path):
    """Make rigs over the fake server (one test may restart the bot on the same database); close them all."""
    made: list[BotStack] = []

    def rig(**kwargs) -> BotStack:
        made.append(make_rig(fake, db_path, **kwargs))
        return made[-1]

    yield rig
    for stack in made:
        stack.close()


async def fill_pool(rig, count: int) -> list[int]:
    """Tend the pool ``count`` times (one spare per call in quiet time); return the spares' topic ids."""
    for _ in range(count):
        assert await rig.sender.tend_pools() == 1
    made = rig.fake.calls("createForumTopic", ok=True)
    assert [c.params["name"] for c in made] == [TOPIC_SPARE] * count
    rig.fake.clear_calls()
    return sorted(rig.fake.topics(STAFF_CHAT_ID))


async def customer_writes(rig, user_id: int, text: str = "我的快递到哪了", first_name: str = "张三") -> None:
    rig.pump.accept([rig.fake.text_update(text, user_id=user_id, first_name=first_name)])
    await rig.pump.drain()


def staff_relays(rig) -> list:
    return [
        c
        for c in rig.fake.calls(ok=True)
        if c.params.get("chat_id") == STAFF_CHAT_ID and c.method in ("sendMessage", "copyMessage")
    ]


async def test_a_new_customer_takes_a_spare_topic_and_its_rename_waits_for_the_pool_keeper(rigs):
    rig = rigs(spare_topics=2)
    spares = await fill_pool(rig, 2)
    assert await rig.sender.tend_pools() == 0  # the pool is full
    await customer_writes(rig, FIRST)
    await rig.sender.flush()
    assert rig.fake.calls("createForumTopic") == []  # no topic made at that moment
    assert rig.fake.calls("editForumTopic") == []
    (relay,) = staff_relays(rig)
    customer = rig.storage.customer(FIRST)
    name = topic_name(customer.name, customer.username, FIRST)
    assert relay.params["message_thread_id"] == customer.topic_id == spares[0]
    assert relay.params["text"] == HEADER_CUSTOMER.format(name=name) + "\n我的快递到哪了"  # who it is
    assert customer.topic_name == TOPIC_SPARE
    assert rig.storage.claimed_spare_topics(STAFF_CHAT_ID) == [(spares[0], FIRST)]  # the rename, queued
    assert await rig.sender.tend_pools() == 0  # the group just relayed: a peak may be on
    rig.sender.clock.now += timedelta(seconds=QUIET_S)
    assert await rig.sender.tend_pools() == 1
    (rename,) = rig.fake.calls("editForumTopic", ok=True)
    assert rename.params == {"chat_id": STAFF_CHAT_ID, "message_thread_id": spares[0], "name": name}
    assert rig.storage.customer(FIRST).topic_name == name
    assert rig.storage.claimed_spare_topics(STAFF_CHAT_ID) == []
    assert rig.storage.spare_topics_free(STAFF_CHAT_ID) == 1
    assert await rig.sender.tend_pools() == 1  # then the pool is topped up again
    assert rig.storage.spare_topics_free(STAFF_CHAT_ID) == 2
    rig.fake.clear_calls()
    await customer_writes(rig, FIRST, "在吗")
    await rig.sender.flush()
    (later,) = staff_relays(rig)  # the title names the customer now: no line for it in the relay
    assert later.params["message_thread_id"] == spares[0]
    assert "👤" not in later.params.get("text", "") and "在吗" in later.params.get("text", "在吗")


async def test_two_customers_never_share_a_spare_and_an_empty_pool_creates_a_topic(rigs):
    rig = rigs(spare_topics=1)
    (spare,) = await fill_pool(rig, 1)
    await customer_writes(rig, FIRST)
    await customer_writes(rig, SECOND, "在吗", first_name="李四")
    await rig.sender.flush()
    first, second = rig.storage.customer(FIRST), rig.storage.customer(SECOND)
    assert first.topic_id == spare
    (created,) = rig.fake.calls("createForumTopic", ok=True)
    assert created.params["name"] == topic_name(second.name, second.username, SECOND)
    assert second.topic_id not in (None, spare) and second.topic_name != TOPIC_SPARE
    assert {c.params["message_thread_id"] for c in staff_relays(rig)} == {spare, second.topic_id}


async def test_claims_at_once_on_the_storage_thread_get_different_spares(rigs):
    rig = rigs(spare_topics=0)
    now = rig.sender.clock()
    for topic in (501, 502):
        rig.storage.add_spare_topic(STAFF_CHAT_ID, topic, now)
    users = range(7201, 7204)
    for user in users:
        rig.storage.upsert_customer(user, user, None, None, now)
    claims = await asyncio.gather(
        *(rig.storage.run(rig.storage.claim_spare_topic, STAFF_CHAT_ID, u, TOPIC_SPARE) for u in users)
    )
    assert sorted(c for c in claims if c is not None) == [501, 502] and claims.count(None) == 1
    assert sorted(rig.storage.customer(u).topic_id or 0 for u in users) == [0, 501, 502]


async def test_the_pool_is_tended_only_in_quiet_time_with_budget_to_spare(rigs):
    rig = rigs(spare_topics=5, send_limits="30,1,4")  # 4 a minute: half of it (2) for cosmetic calls
    assert await rig.sender.tend_pools() == 1
    assert await rig.sender.tend_pools() == 1
    assert await rig.sender.tend_pools() == 0  # half the group's minute is spent: relays keep the rest
    await customer_writes(rig, FIRST)
    await rig.sender.flush()
    assert staff_relays(rig) == []  # the group is short: a new customer's first relay waits for more
    rig.sender.clock.now += timedelta(seconds=MERGE_QUIET_S + 1)
    await rig.sender.flush()  # the customer paused: the relay takes a spare and the group's third message
    assert len(staff_relays(rig)) == 1 and rig.fake.calls("editForumTopic") == []
    rig.sender.clock.now += timedelta(seconds=QUIET_S)
    assert await rig.sender.tend_pools() == 0  # quiet now, but the rename is cosmetic: it waits for budget
    rig.sender.clock.now += timedelta(seconds=62 - QUIET_S)
    await customer_writes(rig, SECOND, "在吗", first_name="李四")  # queued for the group, not yet sent
    assert await rig.sender.tend_pools() == 0  # a queued relay goes first
    await rig.sender.flush()  # it takes the last spare
    rig.sender.clock.now += timedelta(seconds=QUIET_S - 1)
    assert await rig.sender.tend_pools() == 0  # budget to spare, but the group relayed a moment ago
    rig.sender.clock.now += timedelta(seconds=1)
    assert await rig.sender.tend_pools() == 1  # the oldest claim is renamed first
    assert [c.params["message_thread_id"] for c in rig.fake.calls("editForumTopic", ok=True)] == [
        rig.storage.customer(FIRST).topic_id
    ]
    assert await rig.sender.tend_pools() == 0  # then the budget is spent again (the relay and the rename)
    assert rig.storage.spare_topics_free(STAFF_CHAT_ID) == 0
    assert len(rig.fake.calls("createForumTopic", ok=True)) == 2  # the second customer used the last spare


async def test_no_pool_with_spare_topics_zero(rigs):
    rig = rigs(spare_topics=0)
    assert await rig.sender.tend_pools() == 0
    await customer_writes(rig, FIRST)
    await rig.sender.flush()
    (created,) = rig.fake.calls("createForumTopic", ok=True)
    assert rig.storage.customer(FIRST).topic_name == created.params["name"] != TOPIC_SPARE


async def test_a_deleted_spare_topic_is_dropped_and_the_next_taken(rigs):
    rig = rigs(spare_topics=3)
    gone, second, third = await fill_pool(rig, 3)
    rig.fake.delete_topic(STAFF_CHAT_ID, gone)
    rig.fake.delete_topic(STAFF_CHAT_ID, second)
    await customer_writes(rig, FIRST)
    await rig.sender.flush()
    assert rig.fake.calls("createForumTopic") == []
    (relay,) = staff_relays(rig)
    assert relay.params["message_thread_id"] == rig.storage.customer(FIRST).topic_id == third
    assert rig.storage.claimed_spare_topics(STAFF_CHAT_ID) == [(third, FIRST)]
    assert rig.storage.spare_topics_free(STAFF_CHAT_ID) == 0  # the gone ones are not offered again
    assert rig.storage.outbox("pending") == []


async def test_a_claim_that_cannot_store_the_customer_topic_leaves_the_spare_free(rigs):
    rig = rigs(spare_topics=0)
    now = rig.sender.clock()
    rig.storage.add_spare_topic(STAFF_CHAT_ID, 501, now)
    rig.storage.upsert_customer(FIRST, FIRST, None, None, now)
    rig.storage.db.execute(
        "CREATE TEMP TRIGGER no_topic BEFORE UPDATE OF topic_id ON customers "
        "BEGIN SELECT RAISE(ABORT, 'disk gone'); END"
    )
    with pytest.raises(sqlite3.IntegrityError):
        rig.storage.claim_spare_topic(STAFF_CHAT_ID, FIRST, TOPIC_SPARE)
    assert rig.storage.spare_topics_free(STAFF_CHAT_ID) == 1
    assert rig.storage.claimed_spare_topics(STAFF_CHAT_ID) == []


class Crash(BaseException):
    """The process dies (nothing after it runs)."""


async def test_a_crash_between_claim_and_relay_neither_loses_nor_doubles(rigs):
    rig = rigs(spare_topics=2)
    spares = await fill_pool(rig, 2)
    await customer_writes(rig, FIRST)
    real_call = rig.sender.call

    async def die_before_the_relay(method, params, **kwargs):
        if params.get("chat_id") == STAFF_CHAT_ID and method in ("sendMessage", "copyMessage"):
            raise Crash
        return await real_call(method, params, **kwargs)

    rig.sender.call = die_before_the_relay
    with pytest.raises(Crash):
        await rig.sender.flush()
    assert rig.storage.customer(FIRST).topic_id == spares[0]  # claimed and stored, relay not sent
    rig.close()
    again = rigs(spare_topics=2)  # the restart, on the same database
    await again.sender.flush()
    (relay,) = staff_relays(again)
    assert relay.params["message_thread_id"] == spares[0]
    assert again.fake.calls("createForumTopic") == []
    assert again.storage.claimed_spare_topics(STAFF_CHAT_ID) == [(spares[0], FIRST)]
    assert again.storage.spare_topics_free(STAFF_CHAT_ID) == 1  # the other spare is still for the next
    assert again.storage.outbox("pending") == []


@pytest.mark.parametrize("value", ["-1", "501"])
def test_spare_topics_out_of_range_is_refused_with_the_variable_named(db_path, value):
    with pytest.raises(ConfigError, match=r"^KEFU_SPARE_TOPICS: .*spare topics per staff group"):
        load_settings(db_path=db_path, spare_topics=value)


def test_the_line_naming_the_customer_keeps_formatting_and_limits():
    line = HEADER_CUSTOMER.format(name="张三") + "\n"
    bold = [{"type": "bold", "offset": 0, "length": 2}]
    method, params = named_relay("sendMessage", {"chat_id": -1, "text": "在吗", "entities": bold}, "张三")
    assert (method, params["text"]) == ("sendMessage", line + "在吗")
    assert params["entities"] == [{"type": "bold", "offset": utf16_len(line), "length": 2}]  # 👤 is two units
    caption = {"chat_id": -1, "from_chat_id": 5, "message_id": 9, "caption": "图"}
    assert named_relay("copyMessage", caption, "张三")[1]["caption"] == line + "图"
    long_text = {"chat_id": -1, "text": "字" * 4096}
    assert named_relay("sendMessage", long_text, "张三") == ("sendMessage", long_text)  # never cut
    photo = {"chat_id": -1, "from_chat_id": 5, "message_id": 9}
    assert named_relay("copyMessage", photo, "张三") == ("copyMessage", photo)  # no words to put it on
    assert named_relay("copyMessage", photo, "张三", "在吗") == (
        "sendMessage",
        {"chat_id": -1, "text": line + "在吗"},
    )


async def test_a_new_customers_first_relay_waits_for_a_merge_while_the_group_is_short(rigs):
    rig = rigs(spare_topics=3, send_limits="30,1,4")  # 4 a minute: short once 2 are used
    assert await rig.sender.tend_pools() == 1
    assert await rig.sender.tend_pools() == 1  # two spares made: half the group's minute is used
    await customer_writes(rig, FIRST, "在吗")
    await rig.sender.flush()
    assert staff_relays(rig) == []  # held: the customer may write more
    assert 0 < rig.sender.lane_state().held_s[STAFF_CHAT_ID] <= MERGE_RECHECK_S  # not looked at again at once
    await customer_writes(rig, FIRST, "我的快递到哪了")
    rig.sender.clock.now += timedelta(seconds=MERGE_QUIET_S - 5)
    await rig.sender.flush()
    assert staff_relays(rig) == []  # it wrote again: the hold counts from its last message
    rig.sender.clock.now += timedelta(seconds=8)
    await rig.sender.flush()
    (merged,) = staff_relays(rig)  # one group message carries both, each under its time, in order
    text = merged.params["text"]
    assert text.startswith(HEADER_CUSTOMER.format(name="张三"))  # named: the spare's title is not yet
    assert text.index("在吗") < text.index("我的快递到哪了") and text.count("] ") >= 2
    assert merged.params["message_thread_id"] == rig.storage.customer(FIRST).topic_id  # a spare, taken
    assert rig.fake.calls("createForumTopic", ok=True)[2:] == []
    assert rig.storage.outbox("pending") == []  # nothing lost: every row sent
    await customer_writes(rig, FIRST, "急")  # no longer new: its relay is not held again
    await rig.sender.flush()
    assert len(staff_relays(rig)) == 2 and rig.storage.outbox("pending") == []


async def test_the_first_relay_goes_at_once_while_the_group_has_room(rigs):
    rig = rigs(spare_topics=2, send_limits="30,1,20")
    await fill_pool(rig, 2)
    await customer_writes(rig, FIRST, "在吗")
    await rig.sender.flush()
    assert len(staff_relays(rig)) == 1  # nothing held: the group is not short
