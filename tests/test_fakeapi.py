"""The fake Telegram Bot API server answers the way Telegram does, through a real aiogram Bot."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import TelegramMethod
from fakeapi import BOT_ID, as_update

CUSTOMER = 4242
STAFF = -1001234567890


async def test_get_me_and_token_recorded(fake):
    bot = fake.bot()
    me = await bot.get_me()
    assert (me.id, me.is_bot) == (BOT_ID, True)
    assert fake.calls("getMe")[0].token == fake.token


async def test_send_message_ids_increase_per_chat(fake):
    bot = fake.bot()
    ids_a = [(await bot.send_message(CUSTOMER, f"m{i}")).message_id for i in range(3)]
    ids_b = [(await bot.send_message(CUSTOMER + 1, "x")).message_id]
    assert ids_a == sorted(ids_a) and len(set(ids_a)) == 3
    assert ids_b == [1]
    assert [c.params["text"] for c in fake.calls("sendMessage")][:3] == ["m0", "m1", "m2"]


async def test_numeric_text_stays_text(fake):
    bot = fake.bot()
    message = await bot.send_message(CUSTOMER, "123")
    assert message.text == "123"
    assert fake.calls("sendMessage")[0].params == {"chat_id": CUSTOMER, "text": "123"}


async def test_forum_topic_then_copy_into_it(fake):
    bot = fake.bot()
    topic = await bot.create_forum_topic(STAFF, "张三 @zhangsan")
    copied = await bot.copy_message(STAFF, CUSTOMER, 5, message_thread_id=topic.message_thread_id)
    assert copied.message_id >= 1
    assert fake.topics(STAFF) == {topic.message_thread_id}
    assert fake.calls("copyMessage")[0].params["message_thread_id"] == topic.message_thread_id


async def test_deleted_topic_answers_thread_not_found(fake):
    bot = fake.bot()
    topic = await bot.create_forum_topic(STAFF, "t")
    fake.delete_topic(STAFF, topic.message_thread_id)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(STAFF, "x", message_thread_id=topic.message_thread_id)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (429, TelegramRetryAfter),
        (403, TelegramForbiddenError),
        (400, TelegramBadRequest),
        (404, TelegramNotFound),
        (500, TelegramServerError),
        (502, TelegramServerError),
    ],
)
async def test_fail_next_answers_the_error_once(fake, status, error):
    bot = fake.bot()
    fake.fail_next("sendMessage", status, retry_after=3 if status == 429 else None)
    with pytest.raises(error) as caught:
        await bot.send_message(CUSTOMER, "x")
    if status == 429:
        assert caught.value.retry_after == 3
    assert (await bot.send_message(CUSTOMER, "y")).text == "y"


async def test_fail_next_only_for_one_chat(fake):
    bot = fake.bot()
    fake.fail_next("sendMessage", 403, chat_id=CUSTOMER)
    assert (await bot.send_message(CUSTOMER + 1, "ok")).text == "ok"
    with pytest.raises(TelegramForbiddenError, match="blocked by the user"):
        await bot.send_message(CUSTOMER, "x")


async def test_blocked_user_answers_403_until_the_end(fake):
    bot = fake.bot()
    fake.block_user(CUSTOMER)
    for _ in range(2):
        with pytest.raises(TelegramForbiddenError):
            await bot.send_message(CUSTOMER, "x")


async def test_get_updates_long_poll_and_offset(fake):
    bot = fake.bot()
    at = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    first = fake.push_update(fake.text_update("你好", user_id=CUSTOMER, at=at))
    fake.push_update(fake.sticker_update(user_id=CUSTOMER, at=at))
    updates = await bot.get_updates(offset=0, timeout=1)
    assert [u.update_id for u in updates] == [first, first + 1]
    assert updates[0].message.text == "你好" and updates[0].message.date == at
    assert updates[1].message.sticker is not None
    assert await bot.get_updates(offset=first + 2, timeout=0) == []
    assert fake.pending_updates() == 0


@pytest.mark.parametrize(
    ("build", "check"),
    [
        (lambda f: f.text_update("/start"), lambda u: u.message.entities[0].type == "bot_command"),
        (lambda f: f.photo_update("质量问题"), lambda u: u.message.caption == "质量问题" and u.message.photo),
        (lambda f: f.photo_update(), lambda u: u.message.caption is None and u.message.photo),
        (lambda f: f.sticker_update(), lambda u: u.message.sticker.emoji == "😀"),
        (lambda f: f.edited_text_update(9, "改了"), lambda u: u.edited_message.text == "改了"),
        (lambda f: f.group_text_update(STAFF, "/r", thread_id=101), lambda u: u.message.message_thread_id),
    ],
)
async def test_update_builders_are_valid_updates(fake, build, check):
    assert check(as_update(build(fake)))


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("send_chat_action", {"chat_id": CUSTOMER, "action": "typing"}),
        ("pin_chat_message", {"chat_id": STAFF, "message_id": 3}),
        ("delete_webhook", {}),
        ("set_webhook", {"url": "https://example.com/hook"}),
        ("answer_callback_query", {"callback_query_id": "abc"}),
    ],
)
async def test_true_methods(fake, method, kwargs):
    bot = fake.bot()
    assert await getattr(bot, method)(**kwargs) is True


async def test_edit_and_get_chat(fake):
    bot = fake.bot()
    sent = await bot.send_message(STAFF, "旧")
    edited = await bot.edit_message_text(text="新", chat_id=STAFF, message_id=sent.message_id)
    assert (edited.message_id, edited.text) == (sent.message_id, "新")
    chat = await bot.get_chat(STAFF)
    assert chat.is_forum is True


async def test_unknown_method_is_404(fake):
    class Nonsense(TelegramMethod[bool]):
        __returning__ = bool
        __api_method__ = "nonsenseMethod"

    with pytest.raises(TelegramNotFound):
        await fake.bot()(Nonsense())
