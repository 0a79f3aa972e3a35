"""The support desk: what the bot does with each customer message, shared by the Telegram bot and the demo.

Every method takes the time as ``at`` (aware datetime); nothing here reads a clock. A customer message
is stored first (committed), then classified and decided; the replies, their message records, the
staff-topic relay and the state changes are written in one transaction into the outbox, from which
:mod:`bot.delivery` (or the demo) delivers them. Every reply the desk writes passes the guard first
(defence in depth): a blocked own reply is logged in ``guard_events`` and not queued.

Example::

    desk = SupportDesk(storage, settings)
    outcome = desk.on_customer_message(CustomerRef(42, 42, "张三"), "你好", at=at)
    [r.text for r in outcome.replies]   # ['您好，很高兴为您服务！'] (KEFU_SHOP_NAME unset)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot import relay
from bot.settings import Settings
from bot.storage import Conversation, Customer, Storage, from_iso, is_unavailable, to_iso
from bot.telegram_kinds import SUBSTANTIVE_KINDS
from guards import check
from replies import classify, render
from replies.calendar import festival
from replies.schedule import Schedule, reopen_text

__all__ = [
    "AGENT_RECENT",
    "AgentOutcome",
    "CustomerRef",
    "Outcome",
    "Reply",
    "SupportDesk",
    "schedule_from",
]

log = logging.getLogger(__name__)

AGENT_RECENT = timedelta(minutes=5)  # no off-hours reply if an agent answered this recently
ANSWER_WORKING_DAYS = 1  # 000 第一篇 第五节: "1个工作日内回复"
SETTLE_WORKING_DAYS = 5  # 000 第一篇 第五节: "3-5个工作日内处理完毕" (the outer bound)
UNCIVIL_STEPS = 3
HUMAN_RETENTIONS = 2
# Intents whose documented reply is complete: they do not start an agent's busy timer.
SETTLED_INTENTS = frozenset(
    {
        "service_hours",
        "security",
        "out_of_scope",
        "suggestion",
        "thanks",
        "praise",
        "apology",
        "agent_identity",
        "goodbye",
        "uncivil",
    }
)
PLAIN_ANSWERS = frozenset(
    {"security", "how_to", "site_problem", "out_of_scope", "suggestion", "thanks", "praise", "apology"}
)

NOTICE_UNCIVIL_CLOSED = "客户已第三次使用不文明用语，会话已关闭；/reopen 可重新打开"
NOTICE_HUMAN = "客户要求人工服务"
NOTICE_CLOSED_CONVERSATION = "会话已因不文明用语关闭，未自动回复"
NOTICE_DESK_FAILED = "自动处理出错，未自动回复，请人工处理"


def schedule_from(settings: Settings) -> Schedule:
    """Return the business-hours schedule configured in ``settings``."""
    return Schedule.from_settings(settings)


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
    duplicate: bool = False  # the message was already stored (a replayed update): nothing new happened
    banned: bool = False  # the customer is banned (/ban): stored only, neither answered nor relayed


@dataclass(frozen=True)
class AgentOutcome:
    """An agent's message after the guard: the verdict, and the stored/queued rows when it was allowed."""

    allowed: bool
    verdict: Any  # guards.Verdict, or None when the guard failed (fail closed)
    agent_no: str
    message_id: int | None = None
    outbox_id: int | None = None
    error: str | None = None


@dataclass
class _Plan:
    """The decisions for one message, written in one transaction."""

    scripts: list[tuple[str, str | None, dict[str, Any]]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    conversation: dict[str, Any] = field(default_factory=dict)
    customer: dict[str, Any] = field(default_factory=dict)
    ticket: str | None = None


class SupportDesk:
    """The decision logic over one storage: customer messages, busy replies, agent answers."""

    def __init__(self, storage: Storage, settings: Settings, schedule: Schedule | None = None) -> None:
        self.storage = storage
        self.settings = settings
        self.schedule = schedule or schedule_from(settings)
        self.zone = settings.zone

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
    ) -> Outcome:
        """Store, decide and queue the replies for one customer message; return what happened.

        ``text`` is the message text or the media caption (None for a sticker or media without one);
        ``entities`` its formatting (kept in the relay). With ``telegram_message_id`` and a staff chat
        configured, the message is relayed to the customer's topic. The items of an album (``album``: its
        ``media_group_id``) are one message: the first item, and the first with a caption, are decided
        on; the others are only stored and relayed (the relay copies the album in one call).
        """
        storage = self.storage
        off_hours = not self.schedule.is_open(at)
        # One transaction: the message and everything decided about it commit together, so a crash
        # leaves either nothing (Telegram's update is replayed from the inbox) or all of it.
        with storage.transaction():
            if telegram_message_id is not None:
                known = storage.latest_version(customer.chat_id, telegram_message_id)
                if known is not None:  # a replay after a crash: already stored and answered
                    return Outcome(
                        message_id=known["id"],
                        conversation_id=known["conversation_id"],
                        intent=known["intent"],
                        off_hours=bool(known["off_hours"]),
                        duplicate=True,
                    )
            stored, conv, message_id = self._store_incoming(
                customer, text, content_kind, telegram_message_id, off_hours, at
            )
            if stored.banned_at is not None:  # /ban: stored, neither answered nor relayed
                return Outcome(message_id, conv.id, None, off_hours, banned=True)
            if not self._album_decides(customer.chat_id, album, text):
                self._relay(
                    stored, customer.chat_id, telegram_message_id, text, content_kind, "", [], at, album=album
                )
                return Outcome(
                    message_id=message_id, conversation_id=conv.id, intent=None, off_hours=off_hours
                )
            try:
                with storage.transaction():  # a savepoint: a failing decision rolls back alone
                    intent, plan, replies, held = self._decide_and_queue(
                        stored, conv, message_id, text, off_hours, at, content_kind
                    )
            except Exception as exc:
                if is_unavailable(exc):
                    raise  # the database, not the decision: the whole message is tried again later
                # The message stays stored and still reaches the staff topic; an agent answers it.
                log.exception(
                    "deciding on message %s failed; relayed to the staff without a reply", message_id
                )
                intent, plan, replies, held = None, _Plan(notices=[NOTICE_DESK_FAILED]), [], []
            header = relay.header_line(off_hours=off_hours, auto_replies=tuple(r.text for r in replies))
            self._relay(
                stored,
                customer.chat_id,
                telegram_message_id,
                text,
                content_kind,
                header,
                plan.notices,
                at,
                entities=entities,
                album=album,
            )
        return Outcome(
            message_id=message_id,
            conversation_id=conv.id,
            intent=intent.key if intent else None,
            off_hours=off_hours,
            replies=tuple(replies),
            notices=tuple(plan.notices),
            held_back=tuple(held),
            ticket=plan.ticket,
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
        stored = storage.upsert_customer(
            customer.user_id, customer.chat_id, customer.name, customer.username, at
        )
        conv = storage.current_conversation(stored.id, at)
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

    def _decide_and_queue(
        self,
        stored: Customer,
        conv: Conversation,
        message_id: int,
        text: str | None,
        off_hours: bool,
        at: datetime,
        content_kind: str = "text",
    ) -> tuple[Any, _Plan, list[Reply], list[Reply]]:
        """Classify, decide, queue the replies and update the state; return (intent, plan, replies, held).

        Media without a caption (a photo, a voice message, a location …) is a message for a person: no
        ``no_content`` reply, and the agent's busy timer starts."""
        storage = self.storage
        intent = self._intent((text or "").strip())
        plan = _Plan(conversation={"last_customer_at": to_iso(at)})
        if conv.status == "closed_uncivil":
            plan.notices.append(NOTICE_CLOSED_CONVERSATION)
        else:
            off_hours_sent = off_hours and self._off_hours_reply(plan, stored, at)
            substantive = intent is None and content_kind in SUBSTANTIVE_KINDS
            if not substantive:
                self._decide(plan, stored, conv, intent, at, skip_greeting=off_hours_sent)
            waits = substantive or (intent is not None and intent.key not in SETTLED_INTENTS)
            if waits and conv.waiting_since is None:
                plan.conversation["waiting_since"] = to_iso(at)
        storage.update_message(message_id, intent=intent.key if intent else None)
        replies, held = self._queue_replies(plan, stored, conv.id, at)
        storage.update_conversation(conv.id, **plan.conversation)
        if plan.customer:
            storage.update_customer(stored.id, **plan.customer)
        return intent, plan, replies, held

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
            if previous is not None and (previous["text"] or None) == (text or None):
                return Outcome(
                    message_id=previous["id"],
                    conversation_id=previous["conversation_id"],
                    intent=previous["intent"],
                    off_hours=off_hours,
                    version=previous["version"],
                    duplicate=True,
                )
            version = previous["version"] + 1 if previous else 1
            stored, conv, message_id = self._store_incoming(
                customer,
                text,
                content_kind,
                telegram_message_id,
                off_hours,
                at,
                intent=self._intent((text or "").strip()).key if (text or "").strip() else None,
                version=version,
                edit_of=previous["id"] if previous else None,
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
            plan = _Plan(scripts=[("busy", None, {})], conversation={"busy_sent_at": to_iso(at)})
            with self.storage.transaction():
                replies, held = self._queue_replies(plan, customer, conv.id, at)
                self.storage.update_conversation(conv.id, **plan.conversation)
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

    # agent side ------------------------------------------------------------------------------
    def on_agent_message(
        self,
        agent_user_id: int,
        agent_name: str | None,
        customer_user_id: int,
        text: str,
        *,
        at: datetime,
        deliver: bool = True,
        send_anyway: bool = False,
    ) -> AgentOutcome:
        """Check an agent's answer with the guard, log the check, and when allowed record and queue it.

        A guard failure holds the message back (fail closed). ``deliver=False`` records an allowed
        answer without queuing a ``sendMessage`` (for callers that deliver it themselves, e.g. by copy).
        ``send_anyway``: the agent pressed 仍然发送 on a held message; a ``review``-level verdict (likely
        rude, not confident) then lets it through, recorded as ``source='agent_override'`` with the agent.
        """
        agent = self.storage.agent(agent_user_id, agent_name, at)
        customer = self.storage.customer(customer_user_id)
        if customer is None:
            raise LookupError(f"unknown customer {customer_user_id}")
        try:
            verdict = check(text)
        except Exception as exc:
            log.exception("guard failed on an agent message; held back")
            return AgentOutcome(allowed=False, verdict=None, agent_no=agent.number, error=repr(exc))
        hits = verdict.to_dict()["hits"]
        overridden = send_anyway and verdict.level == "review"
        with self.storage.transaction():
            self.storage.add_guard_event(
                source="agent_override" if overridden else "agent",
                agent_id=agent.id,
                customer_id=customer.id,
                text=text,
                allowed=verdict.allowed or overridden,
                hits=hits,
                suggestion=verdict.suggestion,
                at=at,
            )
            if not (verdict.allowed or overridden):
                return AgentOutcome(allowed=False, verdict=verdict, agent_no=agent.number)
            message_id, outbox_id = self._record_agent_answer(agent.id, customer, text, at, deliver=deliver)
        return AgentOutcome(
            allowed=True, verdict=verdict, agent_no=agent.number, message_id=message_id, outbox_id=outbox_id
        )

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

    # decisions -------------------------------------------------------------------------------
    def _intent(self, body: str) -> Any:
        if not body:
            return None
        if body.split(maxsplit=1)[0].split("@")[0] == "/start":
            return _Start()
        return classify(body)

    def _off_hours_reply(self, plan: _Plan, customer: Customer, at: datetime) -> bool:
        stretch = to_iso(self.schedule.stretch_start(at))
        if customer.off_hours_stretch == stretch:
            return False
        last_agent = self.storage.last_agent_answer(customer.id)
        if last_agent is not None and at - last_agent < AGENT_RECENT:
            return False
        reopen_at = reopen_text(self.schedule.next_opening(at), at)
        if self.schedule.off_hours_kind(at) == "lunch":
            plan.scripts.append(("off_hours_lunch", None, {"reopen_at": reopen_at}))
        else:
            hours = self.settings.business_hours_text
            plan.scripts.append(("off_hours_closed", None, {"reopen_at": reopen_at, "hours": hours}))
        plan.customer["off_hours_stretch"] = stretch
        return True

    def _decide(
        self,
        plan: _Plan,
        customer: Customer,
        conv: Conversation,
        intent: Any,
        at: datetime,
        *,
        skip_greeting: bool,
    ) -> None:
        if intent is None:
            plan.scripts.append(("no_content", None, {}))
            return
        key = intent.key
        local_day = at.astimezone(self.zone).date()
        if key == "greeting":
            if self.storage.script_sent(conv.id, "greeting"):
                plan.scripts.append(("ask_more", None, {}))  # greeted once per conversation
            elif not skip_greeting:
                plan.scripts.append(("greeting", festival(local_day), {"shop": self.settings.shop_name}))
        elif key == "goodbye":
            plan.scripts.append(("closing", festival(local_day), {}))
        elif key == "service_hours":
            plan.scripts.append(("service_hours", None, {"hours": self.settings.business_hours_text}))
        elif key in PLAIN_ANSWERS:
            plan.scripts.append((key, None, {}))
        elif key == "agent_identity":
            agent = self.storage.agent_by_id(conv.agent_id) if conv.agent_id else None
            if agent is not None:
                plan.scripts.append(("agent_identity", None, {"agent_no": agent.number}))
            else:
                plan.scripts.append(("agent_identity", "shop", {"shop": self.settings.shop_name}))
        elif key in ("complaint", "complaint_followup"):
            self._complaint(plan, customer, conv, at)
        elif key == "unclear":
            guess = getattr(intent, "guess", None)
            if guess:
                plan.scripts.append(("unclear", "guess", {"guess": guess}))
            else:
                plan.scripts.append(("unclear", None, {}))
        elif key == "uncivil":
            step = conv.uncivil_count + 1
            plan.conversation["uncivil_count"] = step
            plan.scripts.append((f"uncivil_{min(step, UNCIVIL_STEPS)}", None, {}))
            if step >= UNCIVIL_STEPS:
                plan.conversation.update(status="closed_uncivil", closed_at=to_iso(at), waiting_since=None)
                plan.notices.append(NOTICE_UNCIVIL_CLOSED)
        elif key == "human_request":
            step = conv.human_requests + 1
            plan.conversation["human_requests"] = step
            if step <= HUMAN_RETENTIONS:
                plan.scripts.append((f"human_request_{step}", None, {}))
            else:
                plan.scripts.append(
                    ("human_handover" if conv.handed_over_at is None else "waiting", None, {})
                )
                plan.conversation.setdefault("handed_over_at", conv.handed_over_at or to_iso(at))
                plan.notices.append(NOTICE_HUMAN)
        else:
            log.warning("intent %r has no rule; relayed to the staff only", key)

    def _complaint(self, plan: _Plan, customer: Customer, conv: Conversation, at: datetime) -> None:
        ticket = self.storage.open_ticket(customer.id)
        if ticket is None:
            start = at if self.schedule.is_open(at) else self.schedule.next_opening(at)
            ticket = self.storage.create_ticket(
                customer.id,
                conv.id,
                "complaint",
                at.astimezone(self.zone).date(),
                at,
                due_answer_at=self._add_working_days(start, ANSWER_WORKING_DAYS),
                due_settle_at=self._add_working_days(start, SETTLE_WORKING_DAYS),
            )
            plan.scripts.append(("complaint_receipt", None, {"ticket": ticket.number}))
            plan.notices.append(f"新投诉工单 {ticket.number}")
        else:
            due = ticket.due_answer_at if ticket.answered_at is None else ticket.due_settle_at
            overdue = due is not None and at > from_iso(due)
            self.storage.update_ticket(ticket.id, urgent=1, followups=ticket.followups + 1)
            plan.scripts.append(
                ("complaint_followup", "overdue" if overdue else None, {"ticket": ticket.number})
            )
            plan.notices.append(
                f"客户催办工单 {ticket.number}" + ("，已超时" if overdue else "") + "，已标记加急"
            )
        plan.ticket = ticket.number

    # helpers ---------------------------------------------------------------------------------
    def _add_working_days(self, start: datetime, days: int) -> datetime:
        """Return the moment ``days`` working days after ``start`` (from the day its window opened)."""
        return self.schedule.add_working_days(start, days)

    def _guarded(self, key: str, variant: str | None, values: dict[str, Any], customer_id: int, at: datetime):
        text = render(key, variant=variant, **values)
        try:
            verdict = check(text)
        except Exception:
            log.exception("guard failed on the bot's own reply %s; held back", key)
            return text, False
        if not verdict.allowed:
            log.warning("the bot's own reply %s was blocked by the guard; held back", key)
            self.storage.add_guard_event(
                source="bot",
                customer_id=customer_id,
                text=text,
                allowed=False,
                hits=verdict.to_dict()["hits"],
                suggestion=verdict.suggestion,
                at=at,
            )
        return text, verdict.allowed

    def _queue_replies(
        self, plan: _Plan, customer: Customer, conversation_id: int, at: datetime
    ) -> tuple[list[Reply], list[Reply]]:
        replies, held = [], []
        for key, variant, values in plan.scripts:
            text, allowed = self._guarded(key, variant, values, customer.id, at)
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

    def _record_agent_answer(
        self, agent_id: int, customer: Customer, text: str, at: datetime, *, deliver: bool
    ) -> tuple[int, int | None]:
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
        outbox_id = None
        if deliver:
            outbox_id = self.storage.enqueue(
                customer.chat_id,
                "sendMessage",
                {"chat_id": customer.chat_id, "text": text},
                at,
                customer_id=customer.id,
                message_id=message_id,
            )
        self.storage.update_conversation(
            conv.id, last_agent_at=to_iso(at), waiting_since=None, busy_sent_at=None, agent_id=agent_id
        )
        ticket = self.storage.open_ticket(customer.id)
        if ticket is not None and ticket.answered_at is None:
            self.storage.update_ticket(ticket.id, answered_at=to_iso(at))
        return message_id, outbox_id

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
        staff = self.settings.staff_chat_id
        if staff is None or telegram_message_id is None:
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
class _Start:
    """The ``/start`` command: treated as a greeting."""

    key: str = "greeting"
    score: float = 1.0
    guess: str | None = None
