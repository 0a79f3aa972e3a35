"""The one chokepoint: an aiogram client-session middleware that checks everything addressed to a customer.

Every outgoing Bot API call passes through ``bot.session.middleware`` (aiogram's request middlewares).
:class:`OutboundGuard` looks at each call whose ``chat_id`` is not the staff chat, collects the words a
customer would read (``text``, ``caption``, a poll's ``question``, the captions of a media group) and
runs the guard on them. A copy or forward without a caption of its own carries whatever its source
says when it is sent, so it passes only when the source is a stored agent message that has no words
and cannot be edited (a sticker, a video note); a copy of a text, of media without an explicit
caption, or of an unknown source is refused, as is everything when the guard itself fails (fail
closed). Only a confident ``block`` verdict is refused here: a ``review``-level text (likely
rude) is held by the desk, where an agent may send it anyway, audited. A refusal raises
:class:`OutboundBlocked` before anything reaches Telegram; the sender marks the delivery failed and
tells the customer's topic.

Example::

    guard = install(bot, storage, settings)     # once, after the Bot is built
    await bot.send_message(42, "你问我，我问谁？")   # raises OutboundBlocked
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Collection
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import CopyMessage, CopyMessages, ForwardMessage, ForwardMessages, TelegramMethod
from aiogram.methods.base import Response, TelegramType

from bot.desk import texts
from bot.desk.cores import Cores
from bot.desk.verdicts import guard_event
from bot.ops.clock import utc_now
from bot.telegram.relay import CAPTION_KINDS
from guards import Verdict

__all__ = ["CACHE_SIZE", "OutboundBlocked", "OutboundGuard", "install", "outgoing_texts"]

log = logging.getLogger(__name__)

CACHE_SIZE = 1024  # verdicts kept by text: the desk and the gate often check the same words
TEXT_FIELDS = ("text", "caption", "question", "explanation")

SourceText = Callable[[Any, int], str | None]
Checker = Callable[[str], Verdict]


class OutboundBlocked(Exception):
    """A call to a customer was refused: it carries a banned phrasing, unknown content, or the guard failed.

    ``reason`` is a short Chinese explanation for the staff topic (the categories hit, or why it was
    refused); ``verdict`` is the guard's verdict when there was one.
    """

    def __init__(
        self, method: str, chat_id: Any, reason: str, verdict: Verdict | None = None, text: str | None = None
    ) -> None:
        super().__init__(reason)
        self.method = method
        self.chat_id = chat_id
        self.reason = reason
        self.verdict = verdict
        self.text = text


def outgoing_texts(method: TelegramMethod[Any]) -> list[str]:
    """Return the words a recipient of ``method`` would read that the call itself carries (may be empty)."""
    texts = [v for name in TEXT_FIELDS if isinstance(v := getattr(method, name, None), str) and v]
    for item in getattr(method, "media", None) or ():
        caption = getattr(item, "caption", None)
        if isinstance(caption, str) and caption:
            texts.append(caption)
    return texts


class OutboundGuard(BaseRequestMiddleware):
    """Refuse any call to a non-staff chat whose words the guard blocks (see the module docstring)."""

    def __init__(
        self,
        staff_chat_id: int | Collection[int] | None,
        *,
        source_text: SourceText | None = None,
        checker: Checker | None = None,
        on_block: Callable[[OutboundBlocked], None] | None = None,
    ) -> None:
        # The staff group(s): calls there are for agents, not customers.
        if staff_chat_id is None:
            self.staff_chats: frozenset[int] = frozenset()
        elif isinstance(staff_chat_id, int):
            self.staff_chats = frozenset({staff_chat_id})
        else:
            self.staff_chats = frozenset(staff_chat_id)
        self.source_text = source_text
        # The guard's verdict on a text: by default the installed cores' (the verdicts the desk remembered).
        self.checker = checker or _installed_check
        self.on_block = on_block
        self._cache: OrderedDict[str, Verdict] = OrderedDict()
        self.checked = 0
        self.refused = 0

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        """Return the response to ``method``; raise :class:`OutboundBlocked` if a customer must not get it."""
        chat_id = getattr(method, "chat_id", None)
        if chat_id is not None and chat_id not in self.staff_chats:
            self.inspect(method)
        return await make_request(bot, method)

    def inspect(self, method: TelegramMethod[Any]) -> None:
        """Raise :class:`OutboundBlocked` when ``method`` must not reach its (customer) chat; return None."""
        name = type(method).__name__
        chat_id = getattr(method, "chat_id", None)
        words = outgoing_texts(method)
        if isinstance(method, CopyMessage | ForwardMessage) and getattr(method, "caption", None) is None:
            words.append(self._source(name, chat_id, method.from_chat_id, method.message_id))
        elif isinstance(method, CopyMessages | ForwardMessages):
            words.extend(self._source(name, chat_id, method.from_chat_id, m) for m in method.message_ids)
        for text in words:
            self.checked += 1
            try:
                verdict = self._verdict(text)
            except Exception as exc:
                log.exception("outbound guard failed on %s to chat %s; refused", name, chat_id)
                reason = f"{texts.REASON_GUARD_FAILED}: {type(exc).__name__}"
                self._refuse(OutboundBlocked(name, chat_id, reason, text=text))
            if verdict.level == "block":  # review-level words are the desk's call (仍然发送, audited)
                reason = texts.categories_text(verdict)
                self._refuse(OutboundBlocked(name, chat_id, reason, verdict, text))

    def _source(self, name: str, chat_id: Any, from_chat_id: Any, message_id: int) -> str:
        text = self.source_text(from_chat_id, message_id) if self.source_text else None
        if text is None:
            self._refuse(OutboundBlocked(name, chat_id, texts.REASON_UNKNOWN_SOURCE))
        return text

    def _verdict(self, text: str) -> Verdict:
        verdict = self._cache.get(text)
        if verdict is None:
            verdict = self.checker(text)
            self._cache[text] = verdict
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(text)
        return verdict

    def _refuse(self, blocked: OutboundBlocked) -> None:
        self.refused += 1
        if self.on_block is not None:
            try:
                self.on_block(blocked)
            except Exception:
                log.exception("recording a refused call failed")
        raise blocked


def _installed_check(text: str) -> Verdict:
    """Return the verdict of the cores in use now (:meth:`Cores.installed`) on ``text``."""
    return Cores.installed().check(text)


def install(bot: Bot, storage: Any, settings: Any, *, cores: Cores | None = None) -> OutboundGuard:
    """Register the outbound guard on ``bot``'s session (copies resolved from ``storage``); return it.

    It checks with ``cores`` (the desk's, so a text the desk checked is remembered), by default the
    installed ones.

    Refusals are stored in ``guard_events`` with ``source='gate'``.
    """
    staff = settings.staff_chat_ids

    def source_text(from_chat_id: Any, message_id: int) -> str | None:
        if from_chat_id not in staff:
            return None
        row = storage.staff_message(from_chat_id, message_id)
        if row is None or row.content_kind == "text" or row.content_kind in CAPTION_KINDS:
            # Its words may have been edited since they were checked: only words sent with the call go.
            return None
        return row.text

    def record(blocked: OutboundBlocked) -> None:
        storage.submit(store, blocked)  # on the storage thread; the refusal itself never waits for it

    def store(blocked: OutboundBlocked) -> None:
        customer = storage.customer(blocked.chat_id) if isinstance(blocked.chat_id, int) else None
        text = blocked.text if blocked.text is not None else f"{blocked.method}: {blocked.reason}"
        customer_id = customer.id if customer else None
        event = guard_event("gate", text, blocked.verdict, utc_now(), customer_id=customer_id)
        storage.add_guard_event(**event)

    checker = cores.check if cores is not None else None
    guard = OutboundGuard(staff, source_text=source_text, checker=checker, on_block=record)
    bot.session.middleware(guard)
    return guard
