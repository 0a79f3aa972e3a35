"""Customer → staff topic relay: which Bot API calls carry one customer message into its forum topic.

Each customer gets one forum topic in the staff supergroup. The calls are queued in the outbox with
``"_topic_of": customer_id`` instead of a thread id; the sender resolves it at send time with
:func:`ensure_topic` (creating the topic on first use, or again when Telegram says it was deleted),
so a restart keeps the mapping and a queued relay never points at a stale topic. The topic title
names the customer and, once there is one, the open ticket; :func:`ensure_topic` renames the topic
(``editForumTopic``) when the title it should have changed.

A burst from one customer must not flood the staff group (about 20 messages a minute): text relays
carry their text (``"_text"``), so :func:`merge_burst` can fold a queued run of them into one message.

Relays keep the customer's formatting: a header goes in front of the text (or caption) with the entities
shifted by the header's length in UTF-16 units; when header and text together would pass Telegram's
limit (4,096 for a text, 1,024 for a caption) the message is copied unchanged and the header goes as its
own message: the customer's words are never cut. Every copy carries its content kind (``"_kind"``), so a
copy Telegram refuses can be told in words instead (:func:`bot.telegram.kinds.uncopyable_text`); the
items of an album carry its ``media_group_id`` (``"_album"``) and are copied together (``copyMessages``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.exceptions import TelegramBadRequest

from bot.desk import texts
from bot.store.protocol import Store
from bot.store.sqlite import Storage
from bot.telegram.budget import NotYet
from bot.telegram.kinds import shift_entities, utf16_len

log = logging.getLogger(__name__)

__all__ = [
    "AFTER_KEY",
    "ALBUM_KEY",
    "CAPTION_KINDS",
    "EDIT_OF_KEY",
    "KIND_KEY",
    "MAX_MERGED_SUGGESTIONS",
    "PRIVATE_KEYS",
    "TEXT_KEY",
    "TOPIC_KEY",
    "buttoned_text",
    "ensure_topic",
    "header_line",
    "mark_topic_closed",
    "merge_burst",
    "mergeable_text",
    "named_relay",
    "notice_call",
    "numbered",
    "numbered_buttons",
    "relay_calls",
    "rename_claimed_topic",
    "reopen_closed_topic",
    "topic_closed",
    "topic_name",
]

TOPIC_KEY = "_topic_of"
TEXT_KEY = "_text"  # a copied text message's text, so a burst can be merged; never sent to Telegram
KIND_KEY = "_kind"  # a copy's content kind, for the words that stand in when Telegram refuses the copy
ALBUM_KEY = "_album"  # an album item's media_group_id: the album's items are copied in one call
# A call to queue once Telegram confirmed this one: {"method", "params", "customer_id"} (e.g. 「修改已同步」).
AFTER_KEY = "_after"
# An edit queued behind the message it edits: the id of that message's record, resolved at send time.
EDIT_OF_KEY = "_edit_of"
PRIVATE_KEYS = (TOPIC_KEY, TEXT_KEY, KIND_KEY, ALBUM_KEY, AFTER_KEY, EDIT_OF_KEY)
CAPTION_KINDS = frozenset({"photo", "video", "document", "audio", "voice", "animation"})
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_TOPIC_NAME = 128
# A merged relay carries at most this many suggestions, each numbered, their buttons under the message.
SUGGESTION_NUMBERS = "①②③④⑤⑥⑦⑧⑨⑩"
MAX_MERGED_SUGGESTIONS = len(SUGGESTION_NUMBERS)

Call = Callable[[str, dict[str, Any]], Awaitable[Any]]


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def topic_name(name: str | None, username: str | None, user_id: int, ticket: str | None = None) -> str:
    """Return the forum topic title for a customer, e.g. ``张三 @zhang`` or ``张三 @zhang · T20261123-0001``.

    At most 128 characters; the ticket number is kept whole when the name must be shortened.
    """
    parts = [p for p in (name, f"@{username}" if username else None) if p] or [
        texts.TOPIC_UNNAMED.format(user_id=user_id)
    ]
    suffix = f" · {ticket}" if ticket else ""
    return _short(" ".join(parts), MAX_TOPIC_NAME - len(suffix)) + suffix


def header_line(*, off_hours: bool = False, auto_replies: tuple[str, ...] = (), version: int = 1) -> str:
    """Return the one-line header shown above a relayed message, or "" when none is needed."""
    parts = []
    if version > 1:
        parts.append(texts.HEADER_EDITED.format(version=version))
    if off_hours:
        parts.append(texts.HEADER_OFF_HOURS)
    if auto_replies:
        parts.append(texts.HEADER_AUTO_REPLIED.format(replies=_short(" / ".join(auto_replies), 40)))
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
    entities: list[dict[str, Any]] | None = None,
    album: str | None = None,
) -> list[tuple[str, dict[str, Any]]]:
    """Return the ``(method, params)`` calls that put one customer message into the customer's topic.

    Plain messages are copied as they are; with a header, text is re-sent under the header and a caption
    gets the header prepended (``entities`` shifted to match), unless that would pass Telegram's limit:
    then the original is copied unchanged and the header follows as its own message, as it does for media
    that cannot carry a caption and for an album item (``album``: its ``media_group_id``).
    """
    base = {"chat_id": staff_chat_id, TOPIC_KEY: customer_id}
    copy = {**base, "from_chat_id": from_chat_id, "message_id": message_id, KIND_KEY: content_kind}
    header_call = ("sendMessage", {**base, "text": header})
    if album is not None:
        return [("copyMessage", {**copy, ALBUM_KEY: album})] + ([header_call] if header else [])
    if not header:
        if content_kind == "text" and text:
            return [("copyMessage", {**copy, TEXT_KEY: text})]
        return [("copyMessage", copy)]
    if content_kind == "text":
        params = _prefixed(base, "text", "entities", text or "", entities, header + "\n", MAX_TEXT)
        return [("sendMessage", params)] if params else [("copyMessage", copy), header_call]
    if content_kind in CAPTION_KINDS:
        prefix = header + ("\n" if text else "")
        params = _prefixed(copy, "caption", "caption_entities", text or "", entities, prefix, MAX_CAPTION)
        return [("copyMessage", params)] if params else [("copyMessage", copy), header_call]
    return [("copyMessage", copy), header_call]


def _prefixed(
    params: dict[str, Any],
    field: str,
    entities_field: str,
    text: str,
    entities: list[dict[str, Any]] | None,
    prefix: str,
    limit: int,
) -> dict[str, Any] | None:
    """Return ``params`` with ``field`` = ``prefix + text`` and the entities shifted past the prefix, or
    None when that would pass Telegram's ``limit`` (UTF-16 units)."""
    if utf16_len(prefix + text) > limit:
        return None
    prefixed = {**params, field: prefix + text}
    if text and entities:
        prefixed[entities_field] = shift_entities(entities, prefix)
    return prefixed


def notice_call(*, staff_chat_id: int, customer_id: int, text: str) -> tuple[str, dict[str, Any]]:
    """Return the ``sendMessage`` call that posts a staff notice in the customer's topic."""
    return ("sendMessage", {"chat_id": staff_chat_id, TOPIC_KEY: customer_id, "text": "⚠️ " + text})


async def ensure_topic(
    call: Call,
    storage: Storage,
    staff_chat_id: int,
    customer_id: int,
    *,
    fresh: bool = False,
    unstored: dict[int, tuple[int, str]] | None = None,
    spares: set[int] | None = None,
) -> int:
    """Return the customer's topic id, creating the forum topic (and storing its id) when missing.

    A customer without a topic first takes a spare topic of its group (made in quiet time, see
    :meth:`bot.telegram.sender.Sender.tend_pools`): claimed and stored in one transaction, no call now; its
    rename to the customer's title is left to the sender's cosmetic budget. Only when the group has no spare
    is a topic created. ``spares`` (when given) collects the topic ids so taken, so a spare Telegram says
    is gone can be told from a customer's own topic and the next spare taken.
    ``fresh=True`` forgets the stored id first (Telegram said the thread was not found). ``unstored``
    (customer id -> topic id and title) keeps a topic created on Telegram whose id the database could
    not store yet (locked, full): the next call stores that one instead of creating another, so a
    customer never gets a second topic while the first is alive. Raises what the database raised
    while the id cannot be stored. Its reads and writes run on the storage thread, ahead of the desk's
    queued work: the sender waits on them.
    """
    kept = None if unstored is None else unstored.get(customer_id)
    if kept is not None and not fresh:
        await storage.run(
            storage.update_customer, customer_id, topic_id=kept[0], topic_name=kept[1], urgent=True
        )
        del unstored[customer_id]
        log.info("topic %s of customer %s stored at last", kept[0], customer_id)
        return kept[0]
    kept = None if fresh else storage.kept_topic_holder(customer_id)  # no write since the last read
    customer, ticket = kept or await storage.run(storage.topic_holder, customer_id, urgent=True)
    if customer is None:
        raise LookupError(f"unknown customer {customer_id}")
    name = topic_name(customer.name, customer.username, customer.id, ticket.number if ticket else None)
    if customer.topic_id is not None and not fresh:
        # A spare topic's rename is the pool keeper's, in quiet time: at peak a relay comes first.
        renamed = customer.topic_name not in (None, texts.TOPIC_SPARE)
        if renamed and customer.topic_name != name:
            try:
                await call(
                    "editForumTopic",
                    {"chat_id": staff_chat_id, "message_thread_id": customer.topic_id, "name": name},
                )
            except NotYet:  # the group's minute is for relays now: rename with a later relay
                return customer.topic_id
            except Exception as exc:  # a title is cosmetic: never hold the relay back for it
                log.warning("renaming the topic of customer %s failed: %s", customer_id, exc)
            await storage.run(storage.update_customer, customer_id, topic_name=name, urgent=True)
        return customer.topic_id
    spare = await storage.run(
        storage.claim_spare_topic, staff_chat_id, customer_id, texts.TOPIC_SPARE, urgent=True
    )
    if spare is not None:
        if spares is not None:
            spares.add(spare)
        log.info("customer %s takes spare topic %s of chat %s", customer_id, spare, staff_chat_id)
        return spare
    topic = await call("createForumTopic", {"chat_id": staff_chat_id, "name": name})
    if unstored is not None:
        unstored[customer_id] = (topic.message_thread_id, name)
    stored = {"topic_id": topic.message_thread_id, "topic_name": name}
    try:
        await storage.run(storage.update_customer, customer_id, **stored, urgent=True)
    except Exception as exc:
        log.error(
            "topic %s created for customer %s but its id could not be stored (%s); kept to store later",
            topic.message_thread_id,
            customer_id,
            exc,
        )
        raise
    if unstored is not None:
        del unstored[customer_id]
    return topic.message_thread_id


async def rename_claimed_topic(
    call: Call, storage: Storage, staff_chat_id: int, topic_id: int, customer_id: int
) -> bool:
    """Rename a spare topic a customer took to the customer's title; return whether a call was made.

    Once renamed (or when nothing is left to rename: the title is right already, the customer moved on to
    another topic), the spare's row is dropped. Raises :class:`bot.telegram.budget.NotYet` when the group's
    cosmetic budget is spent, and what else the call raised but a bad request (the row stays, for later). A
    rename Telegram refuses (the topic was deleted) drops the row too: the next relay finds out and takes
    another topic.
    """
    customer = await storage.run(storage.customer, customer_id, urgent=True)
    if customer is None or customer.topic_id != topic_id:
        await storage.run(storage.forget_spare_topic, staff_chat_id, topic_id, urgent=True)
        return False
    ticket = await storage.run(storage.open_ticket, customer_id, urgent=True)
    name = topic_name(customer.name, customer.username, customer.id, ticket.number if ticket else None)
    called = False
    if customer.topic_name != name:
        called = True
        params = {"chat_id": staff_chat_id, "message_thread_id": topic_id, "name": name}
        try:
            await call("editForumTopic", params)
        except TelegramBadRequest as exc:  # a title is cosmetic: the relay tells whether the topic is there
            log.warning("renaming spare topic %s for customer %s failed: %s", topic_id, customer_id, exc)
            await storage.run(storage.forget_spare_topic, staff_chat_id, topic_id, urgent=True)
            return called
    await storage.run(_renamed, storage, staff_chat_id, topic_id, customer_id, name, urgent=True)
    return called


def _renamed(storage: Storage, staff_chat_id: int, topic_id: int, customer_id: int, name: str) -> None:
    """Record a claimed spare topic's new title and drop its spare row, in one transaction."""
    with storage.transaction():
        storage.update_customer(customer_id, topic_name=name)
        storage.forget_spare_topic(staff_chat_id, topic_id)


def named_relay(
    method: str, params: dict[str, Any], name: str, copied_text: str | None = None
) -> tuple[str, dict[str, Any]]:
    """Return ``(method, params)`` of a relay with a line naming the customer on top (``👤 张三 @zhang``).

    For the first relay into a spare topic whose title is still 「⏳ 待分配」: agents see who writes before
    the rename. A text gets the line in front (entities shifted); a plain text copy (``copied_text``, as
    merged relays are) becomes that text sent under the line; a caption gets it in front. Anything else,
    or what would pass Telegram's length limits, is returned unchanged.
    """
    line = texts.HEADER_CUSTOMER.format(name=name) + "\n"
    for kind, field, entities_field, limit in (
        ("sendMessage", "text", "entities", MAX_TEXT),
        ("copyMessage", "caption", "caption_entities", MAX_CAPTION),
    ):
        if method == kind and isinstance(params.get(field), str):
            entities = params.get(entities_field)
            named = _prefixed(params, field, entities_field, params[field], entities, line, limit)
            return method, named or params
    plain = set(params) <= {"chat_id", "from_chat_id", "message_id", "message_thread_id"}
    if method == "copyMessage" and copied_text and plain and utf16_len(line + copied_text) <= MAX_TEXT:
        sent = {"chat_id": params["chat_id"], "text": line + copied_text}
        if "message_thread_id" in params:
            sent["message_thread_id"] = params["message_thread_id"]
        return "sendMessage", sent
    return method, params


def _closed_key(customer_id: int) -> str:
    return f"topic_closed:{customer_id}"


def mark_topic_closed(storage: Store, customer_id: int, closed: bool) -> None:
    """Remember that an admin closed (or reopened) the customer's topic (in ``bot_state``)."""
    storage.set_state(_closed_key(customer_id), "1" if closed else None)


def topic_closed(storage: Store, customer_id: int) -> bool:
    """Return whether an admin closed the customer's topic (:func:`mark_topic_closed`), not reopened since."""
    return storage.state(_closed_key(customer_id)) is not None


def reopen_closed_topic(storage: Store, staff_chat_id: int | None, customer_id: int, at: Any) -> int | None:
    """Queue ``reopenForumTopic`` for the customer's topic when an admin closed it; return the outbox row.

    Called when the customer writes again, before the relay is queued, so the relay lands in an open topic.
    """
    if staff_chat_id is None or storage.state(_closed_key(customer_id)) is None:
        return None
    storage.set_state(_closed_key(customer_id), None)
    params = {"chat_id": staff_chat_id, TOPIC_KEY: customer_id}
    return storage.enqueue(staff_chat_id, "reopenForumTopic", params, at, customer_id=customer_id)


def mergeable_text(method: str, params: dict[str, Any]) -> str | None:
    """Return the text a queued staff-topic call carries when it may be merged with others, else None.

    Plain text relays and notices qualify; media, captions, buttons and replies do not.
    """
    if TOPIC_KEY not in params:
        return None
    extra = set(params) - {"chat_id", TOPIC_KEY, TEXT_KEY, KIND_KEY, "from_chat_id", "message_id", "text"}
    if extra:
        return None
    if method == "sendMessage":
        return params.get("text") or None
    if method == "copyMessage":
        return params.get(TEXT_KEY) or None
    return None


def buttoned_text(method: str, params: dict[str, Any]) -> str | None:
    """Return the text of a queued staff-topic notice with buttons (a suggestion), else None.

    Such a notice may go in a merged burst: its words in their place among the relays, its buttons under
    that message (a button acts by its callback data; once used, only that button is taken away). With
    several in one message, each one's words and buttons carry its number (:func:`numbered`).
    """
    if method != "sendMessage" or TOPIC_KEY not in params or not params.get("reply_markup"):
        return None
    if set(params) - {"chat_id", TOPIC_KEY, "text", "reply_markup"}:
        return None
    return params.get("text") or None


def numbered(text: str, number: int) -> str:
    """Return a suggestion's words (or its button's label) marked with its number in a merged relay.

    >>> numbered("发送此回复", 2)
    '② 发送此回复'
    """
    return f"{SUGGESTION_NUMBERS[number - 1]} {text}"


def numbered_buttons(rows: list[list[dict[str, Any]]], number: int) -> list[list[dict[str, Any]]]:
    """Return a suggestion's keyboard rows with each button's label numbered (:func:`numbered`)."""
    return [[{**button, "text": numbered(button.get("text", ""), number)} for button in row] for row in rows]


def merge_burst(texts: list[str], limit: int = MAX_TEXT) -> list[str]:
    """Return ``texts`` joined by newlines into as few messages of at most ``limit`` characters as possible.

    >>> merge_burst(["在吗", "我要退货"])
    ['在吗\n我要退货']
    """
    merged: list[str] = []
    for text in texts:
        text = text[:limit]
        if merged and len(merged[-1]) + 1 + len(text) <= limit:
            merged[-1] += "\n" + text
        else:
            merged.append(text)
    return merged
