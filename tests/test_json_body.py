"""Calls without a file go as one JSON body, with the parameters aiogram's own form would carry (issue 15,
CPU: the form percent-encoded Chinese text byte by byte in Python). A call with a file keeps the form."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import (
    AnswerCallbackQuery,
    CopyMessage,
    CreateForumTopic,
    EditForumTopic,
    EditMessageText,
    GetUpdates,
    SendChatAction,
    SendDocument,
    SendMessage,
)
from aiogram.types import BufferedInputFile, LinkPreviewOptions, MessageEntity, ReplyParameters
from aiohttp import FormData
from aiohttp.payload import BytesPayload
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.telegram.app import BotApiSession

MARKUP = {"inline_keyboard": [[{"text": "发送此回复", "callback_data": "sg:1"}]]}
METHODS = [
    SendMessage(chat_id=5, text="您好，请问有什么可以帮您？"),
    SendMessage(
        chat_id=-1001234567890,
        message_thread_id=7,
        text="【客户 张三】\n[10:01:05] 在吗 & a=b+c%20?",
        entities=[MessageEntity(type="bold", offset=0, length=6)],
        reply_markup=MARKUP,
        reply_parameters=ReplyParameters(message_id=3),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
        disable_notification=False,
    ),
    SendMessage(chat_id=5, text="x", parse_mode=None),
    CopyMessage(chat_id=-100, from_chat_id=5, message_id=11, message_thread_id=7, caption="图片说明"),
    CreateForumTopic(chat_id=-100, name="👤 张三"),
    EditForumTopic(chat_id=-100, message_thread_id=7, name="✅ 张三"),
    EditMessageText(chat_id=-100, message_id=9, text="已处理", reply_markup=None),
    SendChatAction(chat_id=5, action="typing"),
    GetUpdates(offset=0, timeout=0, allowed_updates=["message", "callback_query"]),
    AnswerCallbackQuery(callback_query_id="abc", text="", show_alert=False),
]


def form_params(form: FormData) -> dict[str, str]:
    body = form()._value.decode()
    return dict(parse_qsl(body, keep_blank_values=True))


@pytest.mark.parametrize("default", [None, DefaultBotProperties(parse_mode="HTML", protect_content=True)])
@pytest.mark.parametrize("method", METHODS, ids=lambda m: type(m).__name__)
def test_the_json_body_carries_what_aiogram_form_does(method, default):
    bot = Bot("42:TEST", default=default)
    form = form_params(AiohttpSession().build_form_data(bot, method))
    payload = BotApiSession().build_form_data(bot, method)
    assert isinstance(payload, BytesPayload) and payload.content_type == "application/json"
    sent = json.loads(payload._value)
    assert set(sent) == set(form)
    for key, value in sent.items():  # the form's strings are JSON but for a string value itself
        assert value == form[key] if isinstance(value, str) else value == json.loads(form[key]), key


def test_a_call_with_a_file_keeps_aiogram_multipart_form():
    bot = Bot("42:TEST")
    method = SendDocument(chat_id=5, document=BufferedInputFile(b"data", "a.txt"), caption="附件")
    assert isinstance(BotApiSession().build_form_data(bot, method), FormData)


# The body skips pydantic's serialisation of aiogram's Default sentinels (resolved from the bot's defaults
# by prepare_value, as before) and the None values: whatever the caller set or left to the defaults, the
# body carries what aiogram's own form does.
_UNSET = object()
_maybe_text = st.one_of(st.just(""), st.text(max_size=12))


@st.composite
def _methods(draw):
    optional = {
        "parse_mode": st.sampled_from([None, "HTML", "MarkdownV2"]),
        "protect_content": st.one_of(st.none(), st.booleans()),
        "disable_notification": st.one_of(st.none(), st.booleans()),
        "message_thread_id": st.one_of(st.none(), st.integers(1, 10**6)),
        "link_preview_options": st.one_of(
            st.none(), st.builds(LinkPreviewOptions, is_disabled=st.one_of(st.none(), st.booleans()))
        ),
        "reply_markup": st.one_of(st.none(), st.just(MARKUP)),
    }
    chosen = {key: draw(strategy) for key, strategy in optional.items() if draw(st.booleans())}
    if draw(st.booleans()):
        return SendMessage(chat_id=draw(st.integers(-(10**13), 10**9)), text=draw(_maybe_text), **chosen)
    chosen.pop("link_preview_options", None)
    caption = draw(st.one_of(st.just(_UNSET), _maybe_text))
    extra = {} if caption is _UNSET else {"caption": caption}
    source = draw(st.integers(1, 10**9))
    return CopyMessage(chat_id=-100, from_chat_id=source, message_id=3, **chosen, **extra)


@settings(max_examples=150, deadline=None)
@given(
    method=_methods(),
    default=st.sampled_from(
        [
            None,
            DefaultBotProperties(parse_mode="HTML", protect_content=True),
            DefaultBotProperties(link_preview_is_disabled=True, protect_content=False),
        ]
    ),
)
def test_any_send_or_copy_carries_what_aiogram_form_does(method, default):
    test_the_json_body_carries_what_aiogram_form_does(method, default)
