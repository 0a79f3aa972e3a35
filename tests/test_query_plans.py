"""Every query the bot runs while serving stays an index lookup: none reads a whole history table.

A table scan is invisible in a fresh test database and grows with every message a shop keeps: on a
150,000-message database one "was this script sent in this conversation" check took 30 ms on the
event loop. So the desk, the sender and the board run a realistic mix here under a trace, and every
statement they ran is checked with EXPLAIN QUERY PLAN.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.desk.agents import AgentDesk
from bot.desk.board import collect
from bot.desk.customers import CustomerRef, SupportDesk
from bot.ops.settings import load_settings
from bot.store.sqlite import open_storage
from bot.telegram.inbox import Inbox

CASES = Path(__file__).parent / "data" / "intent_cases.jsonl"
# Tables that grow with the shop's history; a SCAN of any of them is a bug.
HISTORY = ("messages", "outbox", "updates", "tickets", "conversations", "guard_events", "staff_messages")
SCAN = re.compile(r"\bSCAN (\w+)")


def test_no_statement_scans_a_history_table(db_path):
    settings = load_settings(
        bot_token="1:x", db_path=db_path, staff_chat_id=-100123, business_hours="09:00-18:00"
    )
    storage = open_storage(db_path)
    desk = SupportDesk(storage, settings)
    texts = [json.loads(line)["text"] for line in CASES.read_text(encoding="utf-8").splitlines() if line]
    ran: set[str] = set()
    storage.db.conn.set_trace_callback(ran.add)
    at = datetime(2026, 11, 23, 8, 50, tzinfo=ZoneInfo("Asia/Shanghai"))  # off hours first, then open
    for n, text in enumerate(texts[::4]):
        user = 700 + n % 5
        at += timedelta(minutes=1)
        desk.on_customer_message(
            CustomerRef(user, user, "客户", None), text, at=at, telegram_message_id=n + 1
        )
        if n % 7 == 0:
            AgentDesk(desk).on_agent_message(42, "小王", user, "您好,已为您查询,请您稍等", at=at)
        if n % 11 == 0:
            desk.on_customer_edit(
                CustomerRef(user, user, "客户", None), text + "?", at=at, telegram_message_id=n + 1
            )
    desk.due_busy_replies(at + timedelta(hours=1))
    for row in storage.pending_outbox():
        storage.mark_sent(row.id, 1000 + row.id, at)
    collect(storage, desk.schedule, at)
    Inbox(storage).prune(at)
    storage.db.conn.set_trace_callback(None)

    scans: dict[str, set[str]] = {}
    for sql in ran:
        if not re.match(r"\s*(SELECT|UPDATE|DELETE|INSERT)", sql, re.IGNORECASE):
            continue
        plan = " | ".join(row[3] for row in storage.db.execute("EXPLAIN QUERY PLAN " + sql))
        for table in SCAN.findall(plan):
            if table in HISTORY:
                scans.setdefault(table, set()).add(re.sub(r"\s+", " ", sql)[:160])
    storage.close()
    assert len(ran) > 50  # the mix really ran
    assert scans == {}, json.dumps({t: sorted(s) for t, s in scans.items()}, ensure_ascii=False, indent=1)
