"""Fixtures shared by every test: a clean environment, a temporary database path, test settings."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fakeapi import FakeTelegram

from bot.ops.settings import Settings, load_settings
from bot.ops.stack import build_stack
from bot.telegram.polling import poll

TEST_TOKEN = "123456:TEST-token-never-logged-0123456789abcdef"
STAFF_CHAT_ID = -1001234567890


class FixedClock:
    """A clock for the sender and the desk that stands still until a test moves ``now``."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class BotStack:
    """One bot process over the fake server, as ``kefu run`` wires it: storage, desk, sender,
    dispatcher, and the inbox pump that stores and feeds the updates. Close it with :meth:`close`."""

    def __init__(self, fake: FakeTelegram, settings: Settings) -> None:
        self.fake = fake
        self.settings = settings
        # As the runner builds it, without the outbound guard on the session.
        self.stack = build_stack(settings, bot=fake.bot(), outbound=False)
        self.bot = self.stack.bot
        self.storage = self.stack.storage
        self.desk = self.stack.desk
        self.sender = self.stack.sender
        self.dp = self.stack.dispatcher
        self.inbox = self.stack.inbox
        self.pump = self.stack.pump

    def status(self, update_id: int) -> str | None:
        """Return the stored status of one update (None when it was never stored)."""
        return self.storage.update_status(update_id)

    def close(self) -> None:
        """Close the database."""
        self.storage.close()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's KEFU_* variables, proxy variables or a stray .env file."""
    for name in list(os.environ):
        if name.startswith("KEFU_") or name.lower() in {"https_proxy", "no_proxy"}:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A database file path inside the test's own temporary folder (not yet created)."""
    return tmp_path / "kefu-test.db"


@pytest.fixture
def settings(db_path: Path) -> Settings:
    """Settings as a test shop would have them: token, staff chat, Shanghai business hours."""
    return load_settings(
        bot_token=TEST_TOKEN,
        staff_chat_id=STAFF_CHAT_ID,
        shop_name="小米粒旗舰店",
        db_path=db_path,
        # Tests drive a fixed clock: Telegram's 1 message/s per private chat would hold every second reply.
        # The limits themselves are tested with their own settings (test_delivery_limits.py).
        send_limits="inf,inf,inf",
    )


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """The fake Telegram Bot API server (tests/fakeapi.py), listening on 127.0.0.1 for one test."""
    async with FakeTelegram() as server:
        yield server


async def poll_until(rig: Any, condition: Callable[[], Any], *, seconds: float = 10.0) -> None:
    """Long-poll the fake server into ``rig.pump`` until ``condition()``; then drain and flush the sender.

    ``rig`` is any test rig with ``bot``, ``pump`` and ``sender``.
    """
    stop = asyncio.Event()
    task = asyncio.create_task(poll(rig.bot, rig.pump, stop=stop, timeout=1))
    try:
        async with asyncio.timeout(seconds):
            while not condition():
                await asyncio.sleep(0.02)
        await rig.pump.drain()
        await rig.sender.flush()
    finally:
        stop.set()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
