"""The offline demo: a console chat fed from a StringIO, over the same desk and a real SQLite file."""

from __future__ import annotations

import io
import sqlite3
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.commands.demo import HELP, run_demo
from bot.desk.texts import mark_hits
from bot.store.sqlite import table_counts
from guards import check, mark_spans
from replies import render
from replies.hanzi import to_script

START = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def chat(settings, *lines: str) -> str:
    out = io.StringIO()
    assert run_demo(settings, io.StringIO("".join(line + "\n" for line in lines)), out, start=START) == 0
    return out.getvalue()


def test_customer_lines_get_the_documented_replies(settings):
    out = chat(settings, "你好", "我要投訴，東西壞了", "/quit")
    assert render("greeting", shop=settings.shop_name) in out
    # written in traditional characters: the reply is too (KEFU_REPLY_SCRIPT=auto)
    assert to_script(render("complaint_receipt", ticket="T20261123-0001"), "traditional") in out
    assert "[客服群] 新投诉工单 T20261123-0001" in out


def test_agent_blocked_shows_category_marks_and_suggestion(settings):
    text = "喂，大声一点儿！"
    verdict = check(text)
    out = chat(settings, "你好", f"/agent {text}")
    assert "已拦截" in out
    for hit in verdict.hits:
        assert hit.category in out
    assert mark_hits(text, verdict.hits) in out
    assert verdict.suggestion in out
    assert f"客服 > {text}" not in out


def test_agent_allowed_is_sent_and_cancels_busy(settings):
    reply = "您好，请问有什么可以帮您？"
    out = chat(settings, "你好", f"/agent {reply}", "/time 10:05")
    assert f"客服 > {reply}" in out
    assert render("busy") not in out


def test_time_moves_clock_busy_and_off_hours(settings):
    out = chat(settings, "你好", "/time 10:02", "/time 12:30", "在吗", "/time 2026-11-24 22:00", "在吗")
    assert out.count(render("busy")) == 1
    assert render("off_hours_lunch", reopen_at="14:00") in out
    assert render("off_hours_closed", reopen_at="明天08:00", hours=settings.business_hours_text) in out
    assert "2026-11-24 22:00" in out


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/time 25:00", "时间无效"),
        ("/time soon", "用法"),
        ("/agent", "用法"),
        ("/nope", "未知命令"),
        ("/help", HELP),
    ],
)
def test_bad_commands_explain_themselves(settings, line, expected):
    assert expected in chat(settings, line)


def test_eof_ends_cleanly_and_data_is_in_the_database(settings):
    out = chat(settings, "你好", "谢谢")
    assert out.rstrip().endswith("再见。")
    counts = table_counts(settings.db_path)
    assert counts["messages"] == 4 and counts["outbox"] == 2
    assert counts["customers"] == 1


def test_everything_in_the_outbox_is_marked_delivered(settings):
    chat(settings, "你好", "转人工", "/agent 好的，请稍等")
    statuses = sqlite3.connect(settings.db_path).execute("SELECT DISTINCT status FROM outbox").fetchall()
    assert statuses == [("sent",)]


@pytest.mark.parametrize(
    ("spans", "expected"),
    [
        ([], "abcdef"),
        ([(1, 3)], "a【bc】def"),
        ([(0, 2), (1, 4)], "【abcd】ef"),
        ([(4, 6), (0, 1)], "【a】bcd【ef】"),
    ],
)
def test_mark_hits(spans, expected):
    assert mark_spans("abcdef", spans) == expected
