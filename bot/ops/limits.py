"""Telegram's documented send limits: about 30 messages a second per bot, one a second in a private
chat, about 20 a minute in a group. :class:`bot.telegram.budget.SendBudget` predicts them from these figures.

Plain figures, no Bot API: the settings (``KEFU_SEND_LIMITS``) build them without importing the adapter.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Limits"]


@dataclass(frozen=True, slots=True)
class Limits:
    """Messages allowed per time: whole bot per second, one private chat per second, one group per minute."""

    global_per_s: float = 30.0
    private_per_s: float = 1.0
    group_per_min: float = 20.0
