"""``kefu run``: the bot's whole life, from start to a clean stop.

Start: open (and migrate) the database, build Bot and Dispatcher, start the outbox sender and the
busy-reply sweeper, handle the updates a crash left stored, then receive updates by long polling or,
with ``KEFU_WEBHOOK_URL``, by webhook. Stop (SIGTERM/SIGINT): stop receiving, finish the updates in
flight, let the sender deliver what it can, close everything.

If the database file is deleted or replaced while the bot runs, the bot stops, writes everything
stored back and raises :class:`bot.dbfile.DatabaseLost` (see :mod:`bot.dbfile`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from aiohttp import web

from bot import dbfile, outbound_guard
from bot.app import build_bot, build_dispatcher, sweep_busy
from bot.board import Board, run_board
from bot.clock import utc_now
from bot.delivery import Sender
from bot.desk import SupportDesk
from bot.inbox import Inbox, UpdatePump, prune_forever
from bot.memory import run_heap_trimmer
from bot.polling import poll
from bot.settings import Settings
from bot.storage import open_storage
from bot.webhook import build_webhook_app, webhook_path
from guards import check, use_shop
from replies import classify, render

__all__ = ["load_catalogues", "run_bot"]

log = logging.getLogger(__name__)

SENDER_GRACE_S = 5.0


def load_catalogues(settings: Settings) -> None:
    """Load and validate every catalogue now, so a broken file stops start-up rather than a handler.

    Raises ``CatalogueError``, ``ScriptError`` or ``IntentError``, each naming the file and entry.
    """
    use_shop(settings.shop_dir)  # the packaged catalogue plus KEFU_SHOP_DIR/banned.toml, for every check
    check("您好")
    classify("您好")
    render("greeting", shop=settings.shop_name)


async def run_bot(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Run the bot until ``stop`` is set or SIGTERM/SIGINT arrives."""
    load_catalogues(settings)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    if not settings.db_path.exists():
        # Right on a first start; after an upgrade or a move it means a wrong KEFU_DB_PATH, and the
        # history (and any messages still queued in the old file) would be silently left behind.
        log.warning("KEFU_DB_PATH %s does not exist: starting a new, empty database there", settings.db_path)
    storage = open_storage(settings.db_path)
    bot = build_bot(settings)
    outbound_guard.install(bot, storage, settings)  # one chokepoint: every call to a customer is checked
    desk = SupportDesk(storage, settings)
    sender = Sender(bot, storage, settings)
    dp = build_dispatcher(settings, storage, desk, sender)
    inbox = Inbox(storage)
    pump = UpdatePump(dp, bot, inbox)
    allowed = dp.resolve_used_update_types()
    background = [
        asyncio.create_task(sender.run()),
        asyncio.create_task(dbfile.watch(storage, stop)),
        asyncio.create_task(sweep_busy(desk, sender)),
        asyncio.create_task(run_heap_trimmer()),
    ]
    if settings.keep_updates_days:
        background.append(asyncio.create_task(prune_forever(inbox, settings.keep_updates_days)))
    if settings.staff_chat_id is not None:
        board = Board(storage, settings.staff_chat_id, sender.call, desk.schedule)
        background.append(asyncio.create_task(run_board(board, utc_now)))
    runner: web.AppRunner | None = None
    try:
        me = await bot.get_me()
        log.info("kefu is @%s; staff chat %s", me.username, settings.staff_chat_id)
        if settings.webhook_url and settings.webhook_secret:
            secret = settings.webhook_secret.get_secret_value()
            app = build_webhook_app(pump, path=webhook_path(settings.webhook_url), secret=secret)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, settings.webhook_host, settings.webhook_port).start()
            pump.replay_pending()
            await bot.set_webhook(
                settings.webhook_url, secret_token=secret, allowed_updates=allowed, drop_pending_updates=False
            )
            log.info("webhook mode on %s:%d", settings.webhook_host, settings.webhook_port)
            await stop.wait()
        else:
            await bot.delete_webhook(drop_pending_updates=False)
            log.info("polling mode")
            polling = asyncio.create_task(poll(bot, pump, allowed_updates=allowed, stop=stop))
            await asyncio.wait(
                [polling, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED
            )
            # Cancelling an unanswered getUpdates loses nothing: only a later call acknowledges.
            polling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await polling
    finally:
        pump.stop()  # updates waiting for an unavailable database stay pending for the next start
        if runner is not None:
            await runner.cleanup()  # stops taking requests, then drains the pump (on_shutdown)
        await pump.drain()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(sender.flush(), SENDER_GRACE_S)
        sender.stop()
        for task in background[1:]:
            task.cancel()
        for task in background:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await bot.session.close()
        lost = dbfile.rescue_and_close(storage) if dbfile.is_lost(storage) else None
        if lost is None:
            storage.close()
        log.info("kefu stopped")
    if lost is not None:
        raise lost
