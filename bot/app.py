"""The Telegram bot: builds Bot and Dispatcher over one storage and runs them with the outbox sender.

``run_polling(settings)`` is what ``kefu run`` calls. Long-lived objects reach handlers through the
dispatcher (``db``, ``desk``, ``sender``, ``settings`` keyword arguments); aiogram's own ``storage``
argument stays the FSM storage.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot import outbound_guard
from bot.board import Board, run_board
from bot.delivery import Sender
from bot.desk import SupportDesk
from bot.routers import setup_routers
from bot.settings import ConfigError, Settings
from bot.storage import Storage, open_storage

__all__ = ["BUSY_SWEEP_S", "build_bot", "build_dispatcher", "run_polling", "sweep_busy"]

log = logging.getLogger(__name__)

BUSY_SWEEP_S = 1.0


def build_bot(settings: Settings) -> Bot:
    """Return the Bot for ``settings.bot_token``, talking to ``settings.api_server`` (Telegram or local)."""
    if settings.bot_token is None:
        raise ConfigError("KEFU_BOT_TOKEN: not set (run `kefu demo` to try the bot offline)")
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.api_server))
    return Bot(settings.bot_token.get_secret_value(), session=session)


def build_dispatcher(settings: Settings, storage: Storage, desk: SupportDesk, sender: Sender) -> Dispatcher:
    """Return the Dispatcher with every router and the long-lived objects handlers receive by name."""
    dp = Dispatcher(db=storage, desk=desk, sender=sender, settings=settings)
    dp.include_router(setup_routers())
    return dp


def _utc_now() -> datetime:
    return datetime.now(UTC)


async def sweep_busy(
    desk: SupportDesk,
    sender: Sender,
    *,
    clock: Callable[[], datetime] = _utc_now,
    every_s: float = BUSY_SWEEP_S,
) -> None:
    """Queue due busy replies every ``every_s`` seconds until cancelled (state is in the database)."""
    while True:
        try:
            if desk.due_busy_replies(clock()):
                sender.notify()
        except Exception:
            log.exception("busy-reply sweep failed")
        await asyncio.sleep(every_s)


async def run_polling(settings: Settings) -> None:
    """Run the bot with long polling until interrupted: dispatcher, outbox sender and busy sweeper."""
    bot = build_bot(settings)
    storage = open_storage(settings.db_path)
    desk = SupportDesk(storage, settings)
    outbound_guard.install(bot, storage, settings)  # one chokepoint: every call to a customer is checked
    sender = Sender(bot, storage, settings)
    dp = build_dispatcher(settings, storage, desk, sender)
    background = [asyncio.create_task(sender.run()), asyncio.create_task(sweep_busy(desk, sender))]
    if settings.staff_chat_id is not None:
        board = Board(storage, settings.staff_chat_id, sender.call, desk.schedule)
        background.append(asyncio.create_task(run_board(board, _utc_now)))
    try:
        await bot.delete_webhook(drop_pending_updates=False)
        await dp.start_polling(bot, allowed_updates=dp.resolve_used_update_types())
    finally:
        sender.stop()
        for task in background[1:]:
            task.cancel()
        for task in background:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await bot.session.close()
        storage.close()
