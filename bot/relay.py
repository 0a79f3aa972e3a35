"""Customer → staff topic relay: which Bot API calls carry one customer message into its forum topic.

Each customer gets one forum topic in the staff supergroup. The calls are queued in the outbox with
``"_topic_of": customer_id`` instead of a thread id; the sender resolves it at send time with
:func:`ensure_topic` (creating the topic on first use, or again when Telegram says it was deleted),
so a restart keeps the mapping and a queued relay never points at a stale topic.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.storage import Storage

__all__ = [
    "CAPTION_KINDS",
    "TOPIC_KEY",
    "ensure_topic",
    "header_line",
    "notice_call",
    "relay_calls",
    "topic_name",
]

TOPIC_KEY = "_topic_of"
CAPTION_KINDS = frozenset({"photo", "video", "document", "audio", "voice", "animation"})
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_TOPIC_NAME = 128

Call = Callable[[str, dict[str, Any]], Awaitable[Any]]


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def topic_name(name: str | None, username: str | None, user_id: int) -> str:
    """Return the forum topic title for a customer, e.g. ``张三 @zhang`` (at most 128 characters)."""
    parts = [p for p in (name, f"@{username}" if username else None) if p] or [f"客户 {user_id}"]
    return _short(" ".join(parts), MAX_TOPIC_NAME)


def header_line(*, off_hours: bool = False, auto_replies: tuple[str, ...] = (), version: int = 1) -> str:
    """Return the one-line header shown above a relayed message, or "" when none is needed."""
    parts = []
    if version > 1:
        parts.append(f"✏️ 客户修改了消息(第{version}版)")
    if off_hours:
        parts.append("🌙 非工作时间")
    if auto_replies:
        parts.append("🤖 已自动回复「" + _short(" / ".join(auto_replies), 40) + "」")
    return " · ".join(parts)


def relay_calls(
    *,
    staff_chat_id: int,
    customer_id: int,
    from_chat_id: int,
    message_id: int,
    text: str | None,
    content_kind: str,
    header: str,
) -> list[tuple[str, dict[str, Any]]]:
    """Return the ``(method, params)`` calls that put one customer message into the customer's topic.

    Plain messages are copied as they are; with a header, text is re-sent under the header, a caption
    gets the header prepended, and media that cannot carry a caption get a header message after the copy.
    """
    base = {"chat_id": staff_chat_id, TOPIC_KEY: customer_id}
    copy = {**base, "from_chat_id": from_chat_id, "message_id": message_id}
    if not header:
        return [("copyMessage", copy)]
    if content_kind == "text":
        return [("sendMessage", {**base, "text": header + "\n" + (text or "")[: MAX_TEXT - len(header) - 1]})]
    if content_kind in CAPTION_KINDS:
        caption = header + ("\n" + text if text else "")
        return [("copyMessage", {**copy, "caption": caption[:MAX_CAPTION]})]
    return [("copyMessage", copy), ("sendMessage", {**base, "text": header})]


def notice_call(*, staff_chat_id: int, customer_id: int, text: str) -> tuple[str, dict[str, Any]]:
    """Return the ``sendMessage`` call that posts a staff notice in the customer's topic."""
    return ("sendMessage", {"chat_id": staff_chat_id, TOPIC_KEY: customer_id, "text": "⚠️ " + text})


async def ensure_topic(
    call: Call, storage: Storage, staff_chat_id: int, customer_id: int, *, fresh: bool = False
) -> int:
    """Return the customer's topic id, creating the forum topic (and storing its id) when missing.

    ``fresh=True`` forgets the stored id first (Telegram said the thread was not found).
    """
    customer = storage.customer(customer_id)
    if customer is None:
        raise LookupError(f"unknown customer {customer_id}")
    if customer.topic_id is not None and not fresh:
        return customer.topic_id
    topic = await call(
        "createForumTopic",
        {"chat_id": staff_chat_id, "name": topic_name(customer.name, customer.username, customer.id)},
    )
    storage.update_customer(customer_id, topic_id=topic.message_thread_id)
    return topic.message_thread_id
