"""The desk policy: what happens to one customer message, decided as a pure function.

:func:`decide` takes the message (text, kind and classified intent), a frozen snapshot of the
conversation (read by the desk from storage), the business-hours schedule and the time, and returns
the whole :class:`Plan`: the scripts to send, the ticket to open or chase, the state changes, the
staff notices and the suggestions offered to the agent. It reads no database and no clock; the desk
applies the plan in one write step. Which script answers which intent, how sure the router must be
and how often a script may go out is ONE data table, ``policy.toml`` (:func:`load_policy`).

The rules, in order:

- a conversation closed by the uncivil ladder gets no reply, only a staff notice;
- off hours: the off-hours notice once per off-hours stretch (none right after an agent answered);
  no greeting while off hours (the notice already greets);
- no script while an agent is actively answering (answered within ``agent_engaged_minutes``): the
  script is offered to the agent as a suggestion instead;
- an acknowledgement (好的, 嗯, 👍 …) never gets a reply and starts no busy timer;
- below the intent's threshold nothing is sent; the script is suggested to the agent;
- a script marked ``once`` goes out at most once per conversation (a second greeting gets ``ask_more``
  once, then nothing);
- ``other`` is never answered: the agents get it.

>>> from datetime import datetime
>>> from zoneinfo import ZoneInfo
>>> from replies.router import Intent
>>> from replies.schedule import Schedule
>>> from datetime import time
>>> tz = ZoneInfo("Asia/Shanghai")
>>> hours = Schedule(((time(8), time(12)), (time(14), time(18))), tz)
>>> at = datetime(2026, 11, 23, 9, 0, tzinfo=tz)
>>> plan = decide(Message("你好", Intent("greeting", 0.9)), ConversationState(), hours, at)
>>> [send.key for send in plan.replies]
['greeting']
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from guards.normalize import fold
from replies.calendar import festival
from replies.router import INTENT_KEYS, Intent
from replies.schedule import Schedule, reopen_text

__all__ = [
    "DEFAULT_POLICY",
    "ConversationState",
    "IntentRule",
    "Message",
    "Plan",
    "Policy",
    "PolicyError",
    "Send",
    "Suggestion",
    "TicketOrder",
    "TicketState",
    "accept",
    "decide",
    "first_reply",
    "load_policy",
]

DEFAULT_POLICY = Path(__file__).with_name("policy.toml")

# What a plan tells the staff topic, by key: the words are the desk's (bot/desk/texts.py NOTICES), so a
# pure core carries no staff wording. A ticket notice is filled with the ticket number it opened.
NOTICE_UNCIVIL_CLOSED = "uncivil_closed"
NOTICE_HUMAN = "human_requested"
NOTICE_CLOSED_CONVERSATION = "closed_conversation"
NOTICE_NEW_TICKET = "new_ticket"
NOTICE_FOLLOWUP = "followup"
NOTICE_FOLLOWUP_OVERDUE = "followup_overdue"
NOTICE_SILENT_TICKET = "silent_ticket"
NOTICES = (
    NOTICE_UNCIVIL_CLOSED,
    NOTICE_HUMAN,
    NOTICE_CLOSED_CONVERSATION,
    NOTICE_NEW_TICKET,
    NOTICE_FOLLOWUP,
    NOTICE_FOLLOWUP_OVERDUE,
    NOTICE_SILENT_TICKET,
)

Handler = Literal[
    "plain",
    "greeting",
    "closing",
    "service_hours",
    "agent_identity",
    "complaint",
    "unclear",
    "uncivil",
    "human_request",
    "faq",
]
# Intents that come from the shop's folder rather than the model: ``faq`` (replies.faq).
SHOP_INTENT_KEYS: tuple[str, ...] = ("faq",)


class PolicyError(ValueError):
    """The policy file is malformed; the message names the file, the entry and the field."""


class IntentRule(BaseModel):
    """One row of the table: the script answering an intent and how sure the router must be to send it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    script: str | None = None
    handler: Handler = "plain"
    threshold: float = Field(default=1.0, ge=0, le=1)
    once: bool = False
    settles: bool = False
    # complaint: the probability at which a ticket opens silently (no receipt sent, the agent decides).
    ticket_threshold: float | None = Field(default=None, ge=0, le=1)
    cost: Literal["cheap", "costly"]
    source: str = Field(min_length=1)


class _Conversation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    agent_engaged_minutes: float = Field(gt=0)
    uncivil_steps: int = Field(ge=1)
    human_retentions: int = Field(ge=0)
    answer_working_days: int = Field(ge=1)
    settle_working_days: int = Field(ge=1)


class _Acknowledgements(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    words: list[str] = Field(min_length=1)


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    conversation: _Conversation
    acknowledgements: _Acknowledgements
    intents: dict[str, IntentRule]


@dataclass(frozen=True)
class Policy:
    """The loaded table: one :class:`IntentRule` per intent, the conversation limits, the acknowledgements."""

    rules: Mapping[str, IntentRule]
    agent_engaged: timedelta
    uncivil_steps: int
    human_retentions: int
    answer_working_days: int
    settle_working_days: int
    acknowledgements: frozenset[str]

    def rule(self, intent: str) -> IntentRule:
        """Return the rule of ``intent``; ``KeyError`` for an unknown intent."""
        return self.rules[intent]

    def script_for(self, intent: str) -> str | None:
        """Return the script key answering ``intent`` in the plain case, None when it gets no reply."""
        return self.rules[intent].script

    def is_acknowledgement(self, text: str | None) -> bool:
        """Return whether ``text`` only acknowledges (好的, 嗯, 👍 …): such a message never gets a reply."""
        body = (text or "").strip()
        if not body:
            return False
        folded = fold(body)
        if not folded:
            return body in self.acknowledgements
        return folded in self.acknowledgements


def load_policy(path: str | Path | None = None) -> Policy:
    """Return the validated policy table at ``path`` (default: the packaged ``policy.toml``).

    Raises :class:`PolicyError` naming the file, the entry and the field for any defect, including
    an intent without a row or a script key the catalogue lacks.
    """
    from replies.catalogue import load_scripts

    path = Path(path) if path is not None else DEFAULT_POLICY
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        data = _File.model_validate(raw)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path.name}: cannot read the policy: {exc}") from None
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = ".".join(str(p) for p in error["loc"]) or "file"
        raise PolicyError(f"{path.name}: {loc}: {error['msg']}") from None
    missing = [key for key in (*INTENT_KEYS, *SHOP_INTENT_KEYS) if key not in data.intents]
    if missing:
        raise PolicyError(f"{path.name}: intents.{missing[0]}: missing")
    unknown = [key for key in data.intents if key not in INTENT_KEYS and key not in SHOP_INTENT_KEYS]
    if unknown:
        raise PolicyError(f"{path.name}: intents.{unknown[0]}: not an intent key")
    scripts = load_scripts()
    for key, rule in data.intents.items():
        if rule.script is not None and rule.script not in scripts:
            raise PolicyError(f"{path.name}: intents.{key}.script: no script {rule.script!r} in scripts.toml")
    words = frozenset(fold(w) or w for w in data.acknowledgements.words)
    limits = data.conversation
    return Policy(
        rules=MappingProxyType(dict(data.intents)),
        agent_engaged=timedelta(minutes=limits.agent_engaged_minutes),
        uncivil_steps=limits.uncivil_steps,
        human_retentions=limits.human_retentions,
        answer_working_days=limits.answer_working_days,
        settle_working_days=limits.settle_working_days,
        acknowledgements=words,
    )


@lru_cache(maxsize=1)
def default_policy() -> Policy:
    """Return the packaged policy table, loaded once."""
    return load_policy()


# --- what the policy reads ---------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """One customer message: its text (None for media without caption), kind, and classified intent.

    ``intent`` is None when there is nothing to read; ``start`` marks the ``/start`` command.
    """

    text: str | None
    intent: Intent | None
    kind: str = "text"
    start: bool = False
    # Media that is a message for a person even without a caption (a photo of a broken parcel, a
    # location): never told "no content", and the agent's busy timer starts.
    substantive: bool = False


@dataclass(frozen=True)
class TicketState:
    """The customer's open ticket as the policy needs it (``receipt_sent``: the customer was told)."""

    number: str
    due_answer_at: datetime | None
    due_settle_at: datetime | None
    answered_at: datetime | None
    receipt_sent: bool = True


@dataclass(frozen=True)
class ConversationState:
    """A snapshot of one conversation and its customer, read by the desk before deciding.

    ``scripts_sent`` holds the script keys (without variant) the bot already sent in this
    conversation; ``last_agent_at`` the customer's last agent answer (any conversation).
    """

    status: str = "open"
    uncivil_count: int = 0
    human_requests: int = 0
    handed_over_at: datetime | None = None
    waiting_since: datetime | None = None
    last_agent_at: datetime | None = None
    agent_number: str | None = None
    scripts_sent: frozenset[str] = frozenset()
    off_hours_stretch: datetime | None = None
    open_ticket: TicketState | None = None


# --- what the policy returns -------------------------------------------------------------------


@dataclass(frozen=True)
class Send:
    """A script to send: key, variant and placeholder values (``{ticket}`` filled when the ticket exists)."""

    key: str
    variant: str | None = None
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Suggestion:
    """A script offered to the agent instead of being sent: accepting it applies ``intent``'s plan."""

    intent: str
    confidence: float
    send: Send


@dataclass(frozen=True)
class TicketOrder:
    """A ticket to open (``open``), chase (``followup``: urgent, followups + 1) or keep (``existing``)."""

    action: Literal["open", "followup", "existing"]
    due_answer_at: datetime | None = None
    due_settle_at: datetime | None = None
    overdue: bool = False


@dataclass(frozen=True)
class Plan:
    """Everything one message leads to; the desk applies it in one write step.

    ``conversation`` and ``customer`` are the column changes (times as aware datetimes or None);
    ``notices`` are keys of what to tell the customer's staff topic (:data:`NOTICES`); the desk words
    them and fills in the ticket number.
    """

    intent: str | None = None
    confidence: float = 0.0
    replies: tuple[Send, ...] = ()
    notices: tuple[str, ...] = ()
    suggestions: tuple[Suggestion, ...] = ()
    ticket: TicketOrder | None = None
    conversation: Mapping[str, Any] = field(default_factory=dict)
    customer: Mapping[str, Any] = field(default_factory=dict)

    @property
    def off_hours_sent(self) -> bool:
        """Return whether the plan sends an off-hours notice."""
        return any(send.key.startswith("off_hours") for send in self.replies)


@dataclass
class _Draft:
    replies: list[Send] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)
    ticket: TicketOrder | None = None
    conversation: dict[str, Any] = field(default_factory=dict)
    customer: dict[str, Any] = field(default_factory=dict)

    def freeze(self, intent: Intent | None) -> Plan:
        return Plan(
            intent=intent.key if intent else None,
            confidence=intent.score if intent else 0.0,
            replies=tuple(self.replies),
            notices=tuple(self.notices),
            suggestions=tuple(self.suggestions),
            ticket=self.ticket,
            conversation=MappingProxyType(dict(self.conversation)),
            customer=MappingProxyType(dict(self.customer)),
        )


# --- the decision ------------------------------------------------------------------------------


def decide(
    message: Message,
    conversation: ConversationState,
    schedule: Schedule,
    at: datetime,
    *,
    shop_name: str = "本店",
    policy: Policy | None = None,
    now: datetime | None = None,
) -> Plan:
    """Return the :class:`Plan` for one customer message (pure: no storage, no clock).

    ``at`` is when the customer wrote; ``now`` when the plan is made (the same unless the update waited,
    e.g. while the bot was down). The off-hours notice is about ``now``: none when the shop has opened
    meanwhile, and its 「明天08:00」 is counted from ``now``.
    """
    policy = policy or default_policy()
    draft = _Draft(conversation={"last_customer_at": at})
    intent = message.intent
    if conversation.status == "closed_uncivil":
        draft.notices.append(NOTICE_CLOSED_CONVERSATION)
        return draft.freeze(intent)
    engaged = _engaged(conversation, at, policy)
    off_hours = not schedule.is_open(at)
    now = at if now is None or now < at else now
    if off_hours and not schedule.is_open(now):
        _off_hours_notice(draft, conversation, schedule, now, policy)
    if intent is None:
        if message.substantive:
            if conversation.waiting_since is None:
                draft.conversation["waiting_since"] = at
        elif not engaged:
            draft.replies.append(Send("no_content"))
        return draft.freeze(intent)
    acknowledgement = intent.key == "other" and policy.is_acknowledgement(message.text)
    rule = policy.rule(intent.key)
    sent_before = len(draft.replies)
    sends, order, notices = (
        ([], None, []) if acknowledgement else _answer(intent, conversation, schedule, at, shop_name, policy)
    )
    if sends and not _repeated(rule, sends, conversation) and not (off_hours and intent.key == "greeting"):
        if (message.start or intent.score >= rule.threshold) and not engaged:
            draft.replies.extend(sends)
            draft.notices.extend(notices)
            draft.ticket = order
            _ladders(draft, intent.key, conversation, at, policy)
        elif intent.key != "unclear":
            # Not sure enough, or an agent is on it: the agent decides, with the script one tap away.
            draft.suggestions.append(Suggestion(intent.key, intent.score, sends[0]))
    _silent_ticket(draft, intent, conversation, schedule, at, policy)
    answered = len(draft.replies) > sent_before
    settled = answered and rule.settles
    if not (settled or acknowledgement) and conversation.waiting_since is None:
        draft.conversation["waiting_since"] = at
    return draft.freeze(intent)


def accept(
    suggestion: Suggestion,
    conversation: ConversationState,
    schedule: Schedule,
    at: datetime,
    *,
    shop_name: str = "本店",
    policy: Policy | None = None,
) -> Plan:
    """Return the :class:`Plan` of an agent accepting a suggestion: the intent's script, ticket and ladders.

    The agent has decided, so neither the threshold nor the engagement rule applies.
    """
    policy = policy or default_policy()
    draft = _Draft()
    intent = Intent(suggestion.intent, 1.0)
    sends, order, notices = _answer(intent, conversation, schedule, at, shop_name, policy)
    if suggestion.send.variant == "guess" or suggestion.intent == "faq":
        sends = [suggestion.send]
    draft.replies.extend(sends)
    draft.notices.extend(notices)
    draft.ticket = order
    _ladders(draft, intent.key, conversation, at, policy)
    return draft.freeze(intent)


def first_reply(
    text: str,
    intent: Intent,
    schedule: Schedule,
    at: datetime,
    *,
    shop_name: str,
    policy: Policy | None = None,
) -> Send | None:
    """Return the :class:`Send` the bot answers ``text`` with as a conversation's first message, or None.

    As in business hours with no agent engaged: off hours, the next opening is taken as the time.
    """
    when = at if schedule.is_open(at) else schedule.next_opening(at)
    plan = decide(
        Message(text, intent), ConversationState(), schedule, when, shop_name=shop_name, policy=policy
    )
    return plan.replies[0] if plan.replies else None


def _silent_ticket(
    draft: _Draft,
    intent: Intent,
    conversation: ConversationState,
    schedule: Schedule,
    at: datetime,
    policy: Policy,
) -> None:
    """Open a ticket without a receipt when a complaint is likely but not sure enough to answer.

    A lost complaint costs more than a ticket an agent closes with /close; nothing is sent to the
    customer, so a wrong guess costs no wrong reply.
    """
    rule = policy.rule("complaint")
    if draft.ticket is not None or conversation.open_ticket is not None or rule.ticket_threshold is None:
        return
    if intent.probability("complaint", "complaint_followup") < rule.ticket_threshold:
        return
    _, order, _ = _complaint(conversation, schedule, at, policy)
    draft.ticket = order
    draft.notices.append(NOTICE_SILENT_TICKET)


def _engaged(conversation: ConversationState, at: datetime, policy: Policy) -> bool:
    last = conversation.last_agent_at
    return last is not None and timedelta(0) <= at - last < policy.agent_engaged


def _off_hours_notice(
    draft: _Draft, conversation: ConversationState, schedule: Schedule, at: datetime, policy: Policy
) -> None:
    stretch = schedule.stretch_start(at)
    if conversation.off_hours_stretch is not None and conversation.off_hours_stretch == stretch:
        return
    last = conversation.last_agent_at
    if last is not None and at - last < policy.agent_engaged:
        return
    reopen_at = reopen_text(schedule.next_opening(at), at)
    if schedule.off_hours_kind(at) == "lunch":
        draft.replies.append(Send("off_hours_lunch", None, {"reopen_at": reopen_at}))
    else:
        draft.replies.append(
            Send("off_hours_closed", None, {"reopen_at": reopen_at, "hours": schedule.hours_text})
        )
    draft.customer["off_hours_stretch"] = stretch


def _repeated(rule: IntentRule, sends: list[Send], conversation: ConversationState) -> bool:
    """Return whether a ``once`` script would go out a second time in this conversation."""
    return rule.once and any(send.key in conversation.scripts_sent for send in sends)


def _answer(
    intent: Intent,
    conversation: ConversationState,
    schedule: Schedule,
    at: datetime,
    shop_name: str,
    policy: Policy,
) -> tuple[list[Send], TicketOrder | None, list[str]]:
    """Return the scripts answering ``intent`` by its handler, with a complaint's ticket order and notices."""
    rule = policy.rule(intent.key)
    if rule.handler == "faq":  # the shop's answer: script "faq", variant = the FAQ id (bot.ops.shop)
        return ([Send("faq", intent.guess)] if intent.guess else []), None, []
    script = rule.script
    if script is None:
        return [], None, []
    day = at.astimezone(schedule.tz).date()
    handler = rule.handler
    if handler == "greeting":
        if "greeting" in conversation.scripts_sent:
            return ([Send("ask_more")] if "ask_more" not in conversation.scripts_sent else []), None, []
        return [Send(script, festival(day), {"shop": shop_name})], None, []
    if handler == "closing":
        return [Send(script, festival(day))], None, []
    if handler == "service_hours":
        return [Send(script, None, {"hours": schedule.hours_text})], None, []
    if handler == "agent_identity":
        if conversation.agent_number is not None:
            return [Send(script, None, {"agent_no": conversation.agent_number})], None, []
        return [Send(script, "shop", {"shop": shop_name})], None, []
    if handler == "unclear":
        if intent.guess:
            return [Send(script, "guess", {"guess": intent.guess})], None, []
        return [Send(script)], None, []
    if handler == "complaint":
        return _complaint(conversation, schedule, at, policy)
    if handler == "uncivil":
        step = min(conversation.uncivil_count + 1, policy.uncivil_steps)
        return [Send(f"uncivil_{step}")], None, []
    if handler == "human_request":
        step = conversation.human_requests + 1
        if step <= policy.human_retentions:
            return [Send(f"human_request_{step}")], None, []
        return [Send("human_handover" if conversation.handed_over_at is None else "waiting")], None, []
    return [Send(script)], None, []


def _complaint(
    conversation: ConversationState, schedule: Schedule, at: datetime, policy: Policy
) -> tuple[list[Send], TicketOrder, list[str]]:
    ticket = conversation.open_ticket
    if ticket is not None and not ticket.receipt_sent:  # opened silently: now the customer is told
        return [Send("complaint_receipt", None, {"ticket": "{ticket}"})], TicketOrder("existing"), []
    if ticket is None:
        start = at if schedule.is_open(at) else schedule.next_opening(at)
        order = TicketOrder(
            "open",
            due_answer_at=_add_working_days(schedule, start, policy.answer_working_days),
            due_settle_at=_add_working_days(schedule, start, policy.settle_working_days),
        )
        return [Send("complaint_receipt", None, {"ticket": "{ticket}"})], order, [NOTICE_NEW_TICKET]
    due = ticket.due_answer_at if ticket.answered_at is None else ticket.due_settle_at
    overdue = due is not None and at > due
    notice = NOTICE_FOLLOWUP_OVERDUE if overdue else NOTICE_FOLLOWUP
    send = Send("complaint_followup", "overdue" if overdue else None, {"ticket": "{ticket}"})
    return [send], TicketOrder("followup", overdue=overdue), [notice]


def _ladders(draft: _Draft, key: str, conversation: ConversationState, at: datetime, policy: Policy) -> None:
    """Add the state changes of the uncivil and human-request ladders when their script goes out."""
    if key == "uncivil":
        step = conversation.uncivil_count + 1
        draft.conversation["uncivil_count"] = step
        if step >= policy.uncivil_steps:
            draft.conversation.update(status="closed_uncivil", closed_at=at, waiting_since=None)
            draft.notices.append(NOTICE_UNCIVIL_CLOSED)
    elif key == "human_request":
        step = conversation.human_requests + 1
        draft.conversation["human_requests"] = step
        if step > policy.human_retentions:
            draft.conversation["handed_over_at"] = conversation.handed_over_at or at
            draft.notices.append(NOTICE_HUMAN)


def _add_working_days(schedule: Schedule, start: datetime, days: int) -> datetime:
    """Return the moment ``days`` working days after ``start``, counted from the day its window opened."""
    return schedule.add_working_days(start, days)
