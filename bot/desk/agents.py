"""The agent side of the desk: what happens to an agent's message, edit, button or command in a topic.

Every method takes the time as ``at`` and writes into the outbox (never calls Telegram): deliveries to
the customer and the bot's feedback in the customer's topic. Every agent message is checked by the
guard (through :meth:`bot.desk.customers.SupportDesk.on_agent_message`, which logs ``guard_events`` and fails
closed). An allowed message goes to the customer in exactly the words that were checked: a text is
sent again (``sendMessage`` with the checked text and entities), media are copied from the topic with
the checked caption passed explicitly (so a photo, document or voice goes as it is, but never with a
caption the agent edited in after the check). A blocked one is held back and the topic gets the
category, the agent's text with the matched words marked, the documented better wording and two
buttons. Every agent topic message is stored in ``staff_messages`` with its latest text, so an edit
is checked again before it reaches the customer.

Example::

    agents = AgentDesk(desk)
    result = agents.answer(AgentRef(7, "小王"), customer_id=42, staff_message_id=15, text="好的", at=at)
    result.allowed, result.delivery_id      # (True, 12): a sendMessage queued for the customer
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.desk.customers import SupportDesk
from bot.store.sqlite import Customer, StaffMessage, from_iso, to_iso
from bot.telegram import relay
from bot.telegram.buttons import (  # re-exported: the routers and tests use them from here
    CALLBACK_EDIT,
    CALLBACK_PICK,
    CALLBACK_SEND_ANYWAY,
    CALLBACK_SUGGEST,
    callback_data,
    parse_callback,
)
from guards import Hit, Verdict, mark_spans
from replies.calendar import festival
from replies.catalogue import MissingValue
from replies.hanzi import to_script

__all__ = [
    "BUTTON_EDIT",
    "BUTTON_SEND_ANYWAY",
    "BUTTON_SUGGEST",
    "CALLBACK_EDIT",
    "CALLBACK_PICK",
    "CALLBACK_SEND_ANYWAY",
    "CALLBACK_SUGGEST",
    "TEXT_BUTTON_REFUSED",
    "AgentDesk",
    "AgentRef",
    "AgentResult",
    "blocked_text",
    "callback_data",
    "checked_call",
    "edit_call",
    "mark_hits",
    "parse_callback",
]

log = logging.getLogger(__name__)

BUTTON_SUGGEST = "发送建议话术"
BUTTON_EDIT = "修改后重发"
BUTTON_SEND_ANYWAY = "仍然发送"  # only under a review-level hold (likely rude, not confident); audited
MARK_OPEN, MARK_CLOSE = "【", "】"
GUARD_ERROR_CATEGORY = "守卫故障"

TEXT_HELD = "⛔ 已拦截，未发送给客户"
TEXT_GUARD_FAILED = "⛔ 守卫检查失败，消息已拦截，未发送给客户。请稍后重发，或先用 /check 检查。"
TEXT_EDIT_HINT = "请直接编辑您被拦截的那条消息，修改后的内容会重新检查，通过后自动发送给客户。"
TEXT_EDIT_SYNCED = "✏️ 修改已通过检查并同步给客户"
TEXT_EDIT_HELD = "⛔ 修改未通过检查，客户看到的仍是修改前的内容"
TEXT_SUGGESTION_SENT = "✅ 已改为发送建议话术"
TEXT_NOTHING_TO_DO = "这条消息已处理，无需再次发送"
TEXT_BUTTON_REFUSED = "无效的按钮，未执行"
TEXT_REVIEW_HELD = "⚠️ 可能不礼貌，已暂缓发送：可发送建议话术、修改后重发，或确认后仍然发送（会记录）"
TEXT_SENT_ANYWAY = "✅ 已按原文发送（已记录）"
TEXT_NOT_ALLOWED = "可以发送 ✅"
TEXT_WOULD_BLOCK = "会被拦截 ⛔"
TEXT_WOULD_REVIEW = "可能不礼貌 ⚠️ 会暂缓发送（可确认后仍然发送，会记录）"


def mark_hits(text: str, hits: tuple[Hit, ...] | list[Hit]) -> str:
    """Return ``text`` with every matched span wrapped in 【】 (overlapping spans merged).

    >>> mark_hits("这个我不知道啊", [Hit("推卸语", "我不知道", "x", 100.0, 2, 6, "exact")])
    '这个【我不知道】啊'
    """
    return mark_spans(text, [(h.start, h.end) for h in hits], lambda piece: f"{MARK_OPEN}{piece}{MARK_CLOSE}")


def categories(verdict: Verdict) -> str:
    """Return the categories a verdict hit, in order of appearance, joined with 、."""
    return "、".join(dict.fromkeys(h.category for h in verdict.hits))


def blocked_text(text: str, verdict: Verdict, *, title: str = TEXT_HELD) -> str:
    """Return the topic notice for a held-back message: category, the marked text, the better wording."""
    lines = [title, f"类别：{categories(verdict)}", f"原文：{mark_hits(text, verdict.hits)}"]
    if verdict.suggestion:
        lines.append(f"建议话术：{verdict.suggestion}")
    return "\n".join(lines)[: relay.MAX_TEXT]


def checked_call(
    *,
    chat_id: int,
    staff_chat_id: int | None,
    staff_message_id: int,
    text: str,
    content_kind: str,
    entities: list[dict[str, Any]] | None = None,
    file_id: str | None = None,
    album: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """Return the ``(method, params)`` call that gives a customer an agent's message in the checked words.

    A plain copy would carry whatever the message says when it is sent, and the agent may have edited
    it since the check. So text goes as ``sendMessage`` with the checked text; captioned media as
    ``copyMessage`` with the checked caption passed explicitly; media that had no caption are sent by
    ``file_id`` (``sendPhoto``…: a copy cannot be told "no caption"); stickers and video notes, which
    carry no words and cannot be edited, as a plain copy. An album item (``album``: its media group)
    is always sent by ``file_id`` with its checked caption, so the sender can group the items in one
    ``sendMediaGroup`` (``copyMessages`` would carry whatever the captions say by then).

    >>> checked_call(chat_id=42, staff_chat_id=-100, staff_message_id=5, text="好的", content_kind="text")
    ('sendMessage', {'chat_id': 42, 'text': '好的'})
    """
    if content_kind == "text":
        params: dict[str, Any] = {"chat_id": chat_id, "text": text}
        if entities:
            params["entities"] = entities
        return "sendMessage", params
    if content_kind in relay.CAPTION_KINDS and file_id and (album is not None or not text):
        params = {"chat_id": chat_id, content_kind: file_id}
        if text:
            params["caption"] = text
            if entities:
                params["caption_entities"] = entities
        if album is not None:
            params[relay.ALBUM_KEY] = album
        return "send" + content_kind.capitalize(), params
    params = {"chat_id": chat_id, "from_chat_id": staff_chat_id, "message_id": staff_message_id}
    if content_kind in relay.CAPTION_KINDS and text:
        params["caption"] = text
        if entities:
            params["caption_entities"] = entities
    return "copyMessage", params


def edit_call(
    chat_id: int,
    target: dict[str, Any],
    text: str,
    content_kind: str,
    entities: list[dict[str, Any]] | None = None,
) -> tuple[str, dict[str, Any]]:
    """Return the ``editMessageText`` (text) or ``editMessageCaption`` (media) call putting checked words
    into the customer's message ``target`` (``{"message_id": …}``, or the queued message it will be)."""
    if content_kind == "text":
        method, field, entity_field = "editMessageText", "text", "entities"
    else:
        method, field, entity_field = "editMessageCaption", "caption", "caption_entities"
    params = {"chat_id": chat_id, **target, field: text}
    if entities:
        params[entity_field] = entities
    return method, params


def _keyboard(row_id: int, suggestion: str | None, *, review: bool = False) -> dict[str, Any]:
    buttons = []
    if suggestion:
        buttons.append({"text": BUTTON_SUGGEST, "callback_data": callback_data(CALLBACK_SUGGEST, row_id)})
    if review:
        anyway = callback_data(CALLBACK_SEND_ANYWAY, row_id)
        buttons.append({"text": BUTTON_SEND_ANYWAY, "callback_data": anyway})
    buttons.append({"text": BUTTON_EDIT, "callback_data": callback_data(CALLBACK_EDIT, row_id)})
    return {"inline_keyboard": [buttons]}


@dataclass(frozen=True)
class AgentRef:
    """Who acted: the agent's Telegram user id and display name."""

    user_id: int
    name: str | None = None


@dataclass(frozen=True)
class AgentResult:
    """What an agent action led to: allowed or not, the verdict, the rows queued (delivery, feedback)."""

    allowed: bool
    verdict: Verdict | None = None
    delivery_id: int | None = None
    feedback_id: int | None = None
    staff_row: StaffMessage | None = None
    text: str | None = None
    duplicate: bool = False


class AgentDesk:
    """Agent actions over the customer desk's storage and settings (see the module docstring)."""

    def __init__(self, desk: SupportDesk, staff_chat_id: int | None = None) -> None:
        self.desk = desk
        self.storage = desk.storage
        self.settings = desk.settings
        # The staff group the agent wrote in (KEFU_STAFF_CHAT_ID may list several); the primary by default.
        self.staff = staff_chat_id if staff_chat_id is not None else desk.settings.staff_chat_id

    # feedback in the staff chat --------------------------------------------------------------
    def feedback(
        self,
        text: str,
        at: datetime,
        *,
        customer_id: int | None = None,
        thread_id: int | None = None,
        reply_to: int | None = None,
        markup: dict[str, Any] | None = None,
    ) -> int | None:
        """Queue a bot message in the staff chat (a customer's topic, a thread or General); return its row."""
        params = self._feedback_params(
            text, customer_id=customer_id, thread_id=thread_id, reply_to=reply_to, markup=markup
        )
        if params is None:
            return None
        return self.storage.enqueue(self.staff, "sendMessage", params, at, customer_id=customer_id)

    def _feedback_params(
        self,
        text: str,
        *,
        customer_id: int | None = None,
        thread_id: int | None = None,
        reply_to: int | None = None,
        markup: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """Return the ``sendMessage`` parameters of a staff-chat feedback message (None: no staff chat)."""
        if self.staff is None:
            return None
        params: dict[str, Any] = {"chat_id": self.staff, "text": text[: relay.MAX_TEXT]}
        if customer_id is not None:
            params[relay.TOPIC_KEY] = customer_id
        elif thread_id is not None:
            params["message_thread_id"] = thread_id
        if reply_to is not None:
            params["reply_parameters"] = {"message_id": reply_to, "allow_sending_without_reply": True}
        if markup is not None:
            params["reply_markup"] = markup
        return params

    # an agent's message in a customer's topic ------------------------------------------------
    def answer(
        self,
        agent: AgentRef,
        customer_id: int,
        staff_message_id: int,
        text: str | None,
        at: datetime,
        *,
        content_kind: str = "text",
        album: str | None = None,
        entities: list[dict[str, Any]] | None = None,
        file_id: str | None = None,
    ) -> AgentResult:
        """Check an agent's topic message; send it (as checked) to the customer when allowed, else hold it.

        Media without a caption pass (``text`` None). ``entities`` are the text's (or caption's)
        formatting, as Bot API dicts; ``file_id`` the media's file (sent by id when it has no caption). A
        message already handled (a replayed update) is not handled again. The items of an album
        (``album``: its ``media_group_id``) are sent together, each in its checked words.
        """
        body = text or ""
        known = self.storage.staff_message(self.staff, staff_message_id)
        if known is not None and known.text == body:
            return AgentResult(allowed=known.status == "sent", staff_row=known, duplicate=True)
        customer = self._customer(customer_id)
        with self.storage.transaction():
            outcome = self.desk.on_agent_message(
                agent.user_id, agent.name, customer.id, body, at=at, deliver=False
            )
            if outcome.allowed:
                row = self.storage.save_staff_message(
                    staff_chat_id=self.staff,
                    staff_message_id=staff_message_id,
                    customer_id=customer.id,
                    agent_id=agent.user_id,
                    text=body,
                    content_kind=content_kind,
                    status="sent",
                    message_id=outcome.message_id,
                    at=at,
                )
                method, params = checked_call(
                    chat_id=customer.chat_id,
                    staff_chat_id=self.staff,
                    staff_message_id=staff_message_id,
                    text=body,
                    content_kind=content_kind,
                    entities=entities,
                    file_id=file_id,
                    album=album,
                )
                delivery = self.storage.enqueue(
                    customer.chat_id,
                    method,
                    params,
                    at,
                    customer_id=customer.id,
                    message_id=outcome.message_id,
                )
                return AgentResult(True, outcome.verdict, delivery_id=delivery, staff_row=row, text=body)
            return self._hold(agent, customer, staff_message_id, body, content_kind, outcome.verdict, at)

    def edit(
        self,
        agent: AgentRef,
        staff_message_id: int,
        text: str | None,
        at: datetime,
        *,
        content_kind: str = "text",
        entities: list[dict[str, Any]] | None = None,
        file_id: str | None = None,
    ) -> AgentResult | None:
        """Check an edited agent message again; return None when the message is not a stored agent answer.

        A held message that now passes is sent to the customer; an edit of an answer already sent (or
        still queued) is applied to the customer's message (``editMessageText``/``editMessageCaption``)
        only when it passes. A failing edit changes nothing the customer sees.
        """
        row = self.storage.staff_message(self.staff, staff_message_id)
        if row is None or row.status == "command":
            return None
        body = text or ""
        if body == row.text:
            return AgentResult(allowed=row.status == "sent", staff_row=row, duplicate=True)
        if row.status == "suggested":  # the documented wording went instead: nothing more to send
            return AgentResult(False, staff_row=row, text=TEXT_NOTHING_TO_DO)
        if row.message_id is None:  # held back so far: the edit is a new attempt
            return self.answer(
                agent,
                row.customer_id,
                staff_message_id,
                body,
                at,
                content_kind=content_kind,
                entities=entities,
                file_id=file_id,
            )
        customer = self._customer(row.customer_id)
        verdict = self._check_logged(agent, customer.id, body, at)
        with self.storage.transaction():
            if verdict is None or not verdict.allowed:
                # The customer keeps the words checked before (queued or sent); the blocked ones are
                # remembered for the buttons. (_check_logged already recorded the check, a failed one too.)
                return self._hold(
                    agent,
                    customer,
                    staff_message_id,
                    body,
                    content_kind,
                    verdict,
                    at,
                    status="edit_held",
                    title=TEXT_EDIT_HELD,
                    log_failure=False,
                )
            previous = self.storage.message(row.message_id) if row.message_id else None
            message_id = self.storage.add_message(
                customer_id=customer.id,
                conversation_id=previous["conversation_id"] if previous else None,
                direction="out",
                sender="agent",
                agent_id=agent.user_id,
                text=body,
                content_kind=content_kind,
                chat_id=customer.chat_id,
                version=(previous["version"] + 1) if previous else 2,
                edit_of=row.message_id,
                at=at,
            )
            saved = self.storage.save_staff_message(
                staff_chat_id=self.staff,
                staff_message_id=staff_message_id,
                customer_id=customer.id,
                agent_id=agent.user_id,
                text=body,
                content_kind=content_kind,
                status="sent",
                at=at,
            )
            delivery = fid = None
            if content_kind == "text" or content_kind in relay.CAPTION_KINDS:
                sent_id = previous["telegram_message_id"] if previous else None
                # Still queued: the edit goes after it and finds the customer's message id then.
                target = {"message_id": sent_id} if sent_id else {relay.EDIT_OF_KEY: row.message_id}
                method, params = edit_call(customer.chat_id, target, body, content_kind, entities)
                # 「修改已同步」 only once Telegram confirmed the edit: the sender queues it then.
                synced = self._feedback_params(
                    TEXT_EDIT_SYNCED, customer_id=customer.id, reply_to=staff_message_id
                )
                if synced is not None:
                    params[relay.AFTER_KEY] = {
                        "method": "sendMessage",
                        "params": synced,
                        "customer_id": customer.id,
                    }
                delivery = self.storage.enqueue(
                    customer.chat_id, method, params, at, customer_id=customer.id, message_id=message_id
                )
            else:
                fid = self.feedback(TEXT_EDIT_SYNCED, at, customer_id=customer.id, reply_to=staff_message_id)
            return AgentResult(
                True, verdict, delivery_id=delivery, feedback_id=fid, staff_row=saved, text=body
            )

    def send_suggestion(
        self, agent: AgentRef, row_id: int, at: datetime, *, under: tuple[int | None, int | None]
    ) -> AgentResult:
        """Send the documented better wording of a held message instead (the 发送建议话术 button).

        ``under`` is ``(chat id, id of the message replied to)`` of the notice the button sits on: the
        notice replies to the held message, so a button whose row is another message is refused.
        """
        row = self.storage.staff_message_by_id(row_id)
        if row is not None and (row.staff_chat_id, row.staff_message_id) != under:
            log.warning(
                "button press refused: row %s is not the message its notice replies to (%s)", row_id, under
            )
            return AgentResult(False, text=TEXT_BUTTON_REFUSED)
        if row is None or row.status not in ("held", "edit_held") or not row.suggestion:
            return AgentResult(False, text=TEXT_NOTHING_TO_DO)
        result = self._send_text(agent, row.customer_id, row.suggestion, at, label=TEXT_SUGGESTION_SENT)
        if result.allowed:
            self.storage.update_staff_message(row.id, status="suggested", updated_at=to_iso(at))
        return result

    def send_anyway(
        self, agent: AgentRef, row_id: int, at: datetime, *, under: tuple[int | None, int | None]
    ) -> AgentResult:
        """Send a review-level held message as the agent wrote it (the 仍然发送 button), audited.

        Only a message held at the ``review`` level (and not yet sent) goes; the guard is asked again,
        and the send is recorded in ``guard_events`` as ``agent_override`` with the agent who pressed.
        The customer gets the stored, checked words (``sendMessage``, or the media with that caption).
        ``under`` is as for :meth:`send_suggestion`: a button under another message is refused.
        """
        row = self.storage.staff_message_by_id(row_id)
        if row is not None and (row.staff_chat_id, row.staff_message_id) != under:
            log.warning(
                "button press refused: row %s is not the message its notice replies to (%s)", row_id, under
            )
            return AgentResult(False, text=TEXT_BUTTON_REFUSED)
        if row is None or row.status != "held" or row.message_id is not None:
            return AgentResult(False, text=TEXT_NOTHING_TO_DO)
        customer = self._customer(row.customer_id)
        with self.storage.transaction():
            outcome = self.desk.on_agent_message(
                agent.user_id, agent.name, customer.id, row.text, at=at, deliver=False, send_anyway=True
            )
            if not outcome.allowed:
                return AgentResult(False, outcome.verdict, text=TEXT_NOTHING_TO_DO)
            self.storage.update_staff_message(
                row.id, status="sent", message_id=outcome.message_id, updated_at=to_iso(at)
            )
            method, params = checked_call(
                chat_id=customer.chat_id,
                staff_chat_id=self.staff,
                staff_message_id=row.staff_message_id,
                text=row.text or "",
                content_kind=row.content_kind,
            )
            delivery = self.storage.enqueue(
                customer.chat_id, method, params, at, customer_id=customer.id, message_id=outcome.message_id
            )
            fid = self.feedback(TEXT_SENT_ANYWAY, at, customer_id=customer.id, reply_to=row.staff_message_id)
        return AgentResult(True, outcome.verdict, delivery_id=delivery, feedback_id=fid, text=row.text)

    # commands --------------------------------------------------------------------------------
    def first_time(
        self, agent: AgentRef, customer_id: int, staff_message_id: int, text: str, at: datetime
    ) -> bool:
        """Return True the first time a topic command is seen (and note it); False for a replayed update.

        Commands that send something to the customer (``/r``, ``/close``) must not run twice after a crash.
        """
        if self.storage.staff_message(self.staff, staff_message_id) is not None:
            return False
        self.storage.save_staff_message(
            staff_chat_id=self.staff,
            staff_message_id=staff_message_id,
            customer_id=customer_id,
            agent_id=None,
            text=text,
            content_kind="text",
            status="command",
            at=at,
        )
        return True

    def draft(self, agent: AgentRef, text: str, at: datetime) -> str:
        """Check a draft (``/check TEXT``): log the check, send nothing; return the verdict as a notice."""
        stored = self.storage.agent(agent.user_id, agent.name, at)
        try:
            verdict = self.desk.cores.guard.check(text)
        except Exception as exc:
            log.exception("guard failed on a draft")
            return f"{TEXT_GUARD_FAILED} ({type(exc).__name__})"
        self.storage.add_guard_event(
            source="draft",
            agent_id=stored.id,
            text=text,
            allowed=verdict.allowed,
            hits=verdict.to_dict()["hits"],
            suggestion=verdict.suggestion,
            at=at,
        )
        if verdict.allowed:
            return TEXT_NOT_ALLOWED
        title = TEXT_WOULD_REVIEW if verdict.level == "review" else TEXT_WOULD_BLOCK
        return blocked_text(text, verdict, title=title)

    def script_values(self, agent: AgentRef, customer_id: int, at: datetime) -> dict[str, Any]:
        """Return the placeholder values a script sent by this agent to this customer can use."""
        ticket = self.storage.open_ticket(customer_id)
        return {
            "shop": self.settings.shop_name,
            "hours": self.settings.business_hours_text,
            "agent_no": self.storage.agent(agent.user_id, agent.name, at).number,
            "ticket": ticket.number if ticket else None,
        }

    def send_script(self, agent: AgentRef, customer_id: int, spec: str, at: datetime) -> AgentResult:
        """Send the documented script ``KEY`` or ``KEY.VARIANT`` with its placeholders filled (``/r``), in the
        customer's reply script (``KEFU_REPLY_SCRIPT``); return what happened."""
        key, _, variant = spec.strip().partition(".")
        try:
            text = self.desk.cores.render(
                key, variant=variant or None, **self.script_values(agent, customer_id, at)
            )
            text = to_script(text, self.desk.reply_script(customer_id))
        except MissingValue as exc:
            return AgentResult(False, text=f"无法发送「{spec}」：缺少 {exc}")
        except KeyError:
            return AgentResult(False, text=f"没有话术「{spec}」，/scripts 查看全部")
        return self._send_text(agent, customer_id, text, at, label=f"📤 已发送话术「{spec}」")

    def scripts_text(self) -> str:
        """Return the list of script keys (with variants) and the start of each text (``/scripts``)."""
        lines = ["话术列表（/r 键名 发送，变体用 键名.变体）："]
        for script in self.desk.cores.scripts:
            variants = "".join(f" .{v}" for v in script.variants)
            preview = script.text if len(script.text) <= 18 else script.text[:17] + "…"
            lines.append(f"{script.key}{variants} — {preview}")
        return "\n".join(lines)[: relay.MAX_TEXT]

    def close(self, agent: AgentRef, customer_id: int, at: datetime) -> AgentResult:
        """Send the documented closing (festival variant on festival days); close ticket and conversation."""
        closing = self.desk.cores.render(
            "closing", variant=festival(at.astimezone(self.settings.zone).date())
        )
        closing = to_script(closing, self.desk.reply_script(customer_id))
        with self.storage.transaction():
            result = self._send_text(agent, customer_id, closing, at, label="📤 已发送结束语")
            if not result.allowed:
                return result
            closed = []
            while (ticket := self.storage.open_ticket(customer_id)) is not None:
                self.storage.update_ticket(ticket.id, status="closed", closed_at=to_iso(at))
                closed.append(ticket.number)
            conv = self.storage.current_conversation(customer_id, at)
            self.storage.update_conversation(
                conv.id, status="closed", closed_at=to_iso(at), waiting_since=None, busy_sent_at=None
            )
            note = "会话已关闭" + (f"，工单 {'、'.join(closed)} 已关闭" if closed else "")
            fid = self.feedback(f"✅ {note}", at, customer_id=customer_id)
        return AgentResult(True, result.verdict, delivery_id=result.delivery_id, feedback_id=fid, text=note)

    def reopen(self, customer_id: int, at: datetime) -> str:
        """Reopen a conversation the uncivil ladder closed (``/reopen``); return the notice for the topic."""
        if self.desk.reopen(customer_id, at):
            return "✅ 会话已重新打开，机器人恢复自动回复"
        return "当前会话未因不文明用语关闭，无需重新打开"

    def ticket_text(self, customer_id: int, at: datetime) -> str:
        """Return the customer's open ticket with its due times (``/ticket``), or say there is none."""
        ticket = self.storage.open_ticket(customer_id)
        if ticket is None:
            return "该客户没有未关闭的工单"
        zone = self.settings.zone

        def local(value: str | None) -> str:
            when = from_iso(value)
            return "—" if when is None else when.astimezone(zone).strftime("%Y-%m-%d %H:%M")

        lines = [f"工单 {ticket.number}（{'加急' if ticket.urgent else '普通'}，催办 {ticket.followups} 次）"]
        lines.append(f"创建：{local(ticket.created_at)}")
        if ticket.answered_at is None:
            due = from_iso(ticket.due_answer_at)
            late = " ⚠️已超时" if due is not None and at > due else ""
            lines.append(f"答复期限：{local(ticket.due_answer_at)}{late}")
        else:
            lines.append(f"已答复：{local(ticket.answered_at)}")
        settle = from_iso(ticket.due_settle_at)
        late = " ⚠️已超时" if settle is not None and at > settle else ""
        lines.append(f"处理完毕期限：{local(ticket.due_settle_at)}{late}")
        return "\n".join(lines)

    # internals -------------------------------------------------------------------------------
    def _customer(self, customer_id: int) -> Customer:
        customer = self.storage.customer(customer_id)
        if customer is None:
            raise LookupError(f"unknown customer {customer_id}")
        return customer

    def _hold(
        self,
        agent: AgentRef,
        customer: Customer,
        staff_message_id: int,
        text: str,
        content_kind: str,
        verdict: Verdict | None,
        at: datetime,
        *,
        status: str = "held",
        title: str = TEXT_HELD,
        log_failure: bool = True,
    ) -> AgentResult:
        """Keep an agent message back: record it, and tell the topic why with the better wording."""
        if verdict is None and log_failure:  # the guard failed: held back, and the failure on record
            self.storage.add_guard_event(
                source="agent",
                agent_id=agent.user_id,
                customer_id=customer.id,
                text=text,
                allowed=False,
                hits=[],
                suggestion=None,
                at=at,
            )
        row = self.storage.save_staff_message(
            staff_chat_id=self.staff,
            staff_message_id=staff_message_id,
            customer_id=customer.id,
            agent_id=agent.user_id,
            text=text,
            content_kind=content_kind,
            status=status,
            suggestion=verdict.suggestion if verdict else None,
            category=categories(verdict) if verdict else GUARD_ERROR_CATEGORY,
            at=at,
        )
        if verdict is None:
            fid = self.feedback(TEXT_GUARD_FAILED, at, customer_id=customer.id, reply_to=staff_message_id)
        else:
            review = verdict.level == "review" and status == "held"
            fid = self.feedback(
                blocked_text(text, verdict, title=TEXT_REVIEW_HELD if review else title),
                at,
                customer_id=customer.id,
                reply_to=staff_message_id,
                markup=_keyboard(row.id, verdict.suggestion, review=review),
            )
        return AgentResult(False, verdict, feedback_id=fid, staff_row=row, text=text)

    def _check_logged(self, agent: AgentRef, customer_id: int, text: str, at: datetime) -> Verdict | None:
        stored = self.storage.agent(agent.user_id, agent.name, at)
        try:
            verdict = self.desk.cores.guard.check(text)
        except Exception:
            log.exception("guard failed on an edited agent message; held back")
            verdict = None
        self.storage.add_guard_event(
            source="agent",
            agent_id=stored.id,
            customer_id=customer_id,
            text=text,
            allowed=bool(verdict and verdict.allowed),
            hits=verdict.to_dict()["hits"] if verdict else [],
            suggestion=verdict.suggestion if verdict else None,
            at=at,
        )
        return verdict

    def _send_text(
        self, agent: AgentRef, customer_id: int, text: str, at: datetime, *, label: str
    ) -> AgentResult:
        """Send bot-composed words for the agent (a script, a suggestion): guarded, recorded, queued."""
        self._customer(customer_id)
        with self.storage.transaction():
            outcome = self.desk.on_agent_message(agent.user_id, agent.name, customer_id, text, at=at)
            if not outcome.allowed:
                notice = blocked_text(text, outcome.verdict) if outcome.verdict else TEXT_GUARD_FAILED
                fid = self.feedback(notice, at, customer_id=customer_id)
                return AgentResult(False, outcome.verdict, feedback_id=fid, text=text)
            fid = self.feedback(f"{label}:\n{text}", at, customer_id=customer_id)
        return AgentResult(True, outcome.verdict, delivery_id=outcome.outbox_id, feedback_id=fid, text=text)
