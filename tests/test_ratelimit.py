"""The send schedule keeps Telegram's documented limits at exact times."""

from __future__ import annotations

import pytest

from bot.ratelimit import Limits, SendSchedule

PRIVATE, OTHER_PRIVATE, GROUP = 1001, 1002, -1001234567890


def test_first_message_goes_at_once() -> None:
    assert SendSchedule().delay(PRIVATE, 100.0) == 0.0


def test_one_per_second_in_a_private_chat() -> None:
    s = SendSchedule()
    s.record(PRIVATE, 100.0)
    assert s.delay(PRIVATE, 100.0) == pytest.approx(1.0)
    assert s.delay(PRIVATE, 100.4) == pytest.approx(0.6)
    assert s.delay(PRIVATE, 101.0) == 0.0
    assert s.delay(OTHER_PRIVATE, 100.0) == 0.0


def test_twenty_per_minute_in_a_group() -> None:
    s = SendSchedule()
    s.record(GROUP, 0.0)
    assert s.delay(GROUP, 1.0) == pytest.approx(2.0)
    assert s.delay(GROUP, 3.0) == 0.0


def test_thirty_per_second_for_the_whole_bot() -> None:
    s = SendSchedule()
    for chat in range(30):
        assert s.delay(chat, 10.0) == 0.0
        s.record(chat, 10.0)
    assert s.delay(999, 10.5) == pytest.approx(0.5)
    assert s.delay(999, 11.0) == 0.0


def test_flood_wait_pauses_one_chat_or_all() -> None:
    s = SendSchedule()
    s.pause(PRIVATE, 7, now=50.0)
    assert s.delay(PRIVATE, 50.0) == pytest.approx(7.0)
    assert s.delay(OTHER_PRIVATE, 50.0) == 0.0
    s.pause(None, 3, now=50.0)
    assert s.delay(OTHER_PRIVATE, 51.0) == pytest.approx(2.0)


def test_raised_limits_for_benchmarks() -> None:
    s = SendSchedule(Limits(global_per_s=1e9, private_per_s=1e9, group_per_min=1e9))
    s.record(PRIVATE, 0.0)
    assert s.delay(PRIVATE, 0.0) == pytest.approx(0.0, abs=1e-6)


def test_memory_stays_flat_over_many_chats() -> None:
    s = SendSchedule()
    for i in range(50_000):
        s.record(10_000 + i, now=i * 0.01)  # a new customer every 10 ms, each writing once
    chats_in_a_minute = 6_000
    assert len(s._last_sent) <= 2 * chats_in_a_minute + 1
