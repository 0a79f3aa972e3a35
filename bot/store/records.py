"""The typed records the store returns: frozen dataclasses, one per kind of stored row.

They carry what the callers read (the columns of the row, times as the stored ISO strings) and no
behaviour beyond decoding; :func:`to_iso` and :func:`from_iso` convert times to and from the stored form.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

__all__ = [
    "Agent",
    "Conversation",
    "Customer",
    "DayConversation",
    "HeldCheck",
    "Message",
    "OutboxRow",
    "StaffMessage",
    "Suggestion",
    "SuggestionChoice",
    "Ticket",
    "TicketFigures",
    "WaitingCustomer",
    "from_iso",
    "to_iso",
]


def to_iso(at: datetime) -> str:
    """Return ``at`` (timezone-aware) as an ISO-8601 UTC string, e.g. ``2026-11-23T02:00:00+00:00``."""
    if at.tzinfo is None:
        raise ValueError("naive datetime: pass an aware time")
    return at.astimezone(UTC).isoformat()


def from_iso(value: str | None) -> datetime | None:
    """Return the aware UTC datetime stored as ``value``, or None for None."""
    return None if value is None else datetime.fromisoformat(value)


@dataclass(frozen=True)
class Customer:
    """A customer as stored: Telegram user id, private chat id, staff topic, blocked flag."""

    id: int
    chat_id: int
    name: str | None
    username: str | None
    topic_id: int | None
    blocked: int
    off_hours_stretch: str | None
    topic_name: str | None = None
    banned_at: str | None = None
    banned_by: int | None = None
    staff_chat_id: int | None = None  # the staff group the customer's topic is in (None: the primary)
    created_at: str | None = None
    last_seen_at: str | None = None


@dataclass(frozen=True)
class Agent:
    """An agent as stored: Telegram user id and the 工号 assigned on first message."""

    id: int
    number: str
    name: str | None
    created_at: str | None = None


@dataclass(frozen=True)
class Conversation:
    """One conversation's state: status, ladders, waiting/busy markers, handling agent."""

    id: int
    customer_id: int
    status: str
    uncivil_count: int
    human_requests: int
    handed_over_at: str | None
    waiting_since: str | None
    busy_sent_at: str | None
    last_customer_at: str | None
    last_agent_at: str | None
    agent_id: int | None
    opened_at: str | None = None
    closed_at: str | None = None


@dataclass(frozen=True)
class Ticket:
    """A complaint ticket: human-readable number, SLA due times, urgent flag."""

    id: int
    number: str
    customer_id: int
    conversation_id: int | None
    kind: str
    status: str
    urgent: int
    followups: int
    created_at: str
    due_answer_at: str | None
    due_settle_at: str | None
    answered_at: str | None
    closed_at: str | None = None


@dataclass(frozen=True)
class StaffMessage:
    """An agent's message in a customer's topic: its latest text, whether it was held or sent, and to whom."""

    id: int
    staff_chat_id: int
    staff_message_id: int
    customer_id: int
    agent_id: int | None
    text: str
    content_kind: str
    status: str
    message_id: int | None
    suggestion: str | None
    category: str | None
    version: int
    created_at: str | None = None
    updated_at: str | None = None


@dataclass(frozen=True)
class Suggestion:
    """A script offered to the agents: the intent it answers, how sure the router was, the agent's choice."""

    id: int
    customer_id: int
    conversation_id: int | None
    message_id: int | None
    intent: str
    confidence: float | None
    script_key: str
    values: str | None
    status: str
    agent_id: int | None
    created_at: str | None = None
    decided_at: str | None = None


@dataclass(frozen=True)
class OutboxRow:
    """One delivery in the outbox: the Bot API method, its JSON parameters, and how sending it went."""

    id: int
    chat_id: int
    method: str
    payload: str
    status: str
    attempts: int
    customer_id: int | None
    message_id: int | None
    created_at: str | None = None
    next_attempt_at: str | None = None
    sent_at: str | None = None
    telegram_message_id: int | None = None
    last_error: str | None = None

    @property
    def params(self) -> dict[str, Any]:
        """Return the decoded parameters of the call: a new dict each time, the caller's to change."""
        return json.loads(self.payload)

    @functools.cached_property
    def peek(self) -> Mapping[str, Any]:
        """Return the decoded parameters for reading only: decoded once per row, shared by every reader.

        The sender looks at a row's parameters three or four times before sending it (its topic, an album,
        a follow-up); each :attr:`params` decodes the JSON again (issue 15). Not for changing: the mapping
        is read-only, and what it holds is shared (take :attr:`params` to build a call from).
        """
        return MappingProxyType(json.loads(self.payload))


@dataclass(frozen=True)
class Message:
    """One stored message, inbound or outbound: who sent it, its text, and what the bot made of it."""

    id: int
    customer_id: int
    conversation_id: int | None
    direction: str  # in | out
    sender: str  # customer | bot | agent
    agent_id: int | None
    text: str | None
    content_kind: str
    chat_id: int | None
    telegram_message_id: int | None
    intent: str | None
    script_key: str | None
    version: int
    edit_of: int | None
    off_hours: int
    at: str


@dataclass(frozen=True)
class SuggestionChoice:
    """An agent's decision on an offered script, with the customer's text: one example for retraining."""

    text: str
    intent: str
    status: str  # sent | ignored
    confidence: float | None


@dataclass(frozen=True)
class DayConversation:
    """A conversation the customer wrote in on a given day: whether an agent and whether the bot answered."""

    conversation_id: int
    by_agent: int
    by_bot: int


@dataclass(frozen=True)
class HeldCheck:
    """An agent message the guard held back: its hits (JSON list) and the agent's 工号 (``?`` if unknown)."""

    hits: str | None
    agent: str


@dataclass(frozen=True)
class TicketFigures:
    """How many tickets are open, and how many of them are past an answer or settle due time."""

    open: int
    overdue: int


@dataclass(frozen=True)
class WaitingCustomer:
    """A customer whose open conversation waits for an agent: since when, and who it is."""

    waiting_since: str
    name: str | None
    username: str | None
    id: int

