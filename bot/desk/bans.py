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

from bot.store.sqlite import Customer, Storage, from_iso

__all__ = ["ban", "bans_text", "unban"]

TEXT_NO_BANS = "目前没有被封禁的客户。"


def _who(customer: Customer) -> str:
    name = customer.name or "客户"
    handle = f" @{customer.username}" if customer.username else ""
    return f"{name}{handle}（ID {customer.id}）"


def _local(value: str | None, zone: ZoneInfo) -> str:
    when = from_iso(value)
    return "—" if when is None else when.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def ban(storage: Storage, customer_id: int, agent_id: int, at: datetime, zone: ZoneInfo) -> str:
    """Ban the customer from ``at``; return the notice saying what was done (or that it already was)."""
    customer = storage.customer(customer_id)
    if customer is None:
        return "找不到这个话题的客户。"
    if not storage.set_banned(customer_id, at, by=agent_id):
        return f"客户 {_who(customer)}自 {_local(customer.banned_at, zone)} 起已被封禁。/unban 可解除。"
    return f"🚫 已封禁客户 {_who(customer)}：此后的消息只保存，不自动回复，也不转到本话题。/unban 可解除。"


def unban(storage: Storage, customer_id: int) -> str:
    """Lift the customer's ban; return the notice saying what was done (or that there was none)."""
    customer = storage.customer(customer_id)
    if customer is None:
        return "找不到这个话题的客户。"
    if not storage.set_banned(customer_id, None):
        return f"客户 {_who(customer)}没有被封禁，无需解除。"
    return f"✅ 已解除对客户 {_who(customer)}的封禁：此后的消息照常自动回复，并转到本话题。"


def bans_text(storage: Storage, zone: ZoneInfo) -> str:
    """Return the banned customers for ``/bans`` (since when, by which agent), or say there is none."""
    banned = storage.banned_customers()
    if not banned:
        return TEXT_NO_BANS
    numbers = {row["id"]: row["number"] for row in storage.rows("SELECT id, number FROM agents")}
    lines = [f"被封禁的客户（{len(banned)} 位）："]
    for customer in banned:
        by = f"，客服 {numbers[customer.banned_by]} 封禁" if customer.banned_by in numbers else ""
        lines.append(f"• {_who(customer)}，{_local(customer.banned_at, zone)} 起{by}")
    return "\n".join(lines)
