"""Agents in the staff supergroup: answers in customer topics (through the guard), edits, buttons, commands.

The whole router is fenced by one filter (:class:`IsAgent`): only the staff chat, only people (no bots),
and, when ``KEFU_AGENT_IDS`` is set, only those ids. Customers write in private chats and never reach it;
anyone else in any group is ignored. Handlers are thin: find the customer of the topic, call
:class:`bot.agent_desk.AgentDesk`, wake the sender.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, Filter
from aiogram.types import CallbackQuery, Message

from bot.agent_desk import (
    CALLBACK_EDIT,
    CALLBACK_PICK,
    CALLBACK_SUGGEST,
    TEXT_EDIT_HINT,
    AgentDesk,
    AgentRef,
    parse_callback,
)
from bot.board import collect, stats_text
from bot.clock import utc_now
from bot.delivery import Sender
from bot.desk import SupportDesk
from bot.filters import Inline
from bot.settings import Settings
from bot.storage import Storage

__all__ = ["COMMANDS", "IsAgent", "build_router"]

# Commands an agent can use, with the help shown by Telegram (setMyCommands) and /help.
COMMANDS = {
    "check": "检查草稿,不发送:/check 文本",
    "r": "发送话术:/r 键名",
    "scripts": "列出话术键名",
    "close": "发送结束语并关闭工单",
    "reopen": "重新打开因不文明用语关闭的会话",
    "ticket": "查看工单及期限",
    "stats": "今日统计",
}
# Content an agent can send a customer (copied as it is); service messages are not relayed.
RELAYABLE = frozenset(
    {"text", "photo", "document", "voice", "sticker", "video", "audio", "animation", "video_note"}
)
NEEDS_TOPIC = "请在客户的话题里使用此命令"


class IsAgent(Filter):
    """True for a message (or button press) by a person in the staff chat, and in ``agent_ids`` when set."""

    async def __call__(self, event: Message | CallbackQuery, settings: Settings) -> bool:
        user = event.from_user
        chat = event.chat if isinstance(event, Message) else (event.message.chat if event.message else None)
        if user is None or user.is_bot or chat is None or settings.staff_chat_id is None:
            return False
        if chat.id != settings.staff_chat_id:
            return False
        return not settings.agent_ids or user.id in settings.agent_ids


def _agent(event: Message | CallbackQuery) -> AgentRef:
    user = event.from_user
    return AgentRef(user.id, user.full_name)


def _at(message: Message) -> datetime:
    edit = message.edit_date
    when = edit or message.date
    return datetime.fromtimestamp(when, UTC) if isinstance(when, int) else when


def _customer_id(message: Message, db: Storage) -> int | None:
    if not message.is_topic_message or message.message_thread_id is None:
        return None
    customer = db.customer_by_topic(message.message_thread_id)
    return customer.id if customer else None


def _kind(message: Message) -> str:
    kind = message.content_type
    return str(getattr(kind, "value", kind))


def _reply(agents: AgentDesk, message: Message, db: Storage, text: str) -> None:
    """Queue the bot's answer to a command where it was asked (the customer's topic or the thread)."""
    customer_id = _customer_id(message, db)
    agents.feedback(
        text,
        _at(message),
        customer_id=customer_id,
        thread_id=None if customer_id is not None else message.message_thread_id,
        reply_to=message.message_id,
    )


async def check_draft(
    message: Message, command: CommandObject, desk: SupportDesk, db: Storage, sender: Sender
) -> None:
    """``/check TEXT``: the verdict only, nothing sent to anyone but the agent."""
    agents = AgentDesk(desk)
    text = (command.args or "").strip()
    notice = agents.draft(_agent(message), text, _at(message)) if text else "用法:/check 要检查的文字"
    _reply(agents, message, db, notice)
    sender.notify()


async def send_script(
    message: Message, command: CommandObject, desk: SupportDesk, db: Storage, sender: Sender
) -> None:
    """``/r KEY``: send a documented script with its placeholders filled to the topic's customer."""
    agents = AgentDesk(desk)
    customer_id = _customer_id(message, db)
    key = (command.args or "").strip()
    if customer_id is None or not key:
        _reply(agents, message, db, NEEDS_TOPIC if customer_id is None else "用法:/r 键名(/scripts 查看)")
    elif agents.first_time(
        _agent(message), customer_id, message.message_id, message.text or "", _at(message)
    ):
        result = agents.send_script(_agent(message), customer_id, key, _at(message))
        if result.feedback_id is None and result.text:
            _reply(agents, message, db, result.text)
    sender.notify()


async def list_scripts(message: Message, desk: SupportDesk, db: Storage, sender: Sender) -> None:
    """``/scripts``: the script keys an agent can send with ``/r``."""
    agents = AgentDesk(desk)
    _reply(agents, message, db, agents.scripts_text())
    sender.notify()


async def close(message: Message, desk: SupportDesk, db: Storage, sender: Sender) -> None:
    """``/close``: the documented closing to the customer, then the ticket and conversation are closed."""
    agents = AgentDesk(desk)
    customer_id = _customer_id(message, db)
    if customer_id is None:
        _reply(agents, message, db, NEEDS_TOPIC)
    elif agents.first_time(
        _agent(message), customer_id, message.message_id, message.text or "", _at(message)
    ):
        agents.close(_agent(message), customer_id, _at(message))
    sender.notify()


async def reopen(message: Message, desk: SupportDesk, db: Storage, sender: Sender) -> None:
    """``/reopen``: reopen a conversation the uncivil ladder closed."""
    agents = AgentDesk(desk)
    customer_id = _customer_id(message, db)
    _reply(
        agents, message, db, NEEDS_TOPIC if customer_id is None else agents.reopen(customer_id, _at(message))
    )
    sender.notify()


async def ticket(message: Message, desk: SupportDesk, db: Storage, sender: Sender) -> None:
    """``/ticket``: the customer's open ticket and its due times."""
    agents = AgentDesk(desk)
    customer_id = _customer_id(message, db)
    text = NEEDS_TOPIC if customer_id is None else agents.ticket_text(customer_id, _at(message))
    _reply(agents, message, db, text)
    sender.notify()


async def stats(message: Message, desk: SupportDesk, db: Storage, sender: Sender) -> None:
    """``/stats``: today's dashboard figures."""
    agents = AgentDesk(desk)
    _reply(agents, message, db, stats_text(collect(db, desk.schedule, _at(message))))
    sender.notify()


async def unknown_command(message: Message, desk: SupportDesk, db: Storage, sender: Sender) -> None:
    """Any other ``/command`` in the staff chat: list the commands (never relayed to a customer)."""
    agents = AgentDesk(desk)
    _reply(agents, message, db, "可用命令:\n" + "\n".join(f"/{k} — {v}" for k, v in COMMANDS.items()))
    sender.notify()


async def answer(message: Message, desk: SupportDesk, db: Storage, sender: Sender) -> None:
    """An agent's message in a customer's topic: checked, then copied to the customer or held back."""
    customer_id = _customer_id(message, db)
    if customer_id is None or _kind(message) not in RELAYABLE:
        return
    text = message.text if message.text is not None else message.caption
    AgentDesk(desk).answer(
        _agent(message), customer_id, message.message_id, text, _at(message), content_kind=_kind(message)
    )
    sender.notify()


async def edited(message: Message, desk: SupportDesk, sender: Sender) -> None:
    """An agent edited a topic message: checked again before the edit reaches the customer."""
    text = message.text if message.text is not None else message.caption
    AgentDesk(desk).edit(_agent(message), message.message_id, text, _at(message), content_kind=_kind(message))
    sender.notify()


async def button(query: CallbackQuery, desk: SupportDesk, sender: Sender) -> None:
    """The buttons under a held message: send the documented suggestion instead, or how to edit and resend."""
    parsed = parse_callback(query.data)
    agents = AgentDesk(desk)
    at = utc_now()
    if parsed is None:
        await query.answer()
        return
    action, row_id = parsed
    if action == CALLBACK_SUGGEST:
        result = agents.send_suggestion(_agent(query), row_id, at)
        if result.allowed and query.message is not None:
            desk.storage.enqueue(
                query.message.chat.id,
                "editMessageReplyMarkup",
                {"chat_id": query.message.chat.id, "message_id": query.message.message_id},
                at,
            )
        await query.answer("已发送建议话术" if result.allowed else (result.text or "未发送"))
    elif action == CALLBACK_PICK:
        agent = _agent(query)
        outcome = desk.send_suggestion(row_id, agent.user_id, agent.name, at)
        if outcome is not None and query.message is not None:
            desk.storage.enqueue(
                query.message.chat.id,
                "editMessageReplyMarkup",
                {"chat_id": query.message.chat.id, "message_id": query.message.message_id},
                at,
            )
        if outcome is None:
            await query.answer(TEXT_SUGGESTION_DONE)
        else:
            await query.answer(TEXT_SUGGESTION_PICKED if outcome.replies else TEXT_SUGGESTION_HELD)
    elif action == CALLBACK_EDIT:
        await query.answer(TEXT_EDIT_HINT, show_alert=True)
    else:
        await query.answer()
    sender.notify()


TEXT_SUGGESTION_PICKED = "已发送建议回复"
TEXT_SUGGESTION_HELD = "建议回复未通过检查,未发送"
TEXT_SUGGESTION_DONE = "这条建议已处理"


def build_router() -> Router:
    """Return a new agents router (one per Dispatcher), fenced to agents in the staff chat."""
    router = Router(name=__name__)
    router.message.filter(IsAgent())
    router.edited_message.filter(IsAgent())
    router.callback_query.filter(IsAgent())
    router.message(Command("check"))(check_draft)
    router.message(Command("r"))(send_script)
    router.message(Command("scripts"))(list_scripts)
    router.message(Command("close"))(close)
    router.message(Command("reopen"))(reopen)
    router.message(Command("ticket"))(ticket)
    router.message(Command("stats"))(stats)
    router.message(Inline(F.text.startswith("/")))(unknown_command)
    router.message()(answer)
    router.edited_message()(edited)
    router.callback_query(Inline(F.data.startswith("kefu:")))(button)
    return router
