"""The Telegram bot's parts: Bot, Dispatcher and the busy-reply sweeper (``bot.ops.runner`` runs them).

Long-lived objects reach handlers through the dispatcher (``db``, ``desk``, ``sender``, ``settings``
keyword arguments); aiogram's own ``storage`` argument stays the FSM storage.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import Default
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import ClientDecodeError
from aiogram.methods import SendMessage
from aiogram.methods.base import Response, TelegramMethod
from aiohttp import FormData
from aiohttp.payload import BytesPayload

from bot.desk.customers import SupportDesk
from bot.ops.clock import utc_now
from bot.ops.settings import ConfigError, Settings
from bot.store.sqlite import Storage
from bot.telegram.middlewares import WakeSender
from bot.telegram.routers import setup_routers
from bot.telegram.sender import Sender, in_lane
from bot.telegram.startup import NotBotApiAnswer

__all__ = [
    "BUSY_SWEEP_S",
    "BotApiSession",
    "SentChat",
    "SentMessage",
    "build_bot",
    "build_dispatcher",
    "sweep_busy",
]

log = logging.getLogger(__name__)

BUSY_SWEEP_S = 1.0


def build_bot(settings: Settings) -> Bot:
    """Return the Bot for ``settings.bot_token``, talking to ``settings.api_server`` (Telegram or local),
    through ``settings.bot_api_proxy`` when one is set (every call: updates, sends, files)."""
    if settings.bot_token is None:
        raise ConfigError("KEFU_BOT_TOKEN: not set (run `kefu demo` to try the bot offline)")
    proxy = settings.bot_api_proxy
    session = BotApiSession(
        api=TelegramAPIServer.from_base(settings.api_server), proxy=proxy.url if proxy else None
    )
    session.middleware(keep_response_types)
    return Bot(settings.bot_token.get_secret_value(), session=session)


@dataclass(frozen=True)
class SentChat:
    """The chat of a sent message, as a lane reads it."""

    id: int
    type: str


@dataclass(frozen=True)
class SentMessage:
    """What the sender's lane reads of a message Telegram confirmed: its id, chat, date and thread."""

    message_id: int
    chat: SentChat
    date: int
    message_thread_id: int | None = None


@dataclass(frozen=True)
class _Answer:
    result: Any


class BotApiSession(AiohttpSession):
    """aiogram's session, saying which HTTP status came with an answer that is not the Bot API's JSON.

    A ``sendMessage`` made by the sender's lane (:func:`bot.telegram.sender.in_lane`) that Telegram
    confirmed is answered with a :class:`SentMessage` (id, chat, date, thread: all the lane reads), not a
    validated aiogram ``Message`` with its sender, its text, its entities and the message it replies to (a
    pydantic tree of five models or more, ~35 µs a call). Anything else, every error and any answer
    lacking one of those fields goes through aiogram's own check, with its exceptions (429
    ``retry_after``, 400, 403 …).

    A call without a file goes as one JSON body (``application/json``, which the Bot API takes for every
    method but uploads), not aiogram's ``application/x-www-form-urlencoded`` form: the form percent-encodes
    every byte of Chinese text in Python, value by value (``urllib.parse.quote``), about half of building
    a call, and sends three bytes for each of those. The parameters are aiogram's own
    (``model_dump`` and ``prepare_value``, defaults resolved); as in its form, a parameter that comes out
    None or an empty string is left out. A call with a file keeps aiogram's multipart form.
    """

    def build_form_data(self, bot: Bot, method: TelegramMethod[Any]) -> FormData:  # type: ignore[override]
        """Return the body of ``method``: JSON (see the class docstring), or aiogram's form with a file."""
        files: dict[str, Any] = {}
        values = {}
        for key, value in _dumped(method).items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if prepared is None or prepared == "":
                continue
            values[key] = prepared
        if files:
            return super().build_form_data(bot, method)
        body = json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode()
        return BytesPayload(body, content_type="application/json")  # type: ignore[return-value]

    def check_response(self, bot: Bot, method: TelegramMethod, status_code: int, content: str) -> Response:
        """Return Telegram's parsed answer; raise :class:`NotBotApiAnswer` for an HTML page."""
        if status_code == 200 and type(method) is SendMessage and in_lane():
            sent = sent_message(content)
            if sent is not None:
                return _Answer(sent)  # type: ignore[return-value]  (make_request reads .result)
        try:
            return super().check_response(bot, method, status_code, content)
        except ClientDecodeError as exc:
            raise NotBotApiAnswer(status_code, exc.original) from None


def _dumped(method: TelegramMethod[Any]) -> dict[str, Any]:
    """Return what ``method.model_dump(warnings=False)`` gives aiogram's form, less the None values (which
    the form leaves out anyway); the fields still holding aiogram's ``Default`` sentinel come last.

    Those sentinels (a ``sendMessage`` has four: ``parse_mode``, ``link_preview_options``,
    ``protect_content``, ``disable_web_page_preview``) are taken as they are, for ``prepare_value`` to
    resolve from the bot's defaults as before, not serialised by pydantic, which took ~4 µs for each (a
    plain ``sendMessage`` dumped in 24 µs, 5 without them). A JSON object's order carries nothing.
    """
    raw = method.__dict__
    sentinels = {key: raw[key] for key in _sentinel_fields(type(method)) if isinstance(raw[key], Default)}
    if not sentinels:
        return method.model_dump(warnings=False, exclude_none=True)
    dumped = method.model_dump(warnings=False, exclude=set(sentinels), exclude_none=True)
    dumped.update(sentinels)
    return dumped


@functools.cache
def _sentinel_fields(cls: type[TelegramMethod[Any]]) -> tuple[str, ...]:
    """Return the fields of method class ``cls`` whose default is aiogram's ``Default`` sentinel."""
    return tuple(name for name, info in cls.model_fields.items() if isinstance(info.default, Default))


def sent_message(content: str) -> SentMessage | None:
    """Return the :class:`SentMessage` of a Bot API answer ``{"ok": true, "result": <Message>}``, or None
    when it is anything else (an error, not JSON, a field missing or of another type)."""
    try:
        data = json.loads(content)
    except ValueError:
        return None
    result = data.get("result") if isinstance(data, dict) and data.get("ok") is True else None
    if not isinstance(result, dict):
        return None
    message_id, chat, date = result.get("message_id"), result.get("chat"), result.get("date")
    thread = result.get("message_thread_id")
    if (
        type(message_id) is not int
        or type(date) is not int
        or not isinstance(chat, dict)
        or type(chat.get("id")) is not int
        or not isinstance(chat.get("type"), str)
        or (thread is not None and type(thread) is not int)
    ):
        return None
    return SentMessage(message_id, SentChat(chat["id"], chat["type"]), date, thread)


# pydantic caches parametrised generics weakly: aiogram's ``Response[Message]`` & co. were collected and
# rebuilt (a full schema build, ~5 ms) again and again under load. A strong reference per type keeps them.
_RESPONSE_TYPES: dict[Any, type] = {}


async def keep_response_types(
    make_request: NextRequestMiddlewareType, bot: Bot, method: TelegramMethod
) -> Any:
    """Client-session middleware: pin ``Response[<result type>]`` of every method called, then call it."""
    returning = method.__returning__
    if returning not in _RESPONSE_TYPES:
        _RESPONSE_TYPES[returning] = Response[returning]
    return await make_request(bot, method)


def build_dispatcher(
    settings: Settings,
    storage: Storage,
    desk: SupportDesk,
    sender: Sender,
    *,
    clock: Callable[[], datetime] | None = None,
) -> Dispatcher:
    """Return the Dispatcher with every router and the long-lived objects handlers receive by name.

    ``clock`` tells handlers when an update is handled (``kefu run`` passes the real one, so an update
    kept while the bot was down gets no stale off-hours reply); None decides each message as of its
    own date, as a replay of a fixed day in the tests does.
    """
    # No aiogram FSM: conversation state lives in the database. (Its default in-memory storage also
    # keeps an entry for every chat it ever saw: memory that grows with the number of customers.)
    dp = Dispatcher(disable_fsm=True, db=storage, desk=desk, sender=sender, settings=settings, clock=clock)
    dp.update.outer_middleware(WakeSender(sender))  # every handler's queued calls leave at once
    dp.include_router(setup_routers())
    return dp


async def sweep_busy(
    desk: SupportDesk,
    sender: Sender,
    *,
    clock: Callable[[], datetime] = utc_now,
    every_s: float = BUSY_SWEEP_S,
) -> None:
    """Queue due busy replies every ``every_s`` seconds until cancelled (state is in the database)."""
    while True:
        try:
            if await desk.storage.run(desk.due_busy_replies, clock()):
                sender.notify()
        except Exception:
            log.exception("busy-reply sweep failed")
        await asyncio.sleep(every_s)
