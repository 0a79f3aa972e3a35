"""Peak hour under Telegram's real limits (issue 15): a promotion's burst against a slow, strict Telegram.

    python bench/peak_bench.py [--customers 200] [--messages 3] [--window-s 60] [--groups 1]
                               [--rtt-ms 150] [--agents 5] [--agent-every-s 4] [--drain-s 1800]
                               [--send-concurrency N] [--spare-topics N] [--warm-up-s 900] [--profile FILE]

The fake Bot API (tests/fakeapi.py with tests/fakelimits.py) runs in a separate process and plays
Telegram as it is: every call answers after ``--rtt-ms`` (150 ms: a bot in Asia) and the three send
limits are enforced with 429 ``retry_after`` (30 messages/s per bot, 1/s per private chat, 20/min
per group; creating, renaming or pinning in a group counts, tdlib/td#2592). kefu is exactly what
``kefu run`` runs (:func:`bot.ops.runner.run_bot`) with Telegram's default limits, in this process.

Warm-up (not counted in the peak's figures, reported apart): kefu starts with an empty database and fills
its spare-topic pool (``KEFU_SPARE_TOPICS``, ``--spare-topics``, kefu's default unless given) in quiet time,
as a shop's bot would have hours before a sale; the peak starts once every group has its spares and no
call was counted in any group for a minute (the group's window is empty again), or after ``--warm-up-s``.

Scenario: ``--customers`` customers each send ``--messages`` messages at random moments within
``--window-s`` seconds (realistic texts: tests/data/intent_cases.jsonl, one customer's texts distinct);
``--agents`` agents answer in their topics (a topic belongs to one agent), each one answer every
``--agent-every-s`` seconds, oldest waiting topic first, while relays keep arriving. The run ends
when everything is handled and delivered, or after ``--drain-s``.

Reported, each as p50 / p95 / max next to the bound the limits allow, computed in the same run from
the same push times:
- customer message → its auto-reply in the customer's chat;
- customer message → its relay in the customer's staff topic (the first relay that carries it);
- agent answer → its delivery to the customer;
- 429s received per 1,000 limited calls, what was still queued at the end, bot CPU per update.

The relay bound is an ideal sender under the group limit that knows the future no better than kefu:
a sliding window of 20 messages per 60 s per group, a topic creation (one message; the relay one round
trip later, other customers' relays going meanwhile) for each new customer, then everything the customer
has queued in one merged relay, oldest waiting customer first; customers spread over the groups in turn.
With the pool, a group's first customers (as many as it had spares when the peak began) already have a
topic: one relay each. Such an ideal sender may also hold a new customer's first relay for a merge while
the group is short (:data:`IDEAL_HOLDS`; holding beats sending at once at p95 and max, not at p50); the
bound is, rank by rank, the best of these ideal senders. The auto-reply and agent bounds are one round
trip plus the private chat's one-a-second spacing. The bench prints ratios, never PASS from a timer in a
test, and always exits 0.

Also printed: the groups' counted calls at the peak by method, and their posts in topics by kind (relay,
merged relay, suggestion, notice), and each 429 with the limit that refused it.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import math
import multiprocessing as mp
import os
import random
import re
import sqlite3
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from bot_bench import NAMES, load_texts  # noqa: E402
from fakeapi import FakeTelegram  # noqa: E402
from fakelimits import TelegramLimits  # noqa: E402

FIRST_GROUP = -1001000000001
FIRST_USER_ID = 6_000_000
FIRST_AGENT_ID = 900_001
GROUP_PER_MIN = 20
GROUP_WINDOW_S = 60.0
PRIVATE_SPACING_S = 1.0
POLL_S = 0.1
ANSWERS = ("您好,已为您查询,请您稍等", "好的,这边帮您登记一下", "您好,订单已经安排发货了", "收到,马上处理")
# How often a customer message is of each intent: `other` (orders, delivery, refunds: no script) is the
# most common at a promotion; then the scripted intents.
WEIGHTS = {
    "other": 30,
    "greeting": 8,
    "service_hours": 6,
    "security": 3,
    "how_to": 8,
    "site_problem": 5,
    "complaint": 5,
    "complaint_followup": 3,
    "faq": 5,
    "thanks": 5,
    "unclear": 4,
    "human_request": 3,
    "goodbye": 2,
}


# --- the scenario ---------------------------------------------------------------------------------
def plan_customers(customers: int, messages: int, window_s: float, seed: int) -> list[tuple[float, int, str]]:
    """Return ``(seconds after start, user id, text)`` for every customer message, by time."""
    rng = random.Random(seed)
    texts = load_texts()
    intents = [k for k in WEIGHTS if texts.get(k)]
    weights = [WEIGHTS[k] for k in intents]
    plan = []
    for n in range(customers):
        times = sorted(rng.uniform(0, window_s) for _ in range(messages))
        chosen: list[str] = []
        while len(chosen) < messages:
            text = rng.choice(texts[rng.choices(intents, weights)[0]])
            if text not in chosen:
                chosen.append(text)
        plan += [(t, FIRST_USER_ID + n, text) for t, text in zip(times, chosen, strict=True)]
    return sorted(plan)


class LoggedLimits(TelegramLimits):
    """Telegram's limits that also log every counted call to a group: ``(time, method, chat)``."""

    def __init__(self) -> None:
        super().__init__()
        self.group_log: list[tuple[float, str, int]] = []
        self.refusals: list[tuple[float, str, object, str]] = []  # (time, method, chat, which limit)

    def check(self, method: str, chat_id: object, now: float) -> int | None:
        """Count a call as :meth:`TelegramLimits.check` does; log it when it is a group's and passes, and
        log every refusal with the limit that refused it."""
        counted, refused = self.counted, self.refused
        bot_wide = self._wait(self._global, now, 1.0, self.global_per_s) > 0
        retry_after = super().check(method, chat_id, now)
        if self.counted != counted and isinstance(chat_id, int) and chat_id < 0:
            self.group_log.append((now, method, chat_id))
        if self.refused != refused:
            which = (
                "bot-wide" if bot_wide else "group" if isinstance(chat_id, int) and chat_id < 0 else "chat"
            )
            self.refusals.append((now, method, chat_id, which))
        return retry_after


def post_kind(method: str, params: dict[str, Any]) -> str:
    """Return what a post in a staff topic is: a relay (alone or merged), a suggestion, a notice, a header."""
    text = str(params.get("text") or params.get("caption") or "")
    merged = bool(re.search(r"\[\d\d:\d\d:\d\d\] ", text))
    if params.get("reply_markup"):
        return "merged relay + suggestion" if merged else "suggestion"
    if merged:
        return "merged relay"
    if method == "copyMessage":
        return "relay (copy)"
    if text.startswith("⚠️"):
        return "notice"
    if text.startswith("💡"):
        return "suggestion (no button)"
    return "relay (text)"


class PeakTelegram(FakeTelegram):
    """The fake Telegram with its round trip and limits, playing the customers and the agents."""

    def __init__(self, rtt: float, groups: list[int], agents: int, agent_every_s: float) -> None:
        super().__init__(limits=LoggedLimits(), latency=rtt)
        self.group_posts: list[tuple[float, str]] = []  # (time, post_kind) of every ok post in a topic
        self.groups = groups
        self.agents = agents
        self.agent_every_s = agent_every_s
        self.pushed: dict[tuple[int, int], float] = {}  # customer (chat, message id) -> push time
        self.texts: dict[tuple[int, int], str] = {}
        self.shown: list[tuple[float, str, int, int | None, str, int | None, int | None]] = []
        # (time shown, method, chat, thread, text, from_chat_id, source message id) of every ok call
        self.shown_ids: dict[tuple[int, int], float] = {}  # (chat, message id it got) -> time shown
        self.answers: dict[str, float] = {}  # agent answer text -> push time
        self.answer_ids: dict[tuple[int, int], str] = {}  # (group, message id) -> agent answer text
        self.delivered: dict[str, float] = {}  # agent answer text -> when it reached the customer
        self.waiting: dict[tuple[int, int], float] = {}  # (group, thread) -> oldest unanswered relay
        self.methods: dict[str, int] = {}
        self.running = True
        self._answer_no = 0

    def _note(self, method: str, params: dict[str, Any], result: Any) -> Any:
        now = time.monotonic()
        chat = params.get("chat_id")
        thread = params.get("message_thread_id")
        text = str(params.get("text") or params.get("caption") or "")
        self.methods[method] = self.methods.get(method, 0) + 1
        self.shown.append(
            (now, method, chat, thread, text, params.get("from_chat_id"), params.get("message_id"))
        )
        if isinstance(result, dict) and "message_id" in result and isinstance(chat, int):
            self.shown_ids[(chat, result["message_id"])] = now
        posted = method in ("sendMessage", "copyMessage")
        if posted and isinstance(chat, int) and chat < 0 and thread is not None:
            self.waiting.setdefault((chat, thread), now)
            self.group_posts.append((now, post_kind(method, params)))
        if isinstance(chat, int) and chat > 0:
            answer = text if text in self.answers else None
            if answer is None and params.get("from_chat_id", 0) < 0:
                answer = self.answer_ids.get((params["from_chat_id"], params.get("message_id")))
            if answer is not None:
                self.delivered.setdefault(answer, now)
        return result

    def _m_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._note("sendMessage", params, super()._m_sendmessage(params))

    def _m_copymessage(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._note("copyMessage", params, super()._m_copymessage(params))

    def _m_createforumtopic(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._note("createForumTopic", params, super()._m_createforumtopic(params))

    def _m_editforumtopic(self, params: dict[str, Any]) -> Any:
        return self._note("editForumTopic", params, super()._m_editforumtopic(params))

    async def _handle(self, request):  # type: ignore[no-untyped-def]
        response = await super()._handle(request)
        self._calls.clear()  # the bench keeps its own records
        return response

    async def customers(self, plan: list[tuple[float, int, str]]) -> None:
        """Push the customers' messages at their planned moments."""
        start = time.monotonic()
        for at, user, text in plan:
            delay = start + at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            update = self.text_update(text, user_id=user, first_name=NAMES[user % len(NAMES)], username=None)
            key = (user, update["message"]["message_id"])
            self.pushed[key] = time.monotonic()
            self.texts[key] = text
            self.push_update(update)

    async def agent(self, number: int) -> None:
        """One agent: answer the oldest waiting topic of this agent's, one answer every ``agent_every_s``."""
        while self.running:
            mine = [(t, key) for key, t in self.waiting.items() if key[1] % self.agents == number]
            if not mine:
                await asyncio.sleep(POLL_S)
                continue
            await asyncio.sleep(self.agent_every_s)
            _, (group, thread) = min(mine)
            self.waiting.pop((group, thread), None)
            self._answer_no += 1
            text = f"{ANSWERS[self._answer_no % len(ANSWERS)]}(第{self._answer_no}号)"
            update = self.group_text_update(group, text, user_id=FIRST_AGENT_ID + number, thread_id=thread)
            self.answers[text] = time.monotonic()
            self.answer_ids[(group, update["message"]["message_id"])] = text
            self.push_update(update)

    def records(self) -> dict[str, Any]:
        """Return what the run produced (times are CLOCK_MONOTONIC, shared with the bot's process)."""
        assert self.limits is not None
        return {
            "pushed": self.pushed,
            "texts": self.texts,
            "shown": self.shown,
            "shown_ids": self.shown_ids,
            "answers": self.answers,
            "delivered": self.delivered,
            "refused": self.limits.refused,
            "counted": self.limits.counted,
            "methods": self.methods,
            "group_log": self.limits.group_log if isinstance(self.limits, LoggedLimits) else [],
            "refusals": self.limits.refusals if isinstance(self.limits, LoggedLimits) else [],
            "group_posts": self.group_posts,
        }


def _server_main(conn: Any, rtt: float, groups: list[int], agents: int, agent_every_s: float) -> None:
    async def main() -> None:
        fake = PeakTelegram(rtt, groups, agents, agent_every_s)
        await fake.start()
        loop = asyncio.get_running_loop()
        done = asyncio.Event()
        conn.send(fake.url)
        tasks: list[asyncio.Task[None]] = []

        def commands() -> None:
            while True:
                command, args = conn.recv()
                if command == "stop":
                    loop.call_soon_threadsafe(done.set)
                    return
                if command == "start":

                    async def begin(plan: list[tuple[float, int, str]] = args[0]) -> None:
                        tasks.append(asyncio.create_task(fake.customers(plan)))
                        tasks.extend(asyncio.create_task(fake.agent(n)) for n in range(agents))

                    asyncio.run_coroutine_threadsafe(begin(), loop).result()
                    conn.send(True)
                elif command == "quiet":

                    async def quiet() -> dict[str, Any]:
                        assert fake.limits is not None
                        return {
                            "waiting": len(fake.waiting),
                            "pending_updates": fake.pending_updates(),
                            "refused": fake.limits.refused,
                            "counted": fake.limits.counted,
                        }

                    conn.send(asyncio.run_coroutine_threadsafe(quiet(), loop).result())
                else:

                    async def finish() -> dict[str, Any]:
                        fake.running = False
                        return fake.records()

                    conn.send(asyncio.run_coroutine_threadsafe(finish(), loop).result())

        threading.Thread(target=commands, daemon=True).start()
        await done.wait()
        for task in tasks:
            task.cancel()
        await fake.close()

    asyncio.run(main())


class Server:
    """The fake in its own process (its CPU is not the bot's), driven through a pipe."""

    def __init__(self, rtt: float, groups: list[int], agents: int, agent_every_s: float) -> None:
        ctx = mp.get_context("fork")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(
            target=_server_main, args=(child, rtt, groups, agents, agent_every_s), daemon=True
        )
        self.process.start()
        self.url = self.conn.recv()

    async def ask(self, command: str, *args: Any) -> Any:
        """Send a command to the server process and return its answer."""
        await asyncio.to_thread(self.conn.send, (command, args))
        return await asyncio.to_thread(self.conn.recv)

    async def close(self) -> None:
        """Stop the server process."""
        self.conn.send(("stop", ()))
        await asyncio.to_thread(self.process.join, 10)


# --- bounds ---------------------------------------------------------------------------------------
# The holds an ideal sender may use (seconds of quiet, longest hold) for a new customer's first relay while
# its group is short: (0, 0) is none. The relay bound is, quantile by quantile, the best of them.
IDEAL_HOLDS = ((0.0, 0.0), (10.0, 30.0), (20.0, 60.0), (30.0, 90.0))
PRESSED_SHARE = 0.5  # a group is short once half its minute is used (as kefu's sender counts it)


def ideal_relays(
    arrivals: list[tuple[float, int]],
    groups: int,
    rtt: float,
    per_min: int = GROUP_PER_MIN,
    spares: int = 0,
    hold: tuple[float, float] = (0.0, 0.0),
) -> list[float]:
    """Return the seconds from each message to its relay for an ideal sender under the group limit.

    ``arrivals`` are ``(time, customer)``. Customers go to the groups in turn, by first message. Each
    group: a sliding window of ``per_min`` messages per minute (counted when a call leaves: the fake counts
    it on arrival, and the link adds nothing on the way there); whenever it has room, the customer with the
    oldest unrelayed message gets its topic (one message) if it has none, then, once the topic's id is back
    (one round trip, while other customers' relays go), one relay carrying everything it has queued. A
    message is shown one round trip after its relay left. Each group's first ``spares`` customers take a
    spare topic made before the peak: no message for it. ``hold`` = (quiet, longest): while the group has
    used half its minute, such a customer's first relay waits until it wrote nothing for ``quiet`` seconds,
    at most ``longest`` after its first message (kefu's :func:`bot.telegram.budget.merge_hold`).
    """
    quiet, longest = hold
    group_of: dict[int, int] = {}
    for _, customer in sorted(arrivals):
        if customer not in group_of:
            group_of[customer] = len(group_of) % groups
    latencies: list[float] = []
    for g in range(groups):
        mine = sorted((t, c) for t, c in arrivals if group_of[c] == g)
        window: deque[float] = deque()
        firsts = list(dict.fromkeys(c for _, c in mine))
        pooled: set[int] = set(firsts[:spares])
        has_topic: set[int] = set(pooled)
        relayed: set[int] = set()
        ready: dict[int, float] = {}  # customer -> when its new topic's id is back
        queued: dict[int, list[float]] = {}
        i, now = 0, mine[0][0] if mine else 0.0
        while i < len(mine) or queued:
            while i < len(mine) and mine[i][0] <= now:
                queued.setdefault(mine[i][1], []).append(mine[i][0])
                i += 1
            if not queued:
                now = mine[i][0]
                continue
            while window and window[0] + GROUP_WINDOW_S <= now:  # (not now - 60: floats must round alike)
                window.popleft()
            if len(window) >= per_min:
                now = window[0] + GROUP_WINDOW_S
                continue
            pressed = len(window) >= per_min * PRESSED_SHARE
            wakes: list[float] = [mine[i][0]] if i < len(mine) else []
            eligible = []
            for c, times in queued.items():
                until = ready.get(c, 0.0)
                if quiet and pressed and c in pooled and c not in relayed:
                    until = max(until, min(times[-1] + quiet, times[0] + longest))
                if until > now:
                    wakes.append(until)
                else:
                    eligible.append(c)
            if not eligible:
                now = min(wakes)
                continue
            customer = min(eligible, key=lambda c: queued[c][0])
            window.append(now)
            if customer not in has_topic:
                has_topic.add(customer)
                ready[customer] = now + rtt  # the relay needs the topic's id
                continue
            relayed.add(customer)
            latencies += [now + rtt - t for t in queued.pop(customer)]
        # messages that arrived while the topic was being created are in `queued` and went with the relay
    return sorted(latencies)


def best_relays(arrivals: list[tuple[float, int]], groups: int, rtt: float, spares: int = 0) -> list[float]:
    """Return the relay bound: rank by rank, the lowest latency of the ideal senders of :data:`IDEAL_HOLDS`.

    Each ideal sender's latencies are sorted; the k-th latency of the bound is the lowest k-th of them, so
    every quantile of the bound is the best any of them reaches (no one sender reaches all at once).
    """
    runs = [ideal_relays(arrivals, groups, rtt, spares=spares, hold=hold) for hold in IDEAL_HOLDS]
    return [min(ranked) for ranked in zip(*runs, strict=True)]


def ideal_private(times: dict[int, list[float]], rtt: float) -> list[float]:
    """Return the seconds from each event to its message in a private chat: one round trip, one a second."""
    out = []
    for chat_times in times.values():
        last = -math.inf
        for t in sorted(chat_times):
            sent = max(t, last + PRIVATE_SPACING_S)
            out.append(sent + rtt - t)
            last = sent
    return sorted(out)


# --- figures --------------------------------------------------------------------------------------
def pct(values: list[float], q: float) -> float:
    """Return the ``q`` quantile (0..1) of sorted ``values`` (nearest rank), or nan when empty."""
    if not values:
        return math.nan
    return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]


@dataclass
class Series:
    """One latency, measured and bound."""

    name: str
    measured: list[float]
    bound: list[float]
    missing: int = 0
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        """Return the report line: p50/p95/max measured, the bound, and measured as % of the bound."""
        cells = []
        for label, q in (("p50", 0.5), ("p95", 0.95), ("max", 1.0)):
            m, b = pct(sorted(self.measured), q), pct(self.bound, q)
            ratio = f"{m / b:.0%}" if b and b > 0 and not math.isnan(m) else "—"
            cells.append(f"{label} {m:7.2f}s (bound {b:6.2f}s, {ratio} of it)")
        return f"{self.name:<28} n={len(self.measured):>4}  " + "  ".join(cells)


def measure(records: dict[str, Any], db: Path, rtt: float, groups: int, spares: int = 0) -> dict[str, Any]:
    """Return the three latency series and the counts, from the fake's records and kefu's database."""
    pushed = records["pushed"]
    texts = records["texts"]
    shown = records["shown"]
    shown_ids = records["shown_ids"]
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    # auto-replies: the bot's first scripted message after each customer message, in the same chat
    rows = conn.execute(
        "SELECT chat_id, direction, sender, telegram_message_id, script_key FROM messages ORDER BY id"
    ).fetchall()
    by_chat: dict[int, list[tuple[str, str, int | None, str | None]]] = {}
    for chat, direction, sender, tid, key in rows:
        by_chat.setdefault(chat, []).append((direction, sender, tid, key))
    auto: list[float] = []
    auto_bound_in: dict[int, list[float]] = {}
    for chat, chat_rows in by_chat.items():
        current = None
        for direction, sender, tid, key in chat_rows:
            if direction == "in" and sender == "customer":
                current = (chat, tid) if (chat, tid) in pushed else None
            elif current is not None and sender == "bot" and key not in (None, "busy") and tid is not None:
                at = shown_ids.get((chat, tid))
                if at is not None:
                    auto.append(at - pushed[current])
                    auto_bound_in.setdefault(chat, []).append(pushed[current])
                current = None
    # relays: the first staff-topic post carrying the message (copy of it, or its text)
    topic_of = {
        cid: (group, topic)
        for cid, group, topic in conn.execute("SELECT id, staff_chat_id, topic_id FROM customers").fetchall()
    }
    posts: dict[tuple[int, int], list[tuple[float, str, int | None, int | None]]] = {}
    for at, method, chat, thread, text, src, sid in shown:
        if method in ("sendMessage", "copyMessage") and isinstance(chat, int) and chat < 0 and thread:
            posts.setdefault((chat, thread), []).append((at, text, src, sid))
    relays, missing = [], 0
    for (chat, mid), t in pushed.items():
        where = topic_of.get(chat)
        text = texts[(chat, mid)]
        found = None
        for at, post_text, src, sid in posts.get(where, []) if where else []:
            if (src == chat and sid == mid) or text in post_text:
                found = at
                break
        if found is None:
            missing += 1
        else:
            relays.append(found - t)
    arrivals = [(t, chat) for (chat, _), t in pushed.items()]
    answers = records["answers"]
    delivered = records["delivered"]
    agent = [delivered[a] - t for a, t in answers.items() if a in delivered]
    queued = conn.execute(
        "SELECT CASE WHEN chat_id < 0 THEN 'staff groups' ELSE 'customers' END, count(*) FROM outbox "
        "WHERE status = 'pending' GROUP BY 1"
    ).fetchall()
    failed = conn.execute("SELECT count(*) FROM outbox WHERE status = 'failed'").fetchone()[0]
    stored = conn.execute(
        "SELECT count(*), count(DISTINCT chat_id || ':' || telegram_message_id) FROM messages "
        "WHERE direction = 'in' AND sender = 'customer'"
    ).fetchone()
    conn.close()
    return {
        "auto": Series("message → auto-reply", auto, ideal_private(auto_bound_in, rtt)),
        "relay": Series(
            "message → relay in topic", relays, best_relays(arrivals, groups, rtt, spares=spares), missing
        ),
        "agent": Series(
            "agent answer → customer",
            agent,
            ideal_private({i: [t] for i, t in enumerate(answers.values())}, rtt),
            len(answers) - len(agent),
        ),
        "queued": dict(queued),
        "failed": failed,
        "stored": stored,
    }


# --- the run --------------------------------------------------------------------------------------
async def run(args: argparse.Namespace, server: Server) -> None:
    import bot.ops.runner as runner
    from bot.ops.settings import load_settings

    groups = [FIRST_GROUP - n for n in range(args.groups)]
    plan = plan_customers(args.customers, args.messages, args.window_s, args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="kefu-peak-"))
    db = workdir / "kefu.db"
    os.environ.update(
        KEFU_BOT_TOKEN=FakeTelegram().token,
        KEFU_API_SERVER=server.url,
        KEFU_STAFF_CHAT_ID=",".join(str(g) for g in groups),
        KEFU_DB_PATH=str(db),
        KEFU_BUSINESS_HOURS="00:00-24:00",
        KEFU_WORKING_DAYS="mon-sun",
        KEFU_CLOSED_ON_HOLIDAYS="false",
        KEFU_BUSY_REPLY_AFTER_S="3600",
        KEFU_SEND_LIMITS="30,1,20",
    )
    if args.send_concurrency:
        os.environ["KEFU_SEND_CONCURRENCY"] = str(args.send_concurrency)
    if args.spare_topics is not None:
        os.environ["KEFU_SPARE_TOPICS"] = str(args.spare_topics)
    settings = load_settings()
    stop = asyncio.Event()
    senders: list[Any] = []
    watch = lambda stack: senders.append(stack.sender)  # noqa: E731 (the sender, for the report)
    task = asyncio.create_task(runner.run_bot(settings, stop=stop, on_stack=watch))
    while not db.exists():
        await asyncio.sleep(POLL_S)
    await asyncio.sleep(1.0)  # start-up done (migrations, first getUpdates)
    warm = await warm_up(server, db, groups, settings.spare_topics, args.warm_up_s)
    profile = cProfile.Profile() if args.profile else None
    cpu0, t0 = time.process_time(), time.monotonic()
    if profile:
        profile.enable()
    await server.ask("start", plan)
    reader = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    deadline = t0 + args.window_s + args.drain_s
    while time.monotonic() < deadline:
        await asyncio.sleep(1.0)
        if time.monotonic() < t0 + args.window_s + 2:
            continue
        try:
            pending = reader.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0]
            unhandled = reader.execute("SELECT count(*) FROM updates WHERE status = 'pending'").fetchone()[0]
        except sqlite3.OperationalError:
            continue
        quiet = await server.ask("quiet")
        if not pending and not unhandled and not quiet["waiting"] and not quiet["pending_updates"]:
            break
    elapsed = time.monotonic() - t0
    if profile:
        profile.disable()
        profile.dump_stats(args.profile)
    cpu = time.process_time() - cpu0
    updates = reader.execute("SELECT count(*) FROM updates").fetchone()[0]
    reader.close()
    records = await server.ask("records")
    if senders and (senders[0].lanes or args.debug):
        _dump(senders[0])
    stop.set()
    await task
    report(args, records, db, elapsed, cpu, updates, len(plan), warm, t0)


async def warm_up(server: Server, db: Path, groups: list[int], spares: int, limit_s: float) -> dict[str, Any]:
    """Let kefu fill its spare-topic pools, then wait until no group counted a call for a minute.

    Returns the warm-up's figures: seconds to fill, seconds in all, spares free per group at the end, and
    the fake's counted calls and 429s so far (the peak's are counted from there).
    """
    start = time.monotonic()
    filled_s = math.nan
    reader = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    free: dict[int, int] = {}
    quiet: dict[str, Any] = await server.ask("quiet")
    counted, since = quiet["counted"], time.monotonic()
    while spares and time.monotonic() < start + limit_s:
        await asyncio.sleep(1.0)
        try:
            free = dict(
                reader.execute(
                    "SELECT staff_chat_id, count(*) FROM spare_topics WHERE customer_id IS NULL GROUP BY 1"
                ).fetchall()
            )
        except sqlite3.OperationalError:
            continue
        if any(free.get(g, 0) < spares for g in groups):
            continue
        if math.isnan(filled_s):
            filled_s = time.monotonic() - start
        quiet = await server.ask("quiet")
        if quiet["counted"] != counted:
            counted, since = quiet["counted"], time.monotonic()
        elif time.monotonic() - since > GROUP_WINDOW_S + 1.5:  # no counted call for a minute: windows empty
            break
    reader.close()
    quiet = await server.ask("quiet")
    return {
        "filled_s": filled_s,
        "total_s": time.monotonic() - start,
        "free": [free.get(g, 0) for g in groups],
        "refused": quiet["refused"],
        "counted": quiet["counted"],
    }


def _dump(sender: Any) -> None:
    """Print the sender's state and where its lanes wait (what is still queued at the end)."""
    lanes = sender.lane_state()
    print("sender: busy", list(lanes.busy), "ready in", {c: round(s, 1) for c, s in lanes.held_s.items()})
    print("locked chats", list(lanes.locked))
    for task in asyncio.all_tasks():
        stack = task.get_stack(limit=8)
        where = " <- ".join(f"{f.f_code.co_name}:{f.f_lineno}" for f in reversed(stack))
        if "delivery" in str([f.f_code.co_filename for f in stack]) or "board" in where:
            print("task", task.get_name(), where)


def report(
    args: argparse.Namespace,
    records: dict[str, Any],
    db: Path,
    elapsed: float,
    cpu: float,
    updates: int,
    planned: int,
    warm: dict[str, Any],
    t0: float,
) -> None:
    """Print the figures, each next to its bound, and the issue's targets as ratios."""
    rtt = args.rtt_ms / 1000
    spares = min(warm["free"], default=0)
    figures = measure(records, db, rtt, args.groups, spares)
    refused = records["refused"] - warm["refused"]
    calls = records["counted"] - warm["counted"] + refused
    per_1000 = 1000 * refused / calls if calls else 0.0
    peak_shown = [entry for entry in records["shown"] if entry[0] >= t0]
    busiest = _busiest_second(peak_shown)
    methods: dict[str, int] = {}
    for _, method, *_rest in peak_shown:
        methods[method] = methods.get(method, 0) + 1
    print(
        f"\n== peak bench: {args.customers} customers x {args.messages} messages in {args.window_s:.0f} s, "
        f"{args.groups} staff group(s), {args.agents} agents, round trip {args.rtt_ms:.0f} ms =="
    )
    print(
        f"warm-up (not counted below): spare topics per group {warm['free']} (KEFU_SPARE_TOPICS), filled in "
        f"{warm['filled_s']:.0f} s, peak started after {warm['total_s']:.0f} s (a minute without a counted "
        f"call); {warm['counted']} counted calls, {warm['refused']} 429s"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.2f}; peak run took {elapsed:.0f} s")
    for key in ("auto", "relay", "agent"):
        series = figures[key]
        print(series.line() + (f"  never shown: {series.missing}" if series.missing else ""))
    print(
        f"429s: {refused} for {calls} limited calls = {per_1000:.2f} per 1,000 "
        f"({per_1000:.0%} of the target of at most 1 per 1,000)"
        + "".join(
            f"; at {at - t0:.1f} s {method} to {chat} ({which} limit)"
            for at, method, chat, which in records.get("refusals", [])
            if at >= t0
        )
    )
    print(
        f"busiest second: {busiest} counted calls = {busiest / 30:.0%} of the 30/s bot limit; methods "
        + ", ".join(f"{k} {v}" for k, v in sorted(methods.items()))
    )
    print(group_spending(records, t0))
    stored, distinct = figures["stored"]
    print(
        f"customer messages: {planned} sent, {stored} stored ({stored - distinct} twice), "
        f"queued at the end: {figures['queued'] or 'nothing'}, failed rows: {figures['failed']}"
    )
    print(f"bot CPU: {cpu:.1f} s for {updates} updates = {1e6 * cpu / max(updates, 1):,.0f} us per update")
    relay, auto, agent = figures["relay"], figures["auto"], figures["agent"]
    r95, b95 = pct(sorted(relay.measured), 0.95), pct(relay.bound, 0.95)
    print("targets:")
    print(f"  auto-replies p95 <= 10 s: {pct(sorted(auto.measured), 0.95) / 10:.0%} of the target")
    print(f"  agent answers p95 <= 3 s: {pct(sorted(agent.measured), 0.95) / 3:.0%} of the target")
    if args.groups == 1:
        print(f"  one group: relay p95 within 10% of the bound: {r95 / b95:.0%} of the bound")
    else:
        print(
            f"  {args.groups} groups: relay p95 <= 3 min: {r95 / 180:.0%} of the target "
            f"(bound {b95 / 180:.0%} of it)"
        )
    print(
        f"  nothing lost: {relay.missing} relay(s) and {agent.missing} answer(s) never shown; "
        f"nothing duplicated: {stored - distinct} stored twice"
    )
    customers_per_min = args.customers / max(relay.measured or [1]) * 60 if relay.measured else 0.0
    print(
        f"  carried: {args.customers} customers relayed within {max(relay.measured or [0]):.0f} s "
        f"= {customers_per_min / args.groups:.1f} new customers a minute per group"
    )


def group_spending(records: dict[str, Any], t0: float) -> str:
    """Return a line: the groups' counted calls at the peak, by method, and their posts in topics by kind."""
    methods: dict[str, int] = {}
    for at, method, _chat in records.get("group_log", []):
        if at >= t0:
            methods[method] = methods.get(method, 0) + 1
    kinds: dict[str, int] = {}
    for at, kind in records.get("group_posts", []):
        if at >= t0:
            kinds[kind] = kinds.get(kind, 0) + 1
    total = sum(methods.values())
    by_method = ", ".join(f"{k} {v}" for k, v in sorted(methods.items(), key=lambda kv: -kv[1]))
    by_kind = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1]))
    return f"groups' counted calls at the peak: {total} ({by_method}); posts in topics: {by_kind}"


def _busiest_second(shown: list[tuple[Any, ...]]) -> int:
    times = sorted(at for at, *_ in shown)
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - 1.0:
            j += 1
        best = max(best, i - j + 1)
    return best


def main(argv: list[str] | None = None) -> int:
    """Run the peak bench; return 0 (it is a report)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--messages", type=int, default=3)
    parser.add_argument("--window-s", type=float, default=60.0)
    parser.add_argument("--groups", type=int, default=1)
    parser.add_argument("--rtt-ms", type=float, default=150.0)
    parser.add_argument("--agents", type=int, default=5)
    parser.add_argument("--agent-every-s", type=float, default=4.0)
    parser.add_argument("--drain-s", type=float, default=1800.0)
    parser.add_argument("--send-concurrency", type=int, default=0)
    parser.add_argument(
        "--spare-topics", type=int, default=None, help="KEFU_SPARE_TOPICS (default: kefu's; 0 = no pool)"
    )
    parser.add_argument("--warm-up-s", type=float, default=900.0, help="longest warm-up (pool filling)")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--profile", default="")
    parser.add_argument("--debug", action="store_true", help="print the sender's state at the end")
    args = parser.parse_args(argv)
    server = Server(
        args.rtt_ms / 1000, [FIRST_GROUP - n for n in range(args.groups)], args.agents, args.agent_every_s
    )
    try:
        asyncio.run(run(args, server))
    finally:
        asyncio.run(server.close())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
