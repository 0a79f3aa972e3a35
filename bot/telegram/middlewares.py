"""Dispatcher middlewares: what every handler would otherwise repeat.

:class:`WakeSender` wakes the sender once an update was handled, so whatever the handler's desk work
queued in the outbox leaves at once (the sender also polls the outbox, so a missed wake only delays).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject

__all__ = ["WakeSender"]


class WakeSender(BaseMiddleware):
    """Outer update middleware: after the handlers ran (or failed), call ``sender.notify()``."""

    def __init__(self, sender: Any) -> None:
        self.sender = sender

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        try:
            return await handler(event, data)
        finally:
            self.sender.notify()
