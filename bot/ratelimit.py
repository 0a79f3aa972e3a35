"""Telegram's send limits as a schedule: when may the next message to a chat leave?

Telegram documents about 30 messages per second per bot, one per second in a private chat and
about 20 per minute in a group. :class:`SendSchedule` spaces sends per chat and keeps a global
sliding window; a 429 ``retry_after`` pauses the chat it was about (or everything, for a global
flood wait). It only does arithmetic on the times it is given, so the sender owns the clock.

Example::

    schedule = SendSchedule()
    wait = schedule.delay(chat_id, now)      # 0.0 when it may go now
    ...send...
    schedule.record(chat_id, now)
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

__all__ = ["Limits", "SendSchedule"]

# Spacing matters for a minute at most (a group's 3 s; a private chat's 1 s): older entries can go.
_PRUNE_AT = 4096


@dataclass(frozen=True, slots=True)
class Limits:
    """Messages allowed per time: whole bot per second, one private chat per second, one group per minute."""

    global_per_s: float = 30.0
    private_per_s: float = 1.0
    group_per_min: float = 20.0

    def interval(self, chat_id: int) -> float:
        """Return the least seconds between two sends to ``chat_id`` (groups have negative ids)."""
        return 60.0 / self.group_per_min if chat_id < 0 else 1.0 / self.private_per_s


class SendSchedule:
    """Per-chat spacing, a global one-second window and flood-wait pauses (one sender owns it)."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._last_sent: dict[int, float] = {}
        self._paused_until: dict[int, float] = {}
        self._global_paused_until = 0.0
        self._window: deque[float] = deque()
        self._prune_at = _PRUNE_AT

    def delay(self, chat_id: int, now: float) -> float:
        """Return how many seconds to wait before a message to ``chat_id`` may be sent (0.0 = now)."""
        ready = max(
            self._paused_until.get(chat_id, 0.0),
            self._global_paused_until,
            self._last_sent.get(chat_id, float("-inf")) + self.limits.interval(chat_id),
        )
        window = self._window
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= self.limits.global_per_s:
            ready = max(ready, window[0] + 1.0)
        return max(0.0, ready - now)

    def record(self, chat_id: int, now: float) -> None:
        """Note that a message to ``chat_id`` left at ``now``."""
        self._last_sent[chat_id] = now
        self._window.append(now)
        if len(self._last_sent) > self._prune_at:  # forget chats quiet for a minute: memory stays flat
            cutoff = now - 60.0
            self._last_sent = {c: t for c, t in self._last_sent.items() if t > cutoff}
            self._paused_until = {c: t for c, t in self._paused_until.items() if t > now}
            # Amortised: the next prune waits until the map has doubled (bounded by 2x a minute's chats).
            self._prune_at = max(_PRUNE_AT, 2 * len(self._last_sent))

    def pause(self, chat_id: int | None, seconds: float, now: float) -> None:
        """Hold back ``chat_id`` (None: every chat) for ``seconds``, as a 429's ``retry_after`` asks."""
        until = now + max(0.0, seconds)
        if chat_id is None:
            self._global_paused_until = max(self._global_paused_until, until)
        else:
            self._paused_until[chat_id] = max(self._paused_until.get(chat_id, 0.0), until)
