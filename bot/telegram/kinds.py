"""What kinds of Telegram messages kefu meets, and the small text arithmetic Telegram's limits need.

Telegram sends a chat's service events (a pinned message, the auto-delete timer, a new background …)
as messages too; they are nobody's words and get neither a reply nor a relay (:data:`SERVICE_KINDS`).
Some content Telegram will not copy (a giveaway, an invoice, paid media, a message deleted meanwhile):
the relay then says so in words (:func:`uncopyable_text`). Entity offsets and message limits are counted
in UTF-16 code units (:func:`utf16_len`, :func:`shift_entities`).

Example::

    uncopyable_text("invoice")        # '[客户发送了一条无法转发的账单消息]'
    shift_entities([{"type": "bold", "offset": 0, "length": 2}], "🌙 头\\n")
    # [{'type': 'bold', 'offset': 5, 'length': 2}]
"""

from __future__ import annotations

from typing import Any

from bot.desk import texts
from bot.desk.texts import kind_name

__all__ = [
    "SERVICE_KINDS",
    "SUBSTANTIVE_KINDS",
    "entities_of",
    "shift_entities",
    "uncopyable_text",
    "utf16_len",
]

# Events of the chat itself, not words of the customer (aiogram's ContentType values).
SERVICE_KINDS = frozenset(
    {
        "new_chat_members",
        "left_chat_member",
        "chat_owner_left",
        "chat_owner_changed",
        "new_chat_title",
        "new_chat_photo",
        "delete_chat_photo",
        "group_chat_created",
        "supergroup_chat_created",
        "channel_chat_created",
        "message_auto_delete_timer_changed",
        "migrate_to_chat_id",
        "migrate_from_chat_id",
        "pinned_message",
        "successful_payment",
        "refunded_payment",
        "connected_website",
        "write_access_allowed",
        "proximity_alert_triggered",
        "boost_added",
        "chat_background_set",
        "checklist_tasks_done",
        "checklist_tasks_added",
        "direct_message_price_changed",
        "forum_topic_created",
        "forum_topic_edited",
        "forum_topic_closed",
        "forum_topic_reopened",
        "general_forum_topic_hidden",
        "general_forum_topic_unhidden",
        "giveaway_created",
        "giveaway_completed",
        "paid_message_price_changed",
        "video_chat_scheduled",
        "video_chat_started",
        "video_chat_ended",
        "video_chat_participants_invited",
        "gift",
        "unique_gift",
        "gift_upgrade_sent",
    }
)
# Content that is a message for a person even without a word of text: relayed, never told "no content".
SUBSTANTIVE_KINDS = frozenset(
    {
        "photo",
        "video",
        "document",
        "audio",
        "voice",
        "animation",
        "video_note",
        "paid_media",
        "live_photo",
        "location",
        "venue",
        "contact",
        "poll",
    }
)


def uncopyable_text(content_kind: str | None) -> str:
    """Return the words that stand in the topic for a customer message Telegram refused to copy."""
    return texts.UNCOPYABLE.format(kind=kind_name(content_kind))


def utf16_len(text: str) -> int:
    """Return the length of ``text`` in UTF-16 code units (how Telegram counts offsets and limits).

    >>> utf16_len("好👍")
    3
    """
    return len(text.encode("utf-16-le")) // 2


def entities_of(message: Any) -> list[dict[str, Any]]:
    """Return the formatting of a Telegram message's text or caption as Bot API dicts (bold, links …)."""
    entities = message.entities if message.text is not None else message.caption_entities
    return [e.model_dump(mode="json", exclude_none=True) for e in entities or ()]


def shift_entities(entities: list[dict[str, Any]] | None, prefix: str) -> list[dict[str, Any]]:
    """Return copies of ``entities`` moved right by ``prefix`` (in UTF-16 units), for text put after it."""
    by = utf16_len(prefix)
    return [{**entity, "offset": entity["offset"] + by} for entity in entities or ()]
