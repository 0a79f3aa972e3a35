"""Answering button presses: every callback query gets an answer, and a late answer is not a failure.

Telegram shows a spinner on a pressed button until ``answerCallbackQuery``; it accepts the answer only
for a short while after the press. A query replayed after a crash is past that: Telegram answers 400
"query is too old … or query ID is invalid". The press's action has run by then (it is idempotent), so
that refusal is logged and swallowed rather than marking the update failed.
"""

from __future__ import annotations

import logging

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery

__all__ = ["TOO_LATE", "answer_query"]

log = logging.getLogger(__name__)

TOO_LATE = ("query is too old", "query id is invalid")


async def answer_query(query: CallbackQuery, text: str | None = None, *, show_alert: bool = False) -> bool:
    """Answer a button press (stopping its spinner); return False when Telegram said it was too late."""
    try:
        await query.answer(text, show_alert=show_alert)
    except TelegramBadRequest as exc:
        if not any(marker in str(exc).lower() for marker in TOO_LATE):
            raise
        log.info("button press %s answered too late (%s); its action has run", query.id, exc)
        return False
    return True
