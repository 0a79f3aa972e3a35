"""Chat events that are not messages: a customer blocking the bot, a reaction, a topic an admin closed.

- ``my_chat_member`` in a private chat: the customer blocked (``kicked``) or restarted the bot; the
  customer is marked at once (not at the next failed send) and the topic is told.
- ``message_reaction`` in a private chat: one line in the customer's topic naming the reactions and the
  message they are on (a queued run of such lines is merged like any text relay).
- ``forum_topic_closed`` / ``forum_topic_reopened`` in the staff chat: remembered, so the topic is reopened
  when its customer writes again (:func:`bot.telegram.relay.reopen_closed_topic`).
- An admin posting anonymously in a customer's topic while ``KEFU_AGENT_IDS`` is set: nobody can tell who
  wrote, so it is not sent, and the topic says so (with the list empty the agents router takes it).
- :func:`build_last_router`, tried after every other router: a button press nobody handled (someone who
  is not an agent, an unknown button) still gets ``answerCallbackQuery``, so its spinner stops.

These handlers are registered, so ``Dispatcher.resolve_used_update_types`` asks Telegram for these updates
(``allowed_updates`` of ``getUpdates`` and ``setWebhook``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import F, Router
from aiogram.filters import Filter
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message, MessageReactionUpdated

from bot.desk import events, texts
from bot.desk.agents import AgentDesk, AgentRef
from bot.desk.customers import SupportDesk
from bot.ops.settings import Settings
from bot.store.sqlite import Storage
from bot.telegram import relay
from bot.telegram.callbacks import answer_query
from bot.telegram.filters import Inline
from bot.telegram.kinds import SERVICE_KINDS
from bot.telegram.routers.agents import IsAgent, is_anonymous_admin

__all__ = ["build_last_router", "build_router"]



async def member_changed(event: ChatMemberUpdated, db: Storage, settings: Settings) -> None:
    """The customer blocked or restarted the bot: mark it now and tell the topic once."""
    blocked = event.new_chat_member.status == "kicked"
    await db.run(events.customer_blocked, db, settings, event.chat.id, blocked, event.date)


def _emoji(reaction) -> str:
    return getattr(reaction, "emoji", None) or ("⭐" if reaction.type == "paid" else texts.CUSTOM_EMOJI)


async def reacted(event: MessageReactionUpdated, db: Storage, settings: Settings) -> None:
    """A customer reacted to a message in the private chat: one line in the topic (none when banned)."""
    emojis = [_emoji(r) for r in event.new_reaction]
    await db.run(events.customer_reacted, db, settings, event.chat.id, event.message_id, emojis, event.date)


async def topic_closed(message: Message, db: Storage, settings: Settings) -> None:
    """An admin closed or reopened a customer's topic: remember it."""

    def work() -> None:
        if message.chat.id not in settings.staff_chat_ids:
            return
        thread = message.message_thread_id
        customer = db.customer_by_topic(thread, message.chat.id) if thread else None
        if customer is not None:
            relay.mark_topic_closed(db, customer.id, message.forum_topic_closed is not None)

    await db.run(work)  # on the storage thread: the event loop never waits on SQLite


class AnonymousWhileListed(Filter):
    """True for an anonymous admin's message in the staff chat while ``KEFU_AGENT_IDS`` is set."""

    async def __call__(self, message: Message, settings: Settings) -> bool:
        return (
            bool(settings.agent_ids)
            and message.chat.id in settings.staff_chat_ids
            and is_anonymous_admin(message, message.chat.id)
        )


async def anonymous_refused(message: Message, desk: SupportDesk, db: Storage) -> None:
    """An anonymous admin wrote in a customer's topic: not sent (who wrote is unknown); the topic is told."""

    def work() -> None:
        thread = message.message_thread_id
        customer = db.customer_by_topic(thread, message.chat.id) if message.is_topic_message else None
        if customer is None:
            return
        agents = AgentDesk(desk, message.chat.id)
        when = (
            message.date if isinstance(message.date, datetime) else datetime.fromtimestamp(message.date, UTC)
        )
        ref = AgentRef(message.from_user.id if message.from_user else 0, message.author_signature)
        if agents.first_time(ref, customer.id, message.message_id, message.text or "", when):
            reply_to = message.message_id
            agents.feedback(texts.NOTICE_ANONYMOUS, when, customer_id=customer.id, reply_to=reply_to)

    await db.run(work)  # on the storage thread: the event loop never waits on SQLite


async def unhandled_button(query: CallbackQuery, settings: Settings) -> None:
    """A button press no other handler took: answer it, so the spinner stops."""
    await answer_query(query, None if await IsAgent()(query, settings) else texts.TEXT_NOT_AN_AGENT)


def build_last_router() -> Router:
    """Return a new router tried after all others: it answers every button press left unanswered."""
    router = Router(name=__name__ + ".last")
    router.callback_query()(unhandled_button)
    return router


def build_router() -> Router:
    """Return a new router for chat-member, reaction and topic open/close events."""
    router = Router(name=__name__)
    router.my_chat_member(Inline(F.chat.type == "private"))(member_changed)
    router.message_reaction(Inline(F.chat.type == "private"))(reacted)
    router.message(Inline(F.forum_topic_closed | F.forum_topic_reopened))(topic_closed)
    router.message(AnonymousWhileListed(), Inline(~F.content_type.in_(SERVICE_KINDS)))(anonymous_refused)
    router.edited_message(AnonymousWhileListed())(anonymous_refused)
    return router
