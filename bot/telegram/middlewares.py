"""Dispatcher middlewares: what every handler would otherwise repeat.

:class:`WakeSender` wakes the sender once an update was handled, so whatever the handler's desk work
queued in the outbox leaves at once (the sender also polls the outbox, so a missed wake only delays).
:class:`InTopic` gives each agent handler its :class:`Topic`: the agent desk for the staff group, the
customer whose topic it is (resolved once), who wrote and when.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.desk import texts
from bot.desk.agents import AgentDesk, AgentRef
from bot.desk.customers import SupportDesk
from bot.store.sqlite import Storage

__all__ = ["InTopic", "Topic", "WakeSender", "agent_of", "time_of"]


class WakeSender(BaseMiddleware):
    """Outer update middleware: after the handlers ran (or failed), call ``sender.notify()``."""

    def __init__(self, sender: Any) -> None:
        self.sender = sender

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        try:
            return await handler(event, data)
        finally:
            self.sender.notify()


def agent_of(event: Message | CallbackQuery) -> AgentRef:
    """Return who acted: the user's id and name (an anonymous admin's custom title when there is one)."""
    user = event.from_user
    signature = getattr(event, "author_signature", None)
    return AgentRef(user.id, signature or user.full_name)


def time_of(message: Message) -> datetime:
    """Return when a message was written, or last edited (aware UTC)."""
    when = message.edit_date or message.date
    return datetime.fromtimestamp(when, UTC) if isinstance(when, int) else when


class Topic:
    """An agent's message where it was written: the agent side of the desk for that staff group, the
    customer whose topic it is, who wrote and when. Built by :class:`InTopic` without I/O; the customer
    is looked up once, on first use, on the storage thread (inside the handler's unit of work)."""

    def __init__(self, message: Message, desk: SupportDesk, storage: Storage) -> None:
        self.message = message
        self.agents = AgentDesk(desk, message.chat.id)
        self.agent = agent_of(message)
        self.at = time_of(message)
        self._storage = storage

    @functools.cached_property
    def customer_id(self) -> int | None:
        """The id of the customer whose forum topic this is; None outside a customer's topic."""
        message = self.message
        if not message.is_topic_message or message.message_thread_id is None:
            return None
        customer = self._storage.customer_by_topic(message.message_thread_id, message.chat.id)
        return customer.id if customer else None

    def reply(self, text: str) -> None:
        """Queue the bot's answer where the agent wrote (the customer's topic, or the thread/General)."""
        customer_id = self.customer_id
        self.agents.feedback(
            text,
            self.at,
            customer_id=customer_id,
            thread_id=None if customer_id is not None else self.message.message_thread_id,
            reply_to=self.message.message_id,
        )

    def for_customer(self, act: Callable[[int], str]) -> None:
        """Reply with what ``act(customer_id)`` returns, or say the command needs a customer's topic."""
        customer_id = self.customer_id
        self.reply(texts.NEEDS_TOPIC if customer_id is None else act(customer_id))

    def first_time(self, text: str | None = None) -> bool:
        """Return whether this message is new, noting it (a replayed update must not act twice)."""
        words = (self.message.text or "") if text is None else text
        return self.agents.first_time(self.agent, self.customer_id, self.message.message_id, words, self.at)


class InTopic(BaseMiddleware):
    """Inner middleware of the agents' messages: inject ``topic`` (:class:`Topic`) into the handler."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if isinstance(event, Message):
            data["topic"] = Topic(event, data["desk"], data["db"])
        return await handler(event, data)
