"""Telegram's send limits for the fake Bot API server: an option, off by default.

``FakeTelegram(limits=TelegramLimits())`` answers a call that would exceed one of Telegram's three
limits the way Telegram does: HTTP 429, ``Too Many Requests: retry after N`` and
``parameters.retry_after`` (whole seconds, at least 1). The limits, counted when a call arrives:
- about 30 messages in any second for the whole bot;
- one message in any second per private chat;
- 20 messages in any minute per group, where creating or renaming a forum topic, pinning and editing
  count like a send (tdlib/td#2592).
A refused call is not counted. Calls that make no message (``getUpdates``, ``getMe``,
``answerCallbackQuery``, ``deleteMessage``, ``sendChatAction``…) are never limited.

Example::

    fake = FakeTelegram(limits=TelegramLimits(), latency=0.15)   # Telegram as it is, from Asia
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from bot.telegram.budget import counts

__all__ = ["TelegramLimits"]


@dataclass
class TelegramLimits:
    """Sliding windows per bot, private chat and group; ``check`` refuses what would exceed them."""

    global_per_s: int = 30
    private_per_s: int = 1
    group_per_min: int = 20
    refused: int = 0  # how many calls got a 429
    counted: int = 0  # how many limited calls were let through
    _global: deque[float] = field(default_factory=deque)
    _chats: dict[int, deque[float]] = field(default_factory=dict)

    def check(self, method: str, chat_id: object, now: float) -> int | None:
        """Count a call arriving at ``now``; return None when it may pass, else its ``retry_after``."""
        if not counts(method) or not isinstance(chat_id, int):
            return None
        waits = [self._wait(self._global, now, 1.0, self.global_per_s)]
        if chat_id < 0:
            chat = self._chats.setdefault(chat_id, deque())
            waits.append(self._wait(chat, now, 60.0, self.group_per_min))
        else:
            chat = self._chats.setdefault(chat_id, deque())
            waits.append(self._wait(chat, now, 1.0, self.private_per_s))
        wait = max(waits)
        if wait > 0:
            self.refused += 1
            return max(1, math.ceil(wait))
        self._global.append(now)
        chat.append(now)
        self.counted += 1
        return None

    @staticmethod
    def _wait(window: deque[float], now: float, span: float, allowed: int) -> float:
        while window and window[0] + span <= now:
            window.popleft()
        if len(window) < allowed:
            return 0.0
        return window[len(window) - allowed] + span - now
