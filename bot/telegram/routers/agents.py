"""Agents in the staff supergroup: answers in customer topics (through the guard), edits, buttons, commands.

The whole router is fenced by one filter (:class:`IsAgent`): only the staff chat, only people (no bots),
and, when ``KEFU_AGENT_IDS`` is set, only those ids. Customers write in private chats and never reach it;
anyone else in any group is ignored. Handlers are thin: :class:`~bot.telegram.middlewares.InTopic` gives
each its :class:`~bot.telegram.middlewares.Topic` (the agent desk, the topic's customer resolved once, who
and when); the handler calls the desk on the storage thread, and the sender is woken by middleware.
"""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, Filter
from aiogram.types import CallbackQuery, Message

from bot.desk import events, texts
from bot.desk.agents import (
    CALLBACK_EDIT,
    CALLBACK_PICK,
    CALLBACK_SEND_ANYWAY,
    CALLBACK_SUGGEST,
    AgentDesk,
    parse_callback,
)
from bot.desk.bans import ban, bans_text, unban
from bot.desk.board import collect, stats_text
from bot.desk.customers import SupportDesk
from bot.ops.clock import utc_now
from bot.ops.settings import Settings
from bot.store.sqlite import Storage
from bot.telegram.buttons import without_button
from bot.telegram.callbacks import answer_query
from bot.telegram.filters import Inline
from bot.telegram.kinds import SERVICE_KINDS, entities_of
from bot.telegram.middlewares import InTopic, Topic, agent_of

__all__ = ["InUnknownTopic", "IsAgent", "build_router", "is_anonymous_admin"]

log = logging.getLogger(__name__)

# Content an agent can send a customer (copied as it is); service messages are not relayed, and anything
# else (a game, an invoice, a story …) is named in the topic as not sent.
RELAYABLE = frozenset(
    {
        "text",
        "photo",
        "document",
        "voice",
        "sticker",
        "video",
        "audio",
        "animation",
        "video_note",
        "location",
        "venue",
        "contact",
        "poll",
        "dice",
    }
)


def is_anonymous_admin(message: Message, staff_chat_id: int | None) -> bool:
    """Return whether an admin who "remains anonymous" posted ``message`` (sender_chat = the staff chat)."""
    sender_chat = message.sender_chat
    return staff_chat_id is not None and sender_chat is not None and sender_chat.id == staff_chat_id


class IsAgent(Filter):
    """True for a message (or button press) by a person in the staff chat, and in ``agent_ids`` when set.

    An anonymous admin (GroupAnonymousBot on behalf of the staff chat) counts only when ``agent_ids`` is
    empty: with a list, nobody can tell who wrote (:mod:`bot.telegram.routers.chat_events` says so in
    the topic).
    """

    async def __call__(self, event: Message | CallbackQuery, settings: Settings) -> bool:
        user = event.from_user
        chat = event.chat if isinstance(event, Message) else (event.message.chat if event.message else None)
        if user is None or chat is None or chat.id not in settings.staff_chat_ids:
            return False
        if isinstance(event, Message) and is_anonymous_admin(event, chat.id):
            return not settings.agent_ids
        if user.is_bot:
            return False
        return not settings.agent_ids or user.id in settings.agent_ids


class InUnknownTopic(Filter):
    """True for an agent's message (text or media) in a forum topic that belongs to no stored customer:
    a topic whose id the bot could not store, one left from another database, or one made by hand."""

    async def __call__(self, message: Message, db: Storage) -> bool:
        thread = message.message_thread_id
        if not message.is_topic_message or thread is None or _kind(message) not in RELAYABLE:
            return False
        return await db.run(db.customer_by_topic, thread, message.chat.id) is None


def _words(message: Message) -> str | None:
    """Return what a customer would read in an agent's message: text, caption, or a poll's question and
    options, a venue's title and address (the guard checks them all)."""
    if message.text is not None or message.caption is not None:
        return message.text if message.text is not None else message.caption
    if message.poll is not None:
        return "\n".join([message.poll.question, *(o.text for o in message.poll.options)])
    if message.venue is not None:
        return f"{message.venue.title}\n{message.venue.address}"
    return None


def _file_id(message: Message) -> str | None:
    """Return the file id of a message's photo, document, video, audio, voice or animation, else None."""
    if message.photo:
        return message.photo[-1].file_id
    media = getattr(message, _kind(message), None)
    return getattr(media, "file_id", None)


def _kind(message: Message) -> str:
    kind = message.content_type
    return str(getattr(kind, "value", kind))


async def check_draft(message: Message, command: CommandObject, topic: Topic, db: Storage) -> None:
    """``/check TEXT``: the verdict only, nothing sent to anyone but the agent."""
    text = (command.args or "").strip()
    if not text:
        await db.run(topic.reply, texts.USAGE_CHECK)
        return
    await db.run(lambda: topic.reply(topic.agents.draft(topic.agent, text, topic.at, topic.customer_id)))


async def send_script(message: Message, command: CommandObject, topic: Topic, db: Storage) -> None:
    """``/r KEY``: send a documented script with its placeholders filled to the topic's customer."""
    key = (command.args or "").strip()

    def work() -> None:
        if topic.customer_id is None or not key:
            topic.reply(texts.NEEDS_TOPIC if topic.customer_id is None else texts.USAGE_SCRIPT)
        elif topic.first_time():
            result = topic.agents.send_script(topic.agent, topic.customer_id, key, topic.at)
            if result.feedback_id is None and result.text:
                topic.reply(result.text)

    await db.run(work)  # on the storage thread: the event loop never waits on SQLite


async def list_scripts(message: Message, topic: Topic, db: Storage) -> None:
    """``/scripts``: the script keys an agent can send with ``/r``."""
    await db.run(lambda: topic.reply(topic.agents.scripts_text()))


async def close(message: Message, topic: Topic, db: Storage) -> None:
    """``/close``: the documented closing to the customer, then the ticket and conversation are closed."""

    def work() -> None:
        if topic.customer_id is None:
            topic.reply(texts.NEEDS_TOPIC)
        elif topic.first_time():
            topic.agents.close(topic.agent, topic.customer_id, topic.at)

    await db.run(work)


async def reopen(message: Message, topic: Topic, db: Storage) -> None:
    """``/reopen``: reopen a conversation the uncivil ladder closed."""
    await db.run(topic.for_customer, lambda customer_id: topic.agents.reopen(customer_id, topic.at))


async def ticket(message: Message, topic: Topic, db: Storage) -> None:
    """``/ticket``: the customer's open ticket and its due times."""
    await db.run(topic.for_customer, lambda customer_id: topic.agents.ticket_text(customer_id, topic.at))


async def stats(message: Message, topic: Topic, desk: SupportDesk, db: Storage) -> None:
    """``/stats``: today's dashboard figures."""
    groups = desk.settings.staff_chat_ids
    await db.run(lambda: topic.reply(stats_text(collect(db, desk.schedule, topic.at, groups))))


async def ban_customer(message: Message, topic: Topic, desk: SupportDesk, db: Storage) -> None:
    """``/ban``: the topic's customer is banned (stored, neither answered nor relayed); says what it did."""
    agent_id = message.from_user.id
    await db.run(topic.for_customer, lambda customer_id: ban(db, customer_id, agent_id, topic.at, desk.zone))


async def unban_customer(message: Message, topic: Topic, db: Storage) -> None:
    """``/unban``: lift the topic's customer's ban."""
    await db.run(topic.for_customer, lambda customer_id: unban(db, customer_id))


async def list_bans(message: Message, topic: Topic, desk: SupportDesk, db: Storage) -> None:
    """``/bans``: every banned customer, since when and by whom."""
    await db.run(lambda: topic.reply(bans_text(db, desk.zone)))


async def unknown_command(message: Message, topic: Topic, db: Storage) -> None:
    """Any other ``/command`` in the staff chat: list the commands (never relayed to a customer)."""
    await db.run(topic.reply, texts.commands_help())


async def answer(message: Message, topic: Topic, db: Storage) -> None:
    """An agent's message in a customer's topic: checked, then sent (as checked) or held back."""
    kind = _kind(message)

    def work() -> None:
        if topic.customer_id is None or kind in SERVICE_KINDS:
            return
        if kind not in RELAYABLE:
            if topic.first_time(""):
                topic.reply(texts.TEXT_NOT_RELAYABLE.format(kind=texts.kind_name(kind)))
            return
        topic.agents.answer(
            topic.agent,
            topic.customer_id,
            message.message_id,
            _words(message),
            topic.at,
            content_kind=kind,
            entities=entities_of(message) or None,
            file_id=_file_id(message),
            album=message.media_group_id,
        )

    await db.run(work)  # on the storage thread: the event loop never waits on SQLite


async def unknown_topic(message: Message, topic: Topic, db: Storage) -> None:
    """An agent writing in a topic the bot does not know: a one-line answer there, nothing sent to anyone."""
    thread = message.message_thread_id
    reply_to = message.message_id
    await db.run(
        lambda: topic.agents.feedback(texts.UNKNOWN_TOPIC, topic.at, thread_id=thread, reply_to=reply_to)
    )


async def edited(message: Message, topic: Topic, db: Storage) -> None:
    """An agent edited a topic message: checked again before the edit reaches the customer."""
    words, kind = _words(message), _kind(message)
    entities, file_id = entities_of(message), _file_id(message)
    await db.run(
        lambda: topic.agents.edit(
            topic.agent,
            message.message_id,
            words,
            topic.at,
            content_kind=kind,
            entities=entities,
            file_id=file_id,
        )
    )


def _under(query: CallbackQuery) -> tuple[int | None, int | None]:
    """Return (chat id, id of the message it replies to) of the notice a pressed button sits on."""
    notice = query.message
    replied = notice.reply_to_message if isinstance(notice, Message) else None
    return (notice.chat.id if notice else None, replied.message_id if replied else None)


async def _press(query: CallbackQuery, desk: SupportDesk, action: str, row_id: int) -> tuple[bool, str]:
    """Run a sending button's action on the storage thread; return (whether it sent, the answer text).

    When something was sent, the notice's buttons are removed so they cannot be pressed again.
    """
    at = utc_now()
    agent = agent_of(query)
    agents = AgentDesk(desk, query.message.chat.id if query.message else None)
    if action == CALLBACK_PICK:
        outcome = await desk.storage.run(desk.send_suggestion, row_id, agent.user_id, agent.name, at)
        done = outcome is not None
        if outcome is None:
            answer = texts.TEXT_SUGGESTION_DONE
        else:
            answer = texts.TEXT_SUGGESTION_PICKED if outcome.replies else texts.TEXT_SUGGESTION_HELD
    else:
        act = agents.send_suggestion if action == CALLBACK_SUGGEST else agents.send_anyway
        result = await desk.storage.run(act, agent, row_id, at, under=_under(query))
        done = result.allowed
        sent = texts.TEXT_SUGGESTED_WORDING_SENT if action == CALLBACK_SUGGEST else texts.TEXT_SENT_ANYWAY
        answer = sent if result.allowed else (result.text or texts.TEXT_NOT_SENT)
    notice = query.message
    if done and notice is not None:
        markup = getattr(notice, "reply_markup", None)
        rows = markup.model_dump(exclude_none=True).get("inline_keyboard", []) if markup else []
        keep = without_button(rows, query.data)  # a merged relay's other suggestions keep their buttons
        await desk.storage.run(
            events.clear_buttons, desk.storage, notice.chat.id, notice.message_id, at, keep
        )
    return done, answer


async def button(query: CallbackQuery, desk: SupportDesk) -> None:
    """The buttons under a held message or a suggested script: send the suggestion, send the held words
    anyway (review level, audited), send the suggested script, or how to edit and resend.

    Every press is answered; one with data no button of ours carries is refused and logged.
    """
    parsed = parse_callback(query.data)
    if parsed is None:
        log.warning("button press refused: data %.80r is not from a kefu button", query.data)
        await answer_query(query, texts.TEXT_BUTTON_REFUSED)
        return
    action, row_id = parsed
    if action in (CALLBACK_SUGGEST, CALLBACK_SEND_ANYWAY, CALLBACK_PICK):
        _, answer = await _press(query, desk, action, row_id)
        await answer_query(query, answer)
    elif action == CALLBACK_EDIT:
        await answer_query(query, texts.TEXT_EDIT_HINT, show_alert=True)
    else:
        log.warning("button press refused: unknown action in %.80r", query.data)
        await answer_query(query, texts.TEXT_BUTTON_REFUSED)


def build_router() -> Router:
    """Return a new agents router (one per Dispatcher), fenced to agents in the staff chat."""
    router = Router(name=__name__)
    router.message.filter(IsAgent())
    router.edited_message.filter(IsAgent())
    router.callback_query.filter(IsAgent())
    router.message.middleware(InTopic())
    router.edited_message.middleware(InTopic())
    router.message(Command("check"))(check_draft)
    router.message(Command("r"))(send_script)
    router.message(Command("scripts"))(list_scripts)
    router.message(Command("close"))(close)
    router.message(Command("reopen"))(reopen)
    router.message(Command("ticket"))(ticket)
    router.message(Command("stats"))(stats)
    router.message(Command("ban"))(ban_customer)
    router.message(Command("unban"))(unban_customer)
    router.message(Command("bans"))(list_bans)
    router.message(Inline(F.text.startswith("/")))(unknown_command)
    router.message(InUnknownTopic())(unknown_topic)
    router.message()(answer)
    router.edited_message()(edited)
    router.callback_query()(button)  # every press by an agent is answered, a forged one refused
    return router
