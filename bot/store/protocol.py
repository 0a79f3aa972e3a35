"""The one storage seam: :class:`Store`, everything the desk (``bot/desk``) may ask of persistence.

The desk sees nothing else: no SQL, no connection, no sqlite-utils; what it reads comes back as the
frozen records of :mod:`bot.store.records`. :class:`bot.store.sqlite.Storage` implements it over SQLite;
another database plugs in by implementing these methods (``tests/test_store_protocol.py`` checks
that the SQLite store does, signature by signature).

How an async, networked store (PostgreSQL) satisfies it: the desk's work for one event is one
**synchronous unit** (a function that calls the methods below, usually inside :meth:`Store.transaction`),
and the adapters run it with ``await store.run(work, …)``; nothing of the desk awaits in between. The
SQLite store runs each unit on its storage thread. A PostgreSQL store implements :meth:`Store.run` the
same way: it executes the unit on a thread (or a pool of them) holding its own connection, e.g. a
blocking psycopg connection, and awaits the result; :meth:`Store.transaction` is that connection's
transaction (nested: a savepoint). The methods themselves stay synchronous, so the desk's rules and
tests are the same on either store. Times are passed as aware datetimes and come back in records as
ISO-8601 UTC strings (:func:`bot.store.records.from_iso` reads them).

Example::

    def work() -> None:
        with store.transaction():
            customer = store.upsert_customer(42, 42, "张三", None, at)
            store.enqueue(customer.chat_id, "sendMessage", {"chat_id": 42, "text": "您好"}, at)

    await store.run(work)
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Any, Protocol, TypeVar, runtime_checkable

from bot.store.records import (
    Agent,
    Conversation,
    Customer,
    DayConversation,
    HeldCheck,
    Message,
    StaffMessage,
    Suggestion,
    Ticket,
    TicketFigures,
    WaitingCustomer,
)

__all__ = ["Store"]

T = TypeVar("T")


@runtime_checkable
class Store(Protocol):
    """What the desk asks of storage (see the module docstring); every method but :meth:`run` is synchronous
    and is called inside one unit of work that :meth:`run` runs."""

    # running the work -------------------------------------------------------------------------------
    async def run(self, fn: Callable[..., T], /, *args: Any, urgent: bool = False, **kwargs: Any) -> T:
        """Return ``fn(*args, **kwargs)`` run as one unit of storage work, off the event loop."""
        ...

    async def run_together(self, job: Callable[[], Any]) -> None:
        """Run ``job()`` off the event loop, committed with other jobs queued meanwhile (each must write in
        its own :meth:`transaction`, a savepoint that rolls back alone); raise its error."""
        ...

    def transaction(self) -> AbstractContextManager[Any]:
        """Return a context whose writes commit together (nested: a savepoint that rolls back alone)."""
        ...

    def unavailable(self, exc: BaseException) -> bool:
        """Return whether ``exc`` means the database cannot be used for now (locked, read-only, full)."""
        ...

    # customers --------------------------------------------------------------------------------------
    def upsert_customer(
        self, user_id: int, chat_id: int, name: str | None, username: str | None, at: datetime
    ) -> Customer:
        """Return the stored customer, created or refreshed with the latest name and username."""
        ...

    def customer_in_conversation(
        self, user_id: int, chat_id: int, name: str | None, username: str | None, at: datetime
    ) -> tuple[Customer, Conversation]:
        """Return :meth:`upsert_customer` and :meth:`current_conversation` of that customer, read together."""
        ...

    def customer(self, user_id: int) -> Customer | None:
        """Return the customer with this Telegram user id, or None."""
        ...

    def update_customer(self, user_id: int, **values: Any) -> None:
        """Set columns of one customer (e.g. ``topic_id=7``, ``blocked=1``)."""
        ...

    def set_banned(self, user_id: int, at: datetime | None, *, by: int | None = None) -> bool:
        """Ban the customer from ``at`` (None lifts the ban); return whether anything changed."""
        ...

    def banned_customers(self) -> list[Customer]:
        """Return every banned customer, the longest banned first."""
        ...

    # agents -----------------------------------------------------------------------------------------
    def agent(self, user_id: int, name: str | None, at: datetime) -> Agent:
        """Return the agent, assigning the next 工号 (``001``, ``002`` …) on first sight."""
        ...

    def agent_by_id(self, agent_id: int) -> Agent | None:
        """Return the agent with this id, or None."""
        ...

    def agent_numbers(self) -> dict[int, str]:
        """Return every agent's 工号 by Telegram user id."""
        ...

    # conversations ----------------------------------------------------------------------------------
    def current_conversation(self, customer_id: int, at: datetime) -> Conversation:
        """Return the customer's open (or uncivil-closed) conversation, opening a new one if none."""
        ...

    def update_conversation(self, conversation_id: int, **values: Any) -> None:
        """Set columns of one conversation."""
        ...

    def waiting_conversations(self, since_before: datetime | None = None) -> list[Conversation]:
        """Return open conversations with an unanswered customer and no busy reply yet, oldest first."""
        ...

    # tickets ----------------------------------------------------------------------------------------
    def create_ticket(
        self,
        customer_id: int,
        conversation_id: int,
        kind: str,
        local_day: date,
        at: datetime,
        due_answer_at: datetime,
        due_settle_at: datetime,
    ) -> Ticket:
        """Return a new open ticket numbered ``T{YYYYMMDD}-{NNNN}``, counting within ``local_day``."""
        ...

    def open_ticket(self, customer_id: int) -> Ticket | None:
        """Return the customer's most recent open ticket, or None."""
        ...

    def update_ticket(self, ticket_id: int, **values: Any) -> None:
        """Set columns of one ticket."""
        ...

    # messages ---------------------------------------------------------------------------------------
    def add_message(self, **values: Any) -> int:
        """Store one inbound or outbound message (``at`` as datetime); return its row id."""
        ...

    def update_message(self, message_id: int, **values: Any) -> None:
        """Set columns of one message row (e.g. the intent once classified)."""
        ...

    def message(self, message_id: int) -> Message | None:
        """Return one stored message, or None."""
        ...

    def latest_version(self, chat_id: int, telegram_message_id: int) -> Message | None:
        """Return the newest stored version of the inbound message with these Telegram ids, or None."""
        ...

    def text_of(self, chat_id: int, telegram_message_id: int) -> str | None:
        """Return the text stored for the message with these Telegram ids (its newest row), or None."""
        ...

    def last_customer_text(self, customer_id: int) -> str | None:
        """Return the text of this customer's newest message that has any (None when none has)."""
        ...

    def last_agent_answer(self, customer_id: int) -> datetime | None:
        """Return when an agent last answered this customer, or None."""
        ...

    def script_sent(self, conversation_id: int, key: str) -> bool:
        """Return whether the bot already sent script ``key`` (any variant) in this conversation."""
        ...

    def scripts_sent(self, conversation_id: int) -> frozenset[str]:
        """Return the script keys (variants dropped) the bot already sent in this conversation."""
        ...

    def history(
        self, conversation_id: int, customer_id: int
    ) -> tuple[frozenset[str], datetime | None, Ticket | None]:
        """Return :meth:`scripts_sent` of the conversation, :meth:`last_agent_answer` and :meth:`open_ticket`
        of the customer (what the desk's snapshot of a customer message reads)."""
        ...

    # suggestions ------------------------------------------------------------------------------------
    def add_suggestion(self, **values: Any) -> int:
        """Store a script offered to the agents (``created_at`` as datetime); return its row id."""
        ...

    def suggestion(self, suggestion_id: int) -> Suggestion | None:
        """Return one suggestion by id, or None."""
        ...

    def decide_suggestions(
        self,
        customer_id: int,
        status: str,
        at: datetime,
        *,
        agent_id: int | None = None,
        only: int | None = None,
    ) -> int:
        """Mark the customer's offered suggestions (or only row ``only``) ``status``; return how many."""
        ...

    # guard checks -----------------------------------------------------------------------------------
    def add_guard_event(
        self,
        *,
        source: str,
        text: str,
        allowed: bool,
        hits: list[dict[str, Any]],
        suggestion: str | None,
        at: datetime,
        agent_id: int | None = None,
        customer_id: int | None = None,
    ) -> int:
        """Store one guard check (hits as JSON); return its row id."""
        ...

    # outbox -----------------------------------------------------------------------------------------
    def enqueue(
        self,
        chat_id: int,
        method: str,
        params: dict[str, Any],
        at: datetime,
        *,
        customer_id: int | None = None,
        message_id: int | None = None,
    ) -> int:
        """Queue one Bot API call (``method`` like ``sendMessage``) for the sender; return its row id."""
        ...

    def staff_load(self, staff_chat_id: int) -> int:
        """Return how many messages a staff group's queue still needs at the least."""
        ...

    # agents' topic messages -------------------------------------------------------------------------
    def save_staff_message(
        self,
        *,
        staff_chat_id: int,
        staff_message_id: int,
        customer_id: int,
        agent_id: int | None,
        text: str,
        content_kind: str,
        status: str,
        at: datetime,
        message_id: int | None = None,
        suggestion: str | None = None,
        category: str | None = None,
    ) -> StaffMessage:
        """Store (or replace, on an edit) an agent's topic message; return it with its version counted."""
        ...

    def staff_message(self, staff_chat_id: int, staff_message_id: int) -> StaffMessage | None:
        """Return an agent's stored topic message by its Telegram ids, or None."""
        ...

    def staff_message_by_id(self, row_id: int) -> StaffMessage | None:
        """Return an agent's stored topic message by row id, or None."""
        ...

    def update_staff_message(self, row_id: int, **values: Any) -> None:
        """Set columns of one stored agent topic message (e.g. ``status='suggested'``)."""
        ...

    # small bot state --------------------------------------------------------------------------------
    def state(self, key: str) -> str | None:
        """Return a small piece of bot state (e.g. the pinned board's message id), or None."""
        ...

    def set_state(self, key: str, value: str | None) -> None:
        """Store (or with None, forget) a small piece of bot state."""
        ...

    # the board's figures ----------------------------------------------------------------------------
    def waiting_by_group(self, primary: int) -> dict[int, int]:
        """Return how many open conversations wait for an agent, per staff group (no group: ``primary``)."""
        ...

    def day_conversations(self, start: datetime, end: datetime) -> list[DayConversation]:
        """Return the conversations a customer wrote in between ``start`` and ``end``, and who answered."""
        ...

    def held_checks(self, start: datetime, end: datetime) -> list[HeldCheck]:
        """Return the agent messages the guard held back between ``start`` and ``end``, with the agent."""
        ...

    def ticket_figures(self, at: datetime) -> TicketFigures:
        """Return how many tickets are open, and how many of them are overdue at ``at``."""
        ...

    def waiting_customers(self) -> list[WaitingCustomer]:
        """Return the customers whose open conversation waits for an agent, the longest waiting first."""
        ...
