"""A fake Telegram Bot API server on 127.0.0.1 for end-to-end tests (aiohttp, random port).

It serves ``/bot{token}/{method}`` the way Telegram does: Telegram-shaped ``{"ok": true, "result": …}``
answers, message ids increasing per chat, long-polling ``getUpdates`` fed by the test, and errors
on request (429 with ``retry_after``, 403 "bot was blocked by the user", 400 "message thread not
found", 5xx). Every call is recorded. Optionally (off by default) it plays Telegram as it is: a round
trip per call (``latency=0.15``) and Telegram's three send limits answered with 429
(``limits=TelegramLimits()``, see ``tests/fakelimits.py``).

It also keeps what each message says *now*, as Telegram does: a message built here or sent by the bot
has content, :meth:`FakeTelegram.edit_message` (and the ``edited_*`` builders) change it, and
``copyMessage`` delivers the source's content at the time of the copy (or the caption passed with it).
:meth:`FakeTelegram.shown` returns the words a chat's recipient sees.

Example::

    async with FakeTelegram() as fake:
        bot = fake.bot()                       # aiogram Bot pointed at the fake
        fake.push_update(fake.text_update("你好", user_id=42))
        ...
        assert fake.calls("sendMessage")[0].params["text"] == "…"

Update builders (``text_update``, ``sticker_update``, ``photo_update``, ``album_updates``,
``location_update``, ``service_update``, ``edited_text_update``, ``group_text_update``,
``group_message_update``, ``my_chat_member_update``, ``reaction_update``, ``topic_closed_update``) return
Update-shaped dicts; feed them to ``dp.feed_update`` with :func:`as_update` or push them to
``getUpdates`` with :meth:`FakeTelegram.push_update`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Update
from aiohttp import web
from fakelimits import TelegramLimits

__all__ = ["ANONYMOUS_ADMIN_ID", "BOT_ID", "Call", "FakeTelegram", "as_update"]

BOT_ID = 777000111
ANONYMOUS_ADMIN_ID = 1087968824  # GroupAnonymousBot: the sender shown for an admin posting anonymously
BOT_USERNAME = "kefu_test_bot"
TOKEN = "123456:TEST-token-never-logged-0123456789abcdef"
# Parameters that are free text: never JSON-decoded (a text "123" stays a string).
_TEXT_KEYS = frozenset(
    {
        "text",
        "caption",
        "name",
        "title",
        "description",
        "short_description",
        "query",
        "emoji",
        "secret_token",
        "url",
        "parse_mode",
        "action",
        "callback_query_id",
        "inline_message_id",
        "icon_custom_emoji_id",
        "custom_title",
        "sticker",
        "photo",
        "document",
        "video",
        "audio",
        "voice",
        "animation",
    }
)
_DEFAULT_ERRORS = {
    400: "Bad Request: message thread not found",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request",
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


@dataclass(frozen=True)
class Call:
    """One recorded Bot API call: method name, decoded parameters, token used, HTTP status answered."""

    method: str
    params: dict[str, Any]
    token: str
    status: int = 200

    @property
    def ok(self) -> bool:
        """Return whether the fake answered this call with success."""
        return self.status == 200


@dataclass
class _Failure:
    status: int
    description: str
    retry_after: int | None
    times: int
    chat_id: int | None
    parameters: dict[str, Any] | None = None


def _decode(key: str, value: str) -> Any:
    if key in _TEXT_KEYS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def as_update(data: dict[str, Any], bot: Bot | None = None) -> Update:
    """Return the aiogram ``Update`` for an update dict built here (for ``dp.feed_update``)."""
    return Update.model_validate(data, context={"bot": bot} if bot else {})


class FakeTelegram:
    """The fake Bot API server. ``await start()`` / ``await close()``, or use ``async with``."""

    def __init__(self, *, limits: TelegramLimits | None = None, latency: float = 0.0) -> None:
        self.url = ""
        self.token = TOKEN
        self._calls: list[Call] = []
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count] = defaultdict(lambda: itertools.count(1))
        self._thread_ids = itertools.count(100)
        self._topics: dict[int, set[int]] = defaultdict(set)
        self._blocked: set[int] = set()
        self._not_forum: set[int] = set()
        self._migrated: dict[int, int] = {}
        self._closed: dict[int, set[int]] = defaultdict(set)
        self._failures: dict[str, list[_Failure]] = defaultdict(list)
        self._arrived = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._bots: list[Bot] = []
        # What each message says now, by (chat id, message id); and the messages the bot put in each chat.
        self._contents: dict[tuple[int, int], dict[str, str]] = {}
        self._delivered: dict[int, list[int]] = defaultdict(list)
        self.webhook_url = ""  # set by setWebhook, cleared by deleteWebhook; a test may set another's
        self.latency = latency  # seconds each sending call takes (getUpdates excepted): a slow link
        # Telegram's send limits (tests/fakelimits.py): None = unlimited, as before.
        self.limits = limits
        self.in_flight = 0
        self.max_in_flight = 0  # the most sending calls being handled at the same moment
        self._in_flight_by_chat: dict[Any, int] = defaultdict(int)
        self.max_in_flight_per_chat = 0  # the most sending calls to one chat handled at the same moment

    # lifecycle -------------------------------------------------------------------------------
    async def start(self) -> FakeTelegram:
        """Start listening on 127.0.0.1 on a free port; ``self.url`` is its base URL."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self

    async def close(self) -> None:
        """Close the bots made by :meth:`bot` and stop the server."""
        for bot in self._bots:
            await bot.session.close()
        self._arrived.set()  # wake a pending long poll, so the server need not wait out its timeout
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def bot(self, token: str | None = None) -> Bot:
        """Return an aiogram Bot whose session talks to this server (closed by :meth:`close`)."""
        session = AiohttpSession(api=TelegramAPIServer.from_base(self.url))
        bot = Bot(token or self.token, session=session)
        self._bots.append(bot)
        return bot

    # what the test controls ------------------------------------------------------------------
    def calls(self, method: str | None = None, *, ok: bool | None = None) -> list[Call]:
        """Return the recorded calls (of one method; only answered ``ok`` or only failed), oldest first."""
        return [
            c for c in self._calls if (method is None or c.method == method) and (ok is None or c.ok == ok)
        ]

    def clear_calls(self) -> None:
        """Forget the recorded calls."""
        self._calls.clear()

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update for ``getUpdates`` (its ``update_id`` is kept or assigned); return the id."""
        if "update_id" not in update:
            update["update_id"] = next(self._update_ids)
        self._updates.append(update)
        self._arrived.set()
        return update["update_id"]

    def pending_updates(self) -> int:
        """Return how many pushed updates no ``getUpdates`` has confirmed yet."""
        return len(self._updates)

    def fail_next(
        self,
        method: str,
        status: int = 429,
        *,
        retry_after: int | None = None,
        description: str | None = None,
        times: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (optionally only to ``chat_id``) answer an error.

        429 gets ``parameters.retry_after`` (default 1); descriptions default to Telegram's wording.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        text = description or _DEFAULT_ERRORS.get(status, "Internal Server Error")
        self._failures[method].append(
            _Failure(status, text.format(retry_after=retry_after), retry_after, times, chat_id)
        )

    def block_user(self, chat_id: int) -> None:
        """From now on, sending to ``chat_id`` answers 403 "bot was blocked by the user"."""
        self._blocked.add(chat_id)

    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        """Delete a forum topic: later sends to it answer 400 "message thread not found"."""
        self._topics[chat_id].discard(thread_id)

    def set_forum(self, chat_id: int, on: bool) -> None:
        """Switch Topics on or off in a group: off, thread ids are silently dropped (as Telegram does)."""
        (self._not_forum.discard if on else self._not_forum.add)(chat_id)

    def migrate_chat(self, chat_id: int, new_chat_id: int) -> None:
        """Upgrade a group: every later call to ``chat_id`` answers 400 with ``migrate_to_chat_id``."""
        self._migrated[chat_id] = new_chat_id

    def close_topic(self, chat_id: int, thread_id: int) -> None:
        """Close a forum topic as an admin does: sends to it answer 400 "TOPIC_CLOSED" until reopened."""
        self._closed[chat_id].add(thread_id)

    def closed_topics(self, chat_id: int) -> set[int]:
        """Return the ids of the closed forum topics of ``chat_id``."""
        return set(self._closed[chat_id])

    def topics(self, chat_id: int) -> set[int]:
        """Return the ids of the forum topics that exist in ``chat_id``."""
        return set(self._topics[chat_id])

    def edit_message(self, chat_id: int, message_id: int, **content: str) -> None:
        """Change what a message says on "Telegram" (``text=…`` or ``caption=…``) without telling the bot."""
        self._contents[(chat_id, message_id)] = dict(content)

    def shown(self, chat_id: int) -> list[str]:
        """Return the words of each message the bot put in ``chat_id``, as its recipient sees them now."""
        return [
            (lambda c: c.get("text", c.get("caption", "")))(self._contents.get((chat_id, m), {}))
            for m in self._delivered[chat_id]
        ]

    # update builders -------------------------------------------------------------------------
    def next_message_id(self, chat_id: int) -> int:
        """Return the next message id in ``chat_id`` (shared by builders and sent messages)."""
        return next(self._message_ids[chat_id])

    @staticmethod
    def user(user_id: int, first_name: str = "张三", username: str | None = "zhangsan") -> dict[str, Any]:
        """Return a Telegram User dict."""
        user = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "zh-hans"}
        if username:
            user["username"] = username
        return user

    def _private_message(
        self, user_id: int, at: datetime | None, first_name: str, username: str | None, **content: Any
    ) -> dict[str, Any]:
        user = self.user(user_id, first_name, username)
        chat = {"id": user_id, "type": "private", "first_name": first_name}
        if username:
            chat["username"] = username
        return {
            "message_id": content.pop("message_id", None) or self.next_message_id(user_id),
            "date": int(at.timestamp() if at else time.time()),
            "chat": chat,
            "from": user,
            **content,
        }

    def text_update(
        self,
        text: str,
        *,
        user_id: int = 42,
        at: datetime | None = None,
        first_name: str = "张三",
        username: str | None = "zhangsan",
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Return an update with a private text message (``/start`` gets its bot_command entity)."""
        message = self._private_message(user_id, at, first_name, username, text=text)
        if entities:
            message["entities"] = entities
        if text.startswith("/"):
            length = len(text.split()[0].encode("utf-16-le")) // 2
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return {"update_id": next(self._update_ids), "message": message}

    def sticker_update(
        self,
        *,
        user_id: int = 42,
        at: datetime | None = None,
        first_name: str = "张三",
        username: str | None = None,
    ) -> dict[str, Any]:
        """Return an update with a private sticker message (no text)."""
        sticker = {
            "file_id": f"sticker-{user_id}",
            "file_unique_id": f"s{user_id}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "😀",
        }
        message = self._private_message(user_id, at, first_name, username, sticker=sticker)
        return {"update_id": next(self._update_ids), "message": message}

    def photo_update(
        self,
        caption: str | None = None,
        *,
        user_id: int = 42,
        at: datetime | None = None,
        first_name: str = "张三",
        username: str | None = None,
    ) -> dict[str, Any]:
        """Return an update with a private photo message, with or without a caption."""
        photo = [{"file_id": f"photo-{user_id}", "file_unique_id": f"p{user_id}", "width": 90, "height": 90}]
        content: dict[str, Any] = {"photo": photo}
        if caption is not None:
            content["caption"] = caption
        message = self._private_message(user_id, at, first_name, username, **content)
        return {"update_id": next(self._update_ids), "message": message}

    def album_updates(
        self,
        count: int,
        caption: str | None = None,
        *,
        media_group_id: str = "13579",
        user_id: int = 42,
        at: datetime | None = None,
        first_name: str = "张三",
        username: str | None = None,
    ) -> list[dict[str, Any]]:
        """Return ``count`` photo updates of one album (one ``media_group_id``); the first has the caption."""
        updates = []
        for index in range(count):
            update = self.photo_update(
                caption if index == 0 else None,
                user_id=user_id,
                at=at,
                first_name=first_name,
                username=username,
            )
            update["message"]["media_group_id"] = media_group_id
            updates.append(update)
        return updates

    def location_update(
        self, *, live_period: int | None = None, user_id: int = 42, at: datetime | None = None
    ) -> dict[str, Any]:
        """Return an update with a private location message (a live one with ``live_period``)."""
        location: dict[str, Any] = {"latitude": 31.23, "longitude": 121.47}
        if live_period is not None:
            location["live_period"] = live_period
        message = self._private_message(user_id, at, "张三", None, location=location)
        return {"update_id": next(self._update_ids), "message": message}

    def edited_location_update(
        self, message_id: int, latitude: float, *, user_id: int = 42, at: datetime | None = None
    ) -> dict[str, Any]:
        """Return the ``edited_message`` Telegram sends when a live location moves."""
        location = {"latitude": latitude, "longitude": 121.47, "live_period": 900}
        message = self._private_message(user_id, at, "张三", None, location=location, message_id=message_id)
        message["edit_date"] = int(at.timestamp() if at else time.time())
        return {"update_id": next(self._update_ids), "edited_message": message}

    def service_update(
        self, kind: str, *, user_id: int = 42, at: datetime | None = None, chat_id: int | None = None
    ) -> dict[str, Any]:
        """Return a private service message update (``pinned_message``, ``chat_background_set`` …)."""
        values: dict[str, Any] = {
            "pinned_message": {"message_id": 1, "date": 0, "chat": {"id": user_id, "type": "private"}},
            "message_auto_delete_timer_changed": {"message_auto_delete_time": 86400},
            "chat_background_set": {
                "type": {"type": "fill", "fill": {"type": "solid", "color": 0}, "dark_theme_dimming": 0}
            },
        }
        message = self._private_message(user_id, at, "张三", None, **{kind: values[kind]})
        return {"update_id": next(self._update_ids), "message": message}

    def my_chat_member_update(
        self, status: str, *, user_id: int = 42, old_status: str = "member", at: datetime | None = None
    ) -> dict[str, Any]:
        """Return a ``my_chat_member`` update: the customer blocked (``kicked``) or restarted the bot."""
        bot = {"id": BOT_ID, "is_bot": True, "first_name": "客服", "username": BOT_USERNAME}
        member: dict[str, Any] = {"status": status, "user": bot}
        old: dict[str, Any] = {"status": old_status, "user": bot}
        for value in (member, old):
            if value["status"] == "kicked":
                value["until_date"] = 0
        return {
            "update_id": next(self._update_ids),
            "my_chat_member": {
                "chat": {"id": user_id, "type": "private", "first_name": "张三"},
                "from": self.user(user_id),
                "date": int(at.timestamp() if at else time.time()),
                "old_chat_member": old,
                "new_chat_member": member,
            },
        }

    def reaction_update(
        self,
        message_id: int,
        emojis: list[str],
        *,
        user_id: int = 42,
        old: list[str] = (),
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """Return a ``message_reaction`` update: the customer set ``emojis`` on message ``message_id``."""
        return {
            "update_id": next(self._update_ids),
            "message_reaction": {
                "chat": {"id": user_id, "type": "private", "first_name": "张三"},
                "message_id": message_id,
                "user": self.user(user_id),
                "date": int(at.timestamp() if at else time.time()),
                "old_reaction": [{"type": "emoji", "emoji": e} for e in old],
                "new_reaction": [{"type": "emoji", "emoji": e} for e in emojis],
            },
        }

    def topic_closed_update(
        self, chat_id: int, thread_id: int, *, closed: bool = True, user_id: int = 7
    ) -> dict[str, Any]:
        """Return the service message Telegram posts in a topic an admin closed (or reopened)."""
        update = self.group_text_update(chat_id, "", user_id=user_id, thread_id=thread_id)
        message = update["message"]
        del message["text"]
        message["forum_topic_closed" if closed else "forum_topic_reopened"] = {}
        if closed:
            self.close_topic(chat_id, thread_id)
        else:
            self._closed[chat_id].discard(thread_id)
        return update

    def edited_text_update(
        self,
        message_id: int,
        text: str,
        *,
        user_id: int = 42,
        at: datetime | None = None,
        sent_at: datetime | None = None,
        first_name: str = "张三",
        username: str | None = None,
    ) -> dict[str, Any]:
        """Return an ``edited_message`` update: message ``message_id`` now says ``text``."""
        message = self._private_message(
            user_id, sent_at or at, first_name, username, text=text, message_id=message_id
        )
        message["edit_date"] = int(at.timestamp() if at else time.time())
        return {"update_id": next(self._update_ids), "edited_message": message}

    def group_text_update(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int = 7,
        thread_id: int | None = None,
        at: datetime | None = None,
        first_name: str = "客服小王",
    ) -> dict[str, Any]:
        """Return an update with a text message in a (forum) supergroup, optionally inside a topic."""
        message: dict[str, Any] = {
            "message_id": self.next_message_id(chat_id),
            "date": int(at.timestamp() if at else time.time()),
            "chat": {"id": chat_id, "type": "supergroup", "title": "客服组", "is_forum": True},
            "from": self.user(user_id, first_name, None),
            "text": text,
        }
        if thread_id is not None:
            message.update(message_thread_id=thread_id, is_topic_message=True)
        if text.startswith("/"):
            length = len(text.split()[0].encode("utf-16-le")) // 2
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        self.edit_message(chat_id, message["message_id"], text=text)
        return {"update_id": next(self._update_ids), "message": message}

    def group_message_update(
        self,
        chat_id: int,
        content: dict[str, Any],
        *,
        user_id: int = 7,
        thread_id: int | None = None,
        at: datetime | None = None,
        anonymous: bool = False,
        media_group_id: str | None = None,
    ) -> dict[str, Any]:
        """Return an update with any ``content`` (``{"location": …}``, ``{"poll": …}`` …) in a group topic.

        ``anonymous=True``: posted by an admin who "remains anonymous" (from GroupAnonymousBot, sender_chat
        = the group itself).
        """
        update = self.group_text_update(chat_id, "", user_id=user_id, thread_id=thread_id, at=at)
        message = update["message"]
        del message["text"]
        message.update(content)
        if anonymous:
            message["from"] = {
                "id": ANONYMOUS_ADMIN_ID,
                "is_bot": True,
                "first_name": "Group",
                "username": "GroupAnonymousBot",
            }
            message["sender_chat"] = {"id": chat_id, "type": "supergroup", "title": "客服组"}
        if media_group_id is not None:
            message["media_group_id"] = media_group_id
        return update

    def group_photo_update(
        self,
        chat_id: int,
        caption: str | None = None,
        *,
        user_id: int = 7,
        thread_id: int | None = None,
        at: datetime | None = None,
        first_name: str = "客服小王",
    ) -> dict[str, Any]:
        """Return an update with a photo (optionally captioned) in a (forum) supergroup topic."""
        update = self.group_text_update(
            chat_id, "", user_id=user_id, thread_id=thread_id, at=at, first_name=first_name
        )
        message = update["message"]
        del message["text"]
        message["photo"] = [{"file_id": "agent-photo", "file_unique_id": "ap", "width": 90, "height": 90}]
        if caption is not None:
            message["caption"] = caption
        self.edit_message(chat_id, message["message_id"], caption=caption or "")
        return update

    def edited_group_text_update(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        *,
        user_id: int = 7,
        thread_id: int | None = None,
        at: datetime | None = None,
        first_name: str = "客服小王",
    ) -> dict[str, Any]:
        """Return an ``edited_message`` update: group message ``message_id`` now says ``text`` (on "Telegram"
        too, from now on, whether or not the bot is fed the update)."""
        self.edit_message(chat_id, message_id, text=text)
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(at.timestamp() if at else time.time()),
            "edit_date": int(at.timestamp() if at else time.time()),
            "chat": {"id": chat_id, "type": "supergroup", "title": "客服组", "is_forum": True},
            "from": self.user(user_id, first_name, None),
            "text": text,
        }
        if thread_id is not None:
            message.update(message_thread_id=thread_id, is_topic_message=True)
        return {"update_id": next(self._update_ids), "edited_message": message}

    def callback_update(
        self,
        chat_id: int,
        message_id: int,
        data: str,
        *,
        user_id: int = 7,
        thread_id: int | None = None,
        first_name: str = "客服小王",
        reply_to: int | None = None,
        reply_markup: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Return a ``callback_query`` update: ``user_id`` pressed a button with ``data`` under a message.

        ``reply_to``: the message the one with the button replies to (Telegram includes it).
        ``reply_markup``: the message's buttons (Telegram includes them).
        """
        chat = {"id": chat_id, "type": "supergroup", "title": "客服组", "is_forum": True}
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "客服", "username": BOT_USERNAME},
            "text": "⛔",
        }
        if thread_id is not None:
            message.update(message_thread_id=thread_id, is_topic_message=True)
        if reply_markup is not None:
            message["reply_markup"] = reply_markup
        if reply_to is not None:
            message["reply_to_message"] = {
                "message_id": reply_to,
                "date": int(time.time()),
                "chat": chat,
                "from": self.user(user_id, first_name, None),
                "text": "…",
            }
        query = {
            "id": str(next(self._update_ids)),
            "from": self.user(user_id, first_name, None),
            "chat_instance": str(chat_id),
            "message": message,
            "data": data,
        }
        return {"update_id": next(self._update_ids), "callback_query": query}

    # the server ------------------------------------------------------------------------------
    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            body = await request.json()
            return dict(body) if isinstance(body, dict) else {}
        form = await request.post()
        params = {k: _decode(k, v) for k, v in form.items() if isinstance(v, str)}
        params.update({k: f"<file {v.filename}>" for k, v in form.items() if not isinstance(v, str)})
        params.update({k: _decode(k, v) for k, v in request.query.items() if k not in params})
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        token = request.match_info["token"]
        error = self._error_for(method, params)
        if error is None and self.limits is not None:
            retry_after = self.limits.check(method, params.get("chat_id"), time.monotonic())
            if retry_after is not None:
                error = _error(429, _DEFAULT_ERRORS[429].format(retry_after=retry_after), retry_after)
                if self.latency:  # Telegram's refusal takes the round trip too
                    await asyncio.sleep(self.latency)
        self._calls.append(Call(method, params, token, error.status if error is not None else 200))
        if error is not None:
            return error
        if self.latency and method != "getUpdates":
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            chat = params.get("chat_id")
            self._in_flight_by_chat[chat] += 1
            self.max_in_flight_per_chat = max(self.max_in_flight_per_chat, self._in_flight_by_chat[chat])
            try:
                await asyncio.sleep(self.latency)
            finally:
                self.in_flight -= 1
                self._in_flight_by_chat[chat] -= 1
        handler = getattr(self, "_m_" + method.lower(), None)
        if handler is None:
            self._calls[-1] = Call(method, params, token, 404)
            return _error(404, "Not Found")
        result = handler(params)
        if asyncio.iscoroutine(result):
            result = await result
        if isinstance(result, web.Response):
            return result
        return web.json_response({"ok": True, "result": result})

    def _error_for(self, method: str, params: dict[str, Any]) -> web.Response | None:
        chat_id = params.get("chat_id")
        for failure in self._failures.get(method, []):
            if failure.times > 0 and (failure.chat_id is None or failure.chat_id == chat_id):
                failure.times -= 1
                return _error(failure.status, failure.description, failure.retry_after)
        if method != "getUpdates" and isinstance(chat_id, int) and chat_id in self._blocked:
            return _error(403, _DEFAULT_ERRORS[403])
        if isinstance(chat_id, int) and chat_id in self._migrated:
            return _error(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                parameters={"migrate_to_chat_id": self._migrated[chat_id]},
            )
        if isinstance(chat_id, int) and chat_id in self._not_forum:
            if method in ("createForumTopic", "editForumTopic", "reopenForumTopic", "closeForumTopic"):
                return _error(400, "Bad Request: the chat is not a forum")
            params.pop("message_thread_id", None)  # Telegram drops it silently: the message lands in the chat
            return None
        thread = params.get("message_thread_id")
        if (
            thread is not None
            and isinstance(chat_id, int)
            and chat_id < 0
            and thread not in self._topics[chat_id]
        ):
            return _error(400, "Bad Request: message thread not found")
        if thread is not None and thread in self._closed[chat_id] and method != "reopenForumTopic":
            return _error(400, "Bad Request: TOPIC_CLOSED")
        return None

    def _message(self, params: dict[str, Any], *, edits: int | None = None, **content: Any) -> dict[str, Any]:
        """Return a Message dict for a send (a new id), or for an edit of message ``edits``."""
        chat_id = params["chat_id"]
        words = {k: v for k, v in content.items() if k in ("text", "caption") and isinstance(v, str)}
        chat = {"id": chat_id, "type": "private" if int(chat_id) > 0 else "supergroup"}
        message: dict[str, Any] = {
            "message_id": edits if edits is not None else self.next_message_id(chat_id),
            "date": int(time.time()),
            "chat": chat,
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "客服", "username": BOT_USERNAME},
            **content,
        }
        if params.get("message_thread_id") is not None:
            message.update(message_thread_id=params["message_thread_id"], is_topic_message=True)
        if edits is None:
            self._record(chat_id, message["message_id"], words)
        elif words and isinstance(chat_id, int):
            self._contents[(chat_id, edits)] = words
        return message

    def _record(self, chat_id: Any, message_id: int, words: dict[str, str]) -> None:
        """Note a message the bot put in ``chat_id`` and what it says."""
        if isinstance(chat_id, int):
            self._contents[(chat_id, message_id)] = words
            self._delivered[chat_id].append(message_id)

    def _m_getme(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "客服",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": True,
            "supports_inline_queries": False,
        }

    async def _m_getupdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        if not self._updates and timeout > 0:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), timeout)
            except TimeoutError:
                pass
        return self._updates[:limit]

    def _m_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        extra = {"reply_markup": params["reply_markup"]} if params.get("reply_markup") else {}
        return self._message(params, text=str(params.get("text", "")), **extra)

    def _m_copymessage(self, params: dict[str, Any]) -> dict[str, Any]:
        message_id = self.next_message_id(params["chat_id"])
        source = params.get("from_chat_id"), params.get("message_id")
        words = dict(self._contents.get(source, {})) if isinstance(source[0], int) else {}
        if "caption" in params:  # a caption passed with the copy replaces the source's
            words = {"caption": str(params["caption"])}
        self._record(params["chat_id"], message_id, words)
        return {"message_id": message_id}

    def _m_copymessages(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"message_id": self.next_message_id(params["chat_id"])} for _ in params["message_ids"]]

    def _m_sendmediagroup(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        media = params["media"]
        items = json.loads(media) if isinstance(media, str) else media
        sent = []
        for item in items:
            message_id = self.next_message_id(params["chat_id"])
            self._record(params["chat_id"], message_id, {"caption": str(item.get("caption", ""))})
            sent.append({"message_id": message_id})
        return sent

    def _m_forwardmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._message(params, text="(forwarded)")

    def _m_sendphoto(self, params: dict[str, Any]) -> dict[str, Any]:
        photo = [{"file_id": "photo", "file_unique_id": "p", "width": 90, "height": 90}]
        return self._message(params, photo=photo, caption=str(params.get("caption", "")))

    def _m_senddocument(self, params: dict[str, Any]) -> dict[str, Any]:
        document = {"file_id": str(params.get("document")), "file_unique_id": "d"}
        return self._message(params, document=document, caption=str(params.get("caption", "")))

    def _m_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        if "inline_message_id" in params:
            return True
        text = str(params.get("text", ""))
        return self._message(params, edits=params["message_id"], text=text, edit_date=int(time.time()))

    def _m_editmessagecaption(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        if "inline_message_id" in params:
            return True
        caption = str(params.get("caption", ""))
        return self._message(params, edits=params["message_id"], caption=caption, edit_date=int(time.time()))

    def _m_editmessagereplymarkup(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        if "inline_message_id" in params:
            return True
        message = self._message(params, edits=params["message_id"], edit_date=int(time.time()))
        message.setdefault("text", "")
        return message

    def _m_createforumtopic(self, params: dict[str, Any]) -> dict[str, Any]:
        thread_id = next(self._thread_ids)
        self._topics[params["chat_id"]].add(thread_id)
        return {"message_thread_id": thread_id, "name": params.get("name", ""), "icon_color": 7322096}

    def _m_getchat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = params["chat_id"]
        chat = {
            "id": chat_id,
            "type": "private" if int(chat_id) > 0 else "supergroup",
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }
        if int(chat_id) < 0:
            chat.update(title="客服组", is_forum=chat_id not in self._not_forum)
        return chat

    def _true(self, params: dict[str, Any]) -> bool:
        return True

    _m_sendchataction = _true
    _m_answercallbackquery = _true
    _m_pinchatmessage = _true
    _m_unpinchatmessage = _true
    _m_deletemessage = _true

    def _m_setwebhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = params["url"]
        return True

    def _m_deletewebhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = ""
        return True

    def _m_getwebhookinfo(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"url": self.webhook_url, "has_custom_certificate": False, "pending_update_count": 0}

    _m_editforumtopic = _true
    _m_closeforumtopic = _true

    def _m_reopenforumtopic(self, params: dict[str, Any]) -> bool:
        self._closed[params["chat_id"]].discard(params.get("message_thread_id"))
        return True

    _m_setmycommands = _true
    _m_deletemycommands = _true
    _m_close = _true
    _m_logout = _true


def _error(
    status: int, description: str, retry_after: int | None = None, parameters: dict[str, Any] | None = None
) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    if parameters:
        body["parameters"] = {**body.get("parameters", {}), **parameters}
    return web.json_response(body, status=status)
