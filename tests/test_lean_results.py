"""A lane's confirmed sendMessage is read lean (issue 15, CPU): the session answers it with the message's
id, chat, date and thread, all the sender reads, instead of a validated aiogram Message. Errors, calls
outside a lane and answers missing a field keep aiogram's own check."""

from __future__ import annotations

import json

import pytest
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.types import Message
from conftest import STAFF_CHAT_ID, FixedClock

from bot.ops.clock import utc_now
from bot.ops.settings import load_settings
from bot.ops.stack import build_stack
from bot.telegram import app
from bot.telegram.sender import _IN_LANE

CUSTOMER = 7400


def answer(**result) -> str:
    return json.dumps({"ok": True, "result": result})


CHAT = {"id": 5, "type": "private", "first_name": "张三"}


def test_a_sent_message_is_its_id_chat_date_and_thread():
    sent = app.sent_message(answer(message_id=9, date=1700000000, chat=CHAT, text="好的"))
    assert sent == app.SentMessage(9, app.SentChat(5, "private"), 1700000000, None)
    group = {"id": -100, "type": "supergroup"}
    topic = app.sent_message(answer(message_id=9, date=1, chat=group, message_thread_id=4))
    assert topic is not None and topic.message_thread_id == 4


@pytest.mark.parametrize(
    "content",
    [
        "<html>Bad Gateway</html>",
        json.dumps({"ok": False, "error_code": 429, "description": "Slow", "parameters": {"retry_after": 3}}),
        json.dumps({"ok": True, "result": True}),
        answer(date=1, chat=CHAT),
        answer(message_id="9", date=1, chat=CHAT),
        answer(message_id=9, chat=CHAT),
        answer(message_id=9, date=1, chat={"type": "private"}),
        answer(message_id=9, date=1, chat=CHAT, message_thread_id="4"),
        json.dumps([1, 2]),
    ],
    ids=["html", "error", "not-message", "no-id", "id-text", "no-date", "no-chat-id", "thread-text", "list"],
)
def test_anything_else_is_left_to_aiogram(content):
    assert app.sent_message(content) is None


@pytest.fixture
async def rig(fake, db_path):
    settings = load_settings(
        bot_token=fake.token,
        api_server=fake.url,
        staff_chat_id=STAFF_CHAT_ID,
        db_path=db_path,
        business_hours="00:00-24:00",
        send_limits="inf,inf,inf",
    )
    stack = build_stack(settings, bot=app.build_bot(settings), outbound=False)
    stack.sender.clock = FixedClock(utc_now())
    yield stack
    await stack.bot.session.close()
    stack.storage.close()


async def test_a_lanes_sends_are_lean_and_recorded_with_telegrams_ids(rig, fake, monkeypatch):
    lean: list[app.SentMessage] = []

    def spy(content: str) -> app.SentMessage | None:
        sent = real(content)
        lean.append(sent)
        return sent

    real = app.sent_message
    monkeypatch.setattr(app, "sent_message", spy)
    rig.pump.accept([fake.text_update("在吗", user_id=CUSTOMER, first_name="张三")])
    await rig.pump.drain()
    assert await rig.sender.flush() >= 2  # the auto-reply and the relay
    sends = fake.calls("sendMessage", ok=True)
    assert len(lean) == len(sends) >= 2 and None not in lean
    recorded = rig.storage.db.execute(
        "SELECT chat_id, telegram_message_id FROM outbox WHERE method = 'sendMessage' AND status = 'sent'"
    ).fetchall()
    assert sorted(recorded) == sorted((m.chat.id, m.message_id) for m in lean)  # Telegram's ids, stored
    assert {m.chat.id for m in lean} == {CUSTOMER, STAFF_CHAT_ID}
    assert not rig.storage.pending_outbox(10)


async def test_a_lanes_errors_keep_aiograms_exceptions(rig, fake):
    token = _IN_LANE.set(True)
    try:
        fake.fail_next("sendMessage", 429, retry_after=7)
        with pytest.raises(TelegramRetryAfter) as caught:
            await rig.bot.send_message(CUSTOMER, "您好")
        assert caught.value.retry_after == 7
        fake.fail_next("sendMessage", 400, description="Bad Request: message thread not found")
        with pytest.raises(TelegramBadRequest):
            await rig.bot.send_message(STAFF_CHAT_ID, "您好", message_thread_id=3)
        lean = await rig.bot.send_message(CUSTOMER, "您好")
        assert isinstance(lean, app.SentMessage) and lean.chat.id == CUSTOMER
    finally:
        _IN_LANE.reset(token)


async def test_outside_a_lane_a_send_is_a_full_message(rig):
    sent = await rig.bot.send_message(CUSTOMER, "您好")
    assert isinstance(sent, Message) and sent.text == "您好"
