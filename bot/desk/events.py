"""What the desk does with a customer's chat events: blocking or restarting the bot, a reaction.

Each function runs on the storage thread (one unit of work), writes what changed and queues the
notice for the customer's topic; the routers only read the event and call it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.desk import texts
from bot.ops.settings import Settings
from bot.store.protocol import Store
from bot.telegram import relay
from bot.telegram.staffgroups import StaffGroups

__all__ = ["SNIPPET", "clear_buttons", "customer_blocked", "customer_reacted", "reaction_line"]

SNIPPET = 20


def customer_blocked(storage: Store, settings: Settings, chat_id: int, blocked: bool, at: datetime) -> None:
    """Mark that the customer blocked (or restarted) the bot and tell the topic once; a repeat of the
    state already stored changes nothing."""
    customer = storage.customer(chat_id)
    if customer is None or bool(customer.blocked) == blocked:
        return
    with storage.transaction():
        storage.update_customer(customer.id, blocked=int(blocked))
        staff = StaffGroups(storage, settings).current(customer)  # the group the customer's topic is in
        if staff is not None:
            text = texts.NOTICE_BLOCKED if blocked else texts.NOTICE_UNBLOCKED
            method, params = relay.notice_call(staff_chat_id=staff, customer_id=customer.id, text=text)
            storage.enqueue(staff, method, params, at, customer_id=customer.id)


def reaction_line(emojis: list[str], text: str | None) -> str:
    """Return the one topic line for a customer's reaction on a message whose text is ``text``.

    >>> reaction_line(["👍", "❤"], "好的")
    '客户对「好的」回应了 👍❤'
    """
    body = " ".join((text or "").split())
    snippet = body[:SNIPPET] + ("…" if len(body) > SNIPPET else "")
    target = texts.REACTION_QUOTED.format(snippet=snippet) if body else texts.REACTION_SOME_MESSAGE
    if emojis:
        return texts.REACTION_ON.format(target=target, emojis="".join(emojis))
    return texts.REACTION_TAKEN_BACK.format(target=target)


def customer_reacted(
    storage: Store, settings: Settings, chat_id: int, message_id: int, emojis: list[str], at: datetime
) -> None:
    """Queue one line in the customer's topic for a reaction on message ``message_id`` of their chat
    (none when the customer is unknown, banned or has no staff group)."""
    customer = storage.customer(chat_id)
    staff = StaffGroups(storage, settings).current(customer) if customer is not None else None
    if customer is None or staff is None or customer.banned_at is not None:
        return
    line = reaction_line(emojis, storage.text_of(chat_id, message_id))
    params = {"chat_id": staff, relay.TOPIC_KEY: customer.id, "text": line}
    storage.enqueue(staff, "sendMessage", params, at, customer_id=customer.id)


def clear_buttons(
    storage: Store,
    chat_id: int,
    message_id: int,
    at: datetime,
    keep: list[list[dict[str, Any]]] | None = None,
) -> None:
    """Queue the removal of a notice's buttons once their action was done (they cannot be pressed again).

    ``keep``: the keyboard rows that stay (a merged relay's other suggestions); none by default.
    """
    params: dict[str, Any] = {"chat_id": chat_id, "message_id": message_id}
    if keep:
        params["reply_markup"] = {"inline_keyboard": keep}
    storage.enqueue(chat_id, "editMessageReplyMarkup", params, at)
