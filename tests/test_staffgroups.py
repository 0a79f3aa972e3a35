"""Several staff groups: a new customer goes to the group with the most relay budget and stays there."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import FixedClock
from fakeapi import FakeTelegram

from bot.desk.board import collect, stats_text
from bot.desk.customers import CustomerRef, SupportDesk
from bot.ops.settings import load_settings
from bot.store.sqlite import open_storage
from bot.telegram.sender import Sender
from bot.telegram.staffgroups import StaffGroups, choose_group

TZ = ZoneInfo("Asia/Shanghai")
TEN_AM = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)
GROUPS = (-1001, -1002, -1003)


@pytest.mark.parametrize(
    ("budgets", "chosen"),
    [
        ({-1001: 20, -1002: 20, -1003: 20}, -1001),  # a tie: the first listed
        ({-1001: 3, -1002: 18, -1003: 7}, -1002),
        ({-1001: -40, -1002: -12, -1003: -30}, -1002),  # all short: the least behind
    ],
)
def test_the_group_with_the_most_budget_is_chosen(budgets, chosen):
    assert choose_group(GROUPS, budgets.get) == chosen


def test_a_customer_stays_in_the_group_first_assigned(db_path):
    settings = load_settings(db_path=db_path, staff_chat_id=",".join(map(str, GROUPS)))
    storage = open_storage(db_path)
    budgets = {-1001: 5.0, -1002: 9.0, -1003: 1.0}
    groups = StaffGroups(storage, settings, budget=budgets.get)
    first = storage.upsert_customer(1, 1, "甲", None, TEN_AM)
    assert groups.of(first) == -1002
    budgets.update({-1001: 20.0, -1002: -50.0})  # its group is now the busiest: it stays anyway
    assert groups.of(storage.customer(1)) == -1002
    assert storage.customer(1).staff_chat_id == -1002  # stored: a restart keeps it
    second = storage.upsert_customer(2, 2, "乙", None, TEN_AM)
    assert groups.of(second) == -1001  # the next new customer goes where there is room now
    storage.close()


def test_customers_from_before_several_groups_stay_in_the_primary(db_path):
    settings = load_settings(db_path=db_path, staff_chat_id=",".join(map(str, GROUPS)))
    storage = open_storage(db_path)
    storage.upsert_customer(1, 1, "甲", None, TEN_AM)
    storage.update_customer(1, topic_id=105)  # a topic made when there was one group
    groups = StaffGroups(storage, settings, budget={-1001: -99.0, -1002: 20.0, -1003: 20.0}.get)
    assert groups.of(storage.customer(1)) == -1001
    assert storage.customer_by_topic(105, -1001).id == 1
    storage.close()


def test_a_customer_whose_group_was_removed_gets_a_new_group_and_topic(db_path):
    storage = open_storage(db_path)
    storage.upsert_customer(1, 1, "甲", None, TEN_AM)
    storage.update_customer(1, topic_id=105, staff_chat_id=-1009)
    settings = load_settings(db_path=db_path, staff_chat_id="-1001,-1002")
    groups = StaffGroups(storage, settings, budget={-1001: 1.0, -1002: 2.0}.get)
    assert groups.of(storage.customer(1)) == -1002
    assert storage.customer(1).topic_id is None  # a new topic is made in the new group
    storage.close()


def test_topic_ids_are_looked_up_per_group(db_path):
    storage = open_storage(db_path)
    for user, group in ((1, -1001), (2, -1002)):
        storage.upsert_customer(user, user, None, None, TEN_AM)
        storage.update_customer(user, topic_id=100, staff_chat_id=group)  # the same thread id in both
    assert storage.customer_by_topic(100, -1001).id == 1
    assert storage.customer_by_topic(100, -1002).id == 2
    storage.close()


async def test_new_customers_spread_over_the_groups_and_their_relays_follow(db_path):
    settings = load_settings(
        bot_token="1:x", db_path=db_path, staff_chat_id="-1001,-1002", business_hours="00:00-24:00"
    )
    async with FakeTelegram() as fake:
        storage = open_storage(db_path)
        clock = FixedClock(TEN_AM)
        desk = SupportDesk(storage, settings)
        sender = Sender(fake.bot(), storage, settings, clock=clock)
        desk.groups.budget = sender.relay_budget
        for user in range(1, 7):
            desk.on_customer_message(
                CustomerRef(user, user, f"客户{user}"),
                f"客户{user}的订单还没发货",
                at=clock.now,
                telegram_message_id=1,
            )
        assigned = [storage.customer(u).staff_chat_id for u in range(1, 7)]
        assert (
            assigned.count(-1001) == assigned.count(-1002) == 3
        )  # the queue each new one adds balances them
        await sender.flush()
        for user in range(1, 7):
            relays = [
                c
                for c in fake.calls(ok=True)
                if c.params.get("chat_id") in GROUPS
                and (c.params.get("from_chat_id") == user or f"客户{user}的" in c.params.get("text", ""))
            ]
            assert [c.params["chat_id"] for c in relays] == [assigned[user - 1]]
            assert relays[0].params["message_thread_id"] in fake.topics(assigned[user - 1])
        storage.close()


def test_stats_cover_every_group(db_path):
    settings = load_settings(db_path=db_path, staff_chat_id="-1001,-1002")
    storage = open_storage(db_path)
    desk = SupportDesk(storage, settings)
    for user, group in ((1, -1001), (2, -1002), (3, -1002)):
        storage.upsert_customer(user, user, None, None, TEN_AM)
        storage.update_customer(user, staff_chat_id=group)
        storage.enqueue(group, "sendMessage", {"chat_id": group, "text": "x"}, TEN_AM)
    stats = collect(storage, desk.schedule, TEN_AM + timedelta(minutes=1), settings.staff_chat_ids)
    assert stats.groups == ((-1001, 0, 1), (-1002, 0, 2))
    text = stats_text(stats)
    assert "客服群 -1001：等待 0，待转发 1" in text and "客服群 -1002：等待 0，待转发 2" in text
    one = collect(storage, desk.schedule, TEN_AM, (-1001,))
    assert one.groups == () and "客服群" not in stats_text(one)
    storage.close()


def test_a_groups_load_counts_the_messages_its_queue_still_needs(db_path):
    storage = open_storage(db_path)
    for user, topic in ((1, None), (2, 100)):
        storage.upsert_customer(user, user, None, None, TEN_AM)
        storage.update_customer(user, topic_id=topic, staff_chat_id=-1001)
        for n in range(3):  # three queued relays merge into one when the group is short
            relay = {"chat_id": -1001, "_topic_of": user, "text": f"{n}"}
            storage.enqueue(-1001, "sendMessage", relay, TEN_AM, customer_id=user)
    storage.enqueue(-1001, "editMessageText", {"chat_id": -1001, "message_id": 1, "text": "看板"}, TEN_AM)
    # customer 1: a topic and a relay; customer 2: a relay; the board's edit: one
    assert storage.staff_load(-1001) == 4
    assert storage.staff_load(-1002) == 0
    storage.close()
