"""Telegram as it really is (issue 17): what the fake server did not send before, end to end.

Each test names the item of issue 17 it covers. The rig is the real Dispatcher and Bot, with the
outbound guard installed as ``kefu run`` does, against the fake Bot API server on 127.0.0.1.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import FixedClock
from fakeapi import FakeTelegram, as_update

from bot.desk.customers import SupportDesk
from bot.desk.texts import (
    NOTICE_ANONYMOUS,
    NOTICE_BLOCKED,
    NOTICE_DEACTIVATED,
    NOTICE_REJECTED,
    NOTICE_STAFF_BACK,
    NOTICE_UNBLOCKED,
    TEXT_EDIT_SYNCED,
    TEXT_NOT_AN_AGENT,
)
from bot.ops.settings import load_settings
from bot.store.sqlite import open_storage
from bot.telegram import outbound_guard
from bot.telegram.app import build_dispatcher
from bot.telegram.inbox import Inbox, UpdatePump
from bot.telegram.kinds import utf16_len
from bot.telegram.relay import relay_calls
from bot.telegram.sender import ALBUM_SETTLE_S, Sender
from guards import check
from replies import render

TZ = ZoneInfo("Asia/Shanghai")
CUSTOMER = 42
NEW_SUPERGROUP = -1009876543210


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, 23, hour, minute, second, tzinfo=TZ)


class Rig:
    """One bot process as ``kefu run`` wires it (outbound guard included), over the fake server."""

    def __init__(self, fake: FakeTelegram, settings) -> None:
        self.fake = fake
        self.staff = settings.staff_chat_id
        self.bot = fake.bot()
        self.storage = open_storage(settings.db_path)
        outbound_guard.install(self.bot, self.storage, settings)
        self.desk = SupportDesk(self.storage, settings)
        self.clock = FixedClock(at(10, 0))
        self.sender = Sender(self.bot, self.storage, settings, clock=self.clock)
        self.dp = build_dispatcher(settings, self.storage, self.desk, self.sender)

    async def feed(self, update: dict) -> None:
        await self.dp.feed_update(self.bot, as_update(update, self.bot))
        await self.sender.flush()

    async def later(self, seconds: float = 120) -> None:
        self.clock.now += timedelta(seconds=seconds)
        await self.sender.flush()

    def staff_calls(self, method: str | None = None, *, ok: bool | None = True) -> list:
        return [c for c in self.fake.calls(method, ok=ok) if c.params.get("chat_id") == self.staff]

    def staff_texts(self) -> list[str]:
        return [c.params["text"] for c in self.staff_calls("sendMessage")]

    def customer_texts(self) -> list[str]:
        return [
            c.params["text"]
            for c in self.fake.calls("sendMessage", ok=True)
            if c.params["chat_id"] == CUSTOMER
        ]

    def topic(self) -> int:
        return self.storage.customer(CUSTOMER).topic_id


@pytest.fixture
async def rig(fake, settings):
    rig = Rig(fake, settings)
    yield rig
    rig.storage.close()


# 1. edits that change nothing ----------------------------------------------------------------------
async def test_item1_edit_that_changes_nothing_is_not_relayed(rig):
    update = rig.fake.text_update("我的快递到哪了", at=at(10, 0))
    await rig.feed(update)
    before = len(rig.staff_calls())
    message_id = update["message"]["message_id"]
    await rig.feed(rig.fake.edited_text_update(message_id, "我的快递到哪了", at=at(10, 1), sent_at=at(10, 0)))
    assert len(rig.staff_calls()) == before
    versions = [m.version for m in rig.storage.messages(CUSTOMER) if m.direction == "in"]
    assert versions == [1]


async def test_item1_live_location_is_relayed_once(rig):
    update = rig.fake.location_update(live_period=900, at=at(10, 0))
    await rig.feed(update)
    message_id = update["message"]["message_id"]
    for step, latitude in enumerate((31.24, 31.25, 31.26), start=1):
        await rig.feed(rig.fake.edited_location_update(message_id, latitude, at=at(10, step)))
    relayed = [c for c in rig.staff_calls() if c.method != "createForumTopic"]
    assert [c.method for c in relayed] == ["copyMessage"]
    assert not any("修改" in t for t in rig.staff_texts())
    assert rig.customer_texts() == []  # a location is for a person, not 「我无法看到…」


# 2. albums -------------------------------------------------------------------------------------------
async def test_item2_album_is_one_message_one_decision_one_relay(rig):
    album = rig.fake.album_updates(3, "我要投诉，收到的快递箱子破了", at=at(10, 0))
    for update in album:
        await rig.feed(update)
    ticket = rig.storage.open_ticket(CUSTOMER)
    assert rig.customer_texts() == [render("complaint_receipt", ticket=ticket.number)]
    assert rig.staff_calls("copyMessages") == []  # waiting a moment: more items may come
    await rig.later(ALBUM_SETTLE_S + 0.5)
    (copy,) = rig.staff_calls("copyMessages")
    assert copy.params["message_ids"] == [u["message"]["message_id"] for u in album]
    assert copy.params["message_thread_id"] == rig.topic()
    assert rig.staff_calls("copyMessage") == []
    assert any("自动回复" in t for t in rig.staff_texts())  # the header, once, as its own message
    assert sum("自动回复" in t for t in rig.staff_texts()) == 1
    assert {r.status for r in rig.storage.outbox()} == {"sent"}


async def test_item2_album_without_caption_gets_no_no_content(rig):
    for update in rig.fake.album_updates(3, at=at(10, 0)):
        await rig.feed(update)
    await rig.later(ALBUM_SETTLE_S + 0.5)
    assert render("no_content") not in rig.customer_texts()
    assert len(rig.staff_calls("copyMessages")) == 1
    assert rig.storage.current_conversation(CUSTOMER, at(10, 0)).waiting_since is not None


# 3. messages Telegram will not copy -----------------------------------------------------------------
@pytest.mark.parametrize(
    "kind", ["pinned_message", "message_auto_delete_timer_changed", "chat_background_set"]
)
async def test_item3_service_messages_are_ignored(rig, kind):
    await rig.feed(rig.fake.service_update(kind, at=at(10, 0)))
    assert rig.storage.counts()["messages"] == 0
    assert rig.fake.calls("sendMessage") == [] and rig.fake.calls("copyMessage") == []


async def test_item3_refused_copy_is_told_in_words(rig):
    rig.fake.fail_next(
        "copyMessage", 400, description="Bad Request: message can't be copied", chat_id=rig.staff
    )
    await rig.feed(rig.fake.sticker_update(at=at(10, 0)))
    assert "[客户发送了一条无法转发的贴纸消息]" in rig.staff_texts()
    assert {r.status for r in rig.storage.outbox()} == {"sent"}


async def test_item3_deleted_photo_with_header_leaves_no_orphan_header(rig):
    rig.fake.fail_next(
        "copyMessage", 400, description="Bad Request: message to copy not found", chat_id=rig.staff
    )
    await rig.feed(rig.fake.photo_update("我要投诉", at=at(10, 0)))
    texts = rig.staff_texts()
    assert "[客户发送了一条无法转发的图片消息]" in texts


async def test_item3_any_400_to_a_customer_is_told_in_the_topic(rig):
    rig.fake.fail_next("sendMessage", 400, description="Bad Request: message is too long", chat_id=CUSTOMER)
    await rig.feed(rig.fake.text_update("谢谢", at=at(10, 0)))
    await rig.sender.flush()
    assert [r.status for r in rig.storage.outbox() if r.chat_id == CUSTOMER] == ["failed"]
    assert any(NOTICE_REJECTED in t and "message is too long" in t for t in rig.staff_texts())


# 4. the staff chat changing under the bot ------------------------------------------------------------
async def test_item4_no_write_access_waits_then_tells_staff(rig):
    rig.fake.fail_next(
        "createForumTopic",
        400,
        description="Bad Request: have no write access to the chat",
        chat_id=rig.staff,
    )
    await rig.feed(rig.fake.text_update("你好", at=at(10, 0)))
    assert rig.storage.outbox("failed") == []
    assert [r.chat_id for r in rig.storage.outbox("pending")] == [rig.staff]
    await rig.later()
    await rig.sender.flush()
    assert rig.storage.outbox("pending") == []
    (back,) = [c for c in rig.staff_calls("sendMessage") if NOTICE_STAFF_BACK in c.params["text"]]
    assert "message_thread_id" not in back.params and "no write access" in back.params["text"]


async def test_item4_topics_switched_off_relays_wait_until_on_again(rig):
    await rig.feed(rig.fake.text_update("你好", at=at(10, 0)))
    thread = rig.topic()
    rig.fake.set_forum(rig.staff, False)
    rig.fake.clear_calls()
    await rig.feed(rig.fake.text_update("在吗", at=at(10, 1)))
    await rig.feed(rig.fake.text_update("我要退货", at=at(10, 2)))
    landed = [c for c in rig.staff_calls() if c.method in ("sendMessage", "copyMessage")]
    assert len(landed) == 1  # the first one Telegram put in the main chat; the rest wait
    assert rig.storage.outbox("pending") and rig.storage.outbox("failed") == []
    await rig.later()
    assert rig.staff_calls("getChat") and len(rig.storage.outbox("pending")) >= 1  # still off: still waiting
    rig.fake.set_forum(rig.staff, True)
    rig.fake.clear_calls()
    for _ in range(3):
        await rig.later()
    assert rig.storage.outbox("pending") == []
    relayed = [c for c in rig.staff_calls() if c.method in ("sendMessage", "copyMessage")]
    assert all(
        c.params.get("message_thread_id") == thread
        for c in relayed
        if NOTICE_STAFF_BACK not in c.params.get("text", "")
    )
    assert any(NOTICE_STAFF_BACK in c.params.get("text", "") for c in relayed)


async def test_item4_new_customer_while_topics_are_off_waits(rig):
    rig.fake.set_forum(rig.staff, False)
    await rig.feed(rig.fake.text_update("你好", at=at(10, 0)))
    assert rig.staff_calls("sendMessage") == [] and rig.staff_calls("copyMessage") == []
    assert rig.storage.outbox("failed") == [] and rig.storage.outbox("pending")


async def test_item4_group_upgraded_to_supergroup_is_named_not_retried_forever(rig, caplog):
    rig.fake.migrate_chat(rig.staff, NEW_SUPERGROUP)
    await rig.feed(rig.fake.text_update("你好", at=at(10, 0)))
    for _ in range(3):
        await rig.sender.flush()  # paused: no hammering
    assert len(rig.fake.calls("createForumTopic")) == 1
    (row,) = rig.storage.outbox("pending")
    assert "migrated to a supergroup" in rig.storage.outbox_row(row.id).last_error
    assert f"KEFU_STAFF_CHAT_ID={NEW_SUPERGROUP}" in caplog.text
    told = [c for c in rig.fake.calls("sendMessage") if c.params["chat_id"] == NEW_SUPERGROUP]
    assert len(told) == 1 and str(NEW_SUPERGROUP) in told[0].params["text"]
    await rig.later()
    told = [c for c in rig.fake.calls("sendMessage") if c.params["chat_id"] == NEW_SUPERGROUP]
    assert len(told) == 1  # told once


# 8. length and formatting ----------------------------------------------------------------------------
async def test_item8_long_text_is_copied_whole_and_header_sent_alone(rig):
    text = "我要投诉" + "快递破损" * 1023  # 4,096 characters
    await rig.feed(rig.fake.text_update(text, at=at(10, 0)))
    copies = rig.staff_calls("copyMessage")
    assert len(copies) == 1 and "caption" not in copies[0].params
    assert any("自动回复" in t for t in rig.staff_texts())
    assert all(utf16_len(t) <= 4096 for t in rig.staff_texts())


async def test_item8_formatting_survives_the_header(rig):
    text = "订单👉1234 请查"
    entities = [
        {"type": "bold", "offset": 0, "length": 2},
        {"type": "text_link", "offset": 2, "length": 6, "url": "https://shop.example/o/1234"},
    ]
    await rig.feed(rig.fake.text_update(text, at=at(12, 30), entities=entities))  # off hours: a header
    (relay,) = [c for c in rig.staff_calls("sendMessage") if text in c.params["text"]]
    shift = utf16_len(relay.params["text"]) - utf16_len(text)
    got = relay.params["entities"]
    assert [(e["type"], e["offset"] - shift, e["length"]) for e in got] == [
        ("bold", 0, 2),
        ("text_link", 2, 6),
    ]
    assert got[1]["url"] == "https://shop.example/o/1234"


# 9. updates kefu asks for ----------------------------------------------------------------------------
def test_item9_allowed_updates_ask_for_members_and_reactions(rig):
    used = set(rig.dp.resolve_used_update_types())
    assert {"message", "edited_message", "callback_query", "my_chat_member", "message_reaction"} <= used


async def test_item9_blocking_the_bot_marks_the_customer_at_once(rig):
    await rig.feed(rig.fake.text_update("你好", at=at(10, 0)))
    await rig.feed(rig.fake.my_chat_member_update("kicked", at=at(10, 1)))
    assert rig.storage.customer(CUSTOMER).blocked == 1
    assert any(NOTICE_BLOCKED in t for t in rig.staff_texts())
    await rig.feed(rig.fake.my_chat_member_update("member", old_status="kicked", at=at(10, 2)))
    assert rig.storage.customer(CUSTOMER).blocked == 0
    assert any(NOTICE_UNBLOCKED in t for t in rig.staff_texts())


async def test_item9_deactivated_account_is_not_blocked(rig):
    rig.fake.fail_next("sendMessage", 403, description="Forbidden: user is deactivated", chat_id=CUSTOMER)
    await rig.feed(rig.fake.text_update("谢谢", at=at(10, 0)))
    await rig.sender.flush()
    assert rig.storage.customer(CUSTOMER).blocked == 0
    texts = rig.staff_texts()
    assert any(NOTICE_DEACTIVATED in t for t in texts) and not any(NOTICE_BLOCKED in t for t in texts)


async def test_item9_reaction_is_one_line_in_the_topic(rig):
    update = rig.fake.text_update("我的快递到哪了", at=at(10, 0))
    await rig.feed(update)
    before = len(rig.staff_texts())
    await rig.feed(rig.fake.reaction_update(update["message"]["message_id"], ["👍", "❤"], at=at(10, 1)))
    (line,) = rig.staff_texts()[before:]
    assert "\n" not in line and "👍❤" in line and "我的快递到哪了" in line
    assert rig.staff_calls("sendMessage")[-1].params["message_thread_id"] == rig.topic()


async def test_item9_closed_topic_is_reopened_when_the_customer_writes(rig):
    await rig.feed(rig.fake.text_update("你好", at=at(10, 0)))
    thread = rig.topic()
    await rig.feed(rig.fake.topic_closed_update(rig.staff, thread))
    rig.fake.clear_calls()
    await rig.feed(rig.fake.text_update("我要退货", at=at(10, 5)))
    methods = [c.method for c in rig.staff_calls()]
    assert methods[0] == "reopenForumTopic" and rig.staff_calls()[0].params["message_thread_id"] == thread
    assert thread not in rig.fake.closed_topics(rig.staff)
    assert rig.storage.outbox("pending") == [] and rig.storage.outbox("failed") == []


async def test_item9_topic_closed_unnoticed_is_reopened_on_refusal(rig):
    await rig.feed(rig.fake.text_update("你好", at=at(10, 0)))
    rig.fake.close_topic(rig.staff, rig.topic())  # closed while kefu was not listening
    await rig.feed(rig.fake.text_update("我要退货", at=at(10, 5)))
    assert rig.fake.calls("reopenForumTopic", ok=True)
    assert rig.storage.outbox("pending") == [] and rig.storage.outbox("failed") == []


@pytest.mark.parametrize(
    ("kind", "length", "expected"),
    [
        ("text", 10, ["sendMessage"]),
        ("text", 4096, ["copyMessage", "sendMessage"]),
        ("photo", 10, ["copyMessage"]),
        ("photo", 1010, ["copyMessage", "sendMessage"]),
        ("photo", 990, ["copyMessage"]),
        ("photo", 1024, ["copyMessage", "sendMessage"]),
    ],
)
def test_item8_relay_never_cuts_the_customers_words(kind, length, expected):
    text = "好" * length
    calls = relay_calls(
        staff_chat_id=-1,
        customer_id=CUSTOMER,
        from_chat_id=CUSTOMER,
        message_id=5,
        text=text,
        content_kind=kind,
        header="🌙 非工作时间 · 🤖 已自动回复「您好」",
        entities=[{"type": "bold", "offset": 0, "length": 1}],
    )
    assert [method for method, _ in calls] == expected
    first = calls[0][1]
    carried = first.get("text") or first.get("caption")
    if carried is not None:  # under the header: the whole text, formatting shifted by the header
        assert carried.endswith(text)
        (entity,) = first.get("entities") or first["caption_entities"]
        assert entity["offset"] == utf16_len(carried) - utf16_len(text)
    else:  # copied unchanged, header alone after it
        assert set(first) >= {"from_chat_id", "message_id"} and "caption" not in first


# 5. anonymous admins ---------------------------------------------------------------------------------
AGENT = 7
RUDE = "这个问题我不知道，你自己去查吧"
CLEAN = "您好，已为您查询，订单明天发货。"


def listed_settings(settings):
    return load_settings(
        send_limits="inf,inf,inf",
        bot_token=settings.bot_token.get_secret_value(),
        staff_chat_id=settings.staff_chat_id,
        agent_ids=str(AGENT),
        db_path=settings.db_path,
    )


def poll(question: str, *options: str) -> dict:
    return {
        "id": "1",
        "question": question,
        "options": [{"persistent_id": str(n), "text": o, "voter_count": 0} for n, o in enumerate(options)],
        "total_voter_count": 0,
        "is_closed": False,
        "is_anonymous": True,
        "type": "regular",
        "allows_multiple_answers": False,
        "allows_revoting": False,
        "members_only": False,
    }


def to_customer(rig, method: str) -> list:
    return [c for c in rig.fake.calls(method, ok=True) if c.params.get("chat_id") == CUSTOMER]


async def test_item5_anonymous_admin_is_an_agent_when_no_list_is_set(rig):
    await rig.feed(rig.fake.text_update("我的快递到哪了", at=at(10, 0)))
    await rig.feed(
        rig.fake.group_message_update(rig.staff, {"text": CLEAN}, thread_id=rig.topic(), anonymous=True)
    )
    assert [c.params["text"] for c in to_customer(rig, "sendMessage")].count(CLEAN) == 1


async def test_item5_anonymous_admin_is_told_when_agents_are_listed(fake, settings):
    rig = Rig(fake, listed_settings(settings))
    await rig.feed(fake.text_update("我的快递到哪了", at=at(10, 0)))
    update = fake.group_message_update(rig.staff, {"text": CLEAN}, thread_id=rig.topic(), anonymous=True)
    await rig.feed(update)
    sent = len(to_customer(rig, "sendMessage"))
    await rig.feed(json.loads(json.dumps(update)))  # a replay: told once
    assert to_customer(rig, "copyMessage") == [] and len(to_customer(rig, "sendMessage")) == sent
    assert sum(NOTICE_ANONYMOUS in t for t in rig.staff_texts()) == 1
    assert rig.staff_calls("sendMessage")[-1].params["message_thread_id"] == rig.topic()
    rig.storage.close()


# 6. agent messages of other kinds --------------------------------------------------------------------
@pytest.mark.parametrize(
    "content",
    [
        {"location": {"latitude": 31.23, "longitude": 121.47}},
        {"contact": {"phone_number": "+8613800000000", "first_name": "售后"}},
        {
            "venue": {
                "location": {"latitude": 31.2, "longitude": 121.4},
                "title": "门店",
                "address": "南京路1号",
            }
        },
        {"dice": {"emoji": "🎲", "value": 3}},
        {"poll": poll("您更方便哪天收货？", "周六", "周日")},
    ],
)
async def test_item6_agent_location_contact_venue_dice_poll_are_relayed(rig, content):
    await rig.feed(rig.fake.text_update("我的快递到哪了", at=at(10, 0)))
    await rig.feed(rig.fake.group_message_update(rig.staff, content, thread_id=rig.topic()))
    assert len(to_customer(rig, "copyMessage")) == 1


async def test_item6_rude_poll_is_held(rig):
    await rig.feed(rig.fake.text_update("我的快递到哪了", at=at(10, 0)))
    await rig.feed(
        rig.fake.group_message_update(rig.staff, {"poll": poll(RUDE, "好", "不好")}, thread_id=rig.topic())
    )
    assert to_customer(rig, "copyMessage") == []
    assert any("已拦截" in t for t in rig.staff_texts())


async def test_item6_agent_message_that_cannot_be_relayed_is_named(rig):
    await rig.feed(rig.fake.text_update("我的快递到哪了", at=at(10, 0)))
    game = {
        "title": "g",
        "description": "d",
        "photo": [{"file_id": "x", "file_unique_id": "x", "width": 1, "height": 1}],
    }
    await rig.feed(rig.fake.group_message_update(rig.staff, {"game": game}, thread_id=rig.topic()))
    assert to_customer(rig, "copyMessage") == []
    assert any("游戏" in t and "无法发送给客户" in t for t in rig.staff_texts())


async def test_item6_agent_album_goes_as_one(rig):
    await rig.feed(rig.fake.text_update("我的快递到哪了", at=at(10, 0)))
    ids = []
    for n in range(3):
        photo = {"photo": [{"file_id": f"a{n}", "file_unique_id": f"a{n}", "width": 9, "height": 9}]}
        update = rig.fake.group_message_update(
            rig.staff, photo, thread_id=rig.topic(), media_group_id="agent-1"
        )
        ids.append(update["message"]["message_id"])
        await rig.feed(update)
    assert to_customer(rig, "sendMediaGroup") == []
    await rig.later(ALBUM_SETTLE_S + 0.5)
    # One group, each item by file id in its checked words (a copy would carry later edits).
    (group,) = to_customer(rig, "sendMediaGroup")
    media = group.params["media"]
    media = json.loads(media) if isinstance(media, str) else media
    assert [m["media"] for m in media] == ["a0", "a1", "a2"]
    assert to_customer(rig, "copyMessage") == to_customer(rig, "copyMessages") == []
    assert to_customer(rig, "sendPhoto") == []
    assert len(ids) == 3


# 7. buttons --------------------------------------------------------------------------------------------
async def held_notice(rig) -> tuple[int, str]:
    await rig.feed(rig.fake.text_update("我的快递到哪了", at=at(10, 0)))
    rude = rig.fake.group_text_update(rig.staff, RUDE, user_id=AGENT, thread_id=rig.topic())
    await rig.feed(rude)
    rig.held_id = rude["message"]["message_id"]  # the notice replies to it; its buttons act on it only
    notice = rig.staff_calls("sendMessage")[-1]
    data = notice.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    (row,) = rig.storage.rows(
        "SELECT telegram_message_id FROM outbox WHERE method = 'sendMessage' ORDER BY id DESC LIMIT 1"
    )
    return row["telegram_message_id"], data


async def test_item7_button_pressed_by_a_non_agent_is_answered(fake, settings):
    rig = Rig(fake, listed_settings(settings))
    message_id, data = await held_notice(rig)
    sent = len(to_customer(rig, "sendMessage"))
    await rig.feed(fake.callback_update(rig.staff, message_id, data, user_id=99, thread_id=rig.topic()))
    (answered,) = fake.calls("answerCallbackQuery")
    assert answered.params["text"] == TEXT_NOT_AN_AGENT
    assert len(to_customer(rig, "sendMessage")) == sent  # the suggestion was not sent
    rig.storage.close()


async def test_item7_unknown_button_of_an_agent_is_answered(rig):
    await rig.feed(rig.fake.callback_update(rig.staff, 1, "other:thing", user_id=AGENT))
    assert len(rig.fake.calls("answerCallbackQuery")) == 1


async def test_item7_too_old_answer_after_a_replay_is_not_a_failure(rig):
    message_id, data = await held_notice(rig)
    rig.fake.fail_next(
        "answerCallbackQuery",
        400,
        description="Bad Request: query is too old and response timeout expired or query ID is invalid",
    )
    pump = UpdatePump(rig.dp, rig.bot, Inbox(rig.storage))
    update = rig.fake.callback_update(
        rig.staff, message_id, data, user_id=AGENT, thread_id=rig.topic(), reply_to=rig.held_id
    )
    pump.accept([update])
    await pump.drain()
    await rig.sender.flush()
    status = rig.storage.rows("SELECT status FROM updates WHERE update_id = ?", [update["update_id"]])
    assert status == [{"status": "done"}]
    assert [c.params["text"] for c in to_customer(rig, "sendMessage")][-1] == check(RUDE).suggestion


async def test_item7_edit_synced_is_posted_only_after_telegram_confirms(rig):
    await rig.feed(rig.fake.text_update("我的快递到哪了", at=at(10, 0)))
    update = rig.fake.group_text_update(rig.staff, CLEAN, user_id=AGENT, thread_id=rig.topic())
    await rig.feed(update)
    message_id = update["message"]["message_id"]
    rig.fake.fail_next(
        "editMessageText", 400, description="Bad Request: message to edit not found", chat_id=CUSTOMER
    )
    edit = rig.fake.edited_group_text_update(
        rig.staff, message_id, CLEAN + "谢谢", user_id=AGENT, thread_id=rig.topic()
    )
    await rig.feed(edit)
    await rig.sender.flush()
    assert not any(TEXT_EDIT_SYNCED in t for t in rig.staff_texts())
    assert any(NOTICE_REJECTED in t for t in rig.staff_texts())
    again = rig.fake.edited_group_text_update(
        rig.staff, message_id, CLEAN + "祝您生活愉快", user_id=AGENT, thread_id=rig.topic()
    )
    await rig.feed(again)
    await rig.sender.flush()
    calls = rig.fake.calls(ok=True)
    edited = max(i for i, c in enumerate(calls) if c.method == "editMessageText")
    synced = [i for i, c in enumerate(calls) if TEXT_EDIT_SYNCED in str(c.params.get("text", ""))]
    assert len(synced) == 1 and synced[0] > edited


async def test_item8_agent_edit_keeps_formatting(rig):
    await rig.feed(rig.fake.text_update("我的快递到哪了", at=at(10, 0)))
    update = rig.fake.group_text_update(rig.staff, CLEAN, user_id=AGENT, thread_id=rig.topic())
    await rig.feed(update)
    edit = rig.fake.edited_group_text_update(
        rig.staff, update["message"]["message_id"], CLEAN + "订单", user_id=AGENT, thread_id=rig.topic()
    )
    bold = {"type": "bold", "offset": len(CLEAN), "length": 2}
    edit["edited_message"]["entities"] = [bold]
    await rig.feed(edit)
    (edited,) = to_customer(rig, "editMessageText")
    assert edited.params["entities"] == [bold]
