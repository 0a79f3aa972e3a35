"""Killed at any moment (SIGKILL) and restarted, the bot loses nothing; at most one duplicate per crash.

The bot runs as a real ``python -m bot run`` process against the fake Bot API server in this test's
process. Customers and an agent keep writing while the bot is killed at random moments and started
again. At the end every customer message is stored once and reached the staff topic, every agent
message the guard allowed reached its customer, and the messages sent twice are counted: each one
needs a crash between Telegram's confirmation and the database commit, and the sender keeps at most
one call in flight per chat, so each kill repeats at most one message per chat.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import sys
from pathlib import Path

import pytest
from fakeapi import TOKEN, FakeTelegram

ROOT = Path(__file__).resolve().parent.parent
STAFF = -1001234567890
CUSTOMERS = [9001, 9002, 9003, 9004, 9005, 9006]
KILLS = 4
PHRASES = ["你好", "我的快递三天了还没到", "我要投诉,东西是坏的", "几点上班?", "谢谢", "退款怎么操作", "在吗"]


def _query(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError:
        return []  # tables not created yet
    finally:
        conn.close()


async def _start(fake: FakeTelegram, db: Path) -> asyncio.subprocess.Process:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("KEFU_")},
        "KEFU_BOT_TOKEN": TOKEN,
        "KEFU_API_SERVER": fake.url,
        "KEFU_STAFF_CHAT_ID": str(STAFF),
        "KEFU_DB_PATH": str(db),
        "KEFU_BUSINESS_HOURS": "00:00-24:00",
        "KEFU_BUSY_REPLY_AFTER_S": "3600",
        "KEFU_SEND_LIMITS": "1000,1000,1000",  # durability is under test here, not the pacing
        "PYTHONPATH": str(ROOT),
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=db.parent,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def _topics(db: Path, at_least: int, seconds: float = 30.0) -> list[tuple[int, int]]:
    sql = "SELECT id, topic_id FROM customers WHERE topic_id IS NOT NULL ORDER BY id"
    async with asyncio.timeout(seconds):
        while len(found := _query(db, sql)) < at_least:
            await asyncio.sleep(0.1)
    return found


async def _quiet(db: Path, expected_updates: int, seconds: float = 60.0) -> None:
    async with asyncio.timeout(seconds):
        while True:
            handled = _query(db, "SELECT count(*) FROM updates WHERE status != 'pending'")
            pending = _query(db, "SELECT count(*) FROM outbox WHERE status = 'pending'")
            if handled and handled[0][0] >= expected_updates and pending and pending[0][0] == 0:
                return
            await asyncio.sleep(0.1)


async def test_sigkill_at_random_moments_loses_nothing(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rng = random.Random(20261122)
    db = tmp_path / "crash.db"
    customer_messages: list[tuple[int, int, str]] = []
    agent_messages: list[tuple[int, int, str]] = []
    pushed = 0
    logs: list[str] = []
    async with FakeTelegram() as fake:
        proc = await _start(fake, db)
        for round_no in range(KILLS + 1):
            for _ in range(12):
                user = rng.choice(CUSTOMERS)
                text = f"{rng.choice(PHRASES)} #{round_no}-{pushed}"
                update = fake.text_update(text, user_id=user, first_name=f"客户{user}", username=None)
                customer_messages.append((user, update["message"]["message_id"], text))
                fake.push_update(update)
                pushed += 1
                await asyncio.sleep(rng.uniform(0, 0.03))
            # an agent answers in the topics that exist by now (waiting for the first ones once)
            topics = await _topics(db, at_least=3 if round_no == 1 else 0)
            for user, topic in topics[:3]:
                answer = f"您好,已为您查询,请您稍等 #{round_no}-{user}"
                update = fake.group_text_update(STAFF, answer, user_id=7, thread_id=topic)
                fake.push_update(update)
                agent_messages.append((user, update["message"]["message_id"], answer))
                pushed += 1
            if round_no < KILLS:
                await asyncio.sleep(rng.uniform(0.2, 1.5))
                proc.send_signal(signal.SIGKILL)
                _, killed_stderr = await proc.communicate()
                logs.append(killed_stderr.decode(errors="replace"))
                proc = await _start(fake, db)
        await _quiet(db, pushed)
        proc.send_signal(signal.SIGTERM)
        _, stderr = await proc.communicate()
        logs.append(stderr.decode(errors="replace"))
        assert proc.returncode == 0, logs[-1][-2000:]
        assert "kefu is @" in logs[-1] and "kefu stopped" in logs[-1]  # the logs were captured
        assert all(TOKEN not in log and TOKEN.split(":")[1] not in log for log in logs), "the token leaked"

        stored = _query(
            db,
            "SELECT chat_id, telegram_message_id, count(*) FROM messages "
            "WHERE direction = 'in' AND sender = 'customer' GROUP BY 1, 2",
        )
        counts = {(chat, mid): n for chat, mid, n in stored}
        for user, mid, text in customer_messages:
            assert counts.get((user, mid)) == 1, (
                f"customer message {text!r} stored {counts.get((user, mid))} times"
            )

        staff_calls = [c for c in fake.calls(ok=True) if c.params.get("chat_id") == STAFF]
        relayed_ids = {(c.params.get("from_chat_id"), c.params.get("message_id")) for c in staff_calls}
        staff_text = "\n".join(str(c.params.get("text", "")) for c in staff_calls)
        for user, mid, text in customer_messages:
            assert (user, mid) in relayed_ids or text in staff_text, f"{text!r} never reached the staff topic"

        assert len(agent_messages) >= 3 * (KILLS - 1)
        customer_calls = [c for c in fake.calls(ok=True) if c.params.get("chat_id") in CUSTOMERS]
        for user, mid, answer in agent_messages:
            assert any(
                c.params.get("chat_id") == user
                and (
                    answer in str(c.params.get("text", ""))
                    or (c.params.get("from_chat_id") == STAFF and c.params.get("message_id") == mid)
                )
                for c in customer_calls
            ), f"agent answer {answer!r} never reached customer {user}"

        # Every outbox row Telegram confirmed is one call; a call more is a message sent twice.
        sent_rows = _query(db, "SELECT count(*) FROM outbox WHERE status = 'sent' AND chat_id > 0")[0][0]
        relay_rows = _query(db, "SELECT count(*) FROM outbox WHERE status = 'sent' AND chat_id = ?", (STAFF,))
        topic_posts = [
            c
            for c in staff_calls
            if c.method in ("sendMessage", "copyMessage") and c.params.get("message_thread_id") is not None
        ]
        duplicates = len(customer_calls) - sent_rows
        relay_duplicates = len(topic_posts) - relay_rows[0][0]
        with capsys.disabled():
            print(
                f"\n[crash test] {KILLS} SIGKILLs, {pushed} updates; {len(customer_calls)} deliveries to "
                f"customers for {sent_rows} outbox rows, {len(topic_posts)} posts in staff topics for "
                f"{relay_rows[0][0]} rows: {duplicates + relay_duplicates} duplicate(s)"
            )
        # At most one call in flight per chat (KEFU_SEND_CONCURRENCY bounds them all): each crash can
        # repeat at most one message per chat, the staff group being one chat.
        assert duplicates >= 0 and relay_duplicates >= 0
        assert relay_duplicates <= KILLS
        for user in CUSTOMERS:
            calls_to_user = sum(1 for c in customer_calls if c.params.get("chat_id") == user)
            rows = _query(db, "SELECT count(*) FROM outbox WHERE status = 'sent' AND chat_id = ?", (user,))
            assert calls_to_user - rows[0][0] <= KILLS, f"customer {user} got more than one repeat per crash"
        assert duplicates + relay_duplicates <= KILLS * (len(CUSTOMERS) + 1)
