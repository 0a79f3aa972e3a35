"""End to end: the real aiogram Dispatcher and Bot against the fake Bot API server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import FixedClock
from fakeapi import FakeTelegram, as_update

from bot.desk.agents import AgentDesk
from bot.desk.customers import SupportDesk
from bot.desk.texts import NOTICE_BLOCKED, NOTICE_HUMAN, NOTICE_UNCIVIL_CLOSED
from bot.store.sqlite import open_storage
from bot.telegram.app import build_dispatcher
from bot.telegram.relay import numbered_buttons
from bot.telegram.sender import Sender
from replies import Intent, render

TZ = ZoneInfo("Asia/Shanghai")
CUSTOMER = 42


def at(hour: int, minute: int = 0, second: int = 0, day: int = 23) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=TZ)


class Rig:
    """One bot process: storage, desk, sender and dispatcher over the fake server."""

    def __init__(self, fake: FakeTelegram, settings) -> None:
        self.fake = fake
        self.settings = settings
        self.bot = fake.bot()
        self.storage = open_storage(settings.db_path)
        self.desk = SupportDesk(self.storage, settings)
        self.clock = FixedClock(at(10, 0))
        self.sender = Sender(self.bot, self.storage, settings, clock=self.clock)
        self.dp = build_dispatcher(settings, self.storage, self.desk, self.sender)

    async def feed(self, update: dict) -> None:
        await self.dp.feed_update(self.bot, as_update(update, self.bot))
        await self.sender.flush()

    def customer_texts(self, chat_id: int = CUSTOMER) -> list[str]:
        calls = self.fake.calls("sendMessage", ok=True)
        return [c.params["text"] for c in calls if c.params["chat_id"] == chat_id]

    def staff_calls(self) -> list:
        staff = self.settings.staff_chat_id
        return [c for c in self.fake.calls() if c.params.get("chat_id") == staff]


@pytest.fixture
async def rig(fake, settings):
    rig = Rig(fake, settings)
    yield rig
    rig.storage.close()


async def test_greeting_reaches_customer_and_staff_topic(rig, settings):
    await rig.feed(rig.fake.text_update("你好", user_id=CUSTOMER, at=at(10, 0)))
    assert rig.customer_texts() == [render("greeting", shop=settings.shop_name)]
    kinds = [m.content_kind for m in rig.storage.messages(CUSTOMER)]
    assert kinds == ["text", "text"]
    topics = rig.fake.calls("createForumTopic")
    assert [c.params["name"] for c in topics] == ["张三 @zhangsan"]
    thread = rig.storage.customer(CUSTOMER).topic_id
    relayed = [c for c in rig.staff_calls() if c.method != "createForumTopic"]
    assert relayed and all(c.params["message_thread_id"] == thread for c in relayed)
    assert "你好" in relayed[0].params["text"] and "自动回复" in relayed[0].params["text"]
    assert {r.status for r in rig.storage.outbox()} == {"sent"}
    bot_rows = [m for m in rig.storage.messages(CUSTOMER) if m.sender == "bot"]
    assert all(m.telegram_message_id for m in bot_rows)


async def test_start_command_greets(rig, settings):
    await rig.feed(rig.fake.text_update("/start", at=at(10, 0)))
    assert rig.customer_texts() == [render("greeting", shop=settings.shop_name)]


async def test_off_hours_once_and_marked_in_topic(rig):
    for minute in (30, 31):
        await rig.feed(rig.fake.text_update("在吗", at=at(12, minute)))
    lunch = render("off_hours_lunch", reopen_at="14:00")
    assert rig.customer_texts().count(lunch) == 1
    relayed = [c.params["text"] for c in rig.fake.calls("sendMessage") if c.params["chat_id"] < 0]
    assert len(relayed) == 2 and all("非工作时间" in t and "在吗" in t for t in relayed)


async def test_sticker_gets_no_content_and_is_copied(rig):
    await rig.feed(rig.fake.sticker_update(at=at(10, 0)))
    assert rig.customer_texts() == [render("no_content")]
    copies = rig.fake.calls("copyMessage")
    assert [(c.params["from_chat_id"], c.params["chat_id"]) for c in copies] == [
        (CUSTOMER, rig.settings.staff_chat_id)
    ]


async def test_photo_caption_judged_and_copied_with_header(rig):
    await rig.feed(rig.fake.photo_update("我要投诉", at=at(10, 0)))
    ticket = rig.storage.open_ticket(CUSTOMER)
    assert rig.customer_texts() == [render("complaint_receipt", ticket=ticket.number)]
    (copy,) = rig.fake.calls("copyMessage")
    assert copy.params["caption"].endswith("我要投诉") and "自动回复" in copy.params["caption"]
    assert any(ticket.number in t for t in (c.params.get("text", "") for c in rig.staff_calls()))


async def test_traditional_characters_end_to_end(rig):
    from replies.hanzi import to_script

    await rig.feed(rig.fake.text_update("我要投訴，東西壞了", at=at(10, 0)))
    ticket = rig.storage.open_ticket(CUSTOMER)
    # understood through t2s, answered in traditional characters (KEFU_REPLY_SCRIPT=auto)
    receipt = render("complaint_receipt", ticket=ticket.number)
    assert rig.customer_texts() == [to_script(receipt, "traditional")]
    staff_texts = [c.params.get("text", "") for c in rig.staff_calls()]
    assert any(t.endswith("我要投訴，東西壞了") for t in staff_texts)  # the staff see the customer's own text


async def test_edit_stored_as_version_and_relayed(rig):
    update = rig.fake.text_update("我要退", at=at(10, 0))
    await rig.feed(update)
    message_id = update["message"]["message_id"]
    await rig.feed(rig.fake.edited_text_update(message_id, "我要退货", at=at(10, 1), sent_at=at(10, 0)))
    versions = [(m.version, m.text) for m in rig.storage.messages(CUSTOMER) if m.direction == "in"]
    assert versions == [(1, "我要退"), (2, "我要退货")]
    assert any(
        "修改" in c.params.get("text", "") and "我要退货" in c.params["text"] for c in rig.staff_calls()
    )


async def test_uncivil_ladder_closes_and_tells_staff(rig):
    for minute, text in enumerate(["傻逼", "去你妈的", "傻逼", "你好"]):
        await rig.feed(rig.fake.text_update(text, at=at(10, minute)))
    assert rig.customer_texts() == [render("uncivil_1"), render("uncivil_2"), render("uncivil_3")]
    notices = [c.params["text"] for c in rig.staff_calls() if c.params.get("text", "").startswith("⚠️")]
    assert any(NOTICE_UNCIVIL_CLOSED in n for n in notices)


async def test_human_request_pings_staff_on_third(rig):
    for minute in range(3):
        await rig.feed(rig.fake.text_update("转人工", at=at(10, minute)))
    assert rig.customer_texts() == [
        render("human_request_1"),
        render("human_request_2"),
        render("human_handover"),
    ]
    assert sum(NOTICE_HUMAN in c.params.get("text", "") for c in rig.staff_calls()) == 1


async def test_busy_reply_through_the_sweeper_once(rig):
    await rig.feed(rig.fake.text_update("你好", at=at(10, 0)))
    for when in (at(10, 0, 30), at(10, 1), at(10, 2)):
        rig.desk.due_busy_replies(when)
        await rig.sender.flush()
    assert rig.customer_texts().count(render("busy")) == 1


async def test_topic_reused_after_restart_and_recreated_when_deleted(fake, settings):
    first = Rig(fake, settings)
    await first.feed(fake.text_update("你好", at=at(10, 0)))
    thread = first.storage.customer(CUSTOMER).topic_id
    first.storage.close()
    second = Rig(fake, settings)
    await second.feed(fake.text_update("谢谢", at=at(10, 1)))
    assert len(fake.calls("createForumTopic")) == 1
    fake.delete_topic(settings.staff_chat_id, thread)
    await second.feed(fake.text_update("再见", at=at(10, 2)))
    assert len(fake.calls("createForumTopic")) == 2
    new_thread = second.storage.customer(CUSTOMER).topic_id
    assert new_thread != thread and fake.calls()[-1].params["message_thread_id"] == new_thread
    assert {r.status for r in second.storage.outbox()} == {"sent"}
    second.storage.close()


async def test_flood_limit_keeps_order_and_retries_after(rig):
    rig.fake.fail_next("sendMessage", 429, retry_after=5, chat_id=CUSTOMER)
    await rig.feed(rig.fake.text_update("我要投诉", at=at(10, 0)))
    await rig.feed(rig.fake.text_update("谢谢", at=at(10, 1)))
    assert rig.customer_texts() == []  # paused: neither reply jumped the queue
    pending = rig.storage.outbox("pending")
    assert [r.chat_id for r in pending] == [CUSTOMER, CUSTOMER] and pending[0].attempts == 1
    rig.clock.now += timedelta(seconds=5)
    await rig.sender.flush()
    ticket = rig.storage.open_ticket(CUSTOMER)
    assert rig.customer_texts() == [render("complaint_receipt", ticket=ticket.number), render("thanks")]


async def test_server_error_backs_off_then_delivers(rig):
    rig.fake.fail_next("sendMessage", 502, chat_id=CUSTOMER)
    await rig.feed(rig.fake.text_update("谢谢", at=at(10, 0)))
    assert rig.customer_texts() == []
    (row,) = rig.storage.outbox("pending")
    error = rig.storage.db.execute("SELECT last_error FROM outbox WHERE id = ?", [row.id]).fetchone()[0]
    assert "Bad Gateway" in error
    await rig.sender.flush()
    assert rig.customer_texts() == []  # still backing off
    rig.clock.now += timedelta(minutes=1)
    await rig.sender.flush()
    assert rig.customer_texts() == [render("thanks")]
    assert rig.storage.outbox("pending") == []


async def test_blocked_customer_marked_and_staff_told(rig):
    rig.fake.block_user(CUSTOMER)
    await rig.feed(rig.fake.text_update("谢谢", at=at(10, 0)))
    await rig.sender.flush()
    assert rig.storage.customer(CUSTOMER).blocked == 1
    assert [r.status for r in rig.storage.outbox() if r.chat_id == CUSTOMER] == ["failed"]
    assert any(NOTICE_BLOCKED in c.params.get("text", "") for c in rig.staff_calls())


async def test_group_messages_are_not_customers(rig):
    await rig.feed(rig.fake.group_text_update(-100999, "你好", at=at(10, 0)))
    assert rig.storage.counts()["messages"] == 0 and rig.fake.calls("sendMessage") == []


async def test_no_staff_chat_means_no_relay(fake, db_path):
    from bot.ops.settings import load_settings

    settings = load_settings(db_path=db_path, bot_token=fake.token)
    rig = Rig(fake, settings)
    await rig.feed(fake.text_update("谢谢", at=at(10, 0)))
    assert rig.customer_texts() == [render("thanks")]
    assert fake.calls("createForumTopic") == [] and fake.calls("copyMessage") == []
    rig.storage.close()


async def test_long_polling_against_fake_get_updates(rig, settings):
    task = asyncio.create_task(rig.dp.start_polling(rig.bot, handle_signals=False, polling_timeout=1))
    sender = asyncio.create_task(rig.sender.run())
    rig.fake.push_update(rig.fake.text_update("你好", at=at(10, 0)))
    rig.fake.push_update(rig.fake.text_update("你们网站付款安全吗", at=at(10, 1)))
    expected = [render("greeting", shop=settings.shop_name), render("security")]
    for _ in range(200):
        if rig.customer_texts() == expected:
            break
        await asyncio.sleep(0.02)
    await rig.dp.stop_polling()
    rig.sender.stop()
    await asyncio.gather(task, sender)
    assert rig.customer_texts() == expected
    assert rig.fake.pending_updates() == 0


# --- issue 12: a message for a person is a normal outcome ------------------------------------------


def _topic_texts(rig) -> list[str]:
    return [c.params.get("text", "") for c in rig.staff_calls() if c.method == "sendMessage"]


async def test_an_acknowledgement_gets_nothing(rig):
    await rig.feed(rig.fake.text_update("好的", at=at(10, 0)))
    assert rig.customer_texts() == []
    assert rig.fake.calls("copyMessage") or any("好的" in t for t in _topic_texts(rig))
    assert rig.storage.conversation(1).waiting_since is None  # nobody waits for an answer to 好的


async def test_an_order_question_is_relayed_silently(rig):
    await rig.feed(rig.fake.text_update("我的快递怎么还没发货，订单号 20261123881", at=at(10, 0)))
    assert rig.customer_texts() == []
    copies = rig.fake.calls("copyMessage")
    assert [c.params["chat_id"] for c in copies] == [rig.settings.staff_chat_id]
    assert rig.storage.conversation(1).waiting_since is not None  # an agent's answer is awaited


async def test_a_low_confidence_complaint_is_suggested_and_one_tap_sends_it(fake, settings):
    rig = Rig(fake, settings)
    # below the silent ticket threshold
    rig.desk.cores = replace(rig.desk.cores, classify=lambda text, platforms=None: Intent("complaint", 0.1))
    try:
        await rig.feed(rig.fake.text_update("收到的东西有点不对劲", at=at(10, 0)))
        assert rig.customer_texts() == [] and rig.storage.open_ticket(CUSTOMER) is None
        suggestion = next(c for c in rig.staff_calls() if c.params.get("reply_markup"))
        preview = render("complaint_receipt", ticket="〈工单号〉")
        assert preview in suggestion.params["text"]
        button = suggestion.params["reply_markup"]["inline_keyboard"][0][0]
        staff_message = rig.storage.outbox_row(
            next(r.id for r in rig.storage.outbox() if r.params.get("reply_markup"))
        ).telegram_message_id
        await rig.feed(
            rig.fake.callback_update(
                settings.staff_chat_id,
                staff_message,
                button["callback_data"],
                thread_id=rig.storage.customer(CUSTOMER).topic_id,
            )
        )
        ticket = rig.storage.open_ticket(CUSTOMER)
        assert ticket is not None
        assert rig.customer_texts() == [render("complaint_receipt", ticket=ticket.number)]
        choice = rig.storage.rows("SELECT intent, status FROM suggestions")
        assert choice == [{"intent": "complaint", "status": "sent"}]
        assert any(ticket.number in t for t in _topic_texts(rig))
    finally:
        rig.storage.close()


async def test_one_of_several_suggestions_under_a_message_used_takes_only_its_button_away(fake, settings):
    rig = Rig(fake, settings)
    rig.desk.cores = replace(rig.desk.cores, classify=lambda text, platforms=None: Intent("complaint", 0.1))
    try:
        await rig.feed(rig.fake.text_update("收到的东西有点不对劲", at=at(10, 0)))
        await rig.feed(rig.fake.text_update("颜色也不一样", at=at(10, 1)))
        offered = [c for c in rig.staff_calls() if c.params.get("reply_markup")]
        assert len(offered) == 2
        # as a merged relay carries them (Sender._deliver_merged): both buttons, numbered, under one message
        rows = [
            numbered_buttons(c.params["reply_markup"]["inline_keyboard"], n) for n, c in enumerate(offered, 1)
        ]
        keyboard = {"inline_keyboard": [row for each in rows for row in each]}
        first, second = (row[0][0] for row in rows)
        staff_message = rig.storage.outbox_row(
            next(r.id for r in rig.storage.outbox() if r.params.get("reply_markup"))
        ).telegram_message_id
        press = rig.fake.callback_update(
            settings.staff_chat_id,
            staff_message,
            first["callback_data"],
            thread_id=rig.storage.customer(CUSTOMER).topic_id,
            reply_markup=keyboard,
        )
        await rig.feed(press)
        assert rig.storage.open_ticket(CUSTOMER) is not None  # the first suggestion was sent
        (unbuttoned,) = rig.fake.calls("editMessageReplyMarkup")
        assert unbuttoned.params["message_id"] == staff_message
        assert unbuttoned.params["reply_markup"] == {"inline_keyboard": [[second]]}  # the other one stays
    finally:
        rig.storage.close()


async def test_no_script_while_an_agent_is_engaged(rig):
    await rig.feed(rig.fake.text_update("在吗", at=at(10, 0)))
    greeted = len(rig.customer_texts())
    thread = rig.storage.customer(CUSTOMER).topic_id
    AgentDesk(rig.desk).on_agent_message(7, "小王", CUSTOMER, "您好，请问有什么可以帮您？", at=at(10, 1))
    await rig.sender.flush()
    await rig.feed(rig.fake.text_update("你们网站付款安全吗", at=at(10, 2)))
    texts = rig.customer_texts()
    assert render("security") not in texts
    assert len(texts) == greeted + 1  # only the agent's answer
    assert thread is not None


async def test_an_update_kept_through_downtime_gets_no_stale_off_hours_reply(fake, settings):
    # Written at 20:00 (closed); the bot was down and handles it at 09:00 the next day (open).
    rig = Rig(fake, settings)
    handled = FixedClock(at(9, 0, day=24))
    rig.dp = build_dispatcher(settings, rig.storage, rig.desk, rig.sender, clock=handled)
    await rig.feed(rig.fake.text_update("在吗", at=at(20, 0)))
    assert not any("不是客服人工服务时间" in t or "明天" in t for t in rig.customer_texts())
    # Still closed when handled (01:00): the notice says 08:00, counted from then, not 「明天08:00」.
    handled.now = at(1, 0, day=25)
    await rig.feed(rig.fake.text_update("在吗", at=at(20, 0, day=24), user_id=CUSTOMER + 1))
    [notice] = [t for t in rig.customer_texts(CUSTOMER + 1) if "不是客服人工服务时间" in t]
    assert "请您在08:00后" in notice
    rig.storage.close()
