"""Customers in private chats: every message and every edit goes to the support desk, then to the sender.

Service messages (a pinned message, the auto-delete timer, a chat background …) are nobody's words: no
handler takes them. An edit of a location (a live location moving) is not a new message: the location
was relayed once when it was shared. A customer who writes in a topic an admin closed gets it reopened.

The desk's work runs on the storage thread (:meth:`bot.store.sqlite.Storage.run`), off the event loop; a
new message's work shares a transaction with the others queued meanwhile (``Storage.run_together``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import Router
from aiogram.types import Message

from bot.desk.customers import CustomerRef, SupportDesk
from bot.telegram.filters import Where
from bot.telegram.inbox import done_in_job, first_sight
from bot.telegram.kinds import SERVICE_KINDS, entities_of
from bot.telegram.middlewares import time_of

__all__ = ["build_router", "content_of", "customer_of"]


def customer_of(message: Message) -> CustomerRef:
    """Return who wrote a private message (user id, chat id, full name, @username)."""
    user = message.from_user
    if user is None:
        return CustomerRef(message.chat.id, message.chat.id, message.chat.full_name, message.chat.username)
    return CustomerRef(user.id, message.chat.id, user.full_name, user.username)


def content_of(message: Message) -> tuple[str | None, str]:
    """Return ``(text or caption or None, content kind)``: media are judged by their caption."""
    text = message.text if message.text is not None else message.caption
    kind = message.content_type
    return text, str(getattr(kind, "value", kind))


async def customer_message(
    message: Message, desk: SupportDesk, clock: Callable[[], datetime] | None = None
) -> None:
    """Store and answer one customer message; the relay and replies leave through the outbox.

    ``clock`` (from the dispatcher) says when it is handled, for an update that waited (downtime).
    """
    text, kind = content_of(message)
    customer = customer_of(message)

    entities = entities_of(message)
    now = clock() if clock is not None else None
    done = done_in_job()
    fresh = first_sight()  # arrived just now, first try: the message cannot be stored yet

    def work() -> None:
        """Reopen a closed topic (its own write), then store and answer the message: one storage hop.
        The update is recorded done in the same transaction (no mark of its own afterwards)."""
        desk.reopen_topic(customer.user_id, message.date)  # its own savepoint: kept if deciding fails
        desk.on_customer_message(
            customer,
            text,
            kind,
            at=message.date,
            telegram_message_id=message.message_id,
            entities=entities,
            album=message.media_group_id,
            now=now,
            fresh=fresh,
        )
        done()

    # On the storage thread (the event loop never waits on SQLite), in one transaction with the other
    # customer messages queued meanwhile: each is its own savepoint, the group one commit (issue 15).
    await desk.storage.run_together(work)


async def customer_edit(message: Message, desk: SupportDesk) -> None:
    """Store an edited customer message as a new version and relay the edit to the staff topic."""
    text, kind = content_of(message)
    await desk.storage.run(
        desk.on_customer_edit,
        customer_of(message),
        text,
        kind,
        at=time_of(message),
        telegram_message_id=message.message_id,
        entities=entities_of(message),
    )


def in_private_chat(message: Message) -> bool:
    """Return whether a message is in a private chat (a customer's)."""
    return message.chat.type == "private"


def not_service(message: Message) -> bool:
    """Return whether a message is someone's words or media, not a service message."""
    return message.content_type not in SERVICE_KINDS


def not_location(message: Message) -> bool:
    """Return whether an edited message is not a (live) location moving."""
    return not message.location


def build_router() -> Router:
    """Return a new customers router (one per Dispatcher: a router has one parent), private chats only.

    Its filters are plain functions (:class:`bot.telegram.filters.Where`): every customer message passes
    them, and they are what ``F.chat.type == "private"``, ``~F.content_type.in_(SERVICE_KINDS)`` and
    ``~F.location`` say.
    """
    router = Router(name=__name__)
    router.message.filter(Where(in_private_chat))
    router.edited_message.filter(Where(in_private_chat))
    router.message(Where(not_service))(customer_message)
    router.edited_message(Where(not_location))(customer_edit)
    return router
