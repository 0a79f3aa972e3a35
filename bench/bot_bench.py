"""Benchmark the whole bot against the fake Bot API server, with an echo bot as the baseline, in one run.

    python bench/bot_bench.py [--customers 100] [--messages 15] [--rate 1000] [--paced-s 1] [--inprocess]
                              [--send-concurrency N] [--profile FILE] [--soak 100000 [--tracemalloc]]

The fake Telegram (tests/fakeapi.py) runs in a separate process by default, so its own CPU does not
count against the bot (``--inprocess`` runs it in the bot's event loop instead). It plays N customers
who each send M realistic messages (tests/data/intent_cases.jsonl: greetings, questions, complaints,
follow-ups, thanks, the odd rude one…), records when each update became available to ``getUpdates``
and when each Bot API call arrived.

Three bots, one after the other, each against its own fresh state:
- kefu: exactly what ``kefu run`` runs (:func:`bot.ops.runner.run_bot`: raw ``getUpdates`` → inbox table →
  dispatcher → desk (SQLite storage, guard on every reply) → outbox → sender → sendMessage /
  copyMessage / createForumTopic), with a fresh SQLite file, the staff chat set (relays to one forum
  topic per customer) and the send limits raised (``KEFU_SEND_LIMITS=1e9,1e9,1e9``; the fake does not
  rate-limit);
- echo: one aiogram handler answering ``message.reply(text)``, run by aiogram's own
  ``Dispatcher.start_polling`` on the same Bot/aiohttp session setup; no storage, no guard, no FSM,
  no filter: the leanest aiogram bot;
- echo+relay: the same, also doing the Bot API calls kefu makes for every customer message (a forum
  topic per customer in the staff chat, the message posted in it), so kefu / echo+relay is what
  storage, the desk and the guard cost on top of the calls themselves.

kefu runs with its default ``KEFU_SEND_CONCURRENCY`` (10 calls in flight, one per chat: a crash repeats
at most one message per chat) unless ``--send-concurrency N`` says otherwise.

Each bot gets four phases: a warm-up (not counted), a flood (every update available at once: the
sustained capacity, updates/s from the first push to the last call), a paced run (updates offered
at ``--rate`` per second: latency from an update becoming available to its reply arriving, p50/p99)
and a light run (50 updates/s: the bare latency, nothing queued).
kefu replies are matched to their update through the database (the reply's Telegram message id,
stored when Telegram confirmed it); echo replies carry the message they answer.

``--soak N`` then sends N more messages to kefu in chunks and prints the bot process's RSS every
10,000 messages (``--tracemalloc``: and which allocation sites grew after the first 10,000).
``--profile FILE`` writes cProfiles of the flood phases (FILE.kefu, FILE.echo, FILE.relay).

``--pairs N`` measures CPU per update only (issue 15: kefu <= 1.5x echo+relay), in N interleaved pairs:
each pair runs echo+relay (in this process) and kefu (``python -m bot run`` in its own process, its CPU
read from ``/proc``), each with a warm-up and a flood, the order rotating from pair to pair; it prints
each pair's ratio and the medians. ``--tree DIR`` (repeatable) runs kefu from another source tree too
(e.g. a ``git archive`` of main), in the same pairs, so a before/after shares the machine's load (with
one tree, pairs in multiples of three give each bot each place equally often).

Targets (issue 7): >= 1,000 updates/s, p99 <= 50 ms, kefu cost <= 2x echo cost. The bench prints
PASS/MISS and always exits 0: it is a report, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import multiprocessing as mp
import os
import random
import signal
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from aiogram import Bot, Dispatcher  # noqa: E402
from aiogram.types import Message  # noqa: E402
from fakeapi import FakeTelegram  # noqa: E402

CASES = ROOT / "tests" / "data" / "intent_cases.jsonl"
STAFF_CHAT_ID = -1001234567890
FIRST_USER_ID = 5_000_000
TARGET_UPDATES_S = 1000.0
TARGET_P99_MS = 50.0
TARGET_RATIO = 2.0
WARMUP_CUSTOMERS = 20
WARMUP_MESSAGES = 5
LIGHT_RATE = 50.0  # updates/s of the light phase: nothing queues, latency is the bare path
LIGHT_S = 2.0
SOAK_CHUNK = 1000
SOAK_SAMPLE_EVERY = 10_000
FLAT_MB = 5.0  # RSS growth after the 20k sample still called flat
POLL_S = 0.02
IDLE_TIMEOUT_S = 120.0
RAISED = 1e9  # messages per second/minute: "no limit" for the sender during the run
SEND_CONCURRENCY: int | None = None  # --send-concurrency; None: kefu's default (10, one per chat)

# How often a customer message is of each intent (first message is always a greeting).
INTENT_WEIGHTS = {
    "greeting": 4,
    "service_hours": 8,
    "security": 6,
    "how_to": 10,
    "site_problem": 8,
    "out_of_scope": 5,
    "complaint": 6,
    "complaint_followup": 4,
    "suggestion": 3,
    "unclear": 8,
    "thanks": 6,
    "praise": 3,
    "apology": 2,
    "agent_identity": 3,
    "human_request": 3,
    "uncivil": 1,
    "goodbye": 3,
}
NAMES = ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周杰", "吴霞")


# --- customers --------------------------------------------------------------------------------
def load_texts() -> dict[str, list[str]]:
    """Return the labelled customer messages of tests/data/intent_cases.jsonl, grouped by intent."""
    texts: dict[str, list[str]] = {}
    with CASES.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                case = json.loads(line)
                texts.setdefault(case["intent"], []).append(case["text"])
    return texts


def conversations(
    texts: dict[str, list[str]], rng: random.Random, first_user: int, customers: int, messages: int
) -> list[tuple[int, str]]:
    """Return ``(user id, text)`` for ``customers`` customers of ``messages`` messages each, interleaved.

    Each customer opens with a greeting, then asks, complains, follows up, thanks… (weighted draws);
    the customers' messages are shuffled together, each customer's own order kept.
    """
    intents = [k for k in INTENT_WEIGHTS if k in texts]
    weights = [INTENT_WEIGHTS[k] for k in intents]
    queues = []
    for n in range(customers):
        chosen = ["greeting", *rng.choices(intents, weights, k=messages - 1)][:messages]
        queues.append([(first_user + n, rng.choice(texts[i])) for i in chosen])
    owners = [n for n, queue in enumerate(queues) for _ in queue]
    rng.shuffle(owners)
    cursors = [0] * customers
    out = []
    for n in owners:
        out.append(queues[n][cursors[n]])
        cursors[n] += 1
    return out


# --- the fake Telegram with clocks ------------------------------------------------------------
class TimedTelegram(FakeTelegram):
    """The fake server, also recording when each update was pushed and each message call arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.pushed: dict[tuple[int, int], float] = {}  # (chat id, message id) -> monotonic push time
        self.arrived: dict[tuple[int, int], float] = {}  # (chat id, sent message id) -> arrival
        self.answered: dict[tuple[int, int], float] = {}  # (chat id, replied-to message id) -> arrival
        self.methods: dict[str, int] = {}
        self.last_call = 0.0
        self.cpu0 = time.process_time()

    def _note(self, params: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
        now = time.monotonic()
        self.last_call = now
        chat = params["chat_id"]
        self.arrived[(chat, result["message_id"])] = now
        reply = params.get("reply_parameters") or {}
        target = reply.get("message_id") if isinstance(reply, dict) else None
        target = target or params.get("reply_to_message_id")
        if target:
            self.answered[(chat, int(target))] = now
        return result

    async def _handle(self, request):  # type: ignore[no-untyped-def]
        method = request.match_info["method"]
        self.methods[method] = self.methods.get(method, 0) + 1
        if method.lower() != "getupdates":
            self.last_call = time.monotonic()
        response = await super()._handle(request)
        self._calls.clear()  # the bench keeps its own records; the list would only grow
        return response

    def _m_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._note(params, super()._m_sendmessage(params))

    def _m_copymessage(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._note(params, super()._m_copymessage(params))

    async def push(self, plan: list[tuple[int, str]], rate: float | None) -> int:
        """Make ``plan``'s messages available to ``getUpdates`` (all now, or ``rate`` per second); return
        the last update id."""
        start = time.monotonic()
        last = 0
        for i, (user_id, text) in enumerate(plan):
            if rate:
                due = start + i / rate
                delay = due - time.monotonic()
                if delay > 0.0005:
                    await asyncio.sleep(delay)
            update = self.text_update(text, user_id=user_id, first_name=NAMES[user_id % len(NAMES)])
            self.pushed[(user_id, update["message"]["message_id"])] = time.monotonic()
            last = self.push_update(update)
        return last

    def take_records(self) -> dict[str, Any]:
        """Return and forget the records so far (push/arrival times, call counts, CPU used)."""
        records = {
            "pushed": self.pushed,
            "arrived": self.arrived,
            "answered": self.answered,
            "methods": self.methods,
            "last_call": self.last_call,
            "cpu": time.process_time() - self.cpu0,
        }
        self.pushed, self.arrived, self.answered, self.methods = {}, {}, {}, {}
        self.cpu0 = time.process_time()
        return records


class LocalServer:
    """The fake in the bot's own event loop (``--inprocess``)."""

    def __init__(self) -> None:
        self.fake = TimedTelegram()

    async def start(self) -> str:
        """Start the server; return its URL."""
        await self.fake.start()
        return self.fake.url

    async def push(self, plan: list[tuple[int, str]], rate: float | None) -> int:
        """Push ``plan``; return the last update id."""
        return await self.fake.push(plan, rate)

    async def records(self) -> dict[str, Any]:
        """Return and forget the records so far."""
        return self.fake.take_records()

    async def close(self) -> None:
        """Stop the server."""
        await self.fake.close()


def _server_main(conn: Any) -> None:
    """The child process: serve the fake on its own loop, obey (command, args) from ``conn``."""

    async def main() -> None:
        fake = TimedTelegram()
        await fake.start()
        loop = asyncio.get_running_loop()
        done = asyncio.Event()
        conn.send(fake.url)

        def commands() -> None:
            while True:
                command, args = conn.recv()
                if command == "stop":
                    loop.call_soon_threadsafe(done.set)
                    return
                if command == "push":
                    result = asyncio.run_coroutine_threadsafe(fake.push(*args), loop).result()
                else:
                    result = asyncio.run_coroutine_threadsafe(_records(fake), loop).result()
                conn.send(result)

        threading.Thread(target=commands, daemon=True).start()
        await done.wait()
        await fake.close()

    asyncio.run(main())


async def _records(fake: TimedTelegram) -> dict[str, Any]:
    return fake.take_records()


class RemoteServer:
    """The fake in a separate process, driven through a pipe."""

    def __init__(self) -> None:
        # Forked before any event loop exists in this process (a fork inside a running loop is unsafe).
        ctx = mp.get_context("fork")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_server_main, args=(child,), daemon=True)
        self.process.start()
        self.url = self.conn.recv()
        self._lock: asyncio.Lock | None = None

    async def start(self) -> str:
        """Return the URL of the (already started) server process."""
        self._lock = asyncio.Lock()
        return self.url

    async def _ask(self, command: str, *args: Any) -> Any:
        assert self._lock is not None
        async with self._lock:
            await asyncio.to_thread(self.conn.send, (command, args))
            return await asyncio.to_thread(self.conn.recv)

    async def push(self, plan: list[tuple[int, str]], rate: float | None) -> int:
        """Push ``plan``; return the last update id."""
        return await self._ask("push", plan, rate)

    async def records(self) -> dict[str, Any]:
        """Return and forget the records so far."""
        return await self._ask("records")

    async def close(self) -> None:
        """Stop the server process."""
        self.conn.send(("stop", ()))
        await asyncio.to_thread(self.process.join, 10)


# --- results ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Phase:
    """One measured phase of one bot."""

    updates: int
    seconds: float  # first push to last call
    cpu_s: float  # CPU of the bot process
    server_cpu_s: float
    latencies_ms: tuple[float, ...]
    unanswered: int  # updates without a reply to time (e.g. a closed conversation)
    methods: dict[str, int]

    @property
    def rate(self) -> float:
        """Return updates handled per second."""
        return self.updates / self.seconds if self.seconds else 0.0

    @property
    def cpu_us(self) -> float:
        """Return bot CPU microseconds per update."""
        return 1e6 * self.cpu_s / self.updates if self.updates else 0.0

    def pct(self, q: float) -> float:
        """Return the ``q`` quantile of the latencies in milliseconds (nan when none)."""
        if not self.latencies_ms:
            return float("nan")
        if len(self.latencies_ms) == 1:
            return self.latencies_ms[0]
        return statistics.quantiles(self.latencies_ms, n=1000, method="inclusive")[int(q * 1000) - 1]


def _phase(records: dict[str, Any], latencies: list[float], cpu_s: float, unanswered: int) -> Phase:
    pushed = records["pushed"]
    first = min(pushed.values()) if pushed else 0.0
    return Phase(
        updates=len(pushed),
        seconds=max(0.0, records["last_call"] - first),
        cpu_s=cpu_s,
        server_cpu_s=records["cpu"],
        latencies_ms=tuple(latencies),
        unanswered=unanswered,
        methods={k: v for k, v in records["methods"].items() if k != "getUpdates"},
    )


# --- the two bots -----------------------------------------------------------------------------
class Kefu:
    """The real bot (``bot.ops.runner.run_bot``) over a fresh database, send limits raised."""

    def __init__(self, url: str, workdir: Path) -> None:
        self.url = url
        self.db_path = workdir / "kefu.db"
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.reader: sqlite3.Connection | None = None
        self.bot: Bot | None = None
        self.gate: Any = None  # the outbound guard on the bot's session, once it is built

    async def start(self) -> None:
        """Start ``run_bot`` with the bench's settings; return once the database exists."""
        import bot.ops.runner as runner
        from bot.ops.settings import load_settings
        from bot.ops.stack import Stack

        os.environ.update(
            KEFU_BOT_TOKEN=FakeTelegram().token,
            KEFU_API_SERVER=self.url,
            KEFU_STAFF_CHAT_ID=str(STAFF_CHAT_ID),
            KEFU_DB_PATH=str(self.db_path),
            KEFU_BUSINESS_HOURS="00:00-24:00",  # always open: every message takes the answering path
            KEFU_WORKING_DAYS="mon-sun",
            KEFU_CLOSED_ON_HOLIDAYS="false",
        )
        os.environ["KEFU_SEND_LIMITS"] = f"{RAISED},{RAISED},{RAISED}"  # per bot/s, private chat/s, group/min
        if SEND_CONCURRENCY is not None:
            os.environ["KEFU_SEND_CONCURRENCY"] = str(SEND_CONCURRENCY)
        settings = load_settings()

        def capture(stack: Stack) -> None:
            self.bot = stack.bot
            self.gate = stack.gate

        self.task = asyncio.create_task(runner.run_bot(settings, stop=self.stop, on_stack=capture))
        # Started: the database exists and the session has its middlewares (after the start-up checks).
        while not self.db_path.exists() or self.bot is None or not self.outbound_gate():
            await asyncio.sleep(POLL_S)
        self.reader = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True)

    def outbound_gate(self) -> bool:
        """Return whether the outbound guard (a session middleware) is on the bot's session."""
        return self.gate is not None

    def _one(self, sql: str) -> Any:
        assert self.reader is not None
        return self.reader.execute(sql).fetchone()[0]

    async def idle(self, last_update_id: int) -> None:
        """Wait until update ``last_update_id`` and everything before it is handled and delivered."""
        deadline = time.monotonic() + IDLE_TIMEOUT_S
        while time.monotonic() < deadline:
            with contextlib.suppress(sqlite3.OperationalError):
                if (
                    (self._one("SELECT max(update_id) FROM updates") or 0) >= last_update_id
                    and not self._one("SELECT EXISTS(SELECT 1 FROM updates WHERE status = 'pending')")
                    and not self._one("SELECT EXISTS(SELECT 1 FROM outbox WHERE status = 'pending')")
                ):
                    return
            await asyncio.sleep(POLL_S)
        raise TimeoutError(f"kefu did not finish within {IDLE_TIMEOUT_S:.0f} s")

    def latencies(self, records: dict[str, Any]) -> tuple[list[float], int]:
        """Return (ms from push to the first reply's arrival, per update; updates without a reply)."""
        assert self.reader is not None
        rows = self.reader.execute(
            "SELECT direction, sender, chat_id, telegram_message_id, script_key FROM messages ORDER BY id"
        ).fetchall()
        pushed, arrived = records["pushed"], records["arrived"]
        found: dict[tuple[int, int], float] = {}
        current: tuple[int, int] | None = None
        for direction, sender, chat_id, telegram_id, script_key in rows:
            if direction == "in":
                current = (chat_id, telegram_id) if (chat_id, telegram_id) in pushed else None
            elif current is not None and sender == "bot" and chat_id == current[0] and script_key != "busy":
                at = arrived.get((chat_id, telegram_id))
                if at is not None:
                    found[current] = 1000.0 * (at - pushed[current])
                current = None
            else:
                current = None
        return sorted(found.values()), len(pushed) - len(found)

    def counts(self) -> dict[str, int]:
        """Return rows per status of the outbox and the updates table."""
        assert self.reader is not None
        out = {}
        for table in ("updates", "outbox"):
            for status, n in self.reader.execute(f"SELECT status, count(*) FROM {table} GROUP BY status"):
                out[f"{table}.{status}"] = n
        return out

    async def close(self) -> None:
        """Stop the bot the way SIGTERM does."""
        self.stop.set()
        if self.task is not None:
            await self.task
        if self.reader is not None:
            self.reader.close()


class KefuProcess(Kefu):
    """``python -m bot run`` in its own process, so that the soak measures the bot's memory alone
    (the bench's own records of every message would otherwise count as the bot's growth), and the
    pairs its CPU alone; ``tree`` is the source tree it runs from (this one by default)."""

    def __init__(self, url: str, workdir: Path, tree: Path = ROOT) -> None:
        super().__init__(url, workdir)
        self.tree = tree

    def cpu_s(self) -> float:
        """Return the bot process's CPU time so far (user + system, all its threads), in seconds."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def start(self) -> None:
        """Start the bot process over a fresh database; return once the database exists."""
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("KEFU_")},
            "KEFU_BOT_TOKEN": FakeTelegram().token,
            "KEFU_API_SERVER": self.url,
            "KEFU_STAFF_CHAT_ID": str(STAFF_CHAT_ID),
            "KEFU_DB_PATH": str(self.db_path),
            "KEFU_BUSINESS_HOURS": "00:00-24:00",
            "KEFU_WORKING_DAYS": "mon-sun",
            "KEFU_CLOSED_ON_HOLIDAYS": "false",
            "KEFU_SEND_LIMITS": f"{RAISED},{RAISED},{RAISED}",
            **({"KEFU_SEND_CONCURRENCY": str(SEND_CONCURRENCY)} if SEND_CONCURRENCY is not None else {}),
            "PYTHONPATH": str(self.tree),
        }
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            env=env,
            cwd=self.db_path.parent,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        while not self.db_path.exists():
            await asyncio.sleep(POLL_S)
        self.reader = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True)

    def rss_mb(self) -> float:
        """Return the bot process's resident set size in MB."""
        return rss_mb(self.process.pid)

    async def close(self) -> None:
        """Stop the bot process with SIGTERM, as systemd does."""
        self.process.send_signal(signal.SIGTERM)
        await self.process.wait()
        if self.reader is not None:
            self.reader.close()


class Echo:
    """The baseline: ``message.reply(text)`` under aiogram's own ``start_polling``; no storage, no guard.

    With ``relay``, it also does the Telegram work kefu does for every customer message: a forum topic
    per customer in the staff chat (created once, kept in a dict) and the message posted there, so
    the ratio to it isolates what storage, the desk and the guard cost.
    """

    def __init__(self, url: str, *, relay: bool = False) -> None:
        from aiogram.client.session.aiohttp import AiohttpSession
        from aiogram.client.telegram import TelegramAPIServer

        session = AiohttpSession(api=TelegramAPIServer.from_base(url))
        self.bot = Bot(FakeTelegram().token, session=session)
        # The leanest aiogram echo: no FSM, no filter (a bare magic filter would cost a thread hop).
        self.dp = Dispatcher(disable_fsm=True)
        self.answered = 0
        self.seen_last = 0
        self.topics: dict[int, asyncio.Future[Any]] = {}
        self.dp.message()(self._echo_and_relay if relay else self._echo)
        self.task: asyncio.Task[None] | None = None

    async def _echo(self, message: Message) -> None:
        await message.reply(message.text or "")
        self.answered += 1

    async def _echo_and_relay(self, message: Message) -> None:
        await message.reply(message.text or "")
        topic = self.topics.get(message.chat.id)
        if topic is None:  # one creation per customer, even when its messages are handled at once
            topic = self.topics[message.chat.id] = asyncio.ensure_future(
                self.bot.create_forum_topic(STAFF_CHAT_ID, f"客户 {message.chat.id}")
            )
        thread = (await topic).message_thread_id
        await self.bot.send_message(STAFF_CHAT_ID, message.text or "", message_thread_id=thread)
        self.answered += 1

    async def start(self) -> None:
        """Start polling."""
        self.task = asyncio.create_task(
            self.dp.start_polling(self.bot, handle_signals=False, close_bot_session=False)
        )

    async def idle(self, expected: int) -> None:
        """Wait until ``expected`` replies in all were confirmed."""
        deadline = time.monotonic() + IDLE_TIMEOUT_S
        while self.answered < expected and time.monotonic() < deadline:
            await asyncio.sleep(POLL_S)
        if self.answered < expected:
            raise TimeoutError(f"echo answered {self.answered} of {expected}")

    def latencies(self, records: dict[str, Any]) -> tuple[list[float], int]:
        """Return (ms from push to the reply's arrival, per update; updates without a reply)."""
        pushed, answered = records["pushed"], records["answered"]
        found = [1000.0 * (answered[k] - t) for k, t in pushed.items() if k in answered]
        return sorted(found), len(pushed) - len(found)

    async def close(self) -> None:
        """Stop polling and close the session."""
        await self.dp.stop_polling()
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        await self.bot.session.close()


# --- the run ----------------------------------------------------------------------------------
async def run_phase(
    server: Any,
    bot: Any,
    plan: list[tuple[int, str]],
    rate: float | None,
    *,
    profile: cProfile.Profile | None = None,
) -> Phase:
    """Push ``plan`` (at ``rate``/s, or all at once), wait until the bot is idle, return the measures."""
    await server.records()  # forget what came before
    if isinstance(bot, Echo):
        expected = bot.answered + len(plan)
    cpu = time.process_time()
    if profile is not None:
        profile.enable()
    last_id = await server.push(plan, rate)
    if isinstance(bot, Echo):
        await bot.idle(expected)
    else:
        await bot.idle(last_id)
    if profile is not None:
        profile.disable()
    cpu = time.process_time() - cpu
    records = await server.records()
    latencies, unanswered = bot.latencies(records)
    return _phase(records, latencies, cpu, unanswered)


def rss_mb(pid: int | str = "self") -> float:
    """Return a process's resident set size in MB (VmRSS from /proc/<pid>/status; this one by default)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def soak(
    server: Any,
    kefu: Kefu,
    texts: dict[str, list[str]],
    total: int,
    rng: random.Random,
    *,
    trace: bool = False,
) -> None:
    """Send ``total`` messages to kefu in chunks; print RSS every 10,000 and the growth after 20k.

    With ``trace``, tracemalloc runs from the first 10,000 on and the biggest growths are printed.
    """
    print(f"\nsoak: {total:,} messages to kefu (chunks of {SOAK_CHUNK}, 50 customers of 20 per chunk)")
    measure = getattr(kefu, "rss_mb", rss_mb)
    samples: list[tuple[int, float]] = [(0, measure())]
    sent, user = 0, FIRST_USER_ID + 900_000
    first_snapshot = None
    started = time.monotonic()
    while sent < total:
        size = min(SOAK_CHUNK, total - sent)
        per = 20
        plan = conversations(texts, rng, user, -(-size // per), per)[:size]
        user += -(-size // per)
        last_id = await server.push(plan, None)
        await kefu.idle(last_id)
        await server.records()
        sent += size
        if sent % SOAK_SAMPLE_EVERY == 0 or sent == total:
            samples.append((sent, measure()))
            if trace and first_snapshot is None:
                tracemalloc.start(8)
                first_snapshot = tracemalloc.take_snapshot()
            print(
                f"  {sent:>8,} messages  RSS {samples[-1][1]:7.1f} MB  ({time.monotonic() - started:5.0f} s)"
            )
    if first_snapshot is not None:
        growth_by_line = tracemalloc.take_snapshot().compare_to(first_snapshot, "traceback")
        tracemalloc.stop()
        print("  biggest allocation growths since the 10k sample (tracemalloc):")
        for stat in growth_by_line[:8]:
            print(f"    {stat.size_diff / 1024:+9.0f} KiB {stat.count_diff:+8,} blocks")
            for frame in stat.traceback.format()[-6:]:
                print(f"        {frame.strip()}")
    if samples[-1][0] <= 20_000:
        print("  (the growth after the 20k sample needs a soak of more than 20,000 messages)")
        return
    base = next(mb for n, mb in samples if n >= 20_000)
    growth = samples[-1][1] - base
    print(
        f"  growth from the 20k sample to the end: {growth:+.1f} MB"
        f" ({'flat' if abs(growth) < FLAT_MB else 'GROWING'})"
    )


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(kefu: dict[str, Phase], echo: dict[str, Phase], relay: dict[str, Phase], rate: float) -> None:
    """Print the three bots' figures, kefu's ratios to both baselines and PASS/MISS per target."""
    print(f"\n{'':28}{'kefu':>12}{'echo':>12}{'echo+relay':>12}{'kefu/echo':>11}{'kefu/relay':>11}")
    rows = [
        ("flood: updates", lambda p: f"{p['flood'].updates:,}", None),
        (
            "flood: updates/s",
            lambda p: f"{p['flood'].rate:,.0f}",
            lambda k, e: e["flood"].rate / k["flood"].rate,
        ),
        (
            "flood: bot CPU us/update",
            lambda p: f"{p['flood'].cpu_us:,.0f}",
            lambda k, e: k["flood"].cpu_us / e["flood"].cpu_us,
        ),
        ("flood: server CPU s", lambda p: f"{p['flood'].server_cpu_s:.2f}", None),
        ("flood: p50 ms (queued)", lambda p: f"{p['flood'].pct(0.5):.1f}", None),
        (f"paced {rate:.0f}/s: updates/s", lambda p: f"{p['paced'].rate:,.0f}", None),
        (
            f"paced {rate:.0f}/s: p50 ms",
            lambda p: f"{p['paced'].pct(0.5):.1f}",
            lambda k, e: k["paced"].pct(0.5) / e["paced"].pct(0.5),
        ),
        (
            f"paced {rate:.0f}/s: p99 ms",
            lambda p: f"{p['paced'].pct(0.99):.1f}",
            lambda k, e: k["paced"].pct(0.99) / e["paced"].pct(0.99),
        ),
        (
            "paced: bot CPU us/update",
            lambda p: f"{p['paced'].cpu_us:,.0f}",
            lambda k, e: k["paced"].cpu_us / e["paced"].cpu_us,
        ),
        ("paced: updates without reply", lambda p: f"{p['paced'].unanswered}", None),
        (
            f"light {LIGHT_RATE:.0f}/s: p50 ms",
            lambda p: f"{p['light'].pct(0.5):.1f}",
            lambda k, e: k["light"].pct(0.5) / e["light"].pct(0.5),
        ),
        (
            f"light {LIGHT_RATE:.0f}/s: p99 ms",
            lambda p: f"{p['light'].pct(0.99):.1f}",
            lambda k, e: k["light"].pct(0.99) / e["light"].pct(0.99),
        ),
    ]
    for label, cell, ratio in rows:
        to_echo = f"{ratio(kefu, echo):.2f}x" if ratio else ""
        to_relay = f"{ratio(kefu, relay):.2f}x" if ratio else ""
        print(f"{label:28}{cell(kefu):>12}{cell(echo):>12}{cell(relay):>12}{to_echo:>11}{to_relay:>11}")
    print("\nAPI calls in the flood: kefu", kefu["flood"].methods, "echo+relay", relay["flood"].methods)
    wall_ratio = echo["flood"].rate / kefu["flood"].rate
    cpu_ratio = kefu["flood"].cpu_us / echo["flood"].cpu_us
    print("\ntargets (kefu, database on):")
    print(
        f"  {_verdict(kefu['flood'].rate >= TARGET_UPDATES_S)}  >= {TARGET_UPDATES_S:,.0f} updates/s"
        " sustained:"
        f" {kefu['flood'].rate:,.0f}/s over {kefu['flood'].updates:,} updates"
    )
    print(
        f"  {_verdict(kefu['paced'].pct(0.99) <= TARGET_P99_MS)}  p99 <= {TARGET_P99_MS:.0f} ms"
        f" at {rate:.0f}/s:"
        f" {kefu['paced'].pct(0.99):.1f} ms (p50 {kefu['paced'].pct(0.5):.1f} ms)"
    )
    print(
        f"  {_verdict(wall_ratio <= TARGET_RATIO)}  cost <= {TARGET_RATIO:.0f}x echo (time per update at"
        f" saturation): {wall_ratio:.2f}x;  bot CPU per update: {cpu_ratio:.2f}x"
    )
    relay_wall = relay["flood"].rate / kefu["flood"].rate
    relay_cpu = kefu["flood"].cpu_us / relay["flood"].cpu_us
    print(
        f"  (info) storage + desk + guard alone, kefu / echo+relay (same Bot API calls): {relay_wall:.2f}x"
        f" time per update, {relay_cpu:.2f}x bot CPU; echo+relay itself: {relay['flood'].rate:,.0f}/s"
    )


async def pairs(args: argparse.Namespace, server: Any) -> None:
    """Run ``args.pairs`` interleaved pairs of echo+relay and kefu floods (kefu from each tree, in its
    own process); print each pair's CPU per update and ratio, then the medians."""
    texts = load_texts()
    url = await server.start()
    trees = [ROOT, *(Path(t).resolve() for t in args.tree)]
    names = ["kefu" if t == ROOT else f"kefu@{t.name}" for t in trees]
    print(f"pairs: {args.pairs} x (echo+relay, {', '.join(names)}); flood {args.customers} x {args.messages}")
    print(f"load average {_load()}")
    user = FIRST_USER_ID
    cpu: dict[str, list[float]] = {n: [] for n in ["relay", *names]}
    with tempfile.TemporaryDirectory(prefix="kefu-pairs-") as tmp:
        for i in range(args.pairs):
            # Each bot takes each place in turn (with --tree, kefu was always second, the other tree first or
            # last: a drift within a pair then read as a difference between the two trees).
            bots = ["relay", *names]
            order = bots[i % len(bots) :] + bots[: i % len(bots)]
            row = {}
            for name in order:
                if name == "relay":
                    bot: Any = Echo(url, relay=True)
                else:
                    workdir = Path(tmp) / f"{i}-{name}"
                    workdir.mkdir()
                    bot = KefuProcess(url, workdir, trees[names.index(name)])
                await bot.start()
                for phase, (customers, messages) in (
                    ("warmup", (WARMUP_CUSTOMERS, WARMUP_MESSAGES)),
                    ("flood", (args.customers, args.messages)),
                ):
                    rng = random.Random(f"{args.seed}{phase}")
                    plan = conversations(texts, rng, user, customers, messages)
                    user += customers
                    if isinstance(bot, KefuProcess):
                        await server.records()
                        before = bot.cpu_s()
                        await bot.idle(await server.push(plan, None))
                        used = bot.cpu_s() - before
                        await server.records()
                    else:
                        used = (await run_phase(server, bot, plan, None)).cpu_s
                if isinstance(bot, KefuProcess):
                    counts = bot.counts()
                    assert counts.get("updates.pending", 0) == 0, counts
                await bot.close()
                row[name] = 1e6 * used / len(plan)
                cpu[name].append(row[name])
            print(
                f"  pair {i + 1:2} (load {os.getloadavg()[0]:.1f}): echo+relay {row['relay']:6,.0f} us"
                + "".join(f";  {n} {row[n]:6,.0f} us = {row[n] / row['relay']:.2f}x" for n in names)
            )
    print(f"medians of {args.pairs} pairs: echo+relay {statistics.median(cpu['relay']):,.0f} us per update")
    for n in names:
        ratios = [k / r for k, r in zip(cpu[n], cpu["relay"], strict=True)]
        print(
            f"  {n}: {statistics.median(cpu[n]):,.0f} us per update; kefu / echo+relay median"
            f" {statistics.median(ratios):.2f}x (pairs {min(ratios):.2f}-{max(ratios):.2f}x)"
            f"  {_verdict(statistics.median(ratios) <= 1.5)} <= 1.5x"
        )
    if len(names) > 1:
        for n in names[1:]:
            own = [b / a for a, b in zip(cpu[names[0]], cpu[n], strict=True)]
            print(f"  {n} / {names[0]}: median {statistics.median(own):.2f}x")
    print(f"load average at the end {_load()}")
    await server.close()


async def main_async(args: argparse.Namespace, server: Any) -> None:
    """Run echo then kefu (warm-up, flood, paced), print the report, then the optional soak."""
    texts = load_texts()
    rng = random.Random(args.seed)
    url = await server.start()
    where = "in the bot's process" if args.inprocess else "in a separate process"
    print(f"fake Bot API server {where} at {url}; load average {_load()}")
    results: dict[str, dict[str, Phase]] = {}
    user = FIRST_USER_ID
    with tempfile.TemporaryDirectory(prefix="kefu-bench-") as tmp:
        for name in ("echo", "relay", "kefu"):
            bot = Kefu(url, Path(tmp)) if name == "kefu" else Echo(url, relay=name == "relay")
            await bot.start()
            if isinstance(bot, Kefu):
                print(
                    f"kefu: bot.ops.runner.run_bot, db {bot.db_path}, outbound guard on the session:"
                    f" {bot.outbound_gate()}"
                )
            phases: dict[str, Phase] = {}
            for phase, rate in (
                ("warmup", None),
                ("flood", None),
                ("paced", args.rate),
                ("light", LIGHT_RATE),
            ):
                customers, messages = {
                    "warmup": (WARMUP_CUSTOMERS, WARMUP_MESSAGES),
                    "flood": (args.customers, args.messages),
                    "paced": (max(1, round(args.rate * args.paced_s / args.messages)), args.messages),
                    "light": (max(1, round(LIGHT_RATE * LIGHT_S / args.messages)), args.messages),
                }[phase]
                plan = conversations(texts, random.Random(f"{args.seed}{phase}"), user, customers, messages)
                user += customers
                profile = cProfile.Profile() if args.profile and phase == "flood" else None
                phases[phase] = await run_phase(server, bot, plan, rate, profile=profile)
                if profile is not None:
                    profile.dump_stats(f"{args.profile}.{name}")
                p = phases[phase]
                print(
                    f"  {name:5} {phase:6} {p.updates:6,} updates in {p.seconds:6.2f} s = {p.rate:7,.0f}/s;"
                    f" p50 {p.pct(0.5):7.1f} ms  p99 {p.pct(0.99):7.1f} ms;"
                    f"  bot CPU {p.cpu_us:5,.0f} us/update"
                )
            results[name] = phases
            if isinstance(bot, Kefu):
                print("  kefu rows:", bot.counts())
                if args.soak and args.tracemalloc:  # tracing needs the bot in this process
                    await soak(server, bot, texts, args.soak, rng, trace=True)
            await bot.close()
        if args.soak and not args.tracemalloc:
            alone = KefuProcess(url, Path(tmp) / "soak")
            alone.db_path.parent.mkdir()
            await alone.start()
            print("\nsoak bot: `python -m bot run` in its own process (its RSS is sampled)")
            await soak(server, alone, texts, args.soak, rng)
            await alone.close()
        report(results["kefu"], results["echo"], results["relay"], args.rate)
        print(f"load average at the end {_load()} (2 cores shared: figures move with other work)")
    await server.close()


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run the bench, print the report; always return 0."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100, help="simulated customers in the flood phase")
    parser.add_argument("--messages", type=int, default=15, help="messages per customer")
    parser.add_argument("--paced-s", type=float, default=1.0, help="seconds of updates offered at --rate")
    parser.add_argument(
        "--rate", type=float, default=TARGET_UPDATES_S, help="offered updates/s in the paced phase"
    )
    parser.add_argument(
        "--soak", type=int, default=0, help="then send this many more messages to kefu, sampling RSS"
    )
    parser.add_argument("--inprocess", action="store_true", help="run the fake server in the bot's process")
    parser.add_argument(
        "--profile", metavar="FILE", help="write cProfiles of the flood phases to FILE.kefu and FILE.echo"
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="in the soak, trace allocations after 10k and print the growth",
    )
    parser.add_argument(
        "--send-concurrency",
        type=int,
        help="KEFU_SEND_CONCURRENCY for kefu (default: kefu's own, 10 in flight, one per chat)",
    )
    parser.add_argument(
        "--pairs", type=int, default=0, help="only CPU per update: this many interleaved echo+relay/kefu runs"
    )
    parser.add_argument(
        "--tree", action="append", default=[], help="with --pairs: also run kefu from this source tree"
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    global SEND_CONCURRENCY
    SEND_CONCURRENCY = args.send_concurrency
    server = LocalServer() if args.inprocess else RemoteServer()
    asyncio.run(pairs(args, server) if args.pairs else main_async(args, server))
    return 0


if __name__ == "__main__":
    sys.exit(main())
