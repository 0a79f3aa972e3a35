"""The bot's tables: created and changed only through :data:`MIGRATIONS` (sqlite-utils ``Migrations``).

Each migration runs once, in its own transaction, in the order written; a database made by an older kefu
is brought up to date by :func:`bot.store.sqlite.open_storage`. Times are ISO-8601 UTC strings.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

__all__ = ["MIGRATIONS", "TABLES"]

TABLES = (
    "customers",
    "conversations",
    "tickets",
    "messages",
    "guard_events",
    "outbox",
    "agents",
    "updates",
    "staff_messages",
    "suggestions",
    "spare_topics",
)

MIGRATIONS = Migrations("kefu")


@MIGRATIONS()
def m001_initial(db: Database) -> None:
    """Create the seven tables and their indexes."""
    db["customers"].create(
        {
            "id": int,  # Telegram user id
            "chat_id": int,
            "name": str,
            "username": str,
            "topic_id": int,
            "blocked": int,
            "off_hours_stretch": str,  # start of the off-hours stretch already answered
            "created_at": str,
            "last_seen_at": str,
        },
        pk="id",
        not_null={"chat_id", "created_at"},
        defaults={"blocked": 0},
    )
    db["agents"].create(
        {"id": int, "number": str, "name": str, "created_at": str},
        pk="id",
        not_null={"number", "created_at"},
    )
    db["agents"].create_index(["number"], unique=True)
    db["conversations"].create(
        {
            "id": int,
            "customer_id": int,
            "status": str,  # open | closed | closed_uncivil
            "uncivil_count": int,
            "human_requests": int,
            "handed_over_at": str,
            "waiting_since": str,  # first customer message no agent has answered yet
            "busy_sent_at": str,
            "last_customer_at": str,
            "last_agent_at": str,
            "agent_id": int,
            "opened_at": str,
            "closed_at": str,
        },
        pk="id",
        foreign_keys=[("customer_id", "customers", "id"), ("agent_id", "agents", "id")],
        not_null={"customer_id", "status", "opened_at"},
        defaults={"status": "open", "uncivil_count": 0, "human_requests": 0},
    )
    db["conversations"].create_index(["customer_id", "status"])
    db["conversations"].create_index(["status", "waiting_since"])
    db["tickets"].create(
        {
            "id": int,
            "number": str,
            "customer_id": int,
            "conversation_id": int,
            "kind": str,
            "status": str,  # open | closed
            "urgent": int,
            "followups": int,
            "created_at": str,
            "due_answer_at": str,
            "due_settle_at": str,
            "answered_at": str,
            "closed_at": str,
        },
        pk="id",
        foreign_keys=[("customer_id", "customers", "id"), ("conversation_id", "conversations", "id")],
        not_null={"number", "customer_id", "kind", "status", "created_at"},
        defaults={"status": "open", "urgent": 0, "followups": 0},
    )
    db["tickets"].create_index(["number"], unique=True)
    db["tickets"].create_index(["customer_id", "status"])
    db["messages"].create(
        {
            "id": int,
            "customer_id": int,
            "conversation_id": int,
            "direction": str,  # in | out
            "sender": str,  # customer | bot | agent
            "agent_id": int,
            "text": str,
            "content_kind": str,  # text | photo | sticker | ...
            "chat_id": int,
            "telegram_message_id": int,
            "intent": str,
            "script_key": str,
            "version": int,
            "edit_of": int,
            "off_hours": int,
            "at": str,
        },
        pk="id",
        foreign_keys=[
            ("customer_id", "customers", "id"),
            ("conversation_id", "conversations", "id"),
            ("agent_id", "agents", "id"),
            ("edit_of", "messages", "id"),
        ],
        not_null={"customer_id", "direction", "sender", "at"},
        defaults={"version": 1, "off_hours": 0, "content_kind": "text"},
    )
    db["messages"].create_index(["customer_id", "direction", "sender", "at"])
    db["messages"].create_index(["chat_id", "telegram_message_id"])
    db["guard_events"].create(
        {
            "id": int,
            "agent_id": int,
            "customer_id": int,
            "source": str,  # agent | agent_override | bot | draft | gate
            "text": str,
            "allowed": int,
            "hits": str,  # JSON list of hits
            "suggestion": str,
            "at": str,
        },
        pk="id",
        foreign_keys=[("agent_id", "agents", "id"), ("customer_id", "customers", "id")],
        not_null={"source", "text", "allowed", "hits", "at"},
    )
    db["outbox"].create(
        {
            "id": int,
            "chat_id": int,
            "method": str,
            "payload": str,  # JSON parameters of the Bot API method
            "status": str,  # pending | sent | failed
            "attempts": int,
            "customer_id": int,
            "message_id": int,  # the messages row this delivery belongs to
            "created_at": str,
            "next_attempt_at": str,
            "sent_at": str,
            "telegram_message_id": int,
            "last_error": str,
        },
        pk="id",
        foreign_keys=[("customer_id", "customers", "id"), ("message_id", "messages", "id")],
        not_null={"chat_id", "method", "payload", "status", "created_at"},
        defaults={"status": "pending", "attempts": 0},
    )
    db["outbox"].create_index(["status", "id"])


@MIGRATIONS()
def m002_inbox(db: Database) -> None:
    """Add the ``updates`` table: every raw inbound update, stored before it is acknowledged."""
    db["updates"].create(
        {
            "update_id": int,
            "raw": str,  # the update's JSON as Telegram sent it
            "status": str,  # pending | done | ignored | malformed | failed
            "error": str,
            "received_at": str,
            "handled_at": str,
        },
        pk="update_id",
        not_null={"raw", "status", "received_at"},
        defaults={"status": "pending"},
    )
    db["updates"].create_index(["status"])


@MIGRATIONS()
def m003_agent_side(db: Database) -> None:
    """Agent side: staff-topic messages of agents, the topic title shown, and small bot state (the board)."""
    db["customers"].add_column("topic_name", str)
    db["staff_messages"].create(
        {
            "id": int,
            "staff_chat_id": int,
            "staff_message_id": int,  # the agent's message in the customer's topic
            "customer_id": int,
            "agent_id": int,
            "text": str,  # latest version (text or caption; "" for media without caption)
            "content_kind": str,
            "status": str,  # held | edit_held | sent | suggested | command
            "message_id": int,  # messages row of the answer delivered to the customer
            "suggestion": str,
            "category": str,
            "version": int,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        foreign_keys=[("customer_id", "customers", "id"), ("message_id", "messages", "id")],
        not_null={"staff_chat_id", "staff_message_id", "customer_id", "text", "status", "created_at"},
        defaults={"version": 1, "content_kind": "text"},
    )
    db["staff_messages"].create_index(["staff_chat_id", "staff_message_id"], unique=True)
    db["bot_state"].create({"key": str, "value": str}, pk="key")
    db["customers"].create_index(["topic_id"])
    db["guard_events"].create_index(["at"])


@MIGRATIONS()
def m004_indexes_for_history(db: Database) -> None:
    """Indexes for the queries that otherwise read every message or ticket ever stored.

    Found on a 150,000-message database: "was this script already sent in this conversation" took
    30 ms per miss (a scan of ``messages``, on the event loop), the board's daily figures 157 ms.
    """
    db["messages"].create_index(["conversation_id", "sender", "script_key"])
    db["messages"].create_index(["direction", "at", "conversation_id"])
    db["tickets"].create_index(["status"])


@MIGRATIONS()
def m005_updates_by_age(db: Database) -> None:
    """Find handled updates by age, so that the old ones can be pruned without reading them all."""
    db["updates"].create_index(["status", "handled_at"])


@MIGRATIONS()
def m006_suggestions(db: Database) -> None:
    """Scripts offered to the agents instead of sent (the router was not sure, or an agent was answering).

    The agent's choice is kept for retraining the intent model (``kefu train --choices``).
    """
    db["suggestions"].create(
        {
            "id": int,
            "customer_id": int,
            "conversation_id": int,
            "message_id": int,  # the customer's message the script would answer
            "intent": str,
            "confidence": float,
            "script_key": str,  # key or key.variant
            "values": str,  # JSON placeholder values of the script
            "status": str,  # offered | sent | ignored
            "agent_id": int,  # who decided
            "created_at": str,
            "decided_at": str,
        },
        pk="id",
        foreign_keys=[
            ("customer_id", "customers", "id"),
            ("conversation_id", "conversations", "id"),
            ("message_id", "messages", "id"),
        ],
        not_null={"customer_id", "intent", "script_key", "status", "created_at"},
        defaults={"status": "offered"},
    )
    db["suggestions"].create_index(["customer_id", "status"])


@MIGRATIONS()
def m007_bans(db: Database) -> None:
    """Bans (``/ban`` in a customer's topic): when and by which agent; a banned customer's messages are
    stored but neither answered nor relayed. Kept in the database, so a ban survives restarts."""
    db["customers"].add_column("banned_at", str)
    db["customers"].add_column("banned_by", int)  # the agent's Telegram user id
    db["customers"].create_index(["banned_at"])


@MIGRATIONS()
def m008_staff_group_per_customer(db: Database) -> None:
    """Each customer's staff group (KEFU_STAFF_CHAT_ID may list several): assigned once, kept.

    Customers stored before it have none: they are in the primary group, where their topics are.
    """
    db["customers"].add_column("staff_chat_id", int)
    db["customers"].create_index(["topic_id", "staff_chat_id"])


@MIGRATIONS()
def m009_spare_topics(db: Database) -> None:
    """Spare forum topics made in quiet time, one row each (KEFU_SPARE_TOPICS per staff group).

    ``customer_id`` is NULL while the topic is spare; a new customer claims one in the same transaction
    that stores it as the customer's topic (so two customers never share one, also across a crash), and
    the row stays until the topic has been renamed to the customer's title.
    """
    db["spare_topics"].create(
        {"staff_chat_id": int, "topic_id": int, "customer_id": int, "created_at": str},
        pk=("staff_chat_id", "topic_id"),
        not_null={"created_at"},
    )
    db["spare_topics"].create_index(["staff_chat_id", "customer_id"])
