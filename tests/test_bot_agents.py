"""End to end, agent side: the real Dispatcher and Bot (with the outbound guard) against the fake Bot API."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from conftest import FixedClock
from fakeapi import FakeTelegram, as_update

from bot.desk.agents import (
    CALLBACK_EDIT,
    CALLBACK_SEND_ANYWAY,
    CALLBACK_SUGGEST,
    callback_data,
    parse_callback,
)
from bot.desk.customers import SupportDesk
from bot.desk.texts import (
    BUTTON_EDIT,
    BUTTON_SEND_ANYWAY,
    BUTTON_SUGGEST,
    NOTICE_BLOCKED,
    TEXT_BUTTON_REFUSED,
    TEXT_EDIT_HELD,
    TEXT_EDIT_HINT,
    mark_hits,
)
from bot.ops.settings import load_settings
from bot.store.sqlite import open_storage
from bot.telegram import outbound_guard
from bot.telegram.app import build_dispatcher
from bot.telegram.sender import Sender
from guards import check
from replies import render

TZ = ZoneInfo("Asia/Shanghai")
CUSTOMER = 42
AGENT = 7
RUDE = "这个问题我不知道，你自己去查吧"
CLEAN = "您好，已为您查询，订单明天发货。"


def at(hour: int, minute: int = 0, second: int = 0, day: int = 23) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=TZ)


class Rig:
    """One bot process with the outbound guard installed, over the fake server."""

    def __init__(self, fake: FakeTelegram, settings, *, group_per_min: float = 1000) -> None:
        self.fake = fake
        self.settings = settings
        self.staff = settings.staff_chat_id
        self.bot = fake.bot()
        self.storage = open_storage(settings.db_path)
        self.gate = outbound_guard.install(self.bot, self.storage, settings)
        self.desk = SupportDesk(self.storage, settings)
        self.clock = FixedClock(at(10, 0))
        self.sender = Sender(self.bot, self.storage, settings, clock=self.clock, group_per_min=group_per_min)
        self.dp = build_dispatcher(settings, self.storage, self.desk, self.sender)

    async def feed(self, update: dict) -> None:
        await self.dp.feed_update(self.bot, as_update(update, self.bot))
        await self.sender.flush()

    async def customer_says(self, text: str, when: datetime) -> int:
        await self.feed(self.fake.text_update(text, user_id=CUSTOMER, at=when))
        return self.topic()

    def topic(self, customer: int = CUSTOMER) -> int:
        return self.storage.customer(customer).topic_id

    async def agent_says(
        self, text: str, when: datetime, *, user_id: int = AGENT, thread: int | None = None
    ) -> int:
        update = self.fake.group_text_update(
            self.staff, text, user_id=user_id, thread_id=self.topic() if thread is None else thread, at=when
        )
        await self.feed(update)
        return update["message"]["message_id"]

    def to_customer(self, method: str | None = None) -> list:
        return [c for c in self.fake.calls(method, ok=True) if c.params.get("chat_id") == CUSTOMER]

    def staff_texts(self) -> list[str]:
        return [
            c.params["text"]
            for c in self.fake.calls("sendMessage", ok=True)
            if c.params["chat_id"] == self.staff
        ]

    def last_staff(self):
        return [c for c in self.fake.calls("sendMessage", ok=True) if c.params["chat_id"] == self.staff][-1]


@pytest.fixture
async def rig(fake, settings):
    rig = Rig(fake, settings)
    yield rig
    rig.storage.close()


# relay in ----------------------------------------------------------------------------------------
async def test_topic_named_after_customer_renamed_for_ticket_and_kept_after_restart(fake, settings):
    first = Rig(fake, settings)
    thread = await first.customer_says("你好", at(10, 0))
    assert [c.params["name"] for c in fake.calls("createForumTopic")] == ["张三 @zhangsan"]
    await first.customer_says("我要投诉，东西坏了", at(10, 1))
    number = first.storage.open_ticket(CUSTOMER).number
    (rename,) = fake.calls("editForumTopic")
    assert rename.params == {
        "chat_id": settings.staff_chat_id,
        "message_thread_id": thread,
        "name": f"张三 @zhangsan · {number}",
    }
    first.storage.close()
    second = Rig(fake, settings)
    await second.customer_says("谢谢", at(10, 2))
    assert len(fake.calls("createForumTopic")) == 1 and len(fake.calls("editForumTopic")) == 1
    assert second.topic() == thread
    second.storage.close()


@pytest.mark.parametrize("kind", ["photo", "sticker", "text"])
async def test_customer_content_is_copied_into_the_topic(rig, kind):
    builders = {
        "photo": lambda: rig.fake.photo_update(None, at=at(10, 0)),
        "sticker": lambda: rig.fake.sticker_update(at=at(10, 0)),
        "text": lambda: rig.fake.text_update("订单号 12345 的物流", at=at(10, 0)),
    }
    update = builders[kind]()
    await rig.feed(update)
    thread = rig.topic()
    relays = [
        c
        for c in rig.fake.calls(ok=True)
        if c.params.get("chat_id") == rig.staff and c.method != "createForumTopic"
    ]
    assert relays and all(c.params["message_thread_id"] == thread for c in relays)
    assert all("_text" not in c.params and "_topic_of" not in c.params for c in relays)
    copies = [c for c in relays if c.method == "copyMessage"]
    if kind != "text":  # media always go as copies (text under an auto-reply header is re-sent with it)
        assert copies and copies[0].params["message_id"] == update["message"]["message_id"]


async def test_burst_from_one_customer_is_merged(fake, settings):
    rig = Rig(fake, settings, group_per_min=20)
    texts = [f"第{i}条:我的订单{i}还没到" for i in range(30)]
    by_id = {}
    for i, text in enumerate(texts):
        update = fake.text_update(text, at=at(10, 0, i))
        by_id[update["message"]["message_id"]] = text
        await rig.feed(update)
    staff_sends = [c for c in fake.calls(ok=True) if c.params.get("chat_id") == settings.staff_chat_id]
    staff_sends = [c for c in staff_sends if c.method in ("sendMessage", "copyMessage")]
    assert len(staff_sends) <= 20  # the group's minute budget is never exceeded
    rig.clock.now += timedelta(minutes=1, seconds=2)  # the minute and its margin for the link's jitter
    await rig.sender.flush()
    shown = "\n".join(
        c.params.get("text") or by_id.get(c.params.get("message_id"), "")  # a plain copy shows the original
        for c in fake.calls(ok=True)
        if c.params.get("chat_id") == settings.staff_chat_id
    )
    assert all(text in shown for text in texts)  # nothing lost
    merged = [
        c for c in fake.calls("sendMessage", ok=True) if sum(t in c.params.get("text", "") for t in texts) > 1
    ]
    assert merged  # a burst went as one message
    assert rig.storage.outbox("pending") == []
    rig.storage.close()


# relay out through the guard ---------------------------------------------------------------------
async def test_rude_reply_held_with_category_marks_suggestion_and_buttons(rig):
    await rig.customer_says("我的快递到哪了", at(10, 0))
    before = len(rig.to_customer())
    staff_id = await rig.agent_says(RUDE, at(10, 1))
    assert len(rig.to_customer()) == before  # the customer received nothing
    verdict = check(RUDE)
    notice = rig.last_staff()
    text = notice.params["text"]
    assert verdict.hits[0].category in text and verdict.suggestion in text
    assert mark_hits(RUDE, verdict.hits) in text and "【" in text
    assert notice.params["reply_parameters"]["message_id"] == staff_id
    buttons = notice.params["reply_markup"]["inline_keyboard"][0]
    assert [b["text"] for b in buttons] == [BUTTON_SUGGEST, BUTTON_EDIT]
    (event,) = rig.storage.rows("SELECT * FROM guard_events WHERE source = 'agent'")
    assert event["allowed"] == 0 and event["agent_id"] == AGENT and event["text"] == RUDE
    assert [h["category"] for h in json.loads(event["hits"])] == [h.category for h in verdict.hits]


async def test_clean_reply_sent_recorded_and_busy_timer_stopped(rig):
    await rig.customer_says("我的快递到哪了", at(10, 0))
    conv = rig.storage.current_conversation(CUSTOMER, at(10, 0))
    assert conv.waiting_since is not None
    await rig.agent_says(CLEAN, at(10, 1))
    assert rig.to_customer("sendMessage")[-1].params == {"chat_id": CUSTOMER, "text": CLEAN}
    conv = rig.storage.current_conversation(CUSTOMER, at(10, 1))
    assert conv.waiting_since is None and conv.agent_id == AGENT
    (answer,) = [m for m in rig.storage.messages(CUSTOMER) if m.sender == "agent"]
    assert answer.text == CLEAN and answer.telegram_message_id is not None
    rig.desk.due_busy_replies(at(10, 5))
    await rig.sender.flush()
    assert render("busy") not in [c.params.get("text") for c in rig.to_customer()]


async def test_agent_media_without_caption_passes_and_rude_caption_is_held(rig):
    thread = await rig.customer_says("能发张图吗", at(10, 0))
    await rig.feed(rig.fake.group_photo_update(rig.staff, None, thread_id=thread, at=at(10, 1)))
    await rig.feed(rig.fake.group_photo_update(rig.staff, RUDE, thread_id=thread, at=at(10, 2)))
    (photo,) = rig.to_customer("sendPhoto")  # no caption: sent by file id, a copy could gain one
    assert photo.params == {"chat_id": CUSTOMER, "photo": "agent-photo"}
    assert rig.to_customer("copyMessage") == []
    assert "⛔" in rig.last_staff().params["text"]


async def test_edited_reply_is_checked_again(rig):
    await rig.customer_says("我的快递到哪了", at(10, 0))
    staff_id = await rig.agent_says(CLEAN, at(10, 1))
    sent = rig.to_customer("sendMessage")[-1]
    copy_id = next(m for m in rig.storage.messages(CUSTOMER) if m.sender == "agent").telegram_message_id
    thread = rig.topic()
    await rig.feed(
        rig.fake.edited_group_text_update(rig.staff, staff_id, RUDE, thread_id=thread, at=at(10, 2))
    )
    assert rig.to_customer("editMessageText") == []  # the rude edit never reached the customer
    notice = rig.last_staff().params
    assert notice["text"].startswith(TEXT_EDIT_HELD) and check(RUDE).suggestion in notice["text"]
    buttons = [b["text"] for b in notice["reply_markup"]["inline_keyboard"][0]]
    assert buttons == [BUTTON_SUGGEST, BUTTON_EDIT]
    assert rig.storage.staff_message(rig.staff, staff_id).status == "edit_held"
    better = "您好，订单明天上午发货，请您留意物流信息。"
    await rig.feed(
        rig.fake.edited_group_text_update(rig.staff, staff_id, better, thread_id=thread, at=at(10, 3))
    )
    (edit,) = rig.to_customer("editMessageText")
    assert edit.params == {"chat_id": CUSTOMER, "message_id": copy_id, "text": better}
    checks = rig.storage.rows("SELECT text, allowed FROM guard_events WHERE source = 'agent' ORDER BY id")
    assert checks == [
        {"text": CLEAN, "allowed": 1},
        {"text": RUDE, "allowed": 0},
        {"text": better, "allowed": 1},
    ]
    assert sent.params["text"] == CLEAN and rig.fake.shown(CUSTOMER)[-1] == better


# the words checked are the words delivered (issue 11, item 1) ------------------------------------
INSULT = "你问我，我问谁？"


async def _answer_not_yet_delivered(rig, race: str, update: dict) -> None:
    """Let the agent's answer be checked but not delivered: the send failed once (500), or it is queued."""
    if race == "failed_once":
        for method in ("copyMessage", "sendMessage"):
            rig.fake.fail_next(method, 500, chat_id=CUSTOMER)
        await rig.feed(update)
        assert rig.storage.outbox("pending")  # the delivery is waiting for its retry
    else:
        await rig.dp.feed_update(rig.bot, as_update(update, rig.bot))  # checked and queued, not yet sent


@pytest.mark.parametrize("race", ["failed_once", "queued"])
async def test_text_edited_before_delivery_still_delivers_the_checked_words(rig, race):
    thread = await rig.customer_says("我的快递到哪了", at(10, 0))
    update = rig.fake.group_text_update(rig.staff, CLEAN, user_id=AGENT, thread_id=thread, at=at(10, 1))
    staff_id = update["message"]["message_id"]
    await _answer_not_yet_delivered(rig, race, update)
    # The agent edits it into an insult on Telegram; the bot has not seen the edit yet.
    edit = rig.fake.edited_group_text_update(rig.staff, staff_id, INSULT, thread_id=thread, at=at(10, 2))
    rig.clock.now += timedelta(minutes=5)  # past the retry's backoff
    await rig.sender.flush()
    assert rig.fake.shown(CUSTOMER)[-1] == CLEAN and INSULT not in rig.fake.shown(CUSTOMER)
    await rig.feed(edit)  # then the edit arrives: checked, held, and the topic told the truth
    assert INSULT not in rig.fake.shown(CUSTOMER) and rig.fake.shown(CUSTOMER)[-1] == CLEAN
    assert rig.last_staff().params["text"].startswith(TEXT_EDIT_HELD)
    assert rig.storage.staff_message(rig.staff, staff_id).status == "edit_held"


@pytest.mark.parametrize(("caption", "edited"), [(CLEAN, INSULT), (None, INSULT)])
async def test_media_edited_before_delivery_carries_the_checked_caption(rig, caption, edited):
    thread = await rig.customer_says("能发张图吗", at(10, 0))
    update = rig.fake.group_photo_update(rig.staff, caption, user_id=AGENT, thread_id=thread, at=at(10, 1))
    await _answer_not_yet_delivered(rig, "queued", update)
    rig.fake.edit_message(rig.staff, update["message"]["message_id"], caption=edited)
    await rig.sender.flush()
    assert rig.fake.shown(CUSTOMER)[-1] == (caption or "")


async def test_edit_passing_while_the_answer_is_queued_reaches_the_customer(rig):
    thread = await rig.customer_says("我的快递到哪了", at(10, 0))
    update = rig.fake.group_text_update(rig.staff, CLEAN, user_id=AGENT, thread_id=thread, at=at(10, 1))
    await _answer_not_yet_delivered(rig, "queued", update)
    better = "您好，订单明天上午发货，请您留意物流信息。"
    edit = rig.fake.edited_group_text_update(
        rig.staff, update["message"]["message_id"], better, thread_id=thread, at=at(10, 2)
    )
    await rig.feed(edit)
    assert rig.fake.shown(CUSTOMER)[-1] == better
    assert [c.method for c in rig.to_customer()][-2:] == ["sendMessage", "editMessageText"]


async def test_an_edit_of_an_answer_that_never_arrived_is_given_up(rig):
    thread = await rig.customer_says("我的快递到哪了", at(10, 0))
    rig.fake.block_user(CUSTOMER)
    update = rig.fake.group_text_update(rig.staff, CLEAN, user_id=AGENT, thread_id=thread, at=at(10, 1))
    await _answer_not_yet_delivered(rig, "queued", update)
    better = "您好，订单明天上午发货，请您留意物流信息。"
    edit = rig.fake.edited_group_text_update(
        rig.staff, update["message"]["message_id"], better, thread_id=thread, at=at(10, 2)
    )
    await rig.feed(edit)
    assert rig.fake.calls("editMessageText") == []  # nothing to edit: the answer was refused (403)
    failed = rig.storage.outbox("failed")
    assert [r.method for r in failed if r.chat_id == CUSTOMER] == ["sendMessage", "editMessageText"]


async def test_held_reply_edited_clean_is_then_delivered(rig):
    await rig.customer_says("我的快递到哪了", at(10, 0))
    staff_id = await rig.agent_says(RUDE, at(10, 1))
    sent = len(rig.to_customer())
    await rig.feed(
        rig.fake.edited_group_text_update(rig.staff, staff_id, CLEAN, thread_id=rig.topic(), at=at(10, 2))
    )
    assert len(rig.to_customer()) == sent + 1 and rig.fake.shown(CUSTOMER)[-1] == CLEAN
    assert rig.storage.staff_message(rig.staff, staff_id).status == "sent"


async def test_suggestion_button_sends_documented_wording(rig):
    await rig.customer_says("我的快递到哪了", at(10, 0))
    staff_id = await rig.agent_says(RUDE, at(10, 1))
    notice = rig.last_staff()
    suggest = notice.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    assert parse_callback(suggest)[0] == CALLBACK_SUGGEST
    notice_id = rig.storage.rows(
        "SELECT telegram_message_id FROM outbox WHERE method = 'sendMessage' ORDER BY id DESC"
    )[0]
    press = rig.fake.callback_update(
        rig.staff, notice_id["telegram_message_id"], suggest, thread_id=rig.topic(), reply_to=staff_id
    )
    await rig.feed(press)
    assert [c.params["text"] for c in rig.to_customer("sendMessage")][-1] == check(RUDE).suggestion
    (answered,) = rig.fake.calls("answerCallbackQuery")
    assert answered.params["text"] == "已发送建议话术"
    (unbuttoned,) = rig.fake.calls("editMessageReplyMarkup")
    assert unbuttoned.params["message_id"] == notice_id["telegram_message_id"]
    # a second press sends nothing more
    await rig.feed(json.loads(json.dumps(press)) | {"update_id": press["update_id"] + 1000})
    assert [c.params["text"] for c in rig.to_customer("sendMessage")].count(check(RUDE).suggestion) == 1


# buttons nobody made (issue 11, item 8) ----------------------------------------------------------
async def _held_with_notice(rig, text: str, minute: int) -> tuple[int, int, str]:
    """Hold an agent message; return (its id, the id of the notice under it, the notice's suggest data)."""
    staff_id = await rig.agent_says(text, at(10, minute))
    data = rig.last_staff().params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    (notice,) = rig.storage.rows(
        "SELECT telegram_message_id FROM outbox WHERE method = 'sendMessage' ORDER BY id DESC LIMIT 1"
    )
    return staff_id, notice["telegram_message_id"], data


@pytest.mark.parametrize(
    "data",
    ["kefu:s:" + "9" * 60, "kefu:s:" + "9" * 25, "kefu:s:²", "kefu:s:-1", "other", "kefu:" + "x" * 500],
    ids=["over-64-bytes", "past-sqlite-integer", "unicode-digit", "negative", "foreign", "long"],
)
async def test_forged_button_data_is_refused_answered_and_logged(rig, caplog, data):
    await rig.customer_says("我的快递到哪了", at(10, 0))
    staff_id, notice_id, _ = await _held_with_notice(rig, RUDE, 1)
    sent = len(rig.to_customer())
    await rig.feed(
        rig.fake.callback_update(rig.staff, notice_id, data, thread_id=rig.topic(), reply_to=staff_id)
    )
    (answered,) = rig.fake.calls("answerCallbackQuery")  # never left spinning
    assert answered.params["text"] == TEXT_BUTTON_REFUSED
    assert len(rig.to_customer()) == sent and "button" in caplog.text


async def test_a_button_acts_only_on_the_message_it_sits_under(rig, caplog):
    await rig.customer_says("我的快递到哪了", at(10, 0))
    first_id, first_notice, _ = await _held_with_notice(rig, RUDE, 1)
    _, _, second_data = await _held_with_notice(rig, "你怎么还不明白,我都说了三遍了", 2)
    sent = len(rig.to_customer())
    # The first notice's button, carrying the row id of the second held message: not tied to it.
    await rig.feed(
        rig.fake.callback_update(
            rig.staff, first_notice, second_data, thread_id=rig.topic(), reply_to=first_id
        )
    )
    assert len(rig.to_customer()) == sent
    (answered,) = rig.fake.calls("answerCallbackQuery")
    assert answered.params["text"] == TEXT_BUTTON_REFUSED and "button" in caplog.text


async def test_edit_button_explains_how_to_resend(rig):
    await rig.customer_says("我的快递到哪了", at(10, 0))
    await rig.agent_says(RUDE, at(10, 1))
    edit = rig.last_staff().params["reply_markup"]["inline_keyboard"][0][1]["callback_data"]
    assert parse_callback(edit)[0] == CALLBACK_EDIT
    await rig.feed(rig.fake.callback_update(rig.staff, 1, edit, thread_id=rig.topic()))
    (answered,) = rig.fake.calls("answerCallbackQuery")
    assert answered.params["text"] == TEXT_EDIT_HINT and answered.params["show_alert"] is True


async def test_guard_failure_holds_back_and_tells_agent(rig):
    await rig.customer_says("我的快递到哪了", at(10, 0))

    def broken(text: str):
        raise RuntimeError("catalogue gone")

    rig.desk.cores = replace(rig.desk.cores, guard=SimpleNamespace(check=broken))
    await rig.agent_says(CLEAN, at(10, 1))
    assert CLEAN not in rig.fake.shown(CUSTOMER)
    assert "守卫检查失败" in rig.last_staff().params["text"]
    assert rig.storage.rows("SELECT allowed FROM guard_events WHERE source = 'agent'") == [{"allowed": 0}]


async def test_customer_who_blocked_the_bot_is_reported_in_topic(rig):
    await rig.customer_says("我的快递到哪了", at(10, 0))
    rig.fake.block_user(CUSTOMER)
    await rig.agent_says(CLEAN, at(10, 1))
    await rig.sender.flush()  # the notice is queued while the refused copy is handled
    assert rig.storage.customer(CUSTOMER).blocked == 1
    assert any(NOTICE_BLOCKED in t for t in rig.staff_texts())


async def test_deleted_topic_is_recreated_for_agent_feedback(rig):
    thread = await rig.customer_says("我的快递到哪了", at(10, 0))
    rig.fake.delete_topic(rig.staff, thread)
    await rig.customer_says("在吗", at(10, 1))
    new_thread = rig.topic()
    assert new_thread != thread and len(rig.fake.calls("createForumTopic")) == 2
    await rig.agent_says(RUDE, at(10, 2), thread=new_thread)
    assert rig.last_staff().params["message_thread_id"] == new_thread


# commands ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("draft", "allowed"), [(RUDE, False), (CLEAN, True)])
async def test_check_command_gives_verdict_and_sends_nothing(rig, draft, allowed):
    await rig.customer_says("我的快递到哪了", at(10, 0))
    sent_before = len(rig.to_customer())
    await rig.agent_says(f"/check {draft}", at(10, 1))
    assert len(rig.to_customer()) == sent_before
    reply = rig.last_staff().params["text"]
    assert ("可以发送" in reply) is allowed and ("会被拦截" in reply) is not allowed
    (event,) = rig.storage.rows("SELECT text, allowed FROM guard_events WHERE source = 'draft'")
    assert event == {"text": draft, "allowed": int(allowed)}


@pytest.mark.parametrize(
    ("spec", "values"),
    [
        ("greeting", lambda rig: {"shop": rig.settings.shop_name}),
        ("greeting.festival", lambda rig: {"shop": rig.settings.shop_name}),
        ("complaint_receipt", lambda rig: {"ticket": rig.storage.open_ticket(CUSTOMER).number}),
        ("agent_identity", lambda rig: {"agent_no": rig.storage.agent_by_id(AGENT).number}),
        ("service_hours", lambda rig: {"hours": rig.settings.business_hours_text}),
    ],
)
async def test_r_command_sends_script_with_placeholders(rig, spec, values):
    await rig.customer_says("我要投诉", at(10, 0))
    await rig.agent_says(f"/r {spec}", at(10, 1))
    key, _, variant = spec.partition(".")
    expected = render(key, variant=variant or None, **values(rig))
    assert rig.to_customer("sendMessage")[-1].params["text"] == expected
    assert expected in rig.last_staff().params["text"]


@pytest.mark.parametrize(("spec", "answer"), [("nosuchkey", "没有话术"), ("off_hours_lunch", "缺少")])
async def test_r_command_explains_what_cannot_be_sent(rig, spec, answer):
    await rig.customer_says("我的快递到哪了", at(10, 0))
    sent = len(rig.to_customer())
    await rig.agent_says(f"/r {spec}", at(10, 1))
    assert len(rig.to_customer()) == sent and answer in rig.last_staff().params["text"]


async def test_scripts_command_lists_keys(rig):
    await rig.customer_says("你好", at(10, 0))
    await rig.agent_says("/scripts", at(10, 1))
    listing = rig.last_staff().params["text"]
    assert all(key in listing for key in ("greeting", "closing", "complaint_receipt", "busy"))


async def test_close_sends_closing_and_closes_ticket(rig):
    await rig.customer_says("我要投诉", at(10, 0))
    number = rig.storage.open_ticket(CUSTOMER).number
    await rig.agent_says("/close", at(10, 5))
    assert rig.to_customer("sendMessage")[-1].params["text"] == render("closing")
    assert rig.storage.open_ticket(CUSTOMER) is None
    assert number in rig.last_staff().params["text"]
    status = rig.storage.rows("SELECT status FROM conversations WHERE customer_id = ?", [CUSTOMER])
    assert status == [{"status": "closed"}]


async def test_reopen_after_uncivil_ladder(rig):
    for minute, text in enumerate(["傻逼", "去你妈的", "傻逼"]):
        await rig.customer_says(text, at(10, minute))
    assert rig.storage.current_conversation(CUSTOMER, at(10, 5)).status == "closed_uncivil"
    await rig.agent_says("/reopen", at(10, 6))
    assert rig.storage.current_conversation(CUSTOMER, at(10, 6)).status == "open"
    assert "重新打开" in rig.last_staff().params["text"]
    await rig.customer_says("谢谢", at(10, 7))
    assert rig.to_customer("sendMessage")[-1].params["text"] == render("thanks")


async def test_ticket_command_shows_number_and_due_time(rig):
    await rig.customer_says("我要投诉", at(10, 0))
    ticket = rig.storage.open_ticket(CUSTOMER)
    await rig.agent_says("/ticket", at(10, 1))
    text = rig.last_staff().params["text"]
    due = datetime.fromisoformat(ticket.due_answer_at).astimezone(TZ).strftime("%Y-%m-%d %H:%M")
    assert ticket.number in text and due in text


async def test_stats_in_general_topic(rig):
    await rig.customer_says("我的快递到哪了", at(10, 0))
    await rig.agent_says(RUDE, at(10, 1))
    await rig.feed(rig.fake.group_text_update(rig.staff, "/stats", user_id=AGENT, at=at(10, 2)))
    reply = rig.last_staff()
    assert "message_thread_id" not in reply.params  # answered in General
    assert "今日统计" in reply.params["text"] and check(RUDE).hits[0].category in reply.params["text"]


async def test_topic_commands_need_a_customer_topic(rig):
    await rig.feed(rig.fake.group_text_update(rig.staff, "/close", user_id=AGENT, at=at(10, 0)))
    assert "话题" in rig.last_staff().params["text"]


# who is an agent ---------------------------------------------------------------------------------
async def test_outsiders_are_ignored(fake, settings, db_path):
    restricted = load_settings(
        send_limits="inf,inf,inf",
        bot_token=settings.bot_token.get_secret_value(),
        staff_chat_id=settings.staff_chat_id,
        agent_ids="7",
        db_path=db_path,
    )
    rig = Rig(fake, restricted)
    thread = await rig.customer_says("我的快递到哪了", at(10, 0))
    calls = len(fake.calls())
    await rig.agent_says(CLEAN, at(10, 1), user_id=99)  # in the staff chat, but not a listed agent
    await rig.feed(fake.group_text_update(-100555, "/stats", user_id=AGENT, at=at(10, 2)))  # another group
    await rig.feed(fake.group_text_update(-100555, CLEAN, user_id=AGENT, thread_id=thread, at=at(10, 2)))
    await rig.feed(fake.text_update("/close", user_id=CUSTOMER, at=at(10, 3)))  # a customer, privately
    assert all(c.params.get("text") != CLEAN for c in fake.calls()[calls:])
    assert rig.storage.rows("SELECT count(*) AS n FROM guard_events") == [{"n": 0}]
    assert rig.storage.rows("SELECT count(*) AS n FROM staff_messages") == [{"n": 0}]
    assert rig.storage.current_conversation(CUSTOMER, at(10, 3)).status == "open"
    await rig.agent_says(CLEAN, at(10, 4), user_id=AGENT)
    assert rig.fake.shown(CUSTOMER).count(CLEAN) == 1  # the listed agent gets through
    rig.storage.close()


async def test_replayed_agent_update_is_not_handled_twice(rig):
    await rig.customer_says("我的快递到哪了", at(10, 0))
    update = rig.fake.group_text_update(rig.staff, CLEAN, user_id=AGENT, thread_id=rig.topic(), at=at(10, 1))
    await rig.feed(update)
    await rig.feed(json.loads(json.dumps(update)))
    assert rig.fake.shown(CUSTOMER).count(CLEAN) == 1


@pytest.mark.parametrize("command", ["/r thanks", "/close"])
async def test_replayed_command_sends_once(rig, command):
    await rig.customer_says("我的快递到哪了", at(10, 0))
    sent = len(rig.to_customer("sendMessage"))
    update = rig.fake.group_text_update(
        rig.staff, command, user_id=AGENT, thread_id=rig.topic(), at=at(10, 1)
    )
    await rig.feed(update)
    await rig.feed(json.loads(json.dumps(update)))
    edit = rig.fake.edited_group_text_update(
        rig.staff, update["message"]["message_id"], RUDE, user_id=AGENT, thread_id=rig.topic(), at=at(10, 2)
    )
    await rig.feed(edit)  # editing a command never sends the edited text
    assert len(rig.to_customer("sendMessage")) == sent + 1 and rig.to_customer("copyMessage") == []


def test_callback_data_round_trip():
    data = callback_data(CALLBACK_SUGGEST, 12345)
    assert len(data.encode()) <= 64 and parse_callback(data) == (CALLBACK_SUGGEST, 12345)
    assert parse_callback("other:s:1") is None and parse_callback(None) is None


async def test_no_filter_or_handler_runs_in_a_worker_thread(rig, monkeypatch):
    """aiogram hands synchronous filters and handlers to asyncio.to_thread: ~0.3 ms per check."""

    def no_threads(*args, **kwargs):
        raise AssertionError("a filter or handler went to a worker thread")

    monkeypatch.setattr("aiogram.dispatcher.event.handler.asyncio.to_thread", no_threads)
    await rig.customer_says("我的快递到哪了", at(10, 0))  # customers router: Inline(F.chat.type)
    await rig.agent_says("/nonsense", at(10, 1))  # agents router: Inline(F.text.startswith("/"))
    await rig.agent_says(RUDE, at(10, 2))
    edit = rig.last_staff().params["reply_markup"]["inline_keyboard"][0][1]["callback_data"]
    await rig.feed(rig.fake.callback_update(rig.staff, 1, edit, thread_id=rig.topic()))  # Inline(F.data…)
    (answered,) = rig.fake.calls("answerCallbackQuery")
    assert answered.params["text"] == TEXT_EDIT_HINT
    assert rig.storage.counts()["messages"] >= 1


CURT = "这个没办法修改的呢"  # a flat refusal: level review


async def test_review_level_reply_is_held_with_send_anyway_and_sending_is_recorded(rig):
    assert check(CURT).level == "review"
    await rig.customer_says("能改一下地址吗", at(10, 0))
    before = len(rig.to_customer())
    staff_id = await rig.agent_says(CURT, at(10, 1))
    assert len(rig.to_customer()) == before  # held like a block
    notice = rig.last_staff()
    buttons = notice.params["reply_markup"]["inline_keyboard"][0]
    assert [b["text"] for b in buttons] == [BUTTON_SUGGEST, BUTTON_SEND_ANYWAY, BUTTON_EDIT]
    anyway = buttons[1]["callback_data"]
    assert parse_callback(anyway)[0] == CALLBACK_SEND_ANYWAY
    notice_id = rig.storage.rows(
        "SELECT telegram_message_id FROM outbox WHERE method = 'sendMessage' ORDER BY id DESC"
    )[0]["telegram_message_id"]
    press = rig.fake.callback_update(rig.staff, notice_id, anyway, thread_id=rig.topic(), reply_to=staff_id)
    await rig.feed(press)
    assert len(rig.to_customer()) == before + 1  # the agent's own words went out
    assert rig.fake.shown(CUSTOMER)[-1] == CURT  # as checked, sent as text (not a copy)
    (override,) = rig.storage.rows("SELECT * FROM guard_events WHERE source = 'agent_override'")
    assert override["allowed"] == 1 and override["agent_id"] == AGENT and override["text"] == CURT
    # a second press sends nothing more
    again = rig.fake.callback_update(rig.staff, notice_id, anyway, thread_id=rig.topic(), reply_to=staff_id)
    await rig.feed(again)
    assert len(rig.to_customer()) == before + 1


async def test_block_level_reply_has_no_send_anyway(rig):
    await rig.customer_says("我的快递到哪了", at(10, 0))
    await rig.agent_says(RUDE, at(10, 1))
    buttons = rig.last_staff().params["reply_markup"]["inline_keyboard"][0]
    assert BUTTON_SEND_ANYWAY not in [b["text"] for b in buttons]


async def test_a_traditional_customer_gets_traditional_replies_end_to_end(rig):
    """KEFU_REPLY_SCRIPT=auto (default): the auto-reply and an agent's /r script follow the customer."""
    from replies.hanzi import is_traditional, to_script

    await rig.customer_says("你們幾點上班", at(10, 0))
    auto_reply = rig.to_customer("sendMessage")[-1].params["text"]
    hours = rig.settings.business_hours_text
    assert auto_reply == to_script(render("service_hours", hours=hours), "traditional")
    await rig.agent_says("/r thanks", at(10, 1))
    sent = rig.to_customer("sendMessage")[-1].params["text"]
    assert sent == to_script(render("thanks"), "traditional") and is_traditional(sent)


def last_thread(rig) -> int:
    """Return the topic of the last call that went to a topic of the staff group (a relay, a notice)."""
    calls = [c for c in rig.fake.calls(ok=True) if c.params.get("chat_id") == rig.staff]
    return [c.params["message_thread_id"] for c in calls if "message_thread_id" in c.params][-1]


async def test_the_kept_topic_follows_a_ticket_closed_and_a_topic_deleted_and_made_again(rig, fake):
    """The sender keeps each customer's topic between relays (issue 15): every change reaches the relays."""
    thread = await rig.customer_says("我要投诉，东西坏了", at(10, 0))
    number = rig.storage.open_ticket(CUSTOMER).number
    await rig.customer_says("快点处理", at(10, 1))  # relayed with the topic kept from the relay before
    assert rig.storage.kept_topic_holder(CUSTOMER) is not None
    await rig.agent_says("/close", at(10, 5))  # the ticket closes: the title loses its number
    await rig.customer_says("好的谢谢", at(10, 6))
    assert number in fake.calls("createForumTopic")[0].params["name"]
    assert fake.calls("editForumTopic")[-1].params["name"] == "张三 @zhangsan"
    assert last_thread(rig) == thread
    fake.delete_topic(rig.staff, thread)  # gone on Telegram: a new topic, and it is the one kept
    await rig.customer_says("在吗", at(10, 7))
    new_thread = rig.topic()
    assert new_thread != thread and last_thread(rig) == new_thread
    await rig.customer_says("还在吗", at(10, 8))
    assert last_thread(rig) == new_thread
    assert len(fake.calls("createForumTopic")) == 2 and rig.storage.outbox("pending") == []


async def test_a_topic_changed_by_another_process_is_used_once_the_kept_one_is_stale(rig, fake, monkeypatch):
    await rig.customer_says("你好", at(10, 0))  # the topic is made and stored
    thread = await rig.customer_says("在吗", at(10, 0, 30))  # read once more, and kept
    other = fake.bot()
    moved = (await other.create_forum_topic(rig.staff, "张三 @zhangsan")).message_thread_id
    await other.session.close()
    operator = sqlite3.connect(rig.settings.db_path, isolation_level=None)  # an operator's sqlite3
    operator.execute("UPDATE customers SET topic_id = ? WHERE id = ?", [moved, CUSTOMER])
    operator.close()
    await rig.customer_says("在吗", at(10, 1))
    assert last_thread(rig) == thread  # kept: within HOLDER_KEPT_S
    monkeypatch.setattr("bot.store.sqlite.HOLDER_KEPT_S", 0.0)
    await rig.customer_says("还在吗", at(10, 2))
    assert last_thread(rig) == moved


# the customer's last message as the answer's context ---------------------------------------------
FLAT = "这个地址改不了的"  # allowed on its own words; a flat refusal after a plea
PLEA = "我等了好久了，能不能快点处理啊"
QUESTION = "请问这个订单的地址可以改吗"


def test_the_context_sentences_mean_what_these_tests_assume():
    assert check(FLAT).allowed and check(FLAT, QUESTION).allowed
    assert check(FLAT, PLEA).level == "review"


@pytest.mark.parametrize(("asked", "held"), [(QUESTION, False), (PLEA, True)])
async def test_an_answer_is_judged_after_the_customers_last_message(rig, asked, held):
    await rig.customer_says(asked, at(10, 0))
    before = len(rig.to_customer())
    await rig.agent_says(FLAT, at(10, 1))
    assert len(rig.to_customer()) == before + (0 if held else 1)
    (event,) = rig.storage.rows("SELECT allowed, hits FROM guard_events WHERE source = 'agent'")
    assert event["allowed"] == int(not held)
    assert [h["level"] for h in json.loads(event["hits"])] == (["review"] if held else [])
    if held:
        buttons = rig.last_staff().params["reply_markup"]["inline_keyboard"][0]
        assert BUTTON_SEND_ANYWAY in [b["text"] for b in buttons]


async def test_a_review_raised_by_the_context_can_be_sent_anyway(rig):
    await rig.customer_says(PLEA, at(10, 0))
    before = len(rig.to_customer())
    staff_id = await rig.agent_says(FLAT, at(10, 1))
    anyway = rig.last_staff().params["reply_markup"]["inline_keyboard"][0][1]["callback_data"]
    assert parse_callback(anyway)[0] == CALLBACK_SEND_ANYWAY
    notice_id = rig.storage.rows(
        "SELECT telegram_message_id FROM outbox WHERE method = 'sendMessage' ORDER BY id DESC"
    )[0]["telegram_message_id"]
    await rig.feed(
        rig.fake.callback_update(rig.staff, notice_id, anyway, thread_id=rig.topic(), reply_to=staff_id)
    )
    assert len(rig.to_customer()) == before + 1 and rig.fake.shown(CUSTOMER)[-1] == FLAT
    (override,) = rig.storage.rows("SELECT allowed, hits FROM guard_events WHERE source = 'agent_override'")
    assert override["allowed"] == 1 and json.loads(override["hits"])[0]["level"] == "review"


@pytest.mark.parametrize(("asked", "allowed"), [(QUESTION, True), (PLEA, False)])
async def test_check_command_in_a_topic_judges_the_draft_after_the_customers_message(rig, asked, allowed):
    await rig.customer_says(asked, at(10, 0))
    await rig.agent_says(f"/check {FLAT}", at(10, 1))
    (event,) = rig.storage.rows("SELECT allowed FROM guard_events WHERE source = 'draft'")
    assert event == {"allowed": int(allowed)}
