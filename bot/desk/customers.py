"""The support desk: what the bot does with each customer message, shared by the Telegram bot and the demo.

Every method takes the time as ``at`` (aware datetime); nothing here reads a clock. A customer message
is stored first (committed), then classified; the desk reads a frozen snapshot of the conversation
(:meth:`SupportDesk.snapshot`) and the pure policy :func:`replies.policy.decide` returns the whole
plan (scripts, ticket, state changes, notices, suggestions). The plan is applied in one write step:
the replies, their message records, the ticket, the staff-topic relay, the suggestions (with a
one-tap button) and the state changes go in one transaction into the outbox, from which
:mod:`bot.telegram.sender` (or the demo) delivers them. Every reply the desk writes passes the guard first
(defence in depth): a blocked own reply is logged in ``guard_events`` and not queued.

Example::

    desk = SupportDesk(storage, settings)
    outcome = desk.on_customer_message(CustomerRef(42, 42, "张三"), "你好", at=at)
    [r.text for r in outcome.replies]   # ['您好，很高兴为您服务！'] (KEFU_SHOP_NAME unset)
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.desk import texts
from bot.desk.cores import Cores
from bot.desk.verdicts import guard_event
from bot.ops.settings import DeskSettings, Settings
from bot.store.protocol import Store
from bot.store.records import Conversation, Customer, from_iso, to_iso
from bot.telegram import relay
from bot.telegram.buttons import CALLBACK_PICK, callback_data
from bot.telegram.kinds import SUBSTANTIVE_KINDS
from bot.telegram.staffgroups import StaffGroups
from replies.faq import with_faq
from replies.hanzi import reply_script_for, to_script
from replies.policy import (
    ConversationState,
    Message,
    Plan,
    Send,
    Suggestion,
    TicketState,
    accept,
    decide,
)
from replies.router import Intent
from replies.schedule import Schedule

__all__ = [
    "CustomerRef",
    "Outcome",
    "Reply",
    "SupportDesk",
]

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class CustomerRef:
    """Who wrote: Telegram user id, private chat id, display name and @username."""

    user_id: int
    chat_id: int
    name: str | None = None
    username: str | None = None


@dataclass(frozen=True)
class Reply:
    """One reply the desk decided on: script key and variant, text, and its outbox row (None if held back)."""

    key: str
    variant: str | None
    text: str
    outbox_id: int | None


@dataclass(frozen=True)
class Outcome:
    """What one customer message led to: stored row, intent, replies queued, notices for the staff topic."""

    message_id: int
    conversation_id: int
    intent: str | None
    off_hours: bool
    replies: tuple[Reply, ...] = ()
    notices: tuple[str, ...] = ()
    held_back: tuple[Reply, ...] = ()
    version: int = 1
    ticket: str | None = None
    confidence: float | None = None
    suggestions: tuple[int, ...] = ()  # suggestion rows offered to the agents
    duplicate: bool = False  # the message was already stored (a replayed update): nothing new happened
    banned: bool = False  # the customer is banned (/ban): stored only, neither answered nor relayed


class SupportDesk:
    """The decision logic over one storage: customer messages, busy replies, agent answers."""

    def __init__(
        self,
        storage: Store,
        settings: Settings | DeskSettings,
        schedule: Schedule | None = None,
        *,
        cores: Cores | None = None,
    ) -> None:
        self.storage = storage
        self.settings = settings = DeskSettings.of(settings)  # only what the desk reads
        self.schedule = schedule or settings.schedule
        # The guard, classifier, scripts, FAQ and policy (the installed ones by default); a reload swaps it.
        self.cores = cores or Cores.installed()
        self.zone = settings.zone
        self.groups = StaffGroups(storage, settings)  # the runner gives it the sender's relay budget

    # customer side ---------------------------------------------------------------------------
    def on_customer_message(
        self,
        customer: CustomerRef,
        text: str | None,
        content_kind: str = "text",
        *,
        at: datetime,
        telegram_message_id: int | None = None,
        entities: list[dict[str, Any]] | None = None,
        album: str | None = None,
        now: datetime | None = None,
        fresh: bool = False,
    ) -> Outcome:
        """Store, decide and queue the replies for one customer message; return what happened.

        ``at`` is when the customer wrote, ``now`` when it is handled (later after downtime: an
        off-hours notice is then decided for ``now``, see :func:`replies.policy.decide`).

        ``text`` is the message text or the media caption (None for a sticker or media without one);
        ``entities`` its formatting (kept in the relay). With ``telegram_message_id`` and a staff chat
        configured, the message is relayed to the customer's topic. The items of an album (``album``: its
        ``media_group_id``) are one message: the first item, and the first with a caption, are decided
        on; the others are only stored and relayed (the relay copies the album in one call).

        A message already stored (its update replayed after a crash) is not stored or answered again. With
        ``fresh`` the caller knows it cannot be (its update arrived just now and is handled for the first
        time: :func:`bot.telegram.inbox.first_sight`), and the look for it is skipped (issue 15).
        """
        storage = self.storage
        off_hours = not self.schedule.is_open(at)
        # One transaction: the message and everything decided about it commit together, so a crash
        # leaves either nothing (Telegram's update is replayed from the inbox) or all of it.
        with storage.transaction():
            if telegram_message_id is not None and not fresh:
                known = storage.latest_version(customer.chat_id, telegram_message_id)
                if known is not None:  # a replay after a crash: already stored and answered
                    return Outcome(
                        message_id=known.id,
                        conversation_id=known.conversation_id,
                        intent=known.intent,
                        off_hours=bool(known.off_hours),
                        duplicate=True,
                    )
            # The policy's view is classified before the message is stored, so that its intent goes in the
            # INSERT (no UPDATE of the row afterwards: issue 15). An album item is classified below, if it
            # is decided on at all; a classifier that fails fails the decision below, as it always did.
            view, failure = self._view(text, content_kind) if album is None else (None, None)
            intent = view.intent.key if view is not None and view.intent is not None else None
            stored, conv, message_id = self._store_incoming(
                customer, text, content_kind, telegram_message_id, off_hours, at, intent=intent
            )
            if stored.banned_at is not None:  # /ban: stored, neither answered nor relayed
                if intent is not None:  # nor classified
                    storage.update_message(message_id, intent=None)
                return Outcome(message_id, conv.id, None, off_hours, banned=True)
            if not self._album_decides(customer.chat_id, album, text):
                self._relay(
                    stored, customer.chat_id, telegram_message_id, text, content_kind, "", [], at, album=album
                )
                return Outcome(
                    message_id=message_id, conversation_id=conv.id, intent=None, off_hours=off_hours
                )
            script = None
            try:
                with storage.transaction():  # a savepoint: a failing decision rolls back alone
                    script = self.reply_script(stored.id, newest=text)
                    if failure is not None:
                        raise failure
                    plan = decide(
                        view if view is not None else self._message(text, content_kind),
                        self.snapshot(stored, conv, at),
                        self.schedule,
                        at,
                        shop_name=self.settings.shop_name,
                        policy=self.cores.policy,
                        now=now,
                    )
                    applied = self._apply(
                        plan, stored, conv, message_id, at, script=script, intent_stored=intent is not None
                    )
            except Exception as exc:
                if storage.unavailable(exc):
                    raise  # the database, not the decision: the whole message is tried again later
                if intent is not None:  # a failed decision leaves the message without an intent
                    storage.update_message(message_id, intent=None)
                # The message stays stored and still reaches the staff topic; an agent answers it.
                log.exception(
                    "deciding on message %s failed; relayed to the staff without a reply", message_id
                )
                plan, applied = Plan(), _Applied(notices=[texts.NOTICE_DESK_FAILED])
            header = relay.header_line(
                off_hours=off_hours, auto_replies=tuple(r.text for r in applied.replies)
            )
            self._relay(
                stored,
                customer.chat_id,
                telegram_message_id,
                text,
                content_kind,
                header,
                applied.notices,
                at,
                entities=entities,
                album=album,
            )
            suggestion_rows = self._offer(
                plan.suggestions, applied.ticket, stored, conv.id, message_id, at, script=script
            )
        return Outcome(
            message_id=message_id,
            conversation_id=conv.id,
            intent=plan.intent,
            off_hours=off_hours,
            replies=tuple(applied.replies),
            notices=tuple(applied.notices),
            held_back=tuple(applied.held),
            ticket=applied.ticket,
            confidence=plan.confidence if plan.intent else None,
            suggestions=tuple(suggestion_rows),
        )

    def _album_decides(self, chat_id: int, album: str | None, text: str | None) -> bool:
        """Return whether this message is decided on: not an album item, or its album's first or first
        captioned item (noted in ``bot_state``, so the rest of the album is only relayed)."""
        if album is None:
            return True
        key = f"album:{chat_id}:{album}"
        state = self.storage.state(key)
        if state == "captioned" or (state == "seen" and not (text or "").strip()):
            return False
        self.storage.set_state(key, "captioned" if (text or "").strip() else "seen")
        return True

    def _store_incoming(
        self,
        customer: CustomerRef,
        text: str | None,
        content_kind: str,
        telegram_message_id: int | None,
        off_hours: bool,
        at: datetime,
        **extra: Any,
    ) -> tuple[Customer, Conversation, int]:
        """Store a customer's message (and refresh the customer); return (customer, conversation, row id)."""
        storage = self.storage
        stored, conv = storage.customer_in_conversation(
            customer.user_id, customer.chat_id, customer.name, customer.username, at
        )
        message_id = storage.add_message(
            customer_id=stored.id,
            conversation_id=conv.id,
            direction="in",
            sender="customer",
            text=text,
            content_kind=content_kind,
            chat_id=customer.chat_id,
            telegram_message_id=telegram_message_id,
            off_hours=int(off_hours),
            at=at,
            **extra,
        )
        return stored, conv, message_id

    def snapshot(self, customer: Customer, conv: Conversation, at: datetime) -> ConversationState:
        """Return the frozen state the policy decides on: the conversation, its customer, the open ticket."""
        storage = self.storage
        agent = storage.agent_by_id(conv.agent_id) if conv.agent_id else None
        scripts, last_agent_at, ticket = storage.history(conv.id, customer.id)  # one read for the three
        if ticket is None or ticket.conversation_id is None:
            receipt_sent = True
        elif ticket.conversation_id == conv.id:  # the usual case: read with the conversation's scripts
            receipt_sent = "complaint_receipt" in scripts
        else:
            receipt_sent = storage.script_sent(ticket.conversation_id, "complaint_receipt")
        return ConversationState(
            status=conv.status,
            uncivil_count=conv.uncivil_count,
            human_requests=conv.human_requests,
            handed_over_at=from_iso(conv.handed_over_at),
            waiting_since=from_iso(conv.waiting_since),
            last_agent_at=last_agent_at,
            agent_number=agent.number if agent else None,
            scripts_sent=scripts,
            off_hours_stretch=from_iso(customer.off_hours_stretch),
            open_ticket=None
            if ticket is None
            else TicketState(
                number=ticket.number,
                due_answer_at=from_iso(ticket.due_answer_at),
                due_settle_at=from_iso(ticket.due_settle_at),
                answered_at=from_iso(ticket.answered_at),
                receipt_sent=receipt_sent,
            ),
        )

    def _view(self, text: str | None, content_kind: str) -> tuple[Message | None, Exception | None]:
        """Return (:meth:`_message`, None), or (None, the error) when classifying failed."""
        try:
            return self._message(text, content_kind), None
        except Exception as exc:  # raised where the decision is made, as when it was classified there
            return None, exc

    def _message(self, text: str | None, content_kind: str) -> Message:
        """Return the policy's view of a customer message: its text, kind and classified intent."""
        body = (text or "").strip()
        if not body:
            return Message(text, None, content_kind, substantive=content_kind in SUBSTANTIVE_KINDS)
        if body.split(maxsplit=1)[0].split("@")[0] == "/start":
            return Message(text, Intent("greeting", 1.0), content_kind, start=True)
        intent = self.cores.intent(body, platforms=self.settings.shop_platforms)
        return Message(text, with_faq(body, intent, self.cores.faq), content_kind)

    def _apply(
        self,
        plan: Plan,
        customer: Customer,
        conv: Conversation,
        message_id: int | None,
        at: datetime,
        *,
        script: str | None = None,
        intent_stored: bool = False,
    ) -> _Applied:
        """Write a plan: the message's intent, the ticket, the guarded replies, the state changes.

        ``script``: the customer's reply script when the caller knows it (else :meth:`reply_script` reads it);
        ``intent_stored``: the message row already holds the plan's intent (stored with it).
        """
        storage = self.storage
        if message_id is not None and plan.intent is not None and not intent_stored:
            storage.update_message(message_id, intent=plan.intent)
        ticket_number = self._ticket(plan, customer, conv, at)
        values = {"ticket": ticket_number}
        replies, held = self._queue_replies(
            plan.replies, values, customer, conv.id, at, script or self.reply_script(customer.id)
        )
        changes = {k: to_iso(v) if isinstance(v, datetime) else v for k, v in plan.conversation.items()}
        if changes:
            storage.update_conversation(conv.id, **changes)
        if plan.customer:
            storage.update_customer(
                customer.id,
                **{k: to_iso(v) if isinstance(v, datetime) else v for k, v in plan.customer.items()},
            )
        notices = [texts.plan_notice(n, ticket_number) for n in plan.notices]
        return _Applied(replies, held, notices, ticket_number)

    def _ticket(self, plan: Plan, customer: Customer, conv: Conversation, at: datetime) -> str | None:
        """Open or chase the ticket the plan orders; return its number (None without an order)."""
        order = plan.ticket
        if order is None:
            return None
        storage = self.storage
        if order.action == "open":
            ticket = storage.create_ticket(
                customer.id,
                conv.id,
                "complaint",
                at.astimezone(self.zone).date(),
                at,
                due_answer_at=order.due_answer_at,
                due_settle_at=order.due_settle_at,
            )
            return ticket.number
        ticket = storage.open_ticket(customer.id)
        if ticket is None:
            return None
        if order.action == "followup":
            storage.update_ticket(ticket.id, urgent=1, followups=ticket.followups + 1)
        return ticket.number

    def _offer(
        self,
        suggestions: tuple[Suggestion, ...],
        ticket: str | None,
        customer: Customer,
        conversation_id: int,
        message_id: int | None,
        at: datetime,
        *,
        script: str | None = None,
    ) -> list[int]:
        """Store each suggestion, post it in the topic with a one-tap button; return the rows."""
        staff = self.groups.of(customer)
        if staff is None:
            return []
        rows = []
        script = (script or self.reply_script(customer.id)) if suggestions else "simplified"
        for suggestion in suggestions:
            send = suggestion.send
            values = {k: v for k, v in send.values.items() if k != "ticket"}
            preview = to_script(
                self.cores.render(
                    send.key, send.variant, **{**values, "ticket": ticket or texts.TICKET_MARKER}
                ),
                script,
            )
            row = self.storage.add_suggestion(
                customer_id=customer.id,
                conversation_id=conversation_id,
                message_id=message_id,
                intent=suggestion.intent,
                confidence=round(suggestion.confidence, 3),
                script_key=send.key if send.variant is None else f"{send.key}.{send.variant}",
                values=json.dumps(values, ensure_ascii=False),
                created_at=at,
            )
            sure = f"{suggestion.confidence:.0%}"
            text = texts.SUGGESTION_NOTICE.format(intent=suggestion.intent, sure=sure, preview=preview)
            pick = {"text": texts.BUTTON_SEND_SUGGESTION, "callback_data": callback_data(CALLBACK_PICK, row)}
            markup = {"inline_keyboard": [[pick]]}
            self.storage.enqueue(
                staff,
                "sendMessage",
                {"chat_id": staff, relay.TOPIC_KEY: customer.id, "text": text, "reply_markup": markup},
                at,
                customer_id=customer.id,
            )
            rows.append(row)
        return rows

    def send_suggestion(
        self, suggestion_id: int, agent_user_id: int, agent_name: str | None, at: datetime
    ) -> Outcome | None:
        """An agent pressed a suggestion's button: apply its intent's plan (script, ticket, ladders).

        Returns the outcome, or None when the suggestion is unknown or already decided. The script
        passes the guard like any bot text; the choice is stored as ``sent``.
        """
        storage = self.storage
        with storage.transaction():
            row = storage.suggestion(suggestion_id)
            if row is None or row.status != "offered":
                return None
            customer = storage.customer(row.customer_id)
            if customer is None:
                return None
            agent = storage.agent(agent_user_id, agent_name, at)
            conv = storage.current_conversation(customer.id, at)
            key, _, variant = row.script_key.partition(".")
            values = json.loads(row.values or "{}")
            offered = Suggestion(row.intent, row.confidence or 0.0, Send(key, variant or None, values))
            plan = accept(
                offered,
                self.snapshot(customer, conv, at),
                self.schedule,
                at,
                shop_name=self.settings.shop_name,
                policy=self.cores.policy,
            )
            applied = self._apply(plan, customer, conv, None, at)
            storage.decide_suggestions(customer.id, "sent", at, agent_id=agent.id, only=suggestion_id)
            staff = self.groups.current(customer)
            if staff is not None:
                for notice in applied.notices:
                    method, params = relay.notice_call(
                        staff_chat_id=staff, customer_id=customer.id, text=notice
                    )
                    storage.enqueue(staff, method, params, at, customer_id=customer.id)
        return Outcome(
            message_id=row.message_id or 0,
            conversation_id=conv.id,
            intent=row.intent,
            off_hours=not self.schedule.is_open(at),
            replies=tuple(applied.replies),
            notices=tuple(applied.notices),
            held_back=tuple(applied.held),
            ticket=applied.ticket,
        )

    def on_customer_edit(
        self,
        customer: CustomerRef,
        text: str | None,
        content_kind: str = "text",
        *,
        at: datetime,
        telegram_message_id: int,
        entities: list[dict[str, Any]] | None = None,
    ) -> Outcome:
        """Store an edited customer message as a new version and relay the edit; return the outcome.

        An edit whose text or caption did not change (Telegram also sends edits for a moved live location,
        a reaction, a link preview) is neither stored nor relayed: the outcome is marked ``duplicate``."""
        storage = self.storage
        off_hours = not self.schedule.is_open(at)
        with storage.transaction():
            previous = storage.latest_version(customer.chat_id, telegram_message_id)
            if previous is not None and (previous.text or None) == (text or None):
                return Outcome(
                    message_id=previous.id,
                    conversation_id=previous.conversation_id,
                    intent=previous.intent,
                    off_hours=off_hours,
                    version=previous.version,
                    duplicate=True,
                )
            version = previous.version + 1 if previous else 1
            stored, conv, message_id = self._store_incoming(
                customer,
                text,
                content_kind,
                telegram_message_id,
                off_hours,
                at,
                intent=self._message(text, content_kind).intent.key if (text or "").strip() else None,
                version=version,
                edit_of=previous.id if previous else None,
            )
            header = relay.header_line(off_hours=off_hours, version=max(version, 2))
            if stored.banned_at is None:  # /ban: an edit is stored, not relayed
                self._relay(
                    stored,
                    customer.chat_id,
                    telegram_message_id,
                    text,
                    content_kind,
                    header,
                    [],
                    at,
                    entities=entities,
                )
        return Outcome(
            message_id=message_id, conversation_id=conv.id, intent=None, off_hours=off_hours, version=version
        )

    def due_busy_replies(self, at: datetime) -> list[Outcome]:
        """Queue the busy reply for every customer who has waited ``busy_reply_after_s`` of business time.

        Only open conversations with no agent answer since the wait began and no busy reply yet qualify;
        the state lives in the database, so a sweeper calling this every second survives restarts.
        Returns one outcome per busy reply queued.
        """
        outcomes: list[Outcome] = []
        if not self.schedule.is_open(at):
            return outcomes
        # Business time never runs faster than the wall clock: a shorter wall-clock wait cannot be due.
        cutoff = at - timedelta(seconds=self.settings.busy_reply_after_s)
        for conv in self.storage.waiting_conversations(since_before=cutoff):
            since = from_iso(conv.waiting_since)
            if since is None or since > at:
                continue
            if self.schedule.business_seconds(since, at) < self.settings.busy_reply_after_s:
                continue
            customer = self.storage.customer(conv.customer_id)
            if customer is None or customer.blocked or customer.banned_at is not None:
                continue
            with self.storage.transaction():
                replies, held = self._queue_replies(
                    (Send("busy"),), {}, customer, conv.id, at, self.reply_script(customer.id)
                )
                self.storage.update_conversation(conv.id, busy_sent_at=to_iso(at))
            outcomes.append(
                Outcome(
                    message_id=0,
                    conversation_id=conv.id,
                    intent=None,
                    off_hours=False,
                    replies=tuple(replies),
                    held_back=tuple(held),
                )
            )
        return outcomes

    def reopen_topic(self, customer_user_id: int, at: datetime) -> None:
        """Queue the reopening of the customer's forum topic when an admin closed it (the customer wrote
        again), in the customer's own staff group, ahead of the relay."""
        if not relay.topic_closed(self.storage, customer_user_id):
            return  # the usual case: nothing to reopen, and the customer need not be read
        with self.storage.transaction():  # its own (a savepoint in a group): kept if the message then fails
            stored = self.storage.customer(customer_user_id)
            staff = self.groups.current(stored) if stored is not None else self.settings.staff_chat_id
            relay.reopen_closed_topic(self.storage, staff, customer_user_id, at)

    def reopen(self, customer_user_id: int, at: datetime) -> bool:
        """Reopen a conversation the uncivil ladder closed; return whether there was one to reopen."""
        customer = self.storage.customer(customer_user_id)
        if customer is None:
            return False
        conv = self.storage.current_conversation(customer.id, at)
        if conv.status != "closed_uncivil":
            return False
        self.storage.update_conversation(conv.id, status="open", uncivil_count=0, closed_at=None)
        return True

    # helpers ---------------------------------------------------------------------------------
    def reply_script(self, customer_id: int, *, newest: str | None = None) -> str:
        """Return the script this customer's replies are written in (``KEFU_REPLY_SCRIPT``; ``auto``:
        traditional when the customer's newest message with text is, else simplified).

        ``newest``: the text of the customer message just stored, when there is one; a text that is not
        blank (as SQLite's ``trim`` sees it) is that newest message's, so the database is not asked.
        """
        setting = self.settings.reply_script
        if setting != "auto":
            return reply_script_for(setting, None)
        if newest is None or not newest.strip(" "):
            newest = self.storage.last_customer_text(customer_id)
        return reply_script_for(setting, newest)

    def _guarded(
        self,
        key: str,
        variant: str | None,
        values: dict[str, Any],
        customer_id: int,
        at: datetime,
        script: str = "simplified",
    ):
        text = to_script(self.cores.render(key, variant=variant, **values), script)
        try:
            verdict = self.cores.check(text)
        except Exception:
            log.exception("guard failed on the bot's own reply %s; held back", key)
            return text, False
        if not verdict.allowed:
            log.warning("the bot's own reply %s was blocked by the guard; held back", key)
            self.storage.add_guard_event(**guard_event("bot", text, verdict, at, customer_id=customer_id))
        return text, verdict.allowed

    def _queue_replies(
        self,
        sends: tuple[Send, ...],
        filled: dict[str, Any],
        customer: Customer,
        conversation_id: int,
        at: datetime,
        script: str = "simplified",
    ) -> tuple[list[Reply], list[Reply]]:
        replies, held = [], []
        for send in sends:
            key, variant = send.key, send.variant
            values = {**send.values, **{k: v for k, v in filled.items() if k in send.values}}
            text, allowed = self._guarded(key, variant, values, customer.id, at, script)
            if not allowed:
                held.append(Reply(key, variant, text, None))
                continue
            message_id = self.storage.add_message(
                customer_id=customer.id,
                conversation_id=conversation_id,
                direction="out",
                sender="bot",
                text=text,
                chat_id=customer.chat_id,
                script_key=key if variant is None else f"{key}.{variant}",
                at=at,
            )
            outbox_id = self.storage.enqueue(
                customer.chat_id,
                "sendMessage",
                {"chat_id": customer.chat_id, "text": text},
                at,
                customer_id=customer.id,
                message_id=message_id,
            )
            replies.append(Reply(key, variant, text, outbox_id))
        return replies, held

    def _relay(
        self,
        customer: Customer,
        chat_id: int,
        telegram_message_id: int | None,
        text: str | None,
        content_kind: str,
        header: str,
        notices: list[str],
        at: datetime,
        *,
        entities: list[dict[str, Any]] | None = None,
        album: str | None = None,
    ) -> None:
        if telegram_message_id is None:
            return
        staff = self.groups.of(customer)
        if staff is None:
            return
        calls = relay.relay_calls(
            staff_chat_id=staff,
            customer_id=customer.id,
            from_chat_id=chat_id,
            message_id=telegram_message_id,
            text=text,
            content_kind=content_kind,
            header=header,
            entities=entities,
            album=album,
        )
        calls += [relay.notice_call(staff_chat_id=staff, customer_id=customer.id, text=n) for n in notices]
        for method, params in calls:
            self.storage.enqueue(staff, method, params, at, customer_id=customer.id)


@dataclass(frozen=True)
class _Applied:
    """What writing a plan produced: replies queued, replies held by the guard, notices, ticket number."""

    replies: list[Reply] = field(default_factory=list)
    held: list[Reply] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    ticket: str | None = None
