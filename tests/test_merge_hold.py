"""The sender's budget decisions as arithmetic: when a new customer's first relay waits for a merge, and
a private chat's slot moving to Telegram's answer (issue 15)."""

from __future__ import annotations

import pytest

from bot.ops.limits import Limits
from bot.telegram.budget import MERGE_HOLD_MAX_S, MERGE_QUIET_S, SendBudget, merge_hold

GROUP, CHAT = -100700, 4242


@pytest.mark.parametrize(
    ("pressed", "new_customer"),
    [(False, True), (True, False), (False, False)],
    ids=["room", "known", "neither"],
)
def test_no_hold_unless_the_group_is_short_and_the_customer_new(pressed, new_customer):
    assert merge_hold(100.0, 100.0, 100.0, pressed=pressed, new_customer=new_customer) == 0.0


def test_a_new_customer_waits_until_it_paused_for_the_quiet_time():
    assert merge_hold(100.0, 100.0, 100.0, pressed=True, new_customer=True) == MERGE_QUIET_S
    assert merge_hold(100.0, 110.0, 112.0, pressed=True, new_customer=True) == 110.0 + MERGE_QUIET_S - 112.0
    assert merge_hold(100.0, 110.0, 110.0 + MERGE_QUIET_S, pressed=True, new_customer=True) == 0.0


def test_a_customer_who_keeps_writing_waits_at_most_the_longest_hold():
    last = 100.0 + MERGE_HOLD_MAX_S - 1.0  # still writing a second before the longest hold ends
    assert merge_hold(100.0, last, last, pressed=True, new_customer=True) == 1.0
    assert merge_hold(100.0, last, 100.0 + MERGE_HOLD_MAX_S, pressed=True, new_customer=True) == 0.0


def test_a_groups_slot_stays_at_the_time_its_call_left():
    budget = SendBudget(Limits(30, 1, 2))
    assert budget.reserve(GROUP, "sendMessage", 0.0) == 0.0
    assert budget.reserve(GROUP, "sendMessage", 1.0) == 0.0
    budget.answered(GROUP, 0.0, 3.0)
    assert budget.wait(GROUP, 10.0) == pytest.approx(0.0 + 60 + 1.0 - 10.0)  # the minute and its second


def test_a_private_chats_next_message_is_a_second_after_the_answer():
    budget = SendBudget(Limits(30, 1, 20))
    assert budget.reserve(CHAT, "sendMessage", 0.0) == 0.0
    budget.answered(CHAT, 0.0, 0.4)
    assert budget.wait(CHAT, 1.0) == pytest.approx(0.4 + 1.0 + 0.05 - 1.0)
    assert budget.reserve(CHAT, "sendMessage", 1.45) == 0.0
    budget.answered(CHAT, 0.0, 1.5)  # an answer to an older call does not move the newer one's slot
    assert budget.wait(CHAT, 2.0) == pytest.approx(1.45 + 1.0 + 0.05 - 2.0)
