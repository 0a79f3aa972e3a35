"""``KEFU_REPLY_SCRIPT``: a customer who writes traditional characters gets traditional replies."""

from __future__ import annotations

import doctest
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

import replies.hanzi
from bot.commands.classify import classify_command
from bot.desk.customers import CustomerRef, SupportDesk
from bot.ops.settings import ConfigError, load_settings
from bot.store.sqlite import open_storage
from replies import render
from replies.hanzi import REPLY_SCRIPTS, is_traditional, reply_script_for, to_script

TZ = ZoneInfo("Asia/Shanghai")
OPEN = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)  # a Monday in business hours
ALICE = CustomerRef(42, 42, "張三", None)
TRADITIONAL_ASK = "你們幾點上班"  # service_hours, confidently
SIMPLIFIED_ASK = "你们几点上班"


def test_docstring_examples():
    result = doctest.testmod(replies.hanzi)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize(
    ("setting", "customer_text", "script"),
    [
        ("auto", "請問什麼時候發貨", "traditional"),
        ("auto", "请问什么时候发货", "simplified"),
        ("auto", "好的", "simplified"),  # the same in both scripts
        ("auto", None, "simplified"),
        ("simplified", "請問什麼時候發貨", "simplified"),
        ("traditional", "请问", "traditional"),
        ("hk", "请问", "hk"),
        ("tw", "请问", "tw"),
    ],
)
def test_reply_script_for_each_setting(setting, customer_text, script):
    assert reply_script_for(setting, customer_text) == script


def test_each_script_converts_with_its_opencc_config():
    greeting = render("greeting", shop="")
    assert to_script(greeting, "simplified") == greeting
    converted = {script: to_script(greeting, script) for script in ("traditional", "hk", "tw")}
    assert all(is_traditional(text) for text in converted.values())
    # OpenCC's regional standards differ here: 爲 (s2t) against 為 (s2hk, s2tw).
    assert "爲" in converted["traditional"] and "為" in converted["hk"] and "為" in converted["tw"]


def test_unknown_script_is_refused():
    with pytest.raises(ValueError, match="unknown reply script 'cantonese'"):
        reply_script_for("cantonese", "你好")


@pytest.mark.parametrize("value", REPLY_SCRIPTS)
def test_setting_accepts_each_value(monkeypatch, value):
    monkeypatch.setenv("KEFU_REPLY_SCRIPT", value)
    assert load_settings().reply_script == value


def test_setting_default_is_auto(monkeypatch):
    monkeypatch.delenv("KEFU_REPLY_SCRIPT", raising=False)
    assert load_settings().reply_script == "auto"


def test_setting_refuses_an_unknown_value_in_one_line(monkeypatch):
    monkeypatch.setenv("KEFU_REPLY_SCRIPT", "big5")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value).startswith("KEFU_REPLY_SCRIPT") and "\n" not in str(caught.value)


@pytest.fixture
def desk_with(settings):
    storages = []

    def make(reply_script: str) -> SupportDesk:
        storage = open_storage(settings.db_path)
        storages.append(storage)
        return SupportDesk(storage, settings.model_copy(update={"reply_script": reply_script}))

    yield make
    for storage in storages:
        storage.close()


def test_traditional_customer_gets_traditional_reply_and_staff_see_the_original(desk_with):
    desk = desk_with("auto")
    outcome = desk.on_customer_message(ALICE, TRADITIONAL_ASK, at=OPEN, telegram_message_id=5)
    assert [r.key for r in outcome.replies] == ["service_hours"]
    reply = outcome.replies[0].text
    assert is_traditional(reply)
    sent = [row.params["text"] for row in desk.storage.outbox() if row.chat_id == ALICE.chat_id]
    assert sent == [reply]
    outbox = desk.storage.outbox()
    staff_topic = [row.params.get("text", "") for row in outbox if row.chat_id != ALICE.chat_id]
    assert any(text.endswith(TRADITIONAL_ASK) for text in staff_topic)  # under the header, as written
    assert desk.storage.message(outcome.message_id).text == TRADITIONAL_ASK


def test_auto_follows_the_last_message(desk_with):
    desk = desk_with("auto")
    first = desk.on_customer_message(ALICE, TRADITIONAL_ASK, at=OPEN)
    later = desk.on_customer_message(ALICE, "你们网站付款安全吗", at=OPEN.replace(hour=10))
    assert is_traditional(first.replies[0].text)
    assert later.replies and not is_traditional(later.replies[0].text)


@pytest.mark.parametrize("setting", ["simplified", "traditional", "hk", "tw"])
def test_fixed_setting_ignores_the_customers_script(desk_with, setting):
    desk = desk_with(setting)
    outcome = desk.on_customer_message(ALICE, SIMPLIFIED_ASK, at=OPEN)
    simplified = desk_with("simplified").on_customer_message(
        CustomerRef(43, 43, "李四", None), TRADITIONAL_ASK, at=OPEN
    )
    assert outcome.replies[0].text == to_script(simplified.replies[0].text, setting)
    assert is_traditional(outcome.replies[0].text) == (setting != "simplified")


def test_classify_shows_the_converted_reply(monkeypatch):
    monkeypatch.delenv("KEFU_REPLY_SCRIPT", raising=False)
    runner = CliRunner()
    single = runner.invoke(classify_command, [TRADITIONAL_ASK])
    assert single.exit_code == 0
    reply = single.output.split("reply: ", 1)[1].strip()
    assert is_traditional(reply)
    lines = "\n".join(json.dumps({"text": t}, ensure_ascii=False) for t in (TRADITIONAL_ASK, SIMPLIFIED_ASK))
    batch = runner.invoke(classify_command, ["--jsonl"], input=lines + "\n")
    traditional, simplified = (json.loads(line)["reply"] for line in batch.output.splitlines())
    assert traditional == reply and not is_traditional(simplified)
    assert to_script(simplified, "traditional") == traditional
