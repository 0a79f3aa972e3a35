"""``kefu classify``: one message or a JSONL stream, with the reply the bot would send."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from bot.commands.classify import RUNTIME_MARKERS, classify_command
from replies import classify, render, script_for


@pytest.fixture
def runner():
    return CliRunner()


def test_single_text(runner, monkeypatch):
    monkeypatch.setenv("KEFU_SHOP_NAME", "小米粒旗舰店")
    result = runner.invoke(classify_command, ["你好"])
    assert result.exit_code == 0
    assert "intent: greeting" in result.output
    assert render("greeting", shop="小米粒旗舰店") in result.output


def test_a_message_for_a_person_gets_no_reply(runner):
    result = runner.invoke(classify_command, ["退款什么时候到账"])
    assert result.exit_code == 0
    assert "intent: other" in result.output and "reply: - (relayed to the agents)" in result.output


def test_jsonl_stream(runner):
    lines = [
        json.dumps({"id": 1, "text": "我要投诉，衣服破了个洞"}, ensure_ascii=False),
        "not json",
        json.dumps({"id": 3}),
        "",
        json.dumps({"id": 4, "text": "你们几点上班"}, ensure_ascii=False),
        json.dumps(["text"]),
        json.dumps({"id": 6, "text": "好的"}, ensure_ascii=False),
    ]
    result = runner.invoke(classify_command, ["--jsonl"], input="\n".join(lines) + "\n")
    assert result.exit_code == 2  # some lines were errors
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert len(rows) == 7  # one output line per input line, the blank one included
    first, bad, missing, blank, hours, array, ack = rows
    assert bad["line"] == 2 and bad["error"].startswith("line 2: not JSON")
    assert missing == {"id": 3, "line": 3, "error": "line 3: missing or non-string field 'text'"}
    assert blank == {"line": 4, "error": "line 4: blank line"}
    assert array == {"line": 6, "error": "line 6: not a JSON object"}
    assert first["id"] == 1 and first["intent"] == "complaint"
    assert 0.0 <= first["confidence"] <= 1.0 and first["confidence"] == classify(first["text"]).score
    assert first["reply"] == render(script_for("complaint"), ticket=RUNTIME_MARKERS["ticket"])
    assert "〈工单号〉" in first["reply"]
    assert "error" in bad
    assert missing["id"] == 3 and "error" in missing
    assert hours["intent"] == "service_hours" and "08:00-12:00、14:00-18:00" in hours["reply"]
    assert "error" in array
    assert ack["intent"] == "other" and ack["reply"] is None and "confidence" in ack


def test_config_error_exits_2(runner, monkeypatch):
    monkeypatch.setenv("KEFU_TIMEZONE", "Mars/Base")
    result = runner.invoke(classify_command, ["你好"])
    assert result.exit_code == 2
    assert "KEFU_TIMEZONE" in result.output


@pytest.mark.parametrize("args", [[], ["你好", "--jsonl"]])
def test_usage_error(runner, args):
    assert runner.invoke(classify_command, args).exit_code == 2
