"""The sender keeps Telegram's limits with the real defaults: one message a second in a private chat."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import FixedClock
from fakeapi import FakeTelegram

from bot.desk.texts import NOTICE_REPEATED_FAILURES
from bot.ops.settings import load_settings
from bot.store.sqlite import open_storage
from bot.telegram.relay import TOPIC_KEY
from bot.telegram.sender import REPEATED_FAILURES, Sender

TZ = ZoneInfo("Asia/Shanghai")
CUSTOMER = 31337


TEN_AM = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)


async def test_one_message_a_second_to_a_private_chat_in_order(db_path):
    settings = load_settings(bot_token="1:x", db_path=db_path)  # Telegram's limits: 30,1,20
    async with FakeTelegram() as fake:
        storage = open_storage(db_path)
        clock = FixedClock(TEN_AM)
        sender = Sender(fake.bot(), storage, settings, clock=clock)
        for i in range(3):
            storage.enqueue(CUSTOMER, "sendMessage", {"chat_id": CUSTOMER, "text": f"第{i}条"}, clock.now)
        assert await sender.flush() == 1
        clock.now += timedelta(milliseconds=500)
        assert await sender.flush() == 0
        clock.now += timedelta(milliseconds=600)  # a second and the 50 ms margin for the link's jitter
        assert await sender.flush() == 1
        clock.now += timedelta(seconds=1.1)
        assert await sender.flush() == 1
        assert [c.params["text"] for c in fake.calls("sendMessage")] == ["第0条", "第1条", "第2条"]
        storage.close()


async def test_repeated_failures_are_told_to_the_staff_and_never_dropped(db_path):
    settings = load_settings(
        bot_token="1:x", db_path=db_path, staff_chat_id=-100777, send_limits="inf,inf,inf"
    )
    async with FakeTelegram() as fake:
        storage = open_storage(db_path)
        clock = FixedClock(TEN_AM)
        sender = Sender(fake.bot(), storage, settings, clock=clock)
        storage.upsert_customer(CUSTOMER, CUSTOMER, "客户", None, clock.now)
        storage.enqueue(
            CUSTOMER, "sendMessage", {"chat_id": CUSTOMER, "text": "您好"}, clock.now, customer_id=CUSTOMER
        )
        fake.fail_next("sendMessage", status=502, times=REPEATED_FAILURES, chat_id=CUSTOMER)
        for _ in range(REPEATED_FAILURES):
            await sender.flush()
            clock.now += timedelta(minutes=2)  # past any backoff
        await sender.flush()
        to_customer = [c for c in fake.calls("sendMessage", ok=True) if c.params["chat_id"] == CUSTOMER]
        assert [c.params["text"] for c in to_customer] == ["您好"]
        staff_text = " ".join(
            str(c.params.get("text")) for c in fake.calls(ok=True) if c.params.get("chat_id") == -100777
        )
        assert NOTICE_REPEATED_FAILURES in staff_text
        assert storage.outbox("pending") == []
        storage.close()


async def test_a_missing_staff_chat_keeps_the_relays_until_it_is_fixed(db_path, caplog):
    staff = -100888
    settings = load_settings(bot_token="1:x", db_path=db_path, staff_chat_id=staff, send_limits="inf,inf,inf")
    async with FakeTelegram() as fake:
        storage = open_storage(db_path)
        clock = FixedClock(TEN_AM)
        sender = Sender(fake.bot(), storage, settings, clock=clock)
        storage.enqueue(staff, "sendMessage", {"chat_id": staff, "text": "客户:在吗"}, clock.now)
        fake.fail_next("sendMessage", status=400, description="Bad Request: chat not found", chat_id=staff)
        fake.fail_next(
            "sendMessage",
            status=403,
            description="Forbidden: bot was kicked from the supergroup chat",
            chat_id=staff,
        )
        for _ in range(2):
            assert await sender.flush() == 0
            clock.now += timedelta(minutes=2)
        assert "check KEFU_STAFF_CHAT_ID" in caplog.text
        assert len(storage.outbox("pending")) == 1  # kept, not failed
        assert await sender.flush() == 1  # fixed: it goes
        assert [c.params["text"] for c in fake.calls("sendMessage", ok=True)] == ["客户:在吗"]
        storage.close()


async def _in_flight_sending_to(db_path, customers: int, **overrides) -> tuple[int, int, list[str]]:
    """Queue two messages for each of ``customers`` chats and a relay to each one's staff topic, over a
    slow link; return (the most calls in flight at once, the most to one chat, the texts in arrival order)."""
    staff = -100555
    settings = load_settings(
        bot_token="1:x", db_path=db_path, staff_chat_id=staff, send_limits="inf,inf,inf", **overrides
    )
    async with FakeTelegram() as fake:
        fake.latency = 0.02
        storage = open_storage(db_path)
        clock = FixedClock(TEN_AM)
        sender = Sender(fake.bot(), storage, settings, clock=clock)
        chats = range(CUSTOMER, CUSTOMER + customers)
        for chat in chats:
            storage.upsert_customer(chat, chat, f"客户{chat}", None, clock.now)
            relay = {"chat_id": staff, TOPIC_KEY: chat, "text": f"relay-{chat}"}
            storage.enqueue(staff, "sendMessage", relay, clock.now, customer_id=chat)
        for n in range(3):
            for chat in chats:
                storage.enqueue(chat, "sendMessage", {"chat_id": chat, "text": f"{chat}-{n}"}, clock.now)
        assert await sender.flush() == 4 * customers
        assert len(fake.calls("createForumTopic", ok=True)) == customers  # topic creations are calls too
        texts = [c.params["text"] for c in fake.calls("sendMessage", ok=True)]
        storage.close()
        return fake.max_in_flight, fake.max_in_flight_per_chat, texts


def _each_chat_in_order(texts: list[str], customers: int) -> None:
    for chat in range(CUSTOMER, CUSTOMER + customers):
        assert [t for t in texts if t.startswith(f"{chat}-")] == [f"{chat}-0", f"{chat}-1", f"{chat}-2"]
        assert texts.count(f"relay-{chat}") == 1


async def test_calls_to_different_chats_are_in_flight_together_one_per_chat_each_in_order(db_path):
    most, most_per_chat, texts = await _in_flight_sending_to(db_path, customers=6)
    assert most == 7  # six customers and the staff group at once (KEFU_SEND_CONCURRENCY is 10)
    assert most_per_chat == 1  # so a crash repeats at most one message per chat
    _each_chat_in_order(texts, 6)


async def test_send_concurrency_bounds_the_calls_in_flight_each_chat_in_order(db_path):
    most, most_per_chat, texts = await _in_flight_sending_to(db_path, customers=6, send_concurrency=4)
    assert (most, most_per_chat) == (4, 1)
    _each_chat_in_order(texts, 6)


async def test_send_concurrency_1_keeps_one_call_in_flight(db_path):
    most, _, texts = await _in_flight_sending_to(db_path, customers=6, send_concurrency=1)
    assert most == 1  # at most one duplicate per crash, as before
    _each_chat_in_order(texts, 6)


@pytest.mark.parametrize("batch", [100, 2])  # 2: the topic's later relays are not in the rows fetched
async def test_a_group_short_of_budget_gets_the_queued_relays_merged_with_their_times(db_path, batch):
    staff = -100556
    settings = load_settings(bot_token="1:x", db_path=db_path, staff_chat_id=staff, send_limits="30,1,4")
    async with FakeTelegram() as fake:
        storage = open_storage(db_path)
        clock = FixedClock(TEN_AM)
        sender = Sender(fake.bot(), storage, settings, clock=clock, batch=batch)
        storage.upsert_customer(CUSTOMER, CUSTOMER, "客户", None, clock.now)
        for second in range(1, 6):
            relay = {"chat_id": staff, TOPIC_KEY: CUSTOMER, "text": f"第{second}条"}
            storage.enqueue(
                staff, "sendMessage", relay, TEN_AM + timedelta(seconds=second), customer_id=CUSTOMER
            )
        assert await sender.flush() == 5
        posted = [c.params["text"] for c in fake.calls("sendMessage", ok=True)]
        # the topic and the first relay used half the group's minute: the rest went as one, in order
        assert posted == ["第1条", "[10:00:02] 第2条\n[10:00:03] 第3条\n[10:00:04] 第4条\n[10:00:05] 第5条"]
        assert storage.outbox("pending") == []
        storage.close()


def _pick(n: int, label: str = "发送此回复") -> list[dict[str, str]]:
    return [{"text": label, "callback_data": f"pick:{n}"}]


async def _merged_posts(db_path, staff: int, queued: list[dict]) -> tuple[int, list[tuple[str, dict | None]]]:
    """Queue ``queued`` in one topic, a second apart, for a group of 5 a minute; return (sent, posts)."""
    settings = load_settings(bot_token="1:x", db_path=db_path, staff_chat_id=staff, send_limits="30,1,5")
    async with FakeTelegram() as fake:
        storage = open_storage(db_path)
        clock = FixedClock(TEN_AM)
        sender = Sender(fake.bot(), storage, settings, clock=clock)
        storage.upsert_customer(CUSTOMER, CUSTOMER, "客户", None, clock.now)
        for second, extra in enumerate(queued, start=1):
            params = {"chat_id": staff, TOPIC_KEY: CUSTOMER, **extra}
            at = TEN_AM + timedelta(seconds=second)
            storage.enqueue(staff, "sendMessage", params, at, customer_id=CUSTOMER)
        sent = await sender.flush()
        assert storage.outbox("pending") == []
        storage.close()
        return sent, [
            (c.params["text"], c.params.get("reply_markup")) for c in fake.calls("sendMessage", ok=True)
        ]


async def test_a_suggestion_with_its_button_goes_in_a_merged_burst_in_its_place(db_path):
    button = {"inline_keyboard": [_pick(1)]}
    queued = [{"text": f"第{n}条"} for n in (1, 2, 3)] + [{"text": "💡 建议", "reply_markup": button}]
    queued += [{"text": "第4条"}, {"text": "第5条"}]
    sent, posted = await _merged_posts(db_path, -100558, queued)
    assert sent == 6
    # the topic and the first two relays used half the group's minute; then one message carries the rest
    # in order, the suggestion's words in their place and its button under the message
    assert posted == [
        ("第1条", None),
        ("第2条", None),
        ("[10:00:03] 第3条\n💡 建议\n[10:00:05] 第4条\n[10:00:06] 第5条", button),
    ]


async def test_several_suggestions_in_one_merged_relay_are_numbered_with_their_buttons(db_path):
    queued = [{"text": f"第{n}条"} for n in (1, 2, 3)]
    queued += [{"text": "💡 建议甲", "reply_markup": {"inline_keyboard": [_pick(1)]}}, {"text": "第4条"}]
    queued += [{"text": "💡 建议乙", "reply_markup": {"inline_keyboard": [_pick(2)]}}, {"text": "第5条"}]
    sent, posted = await _merged_posts(db_path, -100559, queued)
    assert sent == 7
    assert posted[2:] == [
        (
            "[10:00:03] 第3条\n① 💡 建议甲\n[10:00:05] 第4条\n② 💡 建议乙\n[10:00:07] 第5条",
            {"inline_keyboard": [_pick(1, "① 发送此回复"), _pick(2, "② 发送此回复")]},
        )
    ]


async def test_a_long_queue_for_a_full_group_does_not_hide_the_customers_replies(db_path):
    staff = -100557
    settings = load_settings(bot_token="1:x", db_path=db_path, staff_chat_id=staff, send_limits="30,1,2")
    async with FakeTelegram() as fake:
        storage = open_storage(db_path)
        clock = FixedClock(TEN_AM)
        sender = Sender(fake.bot(), storage, settings, clock=clock, batch=10)
        for n in range(30):  # more relays than one batch, each in its own topic: they cannot merge
            chat = CUSTOMER + n
            storage.upsert_customer(chat, chat, None, None, clock.now)
            storage.enqueue(
                staff, "sendMessage", {"chat_id": staff, TOPIC_KEY: chat, "text": "转发"}, clock.now
            )
        storage.enqueue(CUSTOMER, "sendMessage", {"chat_id": CUSTOMER, "text": "自动回复"}, clock.now)
        await sender.flush()
        assert [c.params["text"] for c in fake.calls("sendMessage", ok=True) if c.params["chat_id"] > 0] == [
            "自动回复"
        ]
        storage.close()


async def test_a_lane_that_never_ends_is_logged_with_where_it_waits(db_path, caplog):
    settings = load_settings(bot_token="1:x", db_path=db_path, send_limits="inf,inf,inf")
    async with FakeTelegram() as fake:
        storage = open_storage(db_path)
        clock = FixedClock(TEN_AM)
        sender = Sender(fake.bot(), storage, settings, clock=clock)
        never = asyncio.Event()

        async def hanging(method, params):
            await never.wait()

        sender.call = hanging
        storage.enqueue(CUSTOMER, "sendMessage", {"chat_id": CUSTOMER, "text": "您好"}, clock.now)
        await sender.dispatch()
        await asyncio.sleep(0)
        clock.now += timedelta(minutes=4)
        sender.report_stuck_lanes()
        assert f"lane for chat {CUSTOMER} has run for 240 s" in caplog.text and "hanging" in caplog.text
        never.set()
        await asyncio.gather(*sender.lanes.values())
        storage.close()


async def test_one_staff_group_in_trouble_holds_only_its_own_relays_and_is_told_when_back(db_path, caplog):
    first, second = -100888, -100999
    settings = load_settings(
        bot_token="1:x", db_path=db_path, staff_chat_id=f"{first},{second}", send_limits="inf,inf,inf"
    )
    async with FakeTelegram() as fake:
        storage = open_storage(db_path)
        clock = FixedClock(TEN_AM)
        sender = Sender(fake.bot(), storage, settings, clock=clock)
        storage.enqueue(first, "sendMessage", {"chat_id": first, "text": "客户:在吗"}, clock.now)
        storage.enqueue(second, "sendMessage", {"chat_id": second, "text": "客户:你好"}, clock.now)
        fake.fail_next("sendMessage", status=400, description="Bad Request: chat not found", chat_id=first)
        assert await sender.flush() == 1  # the other group is not held back
        assert [c.params["chat_id"] for c in fake.calls("sendMessage", ok=True)] == [second]
        clock.now += timedelta(minutes=2)
        assert await sender.flush() == 1  # fixed: the kept relay goes
        assert await sender.flush() == 1  # then the group is told, in its own chat only
        told = [c.params for c in fake.calls("sendMessage", ok=True) if "恢复可用" in c.params["text"]]
        assert [p["chat_id"] for p in told] == [first] and "chat not found" in told[0]["text"]
        storage.close()
