"""The agent side of the desk: what happens to an agent's message, edit, button or command in a topic.

Every method takes the time as ``at`` and writes into the outbox (never calls Telegram): deliveries to
the customer and the bot's feedback in the customer's topic. Every agent message is checked by the
guard (:meth:`AgentDesk.on_agent_message`, which logs ``guard_events`` and fails
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
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot.desk import texts
from bot.desk.customers import SupportDesk
from bot.desk.verdicts import guard_event
from bot.store.records import Customer, StaffMessage, from_iso, to_iso
from bot.telegram import relay
from bot.telegram.buttons import (  # re-exported: the routers and tests use them from here
    CALLBACK_EDIT,
    CALLBACK_PICK,
    CALLBACK_SEND_ANYWAY,
    CALLBACK_SUGGEST,
    callback_data,
    parse_callback,
)
from guards import Verdict
from replies.calendar import festival
from replies.catalogue import MissingValue
from replies.hanzi import to_script

__all__ = [
    "CALLBACK_EDIT",
    "CALLBACK_PICK",
    "CALLBACK_SEND_ANYWAY",
    "CALLBACK_SUGGEST",
    "AgentDesk",
    "AgentOutcome",
    "AgentRef",
    "AgentResult",
    "blocked_text",
    "callback_data",
    "checked_call",
    "edit_call",
    "parse_callback",
]

log = logging.getLogger(__name__)


def blocked_text(text: str, verdict: Verdict, *, title: str = texts.TEXT_HELD) -> str:
    """Return the topic notice for a held-back message, cut to what one Telegram message holds."""
    return texts.held_notice(text, verdict, title=title)[: relay.MAX_TEXT]


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
        suggest = callback_data(CALLBACK_SUGGEST, row_id)
        buttons.append({"text": texts.BUTTON_SUGGEST, "callback_data": suggest})
    if review:
        anyway = callback_data(CALLBACK_SEND_ANYWAY, row_id)
        buttons.append({"text": texts.BUTTON_SEND_ANYWAY, "callback_data": anyway})
    buttons.append({"text": texts.BUTTON_EDIT, "callback_data": callback_data(CALLBACK_EDIT, row_id)})
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


@dataclass(frozen=True)
class AgentOutcome:
    """An agent's words after the guard: the verdict, and the stored/queued rows when they were allowed."""

    allowed: bool
    verdict: Verdict | None  # None when the guard failed (fail closed)
    agent_no: str
    message_id: int | None = None
    outbox_id: int | None = None
    error: str | None = None


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

    # an agent's words: checked, logged, recorded -----------------------------------------------
    def on_agent_message(
        self,
        agent_user_id: int,
        agent_name: str | None,
        customer_user_id: int,
        text: str,
        *,
        at: datetime,
        send_anyway: bool = False,
    ) -> AgentOutcome:
        """Check an agent's answer with the guard and log the check; when allowed, record it and queue it
        for the customer as ``sendMessage`` in the checked words. Return the outcome.

        A guard failure holds the message back (fail closed). ``send_anyway``: the agent pressed 仍然发送
        on a held message; a ``review``-level verdict (likely rude, not confident) then lets it through,
        recorded as ``source='agent_override'`` with the agent.
        """
        with self.storage.transaction():
            outcome, customer = self._checked(
                agent_user_id, agent_name, customer_user_id, text, at, send_anyway
            )
            if not outcome.allowed:
                return outcome
            outbox_id = self.storage.enqueue(
                customer.chat_id,
                "sendMessage",
                {"chat_id": customer.chat_id, "text": text},
                at,
                customer_id=customer.id,
                message_id=outcome.message_id,
            )
        return replace(outcome, outbox_id=outbox_id)

    def _checked(
        self,
        agent_user_id: int,
        agent_name: str | None,
        customer_user_id: int,
        text: str,
        at: datetime,
        send_anyway: bool = False,
    ) -> tuple[AgentOutcome, Customer]:
        """Check and log an agent's words; when allowed, record them as the agent's answer (the caller
        queues the delivery: a text again, or media by copy with the checked caption)."""
        agent = self.storage.agent(agent_user_id, agent_name, at)
        customer = self.storage.customer(customer_user_id)
        if customer is None:
            raise LookupError(f"unknown customer {customer_user_id}")
        try:
            # remembered: the outbound guard checks the text again (alone: a context only raises a review)
            verdict = self.desk.cores.check(text, self.storage.last_customer_text(customer.id))
        except Exception as exc:
            log.exception("guard failed on an agent message; held back")
            return AgentOutcome(allowed=False, verdict=None, agent_no=agent.number, error=repr(exc)), customer
        overridden = send_anyway and verdict.level == "review"
        source = "agent_override" if overridden else "agent"
        allowed = verdict.allowed or overridden
        with self.storage.transaction():
            self.storage.add_guard_event(
                **guard_event(
                    source, text, verdict, at, agent_id=agent.id, customer_id=customer.id, allowed=allowed
                )
            )
            if not allowed:
                return AgentOutcome(allowed=False, verdict=verdict, agent_no=agent.number), customer
            message_id = self._record_answer(agent.id, customer, text, at)
        return AgentOutcome(
            allowed=True, verdict=verdict, agent_no=agent.number, message_id=message_id
        ), customer

    def _record_answer(self, agent_id: int, customer: Customer, text: str, at: datetime) -> int:
        """Store the agent's answer and what it changes (the customer no longer waits, a ticket is answered,
        the scripts still offered are ignored); return the stored message's id."""
        conv = self.storage.current_conversation(customer.id, at)
        message_id = self.storage.add_message(
            customer_id=customer.id,
            conversation_id=conv.id,
            direction="out",
            sender="agent",
            agent_id=agent_id,
            text=text,
            chat_id=customer.chat_id,
            at=at,
        )
        self.storage.update_conversation(
            conv.id, last_agent_at=to_iso(at), waiting_since=None, busy_sent_at=None, agent_id=agent_id
        )
        ticket = self.storage.open_ticket(customer.id)
        if ticket is not None and ticket.answered_at is None:
            self.storage.update_ticket(ticket.id, answered_at=to_iso(at))
        # The agent answered in their own words: the scripts still offered were not their choice.
        self.storage.decide_suggestions(customer.id, "ignored", at, agent_id=agent_id)
        return message_id

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
            outcome, _ = self._checked(agent.user_id, agent.name, customer.id, body, at)
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
            return AgentResult(False, staff_row=row, text=texts.TEXT_NOTHING_TO_DO)
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
                    title=texts.TEXT_EDIT_HELD,
                    log_failure=False,
                )
            previous = self.storage.message(row.message_id) if row.message_id else None
            message_id = self.storage.add_message(
                customer_id=customer.id,
                conversation_id=previous.conversation_id if previous else None,
                direction="out",
                sender="agent",
                agent_id=agent.user_id,
                text=body,
                content_kind=content_kind,
                chat_id=customer.chat_id,
                version=(previous.version + 1) if previous else 2,
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
                sent_id = previous.telegram_message_id if previous else None
                # Still queued: the edit goes after it and finds the customer's message id then.
                target = {"message_id": sent_id} if sent_id else {relay.EDIT_OF_KEY: row.message_id}
                method, params = edit_call(customer.chat_id, target, body, content_kind, entities)
                # 「修改已同步」 only once Telegram confirmed the edit: the sender queues it then.
                synced = self._feedback_params(
                    texts.TEXT_EDIT_SYNCED, customer_id=customer.id, reply_to=staff_message_id
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
                fid = self.feedback(
                    texts.TEXT_EDIT_SYNCED, at, customer_id=customer.id, reply_to=staff_message_id
                )
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
            return AgentResult(False, text=texts.TEXT_BUTTON_REFUSED)
        if row is None or row.status not in ("held", "edit_held") or not row.suggestion:
            return AgentResult(False, text=texts.TEXT_NOTHING_TO_DO)
        result = self._send_text(agent, row.customer_id, row.suggestion, at, label=texts.TEXT_SUGGESTION_SENT)
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
            return AgentResult(False, text=texts.TEXT_BUTTON_REFUSED)
        if row is None or row.status != "held" or row.message_id is not None:
            return AgentResult(False, text=texts.TEXT_NOTHING_TO_DO)
        customer = self._customer(row.customer_id)
        with self.storage.transaction():
            outcome, _ = self._checked(agent.user_id, agent.name, customer.id, row.text, at, send_anyway=True)
            if not outcome.allowed:
                return AgentResult(False, outcome.verdict, text=texts.TEXT_NOTHING_TO_DO)
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
            fid = self.feedback(
                texts.TEXT_SENT_ANYWAY, at, customer_id=customer.id, reply_to=row.staff_message_id
            )
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

    def draft(self, agent: AgentRef, text: str, at: datetime, customer_id: int | None = None) -> str:
        """Check a draft (``/check TEXT``): log the check, send nothing; return the verdict as a notice.

        ``customer_id``: the customer whose topic the draft was checked in; the draft is then judged as an
        answer to that customer's last message, as it would be if sent.
        """
        stored = self.storage.agent(agent.user_id, agent.name, at)
        context = self.storage.last_customer_text(customer_id) if customer_id is not None else None
        try:
            verdict = self.desk.cores.check(text, context)
        except Exception as exc:
            log.exception("guard failed on a draft")
            return f"{texts.TEXT_GUARD_FAILED} ({type(exc).__name__})"
        self.storage.add_guard_event(**guard_event("draft", text, verdict, at, agent_id=stored.id))
        if verdict.allowed:
            return texts.TEXT_ALLOWED
        title = texts.TEXT_WOULD_REVIEW if verdict.level == "review" else texts.TEXT_WOULD_BLOCK
        return blocked_text(text, verdict, title=title)

    def script_values(self, agent: AgentRef, customer_id: int, at: datetime) -> dict[str, Any]:
        """Return the placeholder values a script sent by this agent to this customer can use."""
        ticket = self.storage.open_ticket(customer_id)
        return {
            "shop": self.settings.shop_name,
            "hours": self.desk.schedule.hours_text,
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
            return AgentResult(False, text=texts.SCRIPT_MISSING_VALUE.format(spec=spec, missing=exc))
        except KeyError:
            return AgentResult(False, text=texts.SCRIPT_UNKNOWN.format(spec=spec))
        return self._send_text(agent, customer_id, text, at, label=texts.SCRIPT_SENT.format(spec=spec))

    def scripts_text(self) -> str:
        """Return the list of script keys (with variants) and the start of each text (``/scripts``)."""
        lines = [texts.SCRIPTS_HEADER]
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
            result = self._send_text(agent, customer_id, closing, at, label=texts.CLOSING_SENT)
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
            note = texts.CONVERSATION_CLOSED + (
                texts.TICKETS_CLOSED.format(numbers="、".join(closed)) if closed else ""
            )
            fid = self.feedback(f"✅ {note}", at, customer_id=customer_id)
        return AgentResult(True, result.verdict, delivery_id=result.delivery_id, feedback_id=fid, text=note)

    def reopen(self, customer_id: int, at: datetime) -> str:
        """Reopen a conversation the uncivil ladder closed (``/reopen``); return the notice for the topic."""
        if self.desk.reopen(customer_id, at):
            return texts.REOPENED
        return texts.NOT_CLOSED_FOR_INCIVILITY

    def ticket_text(self, customer_id: int, at: datetime) -> str:
        """Return the customer's open ticket with its due times (``/ticket``), or say there is none."""
        ticket = self.storage.open_ticket(customer_id)
        if ticket is None:
            return texts.NO_OPEN_TICKET
        zone = self.settings.zone

        def local(value: str | None) -> str:
            when = from_iso(value)
            return texts.NO_TIME if when is None else when.astimezone(zone).strftime("%Y-%m-%d %H:%M")

        urgency = texts.TICKET_URGENT if ticket.urgent else texts.TICKET_NORMAL
        lines = [
            texts.TICKET_HEADER.format(number=ticket.number, urgency=urgency, followups=ticket.followups)
        ]
        lines.append(texts.TICKET_CREATED.format(at=local(ticket.created_at)))
        if ticket.answered_at is None:
            due = from_iso(ticket.due_answer_at)
            late = texts.OVERDUE if due is not None and at > due else ""
            lines.append(texts.TICKET_DUE_ANSWER.format(at=local(ticket.due_answer_at), late=late))
        else:
            lines.append(texts.TICKET_ANSWERED.format(at=local(ticket.answered_at)))
        settle = from_iso(ticket.due_settle_at)
        late = texts.OVERDUE if settle is not None and at > settle else ""
        lines.append(texts.TICKET_DUE_SETTLE.format(at=local(ticket.due_settle_at), late=late))
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
        title: str = texts.TEXT_HELD,
        log_failure: bool = True,
    ) -> AgentResult:
        """Keep an agent message back: record it, and tell the topic why with the better wording."""
        if verdict is None and log_failure:  # the guard failed: held back, and the failure on record
            event = guard_event("agent", text, None, at, agent_id=agent.user_id, customer_id=customer.id)
            self.storage.add_guard_event(**event)
        row = self.storage.save_staff_message(
            staff_chat_id=self.staff,
            staff_message_id=staff_message_id,
            customer_id=customer.id,
            agent_id=agent.user_id,
            text=text,
            content_kind=content_kind,
            status=status,
            suggestion=verdict.suggestion if verdict else None,
            category=texts.categories_text(verdict) if verdict else texts.GUARD_ERROR_CATEGORY,
            at=at,
        )
        if verdict is None:
            fid = self.feedback(
                texts.TEXT_GUARD_FAILED, at, customer_id=customer.id, reply_to=staff_message_id
            )
        else:
            review = verdict.level == "review" and status == "held"
            fid = self.feedback(
                blocked_text(text, verdict, title=texts.TEXT_REVIEW_HELD if review else title),
                at,
                customer_id=customer.id,
                reply_to=staff_message_id,
                markup=_keyboard(row.id, verdict.suggestion, review=review),
            )
        return AgentResult(False, verdict, feedback_id=fid, staff_row=row, text=text)

    def _check_logged(self, agent: AgentRef, customer_id: int, text: str, at: datetime) -> Verdict | None:
        stored = self.storage.agent(agent.user_id, agent.name, at)
        try:
            verdict = self.desk.cores.check(text, self.storage.last_customer_text(customer_id))
        except Exception:
            log.exception("guard failed on an edited agent message; held back")
            verdict = None
        self.storage.add_guard_event(
            **guard_event("agent", text, verdict, at, agent_id=stored.id, customer_id=customer_id)
        )
        return verdict

    def _send_text(
        self, agent: AgentRef, customer_id: int, text: str, at: datetime, *, label: str
    ) -> AgentResult:
        """Send bot-composed words for the agent (a script, a suggestion): guarded, recorded, queued."""
        self._customer(customer_id)
        with self.storage.transaction():
            outcome = self.on_agent_message(agent.user_id, agent.name, customer_id, text, at=at)
            if not outcome.allowed:
                notice = blocked_text(text, outcome.verdict) if outcome.verdict else texts.TEXT_GUARD_FAILED
                fid = self.feedback(notice, at, customer_id=customer_id)
                return AgentResult(False, outcome.verdict, feedback_id=fid, text=text)
            fid = self.feedback(f"{label}:\n{text}", at, customer_id=customer_id)
        return AgentResult(True, outcome.verdict, delivery_id=outcome.outbox_id, feedback_id=fid, text=text)
