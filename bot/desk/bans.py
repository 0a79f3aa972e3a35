"""Bans: ``/ban`` and ``/unban`` in a customer's topic, ``/bans`` in the General topic.

A banned customer's messages (and edits) are still stored in ``messages``, but the bot neither answers
them nor relays them to the staff topic (:meth:`bot.desk.customers.SupportDesk.on_customer_message`).
The ban is a
column of ``customers`` (``banned_at``, ``banned_by``), so it survives restarts. Each function returns
the notice for the staff chat; nothing is sent to the customer.

Example::

    ban(storage, customer_id=42, agent_id=7, at=at, zone=settings.zone)
    # '🚫 已封禁客户 张三（ID 42）：此后的消息只保存，不自动回复，也不转到本话题。/unban 可解除。'
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.desk import texts
from bot.store.protocol import Store
from bot.store.records import Customer, from_iso

__all__ = ["ban", "bans_text", "unban"]



def _who(customer: Customer) -> str:
    handle = f" @{customer.username}" if customer.username else ""
    return texts.CUSTOMER_WHO.format(name=customer.name or texts.A_CUSTOMER, handle=handle, id=customer.id)


def _local(value: str | None, zone: ZoneInfo) -> str:
    when = from_iso(value)
    return texts.NO_TIME if when is None else when.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def ban(storage: Store, customer_id: int, agent_id: int, at: datetime, zone: ZoneInfo) -> str:
    """Ban the customer from ``at``; return the notice saying what was done (or that it already was)."""
    customer = storage.customer(customer_id)
    if customer is None:
        return texts.NO_CUSTOMER_IN_TOPIC
    if not storage.set_banned(customer_id, at, by=agent_id):
        return texts.ALREADY_BANNED.format(who=_who(customer), since=_local(customer.banned_at, zone))
    return texts.BANNED.format(who=_who(customer))


def unban(storage: Store, customer_id: int) -> str:
    """Lift the customer's ban; return the notice saying what was done (or that there was none)."""
    customer = storage.customer(customer_id)
    if customer is None:
        return texts.NO_CUSTOMER_IN_TOPIC
    if not storage.set_banned(customer_id, None):
        return texts.NOT_BANNED.format(who=_who(customer))
    return texts.UNBANNED.format(who=_who(customer))


def bans_text(storage: Store, zone: ZoneInfo) -> str:
    """Return the banned customers for ``/bans`` (since when, by which agent), or say there is none."""
    banned = storage.banned_customers()
    if not banned:
        return texts.TEXT_NO_BANS
    numbers = storage.agent_numbers()
    lines = [texts.BANS_HEADER.format(count=len(banned))]
    for customer in banned:
        by = (
            texts.BANNED_BY.format(number=numbers[customer.banned_by])
            if customer.banned_by in numbers
            else ""
        )
        lines.append(
            texts.BANS_LINE.format(who=_who(customer), since=_local(customer.banned_at, zone), by=by)
        )
    return "\n".join(lines)
