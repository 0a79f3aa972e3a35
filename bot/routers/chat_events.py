"""Chat events that are not messages: a customer blocking the bot, a reaction, a topic an admin closed.

- ``my_chat_member`` in a private chat: the customer blocked (``kicked``) or restarted the bot; the
  customer is marked at once (not at the next failed send) and the topic is told.
- ``message_reaction`` in a private chat: one line in the customer's topic naming the reactions and the
  message they are on (a queued run of such lines is merged like any text relay).
- ``forum_topic_closed`` / ``forum_topic_reopened`` in the staff chat: remembered, so the topic is reopened
  when its customer writes again (:func:`bot.relay.reopen_closed_topic`).

These handlers are registered, so ``Dispatcher.resolve_used_update_types`` asks Telegram for these updates
(``allowed_updates`` of ``getUpdates`` and ``setWebhook``).
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import ChatMemberUpdated, Message, MessageReactionUpdated

from bot import relay
from bot.delivery import NOTICE_BLOCKED, Sender
from bot.filters import Inline
from bot.settings import Settings
from bot.storage import Storage

__all__ = ["NOTICE_UNBLOCKED", "build_router", "reaction_line"]

NOTICE_UNBLOCKED = "客户已重新启用机器人"
SNIPPET = 20


def _notice(db: Storage, staff: int, customer_id: int, text: str, at) -> None:
    method, params = relay.notice_call(staff_chat_id=staff, customer_id=customer_id, text=text)
    db.enqueue(staff, method, params, at, customer_id=customer_id)


async def member_changed(event: ChatMemberUpdated, db: Storage, settings: Settings, sender: Sender) -> None:
    """The customer blocked or restarted the bot: mark it now and tell the topic once."""
    customer = db.customer(event.chat.id)
    if customer is None:
        return
    blocked = event.new_chat_member.status == "kicked"
    if bool(customer.blocked) == blocked:
        return
    with db.transaction():
        db.update_customer(customer.id, blocked=int(blocked))
        if settings.staff_chat_id is not None:
            text = NOTICE_BLOCKED if blocked else NOTICE_UNBLOCKED
            _notice(db, settings.staff_chat_id, customer.id, text, event.date)
    sender.notify()


def reaction_line(emojis: list[str], text: str | None) -> str:
    """Return the one topic line for a customer's reaction on a message whose text is ``text``.

    >>> reaction_line(["👍", "❤"], "好的")
    '客户对「好的」回应了 👍❤'
    """
    body = " ".join((text or "").split())
    target = f"「{body[:SNIPPET]}{'…' if len(body) > SNIPPET else ''}」" if body else "一条消息"
    return f"客户对{target}回应了 {''.join(emojis)}" if emojis else f"客户撤回了对{target}的回应"


def _emoji(reaction) -> str:
    return getattr(reaction, "emoji", None) or ("⭐" if reaction.type == "paid" else "[自定义表情]")


async def reacted(event: MessageReactionUpdated, db: Storage, settings: Settings, sender: Sender) -> None:
    """A customer reacted to a message in the private chat: one line in the topic."""
    customer = db.customer(event.chat.id)
    if customer is None or settings.staff_chat_id is None:
        return
    rows = db.rows(
        "SELECT text FROM messages WHERE chat_id = ? AND telegram_message_id = ? ORDER BY id DESC LIMIT 1",
        [event.chat.id, event.message_id],
    )
    line = reaction_line([_emoji(r) for r in event.new_reaction], rows[0]["text"] if rows else None)
    params = {"chat_id": settings.staff_chat_id, relay.TOPIC_KEY: customer.id, "text": line}
    db.enqueue(settings.staff_chat_id, "sendMessage", params, event.date, customer_id=customer.id)
    sender.notify()


async def topic_closed(message: Message, db: Storage, settings: Settings) -> None:
    """An admin closed or reopened a customer's topic: remember it."""
    if message.chat.id != settings.staff_chat_id:
        return
    customer = db.customer_by_topic(message.message_thread_id) if message.message_thread_id else None
    if customer is not None:
        relay.mark_topic_closed(db, customer.id, message.forum_topic_closed is not None)


def build_router() -> Router:
    """Return a new router for chat-member, reaction and topic open/close events."""
    router = Router(name=__name__)
    router.my_chat_member(Inline(F.chat.type == "private"))(member_changed)
    router.message_reaction(Inline(F.chat.type == "private"))(reacted)
    router.message(Inline(F.forum_topic_closed | F.forum_topic_reopened))(topic_closed)
    return router
