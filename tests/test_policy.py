"""The pure desk policy: decide(message, conversation, schedule, at) -> Plan, with no database."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.desk.texts import NOTICES
from replies import INTENT_KEYS, load_scripts, script_for
from replies.policy import (
    DEFAULT_POLICY,
    NOTICE_CLOSED_CONVERSATION,
    NOTICE_HUMAN,
    ConversationState,
    Message,
    PolicyError,
    Suggestion,
    TicketState,
    accept,
    decide,
    first_reply,
    load_policy,
)
from replies.router import Intent
from replies.schedule import Schedule

TZ = ZoneInfo("Asia/Shanghai")
HOURS = Schedule(((time(8), time(12)), (time(14), time(18))), TZ)
POLICY = load_policy()
FRESH = ConversationState()


def at(hour: int, minute: int = 0, day: int = 23) -> datetime:
    """2026-11-23 is a Monday."""
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ)


def plan_for(text, key, score=0.99, conversation=FRESH, when=None, guess=None):
    message = Message(text, Intent(key, score, guess) if key else None)
    return decide(message, conversation, HOURS, when or at(10), shop_name="本店", policy=POLICY)


def sent(plan) -> list[str]:
    return [send.key for send in plan.replies]


def test_the_table_covers_every_intent_and_names_real_scripts():
    scripts = load_scripts()
    for key in INTENT_KEYS:
        rule = POLICY.rule(key)
        assert rule.script is None or rule.script in scripts
        assert rule.source
    assert POLICY.script_for("other") is None
    assert script_for("complaint") == "complaint_receipt"


def test_costly_scripts_need_more_confidence_than_cheap_ones():
    cheap = [r.threshold for r in POLICY.rules.values() if r.cost == "cheap" and r.script]
    costly = [r.threshold for r in POLICY.rules.values() if r.cost == "costly" and r.script]
    assert min(costly) >= 0.5 and max(cheap) <= max(costly)
    for key in ("uncivil", "out_of_scope", "goodbye", "security"):
        assert POLICY.rule(key).cost == "costly"
    for key in ("greeting", "thanks", "human_request"):
        assert POLICY.rule(key).cost == "cheap"


@pytest.mark.parametrize("text", ["好的", "嗯嗯", "OK", "收到", "👍", "好的呢。"])
def test_acknowledgements_never_get_a_reply_nor_wait(text):
    plan = plan_for(text, "other")
    assert plan.replies == () and plan.suggestions == ()
    assert "waiting_since" not in plan.conversation


def test_other_is_relayed_silently_and_awaits_an_agent():
    plan = plan_for("我的快递到哪了", "other")
    assert plan.replies == () and plan.suggestions == ()
    assert plan.conversation["waiting_since"] == at(10)


def test_a_confident_script_is_sent():
    assert sent(plan_for("你们网站付款安全吗", "security", 0.95)) == ["security"]


def test_below_threshold_the_script_is_suggested_not_sent():
    plan = plan_for("收到就是碎的", "complaint", 0.1)  # below the receipt and the silent ticket
    assert plan.replies == () and plan.ticket is None
    assert [(s.intent, s.send.key) for s in plan.suggestions] == [("complaint", "complaint_receipt")]
    assert plan.conversation["waiting_since"] == at(10)


def test_accepting_a_complaint_suggestion_opens_the_ticket():
    offered = Suggestion("complaint", 0.3, plan_for("碎了", "complaint", 0.3).suggestions[0].send)
    plan = accept(offered, FRESH, HOURS, at(10, 5), policy=POLICY)
    assert sent(plan) == ["complaint_receipt"] and plan.ticket.action == "open"
    assert plan.ticket.due_answer_at == at(10, 5, day=24)


def test_no_script_while_an_agent_is_answering():
    engaged = ConversationState(last_agent_at=at(9, 58), agent_number="1001")
    plan = plan_for("你们网站付款安全吗", "security", 0.99, conversation=engaged)
    assert plan.replies == ()
    assert [s.send.key for s in plan.suggestions] == ["security"]
    later = plan_for("你们网站付款安全吗", "security", 0.99, conversation=engaged, when=at(10, 10))
    assert sent(later) == ["security"]


def test_unclear_once_per_conversation_and_never_while_engaged():
    assert sent(plan_for("额", "unclear", 0.9)) == ["unclear"]
    assert (
        plan_for("额", "unclear", 0.9, ConversationState(scripts_sent=frozenset({"unclear"}))).replies == ()
    )
    engaged = ConversationState(last_agent_at=at(9, 59))
    plan = plan_for("额", "unclear", 0.9, engaged)
    assert plan.replies == () and plan.suggestions == ()


def test_unclear_with_a_guess_asks_about_it():
    plan = plan_for("退…", "unclear", 0.9, guess="申请退款")
    assert [(s.key, s.variant, dict(s.values)) for s in plan.replies] == [
        ("unclear", "guess", {"guess": "申请退款"})
    ]


def test_no_greeting_right_after_an_off_hours_notice():
    plan = plan_for("在吗", "greeting", 0.99, when=at(12, 30))
    assert sent(plan) == ["off_hours_lunch"]
    stretch = HOURS.stretch_start(at(12, 30))
    again = plan_for("你好", "greeting", 0.99, ConversationState(off_hours_stretch=stretch), when=at(12, 40))
    assert again.replies == ()


def test_once_scripts_are_not_repeated():
    thanked = ConversationState(scripts_sent=frozenset({"thanks"}))
    assert sent(plan_for("谢谢", "thanks")) == ["thanks"]
    plan = plan_for("谢谢", "thanks", conversation=thanked)
    assert plan.replies == () and plan.suggestions == ()


def test_greeting_then_ask_more_then_nothing():
    assert sent(plan_for("你好", "greeting")) == ["greeting"]
    greeted = ConversationState(scripts_sent=frozenset({"greeting"}))
    assert sent(plan_for("你好", "greeting", conversation=greeted)) == ["ask_more"]
    asked = ConversationState(scripts_sent=frozenset({"greeting", "ask_more"}))
    assert plan_for("你好", "greeting", conversation=asked).replies == ()


def test_followup_of_an_overdue_ticket():
    ticket = TicketState("T20261123-0001", at(10, day=24), at(10, day=28), None)
    plan = plan_for(
        "怎么还没处理",
        "complaint_followup",
        conversation=ConversationState(open_ticket=ticket),
        when=at(11, day=24),
    )
    assert [(s.key, s.variant) for s in plan.replies] == [("complaint_followup", "overdue")]
    assert plan.ticket.action == "followup" and plan.ticket.overdue


def test_human_request_ladder_hands_over_on_the_third():
    third = plan_for("转人工", "human_request", conversation=ConversationState(human_requests=2))
    assert sent(third) == ["human_handover"] and NOTICE_HUMAN in third.notices
    assert third.conversation["handed_over_at"] == at(10)


def test_closed_conversation_gets_only_a_notice():
    plan = plan_for("你好", "greeting", conversation=ConversationState(status="closed_uncivil"))
    assert plan.replies == () and plan.notices == (NOTICE_CLOSED_CONVERSATION,)


def test_settled_answers_start_no_busy_timer():
    assert "waiting_since" not in plan_for("谢谢", "thanks").conversation
    assert "waiting_since" in plan_for("网页打不开", "site_problem").conversation


def test_first_reply_is_as_in_business_hours():
    send = first_reply("你好", Intent("greeting", 0.99), HOURS, at(3), shop_name="本店")
    assert send.key == "greeting"
    assert first_reply("好的", Intent("other", 0.99), HOURS, at(10), shop_name="本店") is None


def test_bad_policy_file_names_the_entry(tmp_path):
    text = Path(DEFAULT_POLICY).read_text(encoding="utf-8")
    path = tmp_path / "policy.toml"
    path.write_text(text.replace("threshold = 0.85", "threshold = 1.5", 1), encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert "policy.toml" in str(info.value) and "threshold" in str(info.value)
    path.write_text(text.replace('script = "security"', 'script = "weather"'), encoding="utf-8")
    with pytest.raises(PolicyError, match=r"intents\.security\.script"):
        load_policy(path)


def test_engagement_window_is_data():
    assert POLICY.agent_engaged == timedelta(minutes=5)


def test_a_likely_complaint_opens_a_ticket_silently():
    probable = Intent("other", 0.5, None, {"other": 0.5, "complaint": 0.35, "greeting": 0.15})
    plan = decide(Message("等了好久", probable), FRESH, HOURS, at(10), policy=POLICY)
    assert plan.replies == () and plan.ticket.action == "open"
    assert any("{ticket}" in NOTICES[n] and "/close" in NOTICES[n] for n in plan.notices)
    unlikely = Intent("other", 0.9, None, {"other": 0.9, "complaint": 0.05, "greeting": 0.05})
    assert decide(Message("订单号123", unlikely), FRESH, HOURS, at(10), policy=POLICY).ticket is None


def test_accepting_the_receipt_of_a_silent_ticket_keeps_that_ticket():
    silent = TicketState("T20261123-0001", at(10, day=24), at(10, day=28), None, receipt_sent=False)
    offered = Suggestion("complaint", 0.4, plan_for("碎了", "complaint", 0.3).suggestions[0].send)
    plan = accept(offered, ConversationState(open_ticket=silent), HOURS, at(10, 5), policy=POLICY)
    assert sent(plan) == ["complaint_receipt"] and plan.ticket.action == "existing"


# Issue 17, item 13: an update kept while the bot was down is decided when it is handled.
def test_an_off_hours_notice_stale_by_the_time_it_is_handled_is_not_sent():
    message = Message("在吗，我的快递到哪了", Intent("other", 0.99))
    late = decide(message, FRESH, HOURS, at(20), now=at(9, day=24), policy=POLICY)
    assert not any(s.key.startswith("off_hours") for s in late.replies)


def test_relative_dates_are_told_from_the_moment_of_sending():
    message = Message("在吗，我的快递到哪了", Intent("other", 0.99))
    late = decide(message, FRESH, HOURS, at(20), now=at(1, day=24), policy=POLICY)
    (notice,) = [s for s in late.replies if s.key == "off_hours_closed"]
    assert notice.values["reopen_at"] == "08:00"  # not 「明天08:00」: it is already tomorrow
    on_time = decide(message, FRESH, HOURS, at(20), policy=POLICY)
    (notice,) = [s for s in on_time.replies if s.key == "off_hours_closed"]
    assert notice.values["reopen_at"] == "明天08:00"
