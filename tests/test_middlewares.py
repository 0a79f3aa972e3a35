"""The dispatcher middlewares: the sender is woken after every update, handled or failed."""

from __future__ import annotations

import asyncio

import pytest

from bot.telegram.middlewares import WakeSender


class CountingSender:
    def __init__(self) -> None:
        self.woken = 0

    def notify(self) -> None:
        self.woken += 1


def test_the_sender_is_woken_after_a_handler_and_gets_its_result() -> None:
    sender = CountingSender()

    async def handler(event, data):
        assert sender.woken == 0  # not before the handler's work is queued
        return "done"

    assert asyncio.run(WakeSender(sender)(handler, object(), {})) == "done"
    assert sender.woken == 1


def test_the_sender_is_woken_when_a_handler_fails() -> None:
    sender = CountingSender()

    async def handler(event, data):
        raise RuntimeError("desk failed")

    with pytest.raises(RuntimeError):
        asyncio.run(WakeSender(sender)(handler, object(), {}))
    assert sender.woken == 1
