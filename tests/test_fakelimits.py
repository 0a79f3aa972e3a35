"""The fake Bot API's optional Telegram mode: a round trip per call and the three send limits, as 429s."""

from __future__ import annotations

import random

import pytest
from aiogram.exceptions import TelegramRetryAfter
from fakeapi import FakeTelegram
from fakelimits import TelegramLimits

from bot.ops.limits import Limits
from bot.telegram.budget import SendBudget

PRIVATE, OTHER_PRIVATE, GROUP = 42, 43, -100777


def test_one_message_a_second_in_a_private_chat():
    limits = TelegramLimits()
    assert limits.check("sendMessage", PRIVATE, 10.0) is None
    assert limits.check("sendMessage", PRIVATE, 10.4) == 1  # retry after 0.6 s, said in whole seconds
    assert limits.check("sendMessage", OTHER_PRIVATE, 10.4) is None
    assert limits.check("sendMessage", PRIVATE, 11.0) is None
    assert (limits.refused, limits.counted) == (1, 3)


def test_twenty_a_minute_in_a_group_topics_and_edits_included():
    limits = TelegramLimits()
    methods = ["createForumTopic", "editForumTopic", "editMessageText", "pinChatMessage"] + [
        "copyMessage"
    ] * 16
    assert all(limits.check(m, GROUP, float(i)) is None for i, m in enumerate(methods))
    assert limits.check("sendMessage", GROUP, 30.0) == 30  # the first of the twenty leaves the window at 60
    assert limits.check("sendMessage", GROUP, 60.0) is None


def test_thirty_a_second_for_the_whole_bot_and_calls_that_make_no_message_are_free():
    limits = TelegramLimits()
    assert all(limits.check("sendMessage", 1000 + n, 5.0) is None for n in range(30))
    assert limits.check("sendMessage", 2000, 5.5) == 1
    assert limits.check("getUpdates", None, 5.5) is None
    assert limits.check("answerCallbackQuery", None, 5.5) is None
    assert limits.check("sendChatAction", 2000, 5.5) is None


async def test_the_server_answers_429_with_retry_after_like_telegram():
    async with FakeTelegram(limits=TelegramLimits()) as fake:
        bot = fake.bot()
        await bot.send_message(PRIVATE, "第一条")
        with pytest.raises(TelegramRetryAfter) as refused:
            await bot.send_message(PRIVATE, "第二条")
        assert refused.value.retry_after == 1
        assert [c.status for c in fake.calls("sendMessage")] == [200, 429]


async def test_off_by_default():
    async with FakeTelegram() as fake:
        bot = fake.bot()
        for n in range(3):
            await bot.send_message(PRIVATE, f"第{n}条")
        assert all(c.ok for c in fake.calls("sendMessage"))


@pytest.mark.parametrize("seed", range(5))
def test_what_the_budget_lets_through_telegram_never_refuses(seed):
    """Random bursts to customers and groups, the budget asked before each: the fake never says 429."""
    rng = random.Random(seed)
    budget, telegram = SendBudget(Limits()), TelegramLimits()
    chats = [*range(1, 60), GROUP, GROUP - 1]
    now, sent = 0.0, 0
    for _ in range(5000):
        now += rng.expovariate(80.0)  # ~80 attempts a second: well past every limit
        chat = rng.choice(chats)
        method = rng.choice(
            ["sendMessage", "copyMessage", "createForumTopic"] if chat < 0 else ["sendMessage"]
        )
        if budget.reserve(chat, method, now) == 0.0:
            assert telegram.check(method, chat, now) is None
            sent += 1
    assert telegram.refused == 0
    assert sent > 0.8 * 30 * now  # and the bot-wide 30/s is nearly all used


@pytest.mark.parametrize("start", [0.1, 1234.567, 1.7e9 + 0.3])
def test_a_full_window_frees_exactly_when_the_budget_says(start):
    budget = SendBudget(Limits())
    for n in range(20):
        budget.take(GROUP, start + n * 0.1)
    wait = budget.wait(GROUP, start + 2.0)
    assert wait > 0
    assert budget.wait(GROUP, start + 2.0 + wait) == 0.0  # floats: the same sum both ways
