"""The bot's SQLite store, through sqlite-utils: every query the bot runs, in short transactions.

One file holds everything (WAL, foreign keys on, busy timeout): customers, conversations, tickets,
messages, guard_events, outbox, agents, the inbox's updates. Times are ISO-8601 UTC strings, so the file
reads well in datasette as-is (``datasette kefu.db``). Every write is one short transaction
(``with storage.transaction(): ...``); the tables are in :mod:`bot.store.schema`, changed only through
its :data:`~bot.store.schema.MIGRATIONS`; reads return the records of :mod:`bot.store.records`.

Why the hot path's writes are hand-written statements, not sqlite-utils' ``table.insert``/``table.update``
(issue 15): every customer message stores a message, queues its replies and relays, updates the
conversation, and every confirmed call marks its outbox row. Through ``table.insert``/``table.update``
each of those writes also ran sqlite-utils' own checks: ``sqlite_master`` lookups (does the table exist,
is it a view), ``PRAGMA table_info``, a row read before every update, a savepoint inside the enclosing
transaction. Measured in ``bench/bot_bench.py``'s flood (``set_trace_callback`` on the bot's connection):
80.6 statements per update, 16 of them ``sqlite_master`` lookups; with the writes below as one prepared
statement each, 34.4 (the rest: the desk's reads, the inbox and the sender's bookkeeping, one
transaction each). :meth:`Storage._insert` and :meth:`Storage._update` bind values as sqlite-utils does
(dicts and lists as JSON …) and :meth:`Storage._update` still raises its ``NotFoundError`` for a missing
row, from the statement's row count instead of a read. A new conversation and a new ticket go the same
way (a new customer's first message, a complaint: through ``table.insert`` each was a ``sqlite_master``
lookup and a savepoint of a name never seen before, ~0.13 per update in the flood). The schema, its
migrations and a new agent stay with sqlite-utils. All SQL stays in this package.

Example::

    storage = open_storage("kefu.db")
    customer = storage.upsert_customer(42, 42, "张三", "zhang", at)
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import sqlite3
import time
from collections.abc import Callable, Collection
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlite_utils import Database
from sqlite_utils.db import NotFoundError, jsonify_if_needed, quote_identifier

from bot.store.files import create_private, file_identity
from bot.store.records import (
    Agent,
    Conversation,
    Customer,
    DayConversation,
    HeldCheck,
    Message,
    OutboxRow,
    StaffMessage,
    Suggestion,
    SuggestionChoice,
    Ticket,
    TicketFigures,
    WaitingCustomer,
    from_iso,
    to_iso,
)
from bot.store.schema import MIGRATIONS, TABLES
from bot.store.thread import GroupWrite, StorageThread, log_failure

__all__ = [
    "MIGRATIONS",
    "TABLES",
    "Agent",
    "Conversation",
    "Customer",
    "NotKefuDatabase",
    "OutboxRow",
    "StaffMessage",
    "Storage",
    "StorageError",
    "StorageThread",
    "Suggestion",
    "Ticket",
    "create_private",
    "from_iso",
    "is_disk_trouble",
    "is_unavailable",
    "open_storage",
    "table_counts",
    "to_iso",
]

T = TypeVar("T")
R = TypeVar("R")
_OUTBOX_COLUMNS = ", ".join(field.name for field in dataclasses.fields(OutboxRow))
_CUSTOMER_FIELDS = len(dataclasses.fields(Customer))
# The id of a customer's current conversation: the newest open (or uncivil-closed) one. As max(id), not
# ``ORDER BY id DESC LIMIT 1``: with the IN on the status that sorted the rows in a temporary B-tree for
# every customer message (~30 µs in the bench's flood; issue 15), max(id) reads the index alone.
_CURRENT_CONVERSATION_ID = (
    "SELECT max(id) FROM conversations WHERE customer_id = {} AND status IN ('open', 'closed_uncivil')"
)
# A customer with their current conversation, in one row (Storage.customer_in_conversation).
_CUSTOMER_IN_CONVERSATION = "SELECT {}, {} FROM customers c {} WHERE c.id = ?".format(
    ", ".join(f"c.{field.name}" for field in dataclasses.fields(Customer)),
    ", ".join(f"v.{field.name}" for field in dataclasses.fields(Conversation)),
    "LEFT JOIN conversations v ON v.id = ({})".format(_CURRENT_CONVERSATION_ID.format("c.id")),
)
#: Values SQLite takes as they are; anything else goes through sqlite-utils' conversion (JSON, ISO-8601 …).
_PLAIN = frozenset({str, int, float, bytes, type(None)})  # a record type of bot.store.records
log = logging.getLogger(__name__)
_IN_OPEN_TRANSACTION = contextlib.nullcontext()  # a write inside the transaction already open


class _Transaction:
    """One transaction on the storage's connection, or a savepoint inside the one already open.

    What sqlite-utils' ``Database.atomic()`` does (``BEGIN``/``COMMIT``, a ``ROLLBACK`` on any error or
    a failed commit; nested: ``SAVEPOINT``, ``ROLLBACK TO`` and ``RELEASE`` on an error when the error
    left the transaction open), as a plain class: ``atomic()`` is a generator made and run per
    transaction, and names each savepoint with 16 random bytes, so every ``SAVEPOINT`` and ``RELEASE``
    was a statement never seen before, compiled anew. A savepoint here is named by its depth
    (``kefu_1`` inside the transaction, ``kefu_2`` inside that …): the few names recur and their
    statements come from the connection's statement cache. The desk opens two savepoints per customer
    message in its group's transaction, the sender a transaction per group of records (issue 15).

    A savepoint nested in another one (``kefu_2`` and deeper) that ends without an error is not released
    on its own: ``RELEASE SAVEPOINT kefu_1`` (or the ``COMMIT``) releases it with its enclosing one, and a
    ``ROLLBACK TO`` an enclosing one undoes it all the same, so what commits and what rolls back is
    unchanged; one statement less per customer message (issue 15). A later savepoint of the same name
    is a new one, inside it: ``ROLLBACK TO`` and ``RELEASE`` take the most recent of a name. ``kefu_1``
    itself is released at once: releasing the outermost savepoint lets SQLite truncate its in-memory
    sub-journal, which would otherwise grow over a whole group of messages.
    """

    __slots__ = ("conn", "depth", "storage")

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.conn = storage.db.conn
        self.depth = 0  # 0: the transaction itself; n: the savepoint n deep

    def __enter__(self) -> Storage:
        storage = self.storage
        if self.conn.in_transaction:
            storage._depth = self.depth = storage._depth + 1
            self.conn.execute(f"SAVEPOINT kefu_{self.depth}")
        else:
            storage._depth = 0
            self.conn.execute("BEGIN")
        return storage

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        conn, depth = self.conn, self.depth
        if exc_type is not None:  # rolled back (all, or to the savepoint): what was read in it may be undone
            self.storage._states.clear()
        if depth:
            self.storage._depth = depth - 1
            if exc_type is None:
                if depth == 1:  # a savepoint inside a savepoint is released with it (see the class docstring)
                    conn.execute("RELEASE SAVEPOINT kefu_1")
            elif conn.in_transaction:  # an error (a RAISE(ROLLBACK) trigger) may have ended it all
                conn.execute(f"ROLLBACK TO SAVEPOINT kefu_{depth}")
                conn.execute(f"RELEASE SAVEPOINT kefu_{depth}")
            return
        if exc_type is not None:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            return
        try:
            conn.execute("COMMIT")
        except BaseException:
            self.storage._states.clear()
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


BUSY_TIMEOUT_MS = 5000
#: After a checkpoint the WAL file is cut back to this size. Without a limit it keeps the largest size it
#: ever reached: on a nearly full disk that is the space the next checkpoint needs.
JOURNAL_SIZE_LIMIT = 1024 * 1024
#: A checkpoint after every 256 pages (1 MiB) written, not SQLite's 1,000 (4 MiB): the WAL a checkpoint
#: has to copy, and the free space it needs, stay at about 1 MiB.
WAL_AUTOCHECKPOINT_PAGES = 256
#: How long the sender may reuse a customer's topic and open ticket read for a relay
#: (:meth:`Storage.kept_topic_holder`) when this storage changed neither: another process may have.
# Jobs of run_together in one transaction at most: a customer message's is ~1-2 ms, so a group holds the
# thread (and the sender's records queued behind it) for a few tens of milliseconds at most.
JOBS_PER_TRANSACTION = 20
HOLDER_KEPT_S = 30.0
HOLDERS_KEPT = 1000  # customers whose topic holder is kept at most (the oldest read is dropped first)
STATES_KEPT = 4096  # bot_state values kept in memory at most (Storage.state; the oldest is dropped first)


class StorageError(Exception):
    """The database file cannot be used (not a database, locked, read-only …); the message names the file."""


class NotKefuDatabase(StorageError):
    """The file is a SQLite database, but another program's: kefu neither reads nor migrates it."""


def _refuse_foreign(conn: sqlite3.Connection, path: str | Path) -> None:
    """Raise :class:`NotKefuDatabase` when the database has tables but none of kefu's migrations.

    An empty file (or a new one) is fine: kefu creates its tables there.
    """
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    if not tables:
        return
    if MIGRATIONS.migrations_table in tables and conn.execute(
        f"SELECT 1 FROM [{MIGRATIONS.migrations_table}] WHERE migration_set = ? LIMIT 1", [MIGRATIONS.name]
    ).fetchone():
        return
    shown = ", ".join(tables[:5]) + (f" … ({len(tables)} tables)" if len(tables) > 5 else "")
    raise NotKefuDatabase(
        f"{path}: a SQLite database, but not kefu's (its tables: {shown}): check KEFU_DB_PATH"
    )


# SQLite errors that say the database cannot be written right now, not that the statement is wrong:
# another process holds the lock (longer than the busy timeout), the file or its directory became
# read-only, the disk is full or failing. Whatever was being written can be written again later.
_UNAVAILABLE = (
    "database is locked",
    "database table is locked",
    "readonly database",
    "disk i/o error",
    "database or disk is full",
    "unable to open database file",
)


def _converted(values: dict[str, Any]) -> list[Any]:
    """Return the values of a row as sqlite-utils' ``insert``/``update`` would bind them (dicts as JSON …)."""
    return [v if type(v) in _PLAIN else jsonify_if_needed(v) for v in values.values()]


def is_disk_trouble(exc: BaseException) -> bool:
    """Return whether ``exc`` says the disk is full or failing (a checkpoint may give the space back)."""
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("disk is full" in text or "disk i/o error" in text)


def is_unavailable(exc: BaseException) -> bool:
    """Return whether ``exc`` means the database cannot be written for now (locked, read-only, full)."""
    return isinstance(exc, sqlite3.OperationalError) and any(m in str(exc).lower() for m in _UNAVAILABLE)



class Storage:
    """The bot's database: typed reads and short write transactions over one sqlite-utils Database.

    It implements :class:`bot.store.protocol.Store` (what the desk uses) and, besides, what the adapters
    and operations need: the inbox's updates, the sender's outbox, checkpoints and the file's identity.

    Its methods are synchronous. The running bot's adapters (handlers, inbox pump, sender, board) call
    them through :meth:`run`, which runs them on the :class:`StorageThread`, off the event loop.
    """

    def __init__(self, db: Database, path: Path | None = None) -> None:
        self.db = db
        self.path = path
        # sqlite-utils' Table objects, made once: ``db[name]`` looks the name up in sqlite_master each time.
        self._tables = {name: db.table(name) for name in TABLES}
        # The hot path's INSERT and UPDATE texts, by (table, verb, columns): built once, then prepared
        # by sqlite3's statement cache.
        self._sql: dict[tuple[str, str, tuple[str, ...]], str] = {}
        self._depth = 0  # how deep the savepoint now open is (:class:`_Transaction`)
        self._identity = file_identity(path) if path is not None else None
        self._thread: StorageThread | None = None
        # What topic_holder last read per customer (when, customer, open ticket), dropped by every write of
        # this storage to that customer or to any ticket; see kept_topic_holder.
        self._holders: dict[int, tuple[float, Customer, Ticket | None]] = {}
        # bot_state values this storage read or wrote, by key (when, value): see state.
        self._states: dict[str, tuple[float, str | None]] = {}
        # Jobs that may share a transaction (customer messages arriving together): see run_together.
        self._together: GroupWrite[Callable[[], Any]] = GroupWrite(
            lambda: self.thread, self._run_each, most=JOBS_PER_TRANSACTION
        )

    @property
    def thread(self) -> StorageThread:
        """Return the storage thread (started on first use)."""
        if self._thread is None:
            self._thread = StorageThread()
        return self._thread

    async def run(self, fn: Callable[..., T], /, *args: Any, urgent: bool = False, **kwargs: Any) -> T:
        """Return ``fn(*args, **kwargs)``, run on the storage thread: the event loop never waits on SQLite.

        After :meth:`finish` a new thread is started for the next call.

        ``fn`` is any synchronous function that uses this storage (a desk method, an inbox write …).
        Example: ``await storage.run(storage.mark_sent, outbox_id, telegram_id, at)``.
        """
        try:
            return await self.thread.run(fn, *args, urgent=urgent, **kwargs)
        except Exception as exc:
            if is_disk_trouble(exc) and self._thread is not None:  # give the WAL's space back now
                with contextlib.suppress(RuntimeError):  # the thread was closed meanwhile
                    self.submit(self.checkpoint)
            raise

    async def run_together(self, job: Callable[[], Any]) -> None:
        """Run ``job()`` on the storage thread in one transaction with the other jobs queued meanwhile.

        Returns once that transaction committed; raises the job's own error, or the database's when the
        transaction failed (then no job of the group is kept: each caller tries again, as after any
        error that leaves the database unwritten). A job must write inside its own
        ``with storage.transaction()``: there it is a savepoint, so a job that fails rolls back alone.
        One commit and one wake-up of the event loop for the group, instead of one per job (issue 15);
        at most :data:`JOBS_PER_TRANSACTION` jobs in one, so the sender's records wait little behind it.
        """
        try:
            await self._together.write(job)
        except Exception as exc:
            if is_disk_trouble(exc) and self._thread is not None:  # give the WAL's space back now
                with contextlib.suppress(RuntimeError):
                    self.submit(self.checkpoint)
            raise

    def _run_each(self, jobs: list[Callable[[], Any]]) -> list[BaseException | None]:
        """Run ``jobs`` in one transaction; return per job None or its error (the database's is raised)."""
        errors: list[BaseException | None] = []
        with self.transaction():
            for job in jobs:
                try:
                    job()
                except Exception as exc:
                    if self.unavailable(exc):
                        raise  # the transaction is lost: every job of the group is tried again
                    errors.append(exc)
                else:
                    errors.append(None)
        return errors

    def unavailable(self, exc: BaseException) -> bool:
        """Return whether ``exc`` means the database cannot be written for now (:func:`is_unavailable`)."""
        return is_unavailable(exc)

    def checkpoint(self) -> tuple[int, int, int]:
        """Copy the WAL into the database file and cut the WAL back (``wal_checkpoint(TRUNCATE)``).

        Returns SQLite's ``(busy, wal pages, pages checkpointed)``; ``busy`` is 1 when a reader held it back.
        """
        busy, pages, done = self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return busy, pages, done

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        """Queue ``fn(*args, **kwargs)`` on the storage thread without waiting (its error is logged).

        For writes a synchronous caller on the event loop must not wait for, e.g. a refusal's record.
        """
        future = self.thread.submit(fn, *args, **kwargs)
        future.add_done_callback(log_failure)

    def file_is_lost(self) -> bool:
        """Return whether the file at :attr:`path` was deleted or replaced since this storage opened it.

        The connection keeps working on the old file, so writes go on, into a file no one will find again.
        """
        return self._identity is not None and file_identity(self.path) != self._identity

    def copy_to(self, target: Path) -> None:
        """Write a consistent copy of everything stored to ``target`` (0600), which must not exist yet."""
        create_private(target)  # VACUUM INTO fills an empty file, keeping its mode
        self.db.execute("VACUUM INTO ?", [str(target)])

    def finish(self) -> None:
        """Let the storage thread run what is queued, then stop it (the next :meth:`run` starts a new one)."""
        if self._thread is not None:
            self._thread.close()
            self._thread = None

    def close(self) -> None:
        """Finish the storage thread's queued work, then close the connection."""
        self.finish()
        self.db.close()

    def transaction(self) -> contextlib.AbstractContextManager[Storage]:
        """Return a context holding the storage inside one transaction (nested: a savepoint that rolls
        back alone); what sqlite-utils' ``atomic()`` does (:class:`_Transaction`)."""
        return _Transaction(self)

    def _write(self) -> contextlib.AbstractContextManager[Any]:
        """Return the context of one write: its own transaction, or simply the transaction already open.

        sqlite-utils' ``atomic()`` opens a savepoint when a transaction is open; for every single write
        inside the desk's transactions that was most of the statements the bot ran. The enclosing
        transaction (or savepoint) already rolls back whatever a failing write leaves behind. Inside one,
        the context is a shared ``nullcontext`` (no generator made and run per write: ~13 per update).
        """
        return _IN_OPEN_TRANSACTION if self.db.conn.in_transaction else _Transaction(self)

    def _rows(self, sql: str, params: tuple | list = ()) -> list[dict[str, Any]]:
        """Return every row of ``sql`` as a dict of column → value: the store's one row mapping.

        Not sqlite-utils' ``db.query``: since 4.0 it wraps each SELECT in a SAVEPOINT. The running bot
        reads on the event loop too (the polling offset, the replay at start) while the storage thread
        writes on the same connection; there a SAVEPOINT fails ("cannot open savepoint - SQL statements
        in progress") or begins a transaction the other thread's writes then land in.
        """
        cursor = self.db.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _first(self, record: type[R], sql: str, params: tuple | list = ()) -> R | None:
        """Return the first row of ``sql`` as a ``record``, or None when there is none."""
        cursor = self.db.execute(sql, params)
        row = cursor.fetchone()
        names = [column[0] for column in cursor.description]
        return None if row is None else record(**dict(zip(names, row, strict=True)))

    def _all(self, record: type[R], sql: str, params: tuple | list = ()) -> list[R]:
        """Return every row of ``sql`` as a ``record``, in the query's order."""
        return [record(**row) for row in self._rows(sql, params)]

    def _value(self, sql: str, params: tuple | list = ()) -> Any:
        """Return the first column of the first row of ``sql``, or None when there is no row."""
        row = self.db.execute(sql, params).fetchone()
        return None if row is None else row[0]

    # the hot path's writes: one prepared statement each (see the module docstring) -------------------
    def _insert(self, table: str, values: dict[str, Any]) -> int:
        """Insert one row of ``values`` (converted as sqlite-utils' ``insert`` does); return its rowid."""
        columns = tuple(values)
        sql = self._sql.get((table, "insert", columns))
        if sql is None:
            sql = self._sql[(table, "insert", columns)] = "INSERT INTO {} ({}) VALUES ({})".format(
                quote_identifier(table),
                ", ".join(quote_identifier(column) for column in columns),
                ", ".join("?" * len(columns)),
            )
        with self._write():
            return self.db.conn.execute(sql, _converted(values)).lastrowid

    def _update(self, table: str, row_id: int, values: dict[str, Any]) -> None:
        """Set ``values`` on the row of id ``row_id``, as sqlite-utils' ``update`` does.

        Raises sqlite-utils' ``NotFoundError`` when there is no such row, as ``table.update`` does.
        """
        if not values:
            if self._value(f"SELECT 1 FROM {quote_identifier(table)} WHERE id = ?", [row_id]) is None:
                raise NotFoundError
            return
        columns = tuple(values)
        sql = self._sql.get((table, "update", columns))
        if sql is None:
            sql = self._sql[(table, "update", columns)] = "UPDATE {} SET {} WHERE id = ?".format(
                quote_identifier(table), ", ".join(f"{quote_identifier(column)} = ?" for column in columns)
            )
        if table == "customers":
            self._changed_holder(row_id)
        elif table == "tickets":
            self._changed_holder()
        with self._write():
            params = _converted(values)
            params.append(row_id)
            if self.db.conn.execute(sql, params).rowcount != 1:
                raise NotFoundError

    # customers -------------------------------------------------------------------------------
    def upsert_customer(
        self, user_id: int, chat_id: int, name: str | None, username: str | None, at: datetime
    ) -> Customer:
        """Return the stored customer, created or refreshed with the latest name and username."""
        with self._write():
            self._upsert_customer(user_id, chat_id, name, username, at)
        customer = self.customer(user_id)
        if customer is None:
            self._changed_holder(user_id)
        else:
            self._renamed(customer)
        return customer

    def customer_in_conversation(
        self, user_id: int, chat_id: int, name: str | None, username: str | None, at: datetime
    ) -> tuple[Customer, Conversation]:
        """Return :meth:`upsert_customer` and :meth:`current_conversation` of that customer.

        What every customer message needs: the customer and the conversation are read in one statement
        after the upsert (two before; issue 15). A new conversation is opened when there is none.
        """
        with self._write():
            self._upsert_customer(user_id, chat_id, name, username, at)
            row = self.db.conn.execute(_CUSTOMER_IN_CONVERSATION, [user_id]).fetchone()
            customer = Customer(*row[:_CUSTOMER_FIELDS])
            self._renamed(customer)
            if row[_CUSTOMER_FIELDS] is None:  # no conversation open: a new one
                return customer, self.current_conversation(user_id, at)
            return customer, Conversation(*row[_CUSTOMER_FIELDS:])

    def _upsert_customer(
        self, user_id: int, chat_id: int, name: str | None, username: str | None, at: datetime
    ) -> None:
        stamp = to_iso(at)
        self.db.conn.execute(
            "INSERT INTO customers (id, chat_id, name, username, created_at, last_seen_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET chat_id = excluded.chat_id, "
            "name = excluded.name, username = excluded.username, last_seen_at = excluded.last_seen_at, "
            "blocked = 0",
            [user_id, chat_id, name, username, stamp, stamp],
        )

    def _renamed(self, customer: Customer) -> None:
        """Forget the kept topic holder of a customer whose name or username changed (a new topic title)."""
        kept = self._holders.get(customer.id)
        if kept is not None and (kept[1].name, kept[1].username) != (customer.name, customer.username):
            self._changed_holder(customer.id)

    def customer(self, user_id: int) -> Customer | None:
        """Return the customer with this Telegram user id, or None."""
        return self._first(Customer, "SELECT * FROM customers WHERE id = ?", [user_id])

    def update_customer(self, user_id: int, **values: Any) -> None:
        """Set columns of one customer (e.g. ``topic_id=7``, ``blocked=1``)."""
        self._update("customers", user_id, values)

    def set_banned(self, user_id: int, at: datetime | None, *, by: int | None = None) -> bool:
        """Ban the customer from ``at`` (None lifts the ban); return whether anything changed."""
        self._changed_holder(user_id)
        with self._write():
            cursor = self.db.execute(
                "UPDATE customers SET banned_at = ?, banned_by = ? WHERE id = ? AND "
                + ("banned_at IS NULL" if at is not None else "banned_at IS NOT NULL"),
                [to_iso(at) if at is not None else None, by if at is not None else None, user_id],
            )
        return cursor.rowcount > 0

    def banned_customers(self) -> list[Customer]:
        """Return every banned customer, the longest banned first."""
        return self._all(
            Customer, "SELECT * FROM customers WHERE banned_at IS NOT NULL ORDER BY banned_at, id"
        )

    # agents ----------------------------------------------------------------------------------
    def agent(self, user_id: int, name: str | None, at: datetime) -> Agent:
        """Return the agent, assigning the next 工号 (``001``, ``002`` …) on first sight."""
        with self._write():
            agent = self.agent_by_id(user_id)
            if agent is None:
                count = self._value("SELECT count(*) FROM agents")
                self._tables["agents"].insert(
                    {"id": user_id, "number": f"{count + 1:03d}", "name": name, "created_at": to_iso(at)}
                )
                agent = self.agent_by_id(user_id)
        return agent

    def agent_by_id(self, agent_id: int) -> Agent | None:
        """Return the agent with this id, or None."""
        return self._first(Agent, "SELECT * FROM agents WHERE id = ?", [agent_id])

    # conversations ---------------------------------------------------------------------------
    def current_conversation(self, customer_id: int, at: datetime) -> Conversation:
        """Return the customer's open (or uncivil-closed) conversation, opening a new one if none."""
        sql = f"SELECT * FROM conversations WHERE id = ({_CURRENT_CONVERSATION_ID.format('?')})"
        with self._write():
            conversation = self._first(Conversation, sql, [customer_id])
            if conversation is None:
                opened = {"customer_id": customer_id, "status": "open", "opened_at": to_iso(at)}
                self._insert("conversations", opened)
                conversation = self._first(Conversation, sql, [customer_id])
        return conversation

    def conversation(self, conversation_id: int) -> Conversation | None:
        """Return one conversation by id, or None."""
        return self._first(Conversation, "SELECT * FROM conversations WHERE id = ?", [conversation_id])

    def update_conversation(self, conversation_id: int, **values: Any) -> None:
        """Set columns of one conversation."""
        self._update("conversations", conversation_id, values)

    def waiting_conversations(self, since_before: datetime | None = None) -> list[Conversation]:
        """Return open conversations with an unanswered customer and no busy reply yet, oldest first.

        With ``since_before``, only those waiting since before that moment.
        """
        return self._all(
            Conversation,
            "SELECT * FROM conversations WHERE status = 'open' AND waiting_since IS NOT NULL "
            "AND busy_sent_at IS NULL AND waiting_since <= ? ORDER BY waiting_since",
            [to_iso(since_before) if since_before is not None else "9999"],
        )

    # tickets ---------------------------------------------------------------------------------
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
        prefix = f"T{local_day:%Y%m%d}-"
        self._changed_holder(customer_id)
        with self._write():
            # A range (not LIKE, which cannot use the index) over the day's numbers; longest first, so
            # that -10000 comes after -9999.
            last = self._value(
                "SELECT number FROM tickets WHERE number >= ? AND number < ? "
                "ORDER BY length(number) DESC, number DESC LIMIT 1",
                [prefix, prefix + "~"],
            )
            seq = int(last.rsplit("-", 1)[1]) + 1 if last else 1
            ticket_id = self._insert(
                "tickets",
                {
                    "number": f"{prefix}{seq:04d}",
                    "customer_id": customer_id,
                    "conversation_id": conversation_id,
                    "kind": kind,
                    "status": "open",
                    "created_at": to_iso(at),
                    "due_answer_at": to_iso(due_answer_at),
                    "due_settle_at": to_iso(due_settle_at),
                },
            )
        return self.ticket(ticket_id)

    def ticket(self, ticket_id: int) -> Ticket | None:
        """Return one ticket by id, or None."""
        return self._first(Ticket, "SELECT * FROM tickets WHERE id = ?", [ticket_id])

    def open_ticket(self, customer_id: int) -> Ticket | None:
        """Return the customer's most recent open ticket, or None."""
        return self._first(
            Ticket,
            "SELECT * FROM tickets WHERE customer_id = ? AND status = 'open' ORDER BY id DESC LIMIT 1",
            [customer_id],
        )

    def update_ticket(self, ticket_id: int, **values: Any) -> None:
        """Set columns of one ticket."""
        self._update("tickets", ticket_id, values)

    # messages --------------------------------------------------------------------------------
    def add_message(self, **values: Any) -> int:
        """Store one inbound or outbound message (``at`` as datetime); return its row id."""
        values["at"] = to_iso(values["at"])
        return self._insert("messages", values)

    def update_message(self, message_id: int, **values: Any) -> None:
        """Set columns of one message row (e.g. the intent once classified)."""
        self._update("messages", message_id, values)

    def message(self, message_id: int) -> Message | None:
        """Return one stored message, or None."""
        return self._first(Message, "SELECT * FROM messages WHERE id = ?", [message_id])

    def latest_version(self, chat_id: int, telegram_message_id: int) -> Message | None:
        """Return the newest stored version of the inbound message with these Telegram ids, or None."""
        return self._first(
            Message,
            "SELECT * FROM messages WHERE chat_id = ? AND telegram_message_id = ? AND direction = 'in' "
            "ORDER BY version DESC LIMIT 1",
            [chat_id, telegram_message_id],
        )

    def last_customer_text(self, customer_id: int) -> str | None:
        """Return the text of this customer's newest message that has any (None when none has)."""
        return self._value(
            "SELECT text FROM messages WHERE customer_id = ? AND direction = 'in' "
            "AND text IS NOT NULL AND trim(text) != '' ORDER BY id DESC LIMIT 1",
            [customer_id],
        )

    def last_agent_answer(self, customer_id: int) -> datetime | None:
        """Return when an agent last answered this customer, or None."""
        return from_iso(
            self._value(
                "SELECT max(at) FROM messages "
                "WHERE customer_id = ? AND direction = 'out' AND sender = 'agent'",
                [customer_id],
            )
        )

    def script_sent(self, conversation_id: int, key: str) -> bool:
        """Return whether the bot already sent script ``key`` (any variant) in this conversation."""
        sent = self._value(
            "SELECT 1 FROM messages WHERE conversation_id = ? AND sender = 'bot' "
            "AND (script_key = ? OR script_key LIKE ?) LIMIT 1",
            [conversation_id, key, key + ".%"],
        )
        return sent is not None

    def scripts_sent(self, conversation_id: int) -> frozenset[str]:
        """Return the script keys (variants dropped) the bot already sent in this conversation."""
        cursor = self.db.execute(
            "SELECT DISTINCT script_key FROM messages WHERE conversation_id = ? AND sender = 'bot' "
            "AND script_key IS NOT NULL",
            [conversation_id],
        )
        return frozenset(row[0].split(".", 1)[0] for row in cursor.fetchall())

    def history(
        self, conversation_id: int, customer_id: int
    ) -> tuple[frozenset[str], datetime | None, Ticket | None]:
        """Return :meth:`scripts_sent` of the conversation, :meth:`last_agent_answer` and :meth:`open_ticket`
        of the customer, read in one statement: what the desk's snapshot of every customer message reads
        (three statements before; issue 15)."""
        cursor = self.db.execute(
            "SELECT h.last, h.keys, t.* FROM (SELECT (SELECT max(at) FROM messages WHERE customer_id = ? "
            "AND direction = 'out' AND sender = 'agent') AS last, (SELECT json_group_array(script_key) FROM "
            "(SELECT DISTINCT script_key FROM messages WHERE conversation_id = ? AND sender = 'bot' "
            "AND script_key IS NOT NULL)) AS keys) AS h LEFT JOIN tickets t ON t.id = "
            "(SELECT id FROM tickets WHERE customer_id = ? AND status = 'open' ORDER BY id DESC LIMIT 1)",
            [customer_id, conversation_id, customer_id],
        )
        last, keys, *columns = cursor.fetchone()
        ticket = None
        if columns[0] is not None:
            names = [column[0] for column in cursor.description[2:]]
            ticket = Ticket(**dict(zip(names, columns, strict=True)))
        return frozenset(key.split(".", 1)[0] for key in json.loads(keys)), from_iso(last), ticket

    # suggestions -----------------------------------------------------------------------------
    def add_suggestion(self, **values: Any) -> int:
        """Store a script offered to the agents (``created_at`` as datetime); return its row id."""
        values["created_at"] = to_iso(values["created_at"])
        return self._insert("suggestions", values)

    def suggestion(self, suggestion_id: int) -> Suggestion | None:
        """Return one suggestion by id, or None."""
        return self._first(Suggestion, "SELECT * FROM suggestions WHERE id = ?", [suggestion_id])

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
        sql = "UPDATE suggestions SET status = ?, decided_at = ?, agent_id = ? WHERE customer_id = ? "
        sql += "AND status = 'offered'" + (" AND id = ?" if only is not None else "")
        params = [status, to_iso(at), agent_id, customer_id] + ([only] if only is not None else [])
        with self._write():
            return self.db.execute(sql, params).rowcount

    def suggestion_choices(self) -> list[SuggestionChoice]:
        """Return every decided suggestion with the customer's text: the agents' choices, for retraining."""
        return self._all(
            SuggestionChoice,
            "SELECT m.text AS text, s.intent AS intent, s.status AS status, s.confidence AS confidence "
            "FROM suggestions s JOIN messages m ON m.id = s.message_id "
            "WHERE s.status IN ('sent', 'ignored') AND m.text IS NOT NULL ORDER BY s.id"
        )

    def messages(self, customer_id: int) -> list[Message]:
        """Return every message of one customer, oldest first."""
        return self._all(Message, "SELECT * FROM messages WHERE customer_id = ? ORDER BY id", [customer_id])

    # guard events ----------------------------------------------------------------------------
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
        return self._insert(
            "guard_events",
            {
                "agent_id": agent_id,
                "customer_id": customer_id,
                "source": source,
                "text": text,
                "allowed": int(allowed),
                "hits": json.dumps(hits, ensure_ascii=False),
                "suggestion": suggestion,
                "at": to_iso(at),
            }
        )

    # outbox ----------------------------------------------------------------------------------
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
        return self._insert(
            "outbox",
            {
                "chat_id": chat_id,
                "method": method,
                "payload": json.dumps(params, ensure_ascii=False),
                "status": "pending",
                "customer_id": customer_id,
                "message_id": message_id,
                "created_at": to_iso(at),
            },
        )

    def pending_outbox(self, limit: int = 100, *, skip_chats: Collection[int] = ()) -> list[OutboxRow]:
        """Return the oldest pending deliveries, in queue order (none to the chats in ``skip_chats``).

        Skipping the chats that must wait keeps a long queue for one group from hiding everyone else's.
        """
        if skip_chats:
            return self._outbox_rows(
                "WHERE status = 'pending' AND chat_id NOT IN (SELECT value FROM json_each(?)) "
                "ORDER BY id LIMIT ?",
                [json.dumps(sorted(skip_chats)), limit],
            )
        return self._outbox_rows("WHERE status = 'pending' ORDER BY id LIMIT ?", [limit])

    def _outbox_rows(self, where: str, params: list[Any]) -> list[OutboxRow]:
        """Return the outbox rows ``where`` selects, made straight from the columns in the record's order.

        The sender reads up to a batch of rows at every dispatch: no dict per row on the way.
        """
        cursor = self.db.execute(f"SELECT {_OUTBOX_COLUMNS} FROM outbox {where}", params)
        return [OutboxRow(*row) for row in cursor.fetchall()]

    def pending_for_customer(self, chat_id: int, customer_id: int) -> list[OutboxRow]:
        """Return every pending delivery to ``chat_id`` for one customer, in queue order (a topic's queue)."""
        return self._all(
            OutboxRow,
            "SELECT * FROM outbox WHERE status = 'pending' AND chat_id = ? AND customer_id = ? ORDER BY id",
            [chat_id, customer_id],
        )

    def outbox(self, status: str | None = None) -> list[OutboxRow]:
        """Return every outbox row (optionally of one status), in queue order."""
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        return self._all(OutboxRow, f"SELECT * FROM outbox {where} ORDER BY id", params)

    def mark_sent(self, outbox_id: int, telegram_message_id: int | None, at: datetime) -> None:
        """Mark a delivery confirmed by Telegram; also store the Telegram id on its message row."""
        with self._write():
            row = self.db.conn.execute(
                "UPDATE outbox SET status = 'sent', sent_at = ?, telegram_message_id = ? WHERE id = ? "
                "RETURNING message_id",
                [to_iso(at), telegram_message_id, outbox_id],
            ).fetchone()
            if row is None:
                raise NotFoundError
            if row[0] is not None:
                self.db.conn.execute(
                    "UPDATE messages SET telegram_message_id = ? "
                    "WHERE id = ? AND telegram_message_id IS NULL",
                    [telegram_message_id, row[0]],
                )

    def mark_sent_many(self, sends: list[tuple[int, int | None, datetime]]) -> list[BaseException | None]:
        """Mark several deliveries Telegram confirmed (outbox id, Telegram id, when) in one transaction.

        Returns, per send in order, None, or the :class:`NotFoundError` of a row that is gone (the others
        are marked all the same). Any other error rolls the whole batch back and is raised.
        """
        results: list[BaseException | None] = []
        with self._write():
            for outbox_id, telegram_message_id, at in sends:
                try:
                    self.mark_sent(outbox_id, telegram_message_id, at)
                except NotFoundError as exc:  # raised before its row wrote anything
                    results.append(exc)
                else:
                    results.append(None)
        return results

    def topic_holder(self, customer_id: int) -> tuple[Customer | None, Ticket | None]:
        """Return the customer and their most recent open ticket (either None), read together.

        What the sender needs to put a relay in the customer's topic under its current title: one trip to
        the storage thread instead of two.
        """
        customer = self.customer(customer_id)
        ticket = self.open_ticket(customer_id) if customer is not None else None
        if customer is not None and not self.db.conn.in_transaction:  # only what is committed is kept
            self._holders.pop(customer_id, None)  # read again: it goes to the end, as the latest read
            if len(self._holders) >= HOLDERS_KEPT:
                del self._holders[next(iter(self._holders))]  # the least recently read
            self._holders[customer_id] = (time.monotonic(), customer, ticket)
        return customer, ticket

    def kept_topic_holder(self, customer_id: int) -> tuple[Customer, Ticket | None] | None:
        """Return what :meth:`topic_holder` last read for the customer, or None when it must be read again.

        None once this storage wrote to the customer or to any ticket since, or after
        :data:`HOLDER_KEPT_S` (another process may have changed them: an operator's ``sqlite3``).
        Safe on the event loop: it reads a dict only the storage thread writes, and no database.
        """
        kept = self._holders.get(customer_id)
        if kept is None or time.monotonic() - kept[0] > HOLDER_KEPT_S:
            return None
        return kept[1], kept[2]

    def _changed_holder(self, customer_id: int | None = None) -> None:
        """Forget the kept topic holder of one customer (None: of every customer, a ticket changed)."""
        if customer_id is None:
            self._holders.clear()
        else:
            self._holders.pop(customer_id, None)

    def mark_attempt(self, outbox_id: int, error: str, at: datetime, *, failed: bool = False) -> None:
        """Count a failed attempt with its error; ``failed=True`` gives up on the row."""
        with self._write():
            self.db.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, "
                "status = CASE WHEN ? THEN 'failed' ELSE status END WHERE id = ?",
                [error, to_iso(at), int(failed), outbox_id],
            )

    # agent side ------------------------------------------------------------------------------
    def customer_by_topic(self, topic_id: int, staff_chat_id: int | None = None) -> Customer | None:
        """Return the customer whose staff topic is ``topic_id`` (in group ``staff_chat_id``), or None.

        Topic ids are per group; a customer stored with no group is in the primary one.
        """
        if staff_chat_id is None:
            return self._first(Customer, "SELECT * FROM customers WHERE topic_id = ?", [topic_id])
        return self._first(
            Customer,
            "SELECT * FROM customers WHERE topic_id = ? AND (staff_chat_id = ? OR staff_chat_id IS NULL) "
            "ORDER BY staff_chat_id IS NULL LIMIT 1",
            [topic_id, staff_chat_id],
        )

    def staff_load(self, staff_chat_id: int) -> int:
        """Return how many messages a staff group's queue still needs at the least.

        One per customer with queued relays (they merge into one when the group is short), one more for
        each of them whose topic is still to be created, and one per queued row of no customer.
        """
        return (
            self._value(
                "SELECT count(DISTINCT o.customer_id) + count(DISTINCT CASE WHEN c.topic_id IS NULL "
                "THEN o.customer_id END) + sum(o.customer_id IS NULL) "
                "FROM outbox o LEFT JOIN customers c ON c.id = o.customer_id "
                "WHERE o.status = 'pending' AND o.chat_id = ?",
                [staff_chat_id],
            )
            or 0
        )

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
        stamp = to_iso(at)
        with self._write():
            self.db.execute(
                "INSERT INTO staff_messages (staff_chat_id, staff_message_id, customer_id, agent_id, text, "
                "content_kind, status, message_id, suggestion, category, version, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) "
                "ON CONFLICT(staff_chat_id, staff_message_id) DO UPDATE SET text = excluded.text, "
                "content_kind = excluded.content_kind, status = excluded.status, "
                "message_id = coalesce(excluded.message_id, staff_messages.message_id), "
                "suggestion = excluded.suggestion, category = excluded.category, "
                "version = staff_messages.version + 1, updated_at = excluded.updated_at",
                [
                    staff_chat_id,
                    staff_message_id,
                    customer_id,
                    agent_id,
                    text,
                    content_kind,
                    status,
                    message_id,
                    suggestion,
                    category,
                    stamp,
                    stamp,
                ],
            )
        return self.staff_message(staff_chat_id, staff_message_id)

    def staff_message(self, staff_chat_id: int, staff_message_id: int) -> StaffMessage | None:
        """Return an agent's stored topic message by its Telegram ids, or None."""
        return self._first(
            StaffMessage,
            "SELECT * FROM staff_messages WHERE staff_chat_id = ? AND staff_message_id = ?",
            [staff_chat_id, staff_message_id],
        )

    def staff_message_by_id(self, row_id: int) -> StaffMessage | None:
        """Return an agent's stored topic message by row id, or None."""
        return self._first(StaffMessage, "SELECT * FROM staff_messages WHERE id = ?", [row_id])

    def update_staff_message(self, row_id: int, **values: Any) -> None:
        """Set columns of one stored agent topic message (e.g. ``status='suggested'``)."""
        self._update("staff_messages", row_id, values)

    def outbox_row(self, outbox_id: int) -> OutboxRow | None:
        """Return one outbox row (status, telegram_message_id, last_error …), or None."""
        return self._first(OutboxRow, "SELECT * FROM outbox WHERE id = ?", [outbox_id])

    def state(self, key: str) -> str | None:
        """Return a small piece of bot state (e.g. the pinned board's message id), or None.

        A value this storage read or wrote is kept in memory and returned again for up to
        :data:`HOLDER_KEPT_S` (another process may change it: an operator's ``sqlite3``), so that the
        closed-topic flag every customer message asks about is one statement per customer in that time,
        not one per message (issue 15). A rollback forgets everything kept (it may undo what was read).
        """
        kept = self._states.get(key)
        if kept is not None and time.monotonic() - kept[0] <= HOLDER_KEPT_S:
            return kept[1]
        value = self._value("SELECT value FROM bot_state WHERE key = ?", [key])
        self._keep_state(key, value)
        return value

    def _keep_state(self, key: str, value: str | None) -> None:
        self._states.pop(key, None)  # kept again: it goes to the end, as the latest
        if len(self._states) >= STATES_KEPT:
            del self._states[next(iter(self._states))]
        self._states[key] = (time.monotonic(), value)

    def set_state(self, key: str, value: str | None) -> None:
        """Store (or with None, forget) a small piece of bot state."""
        self._keep_state(key, value)  # forgotten again if the transaction rolls back
        with self._write():
            if value is None:
                self.db.execute("DELETE FROM bot_state WHERE key = ?", [key])
            else:
                self.db.execute(
                    "INSERT INTO bot_state (key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    [key, value],
                )

    def agent_numbers(self) -> dict[int, str]:
        """Return every agent's 工号 by Telegram user id."""
        return {row["id"]: row["number"] for row in self._rows("SELECT id, number FROM agents")}

    def outbox_status(self, outbox_id: int) -> str | None:
        """Return the status of one outbox row (pending, sent, failed), or None when there is no such row."""
        return self._value("SELECT status FROM outbox WHERE id = ?", [outbox_id])

    def text_of(self, chat_id: int, telegram_message_id: int) -> str | None:
        """Return the text stored for the message with these Telegram ids (its newest row), or None."""
        return self._value(
            "SELECT text FROM messages WHERE chat_id = ? AND telegram_message_id = ? "
            "ORDER BY id DESC LIMIT 1",
            [chat_id, telegram_message_id],
        )

    # spare forum topics (KEFU_SPARE_TOPICS) ---------------------------------------------------
    def add_spare_topic(self, staff_chat_id: int, topic_id: int, at: datetime) -> None:
        """Keep a forum topic made in quiet time as a spare of its staff group, for the next new customer."""
        with self._write():
            self.db.execute(
                "INSERT OR IGNORE INTO spare_topics (staff_chat_id, topic_id, created_at) VALUES (?, ?, ?)",
                [staff_chat_id, topic_id, to_iso(at)],
            )

    def spare_topics_free(self, staff_chat_id: int) -> int:
        """Return how many spare topics of a staff group no customer has claimed yet."""
        return (
            self._value(
                "SELECT count(*) FROM spare_topics WHERE staff_chat_id = ? AND customer_id IS NULL",
                [staff_chat_id],
            )
            or 0
        )

    def claim_spare_topic(self, staff_chat_id: int, customer_id: int, title: str) -> int | None:
        """Give the oldest free spare topic of a staff group to a customer; return its id (None: none left).

        One transaction claims it and stores it as the customer's topic (``topic_name=title``, the spare's
        title until it is renamed): two customers never get one topic, also across a crash. Rows this
        customer had claimed before (topics Telegram since said are gone) are dropped.
        """
        with self.transaction():
            self.db.execute(
                "DELETE FROM spare_topics WHERE staff_chat_id = ? AND customer_id = ?",
                [staff_chat_id, customer_id],
            )
            topic_id = self._value(
                "SELECT topic_id FROM spare_topics WHERE staff_chat_id = ? AND customer_id IS NULL "
                "ORDER BY created_at, topic_id LIMIT 1",
                [staff_chat_id],
            )
            if topic_id is None:
                return None
            self.db.execute(
                "UPDATE spare_topics SET customer_id = ? WHERE staff_chat_id = ? AND topic_id = ?",
                [customer_id, staff_chat_id, topic_id],
            )
            self._changed_holder(customer_id)
            self.db.execute(
                "UPDATE customers SET topic_id = ?, topic_name = ? WHERE id = ?",
                [topic_id, title, customer_id],
            )
        return topic_id

    def claimed_spare_topics(self, staff_chat_id: int, limit: int = 100) -> list[tuple[int, int]]:
        """Return ``(topic id, customer id)`` of claimed spare topics not yet renamed, oldest claim first."""
        rows = self.db.execute(
            "SELECT topic_id, customer_id FROM spare_topics "
            "WHERE staff_chat_id = ? AND customer_id IS NOT NULL ORDER BY created_at, topic_id LIMIT ?",
            [staff_chat_id, limit],
        ).fetchall()
        return [(topic_id, customer_id) for topic_id, customer_id in rows]

    def forget_spare_topic(self, staff_chat_id: int, topic_id: int) -> None:
        """Drop a spare topic's row: renamed to its customer's title, or gone on Telegram."""
        with self._write():
            self.db.execute(
                "DELETE FROM spare_topics WHERE staff_chat_id = ? AND topic_id = ?", [staff_chat_id, topic_id]
            )

    # the inbox: raw updates ------------------------------------------------------------------
    def add_update(self, update_id: int, raw: str, at: datetime) -> bool:
        """Store one raw update (its JSON) as pending; return False when ``update_id`` was stored before."""
        with self._write():
            cursor = self.db.execute(
                "INSERT OR IGNORE INTO updates (update_id, raw, status, received_at)"
                " VALUES (?, ?, 'pending', ?)",
                [update_id, raw, to_iso(at)],
            )
        return cursor.rowcount > 0

    def last_update_id(self) -> int | None:
        """Return the highest update id stored, or None when none is."""
        return self._value("SELECT max(update_id) FROM updates")

    def pending_updates(self) -> list[str]:
        """Return the raw JSON of the updates stored but not handled yet, oldest first."""
        sql = "SELECT raw FROM updates WHERE status = 'pending' ORDER BY update_id"
        return [row["raw"] for row in self._rows(sql)]

    def mark_update(self, update_id: int, status: str, at: datetime, error: str | None = None) -> None:
        """Record how handling of ``update_id`` ended (done, ignored, malformed, failed) and when."""
        with self._write():
            self.db.conn.execute(
                "UPDATE updates SET status = ?, error = ?, handled_at = ? WHERE update_id = ?",
                [status, error, to_iso(at), update_id],
            )

    def prune_updates(self, before: datetime, batch: int) -> int:
        """Delete up to ``batch`` updates handled (done or ignored) before ``before``; return how many.

        The newest update stays whatever its age: the next ``getUpdates`` offset is computed from it.
        """
        with self.transaction():
            cursor = self.db.execute(
                "DELETE FROM updates WHERE update_id IN ("
                "  SELECT update_id FROM updates WHERE status IN ('done', 'ignored') AND handled_at < ?"
                "  AND update_id < (SELECT max(update_id) FROM updates) LIMIT ?)",
                [to_iso(before), batch],
            )
        return cursor.rowcount

    def update_counts(self) -> dict[str, int]:
        """Return how many updates are stored in each status."""
        return dict(self.db.execute("SELECT status, count(*) FROM updates GROUP BY status").fetchall())

    def update_status(self, update_id: int) -> str | None:
        """Return the status of one stored update, or None when it was never stored."""
        return self._value("SELECT status FROM updates WHERE update_id = ?", [update_id])

    # the board's figures ---------------------------------------------------------------------
    def waiting_by_group(self, primary: int) -> dict[int, int]:
        """Return how many open conversations wait for an agent, per staff group (no group: ``primary``)."""
        return {
            row["g"]: row["n"]
            for row in self._rows(
                "SELECT coalesce(cu.staff_chat_id, ?) AS g, count(*) AS n FROM conversations c "
                "JOIN customers cu ON cu.id = c.customer_id "
                "WHERE c.status = 'open' AND c.waiting_since IS NOT NULL GROUP BY 1",
                [primary],
            )
        }

    def day_conversations(self, start: datetime, end: datetime) -> list[DayConversation]:
        """Return the conversations a customer wrote in between ``start`` and ``end``, and who answered."""
        return self._all(
            DayConversation,
            "SELECT conversation_id, "
            "max(sender = 'agent') AS by_agent, max(sender = 'bot') AS by_bot "
            "FROM messages WHERE conversation_id IN ("
            "  SELECT DISTINCT conversation_id FROM messages WHERE direction = 'in' AND at >= ? AND at < ?) "
            "GROUP BY conversation_id",
            [to_iso(start), to_iso(end)],
        )

    def held_checks(self, start: datetime, end: datetime) -> list[HeldCheck]:
        """Return the agent messages the guard held back between ``start`` and ``end``, with the agent."""
        return self._all(
            HeldCheck,
            "SELECT g.hits, coalesce(a.number, '?') AS agent FROM guard_events g "
            "LEFT JOIN agents a ON a.id = g.agent_id "
            "WHERE g.source = 'agent' AND g.allowed = 0 AND g.at >= ? AND g.at < ?",
            [to_iso(start), to_iso(end)],
        )

    def ticket_figures(self, at: datetime) -> TicketFigures:
        """Return how many tickets are open, and how many of them are overdue at ``at``."""
        now = to_iso(at)
        return self._first(
            TicketFigures,
            "SELECT count(*) AS open, coalesce(sum((answered_at IS NULL AND due_answer_at < ?) "
            "OR due_settle_at < ?), 0) AS overdue FROM tickets WHERE status = 'open'",
            [now, now],
        )

    def waiting_customers(self) -> list[WaitingCustomer]:
        """Return the customers whose open conversation waits for an agent, the longest waiting first."""
        return self._all(
            WaitingCustomer,
            "SELECT c.waiting_since, cu.name, cu.username, cu.id FROM conversations c "
            "JOIN customers cu ON cu.id = c.customer_id "
            "WHERE c.status = 'open' AND c.waiting_since IS NOT NULL ORDER BY c.waiting_since",
        )

    def rows(self, sql: str, params: tuple | list = ()) -> list[dict[str, Any]]:
        """Return the rows of a read-only query as dicts: for ad-hoc reports and tests.

        The bot itself asks named methods that return records; this one is outside the :class:`Store` seam.
        """
        return self._rows(sql, params)

    def counts(self) -> dict[str, int]:
        """Return the number of rows of every table."""
        return {t: self.db.execute(f"SELECT count(*) FROM [{t}]").fetchone()[0] for t in TABLES}


def open_storage(path: str | Path) -> Storage:
    """Return the storage over ``path``: created if missing, WAL, foreign keys on, migrated.

    Raises :class:`StorageError` when the file cannot be opened or migrated, :class:`NotKefuDatabase`
    (without touching it) when it is another program's SQLite database.
    """
    try:
        create_private(path)
        conn = sqlite3.connect(str(path), check_same_thread=False)
        try:
            _refuse_foreign(conn, path)  # before WAL or a migration writes into another program's file
        except NotKefuDatabase:
            conn.close()
            raise
        db = Database(conn)
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db.enable_wal()
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}")
        db.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
        db.execute("PRAGMA foreign_keys = ON")
        MIGRATIONS.apply(db)
    except sqlite3.Error as exc:
        raise StorageError(f"{path}: {exc}") from exc
    return Storage(db, Path(path))


def table_counts(path: str | Path) -> dict[str, int]:
    """Return ``{table: row count}`` for the bot's tables in the database at ``path``, opened read-only.

    A table not created yet counts 0. Raises :class:`StorageError` when the file is not a usable database,
    :class:`NotKefuDatabase` when it is another program's SQLite database.
    """
    try:
        conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            _refuse_foreign(conn, path)
            present = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            return {
                t: conn.execute(f"SELECT count(*) FROM [{t}]").fetchone()[0] if t in present else 0
                for t in TABLES
            }
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StorageError(f"{path}: {exc}") from exc
