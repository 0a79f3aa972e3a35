"""The classifier: the model everywhere, the rules where they decide, and what the policy learns from both."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from replies import classify
from replies.policy import ConversationState, Message, decide, default_policy
from replies.schedule import Schedule

TZ = ZoneInfo("Asia/Shanghai")
HOURS = Schedule(((time(8), time(12)), (time(14), time(18))), TZ)
MONDAY_TEN = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)
ANGRY_COMPLAINT = "什么破快递，东西全碎了，等了一个星期才到"


def test_an_insult_decided_by_the_rules_keeps_the_models_reading():
    intent = classify(ANGRY_COMPLAINT)
    assert intent.key == "uncivil"
    assert intent.probabilities, "the model's probabilities travel with the rules' verdict"
    assert intent.probability("complaint") > 0.0


def test_an_insult_that_carries_a_complaint_is_warned_and_its_ticket_opens_silently():
    intent = classify(ANGRY_COMPLAINT)
    plan = decide(Message(ANGRY_COMPLAINT, intent), ConversationState(), HOURS, MONDAY_TEN)
    assert [send.key for send in plan.replies] == ["uncivil_1"]
    assert intent.probability("complaint") >= default_policy().rule("complaint").ticket_threshold
    assert plan.ticket is not None and plan.ticket.action == "open"


def test_a_bare_insult_opens_no_ticket():
    intent = classify("傻逼")
    plan = decide(Message("傻逼", intent), ConversationState(), HOURS, MONDAY_TEN)
    assert [send.key for send in plan.replies] == ["uncivil_1"] and plan.ticket is None
