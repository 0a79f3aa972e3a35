"""``kefu run``: the bot's whole life, from start to a clean stop.

Start: open (and migrate) the database, build Bot and Dispatcher, start the outbox sender and the
busy-reply sweeper, handle the updates a crash left stored, then receive updates by long polling or,
with ``KEFU_WEBHOOK_URL``, by webhook. Stop (SIGTERM/SIGINT): stop receiving, finish the updates in
flight, let the sender deliver what it can, close everything.

If the database file is deleted or replaced while the bot runs, the bot stops, writes everything
stored back and raises :class:`bot.store.files.DatabaseLost` (see :mod:`bot.store.files`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import date

from aiohttp import web

from bot.desk.board import Board, run_board
from bot.desk.cores import Cores
from bot.ops.clock import utc_now
from bot.ops.diskspace import look_after_disk
from bot.ops.heartbeat import Heartbeat, beat_while_listening, heartbeat_path
from bot.ops.http_input import server_options
from bot.ops.memory import run_heap_trimmer
from bot.ops.proxy import check_reachable, through_proxy
from bot.ops.settings import Settings
from bot.ops.shop import use_shop_folder
from bot.ops.stack import Stack, build_stack
from bot.store import files as dbfile
from bot.store.sqlite import open_storage
from bot.telegram.app import build_bot, sweep_busy
from bot.telegram.inbox import prune_forever
from bot.telegram.menus import publish_menus
from bot.telegram.polling import poll
from bot.telegram.sender import Sender
from bot.telegram.startup import WEBHOOK_STATE_KEY, claim_updates, listen, lock_database, telegram
from bot.telegram.webhook import build_webhook_app, webhook_path
from replies.calendar import missing_official_years

__all__ = ["calendar_warnings", "load_catalogues", "reload_shop", "run_bot"]

log = logging.getLogger(__name__)

SENDER_GRACE_S = 5.0
# The collector's young-generation threshold while the bot serves (Python's default is 700). An update
# allocates ~140 container objects that live until its calls are answered (the Update, the method
# models, the lanes' tasks and futures), so at 700 the collector ran about every 5 updates and walked
# those live objects again and again: in a 1,500-update flood of `bench/bot_bench.py`, 290 young and 26
# middle collections and 2 full ones, ~120 us of CPU per update, and not one object collected. At 10,000
# it runs about every 300 updates (~16 us per update); cyclic garbage, when there is some, is still
# collected, a little later (at most ~10,000 young objects wait, ~1 MB).
GC_YOUNG_THRESHOLD = 10_000


def load_catalogues(settings: Settings, cores: Cores | None = None) -> Cores:
    """Load and validate every catalogue now, so a broken file stops start-up rather than a handler.

    Returns the cores the bot will use: ``cores``, or the package plus ``KEFU_SHOP_DIR`` (installed for
    every surface). Raises ``CatalogueError``, ``ScriptError`` or ``IntentError``, each naming the file
    and entry.
    """
    use_shop_folder(settings.shop_dir)  # the package plus KEFU_SHOP_DIR's banned.toml and scripts.toml
    cores = cores or Cores.installed()
    cores.check("您好")
    cores.classify("您好")
    cores.render("greeting", shop=settings.shop_name)
    return cores


def reload_shop(settings: Settings, use_cores: Callable[[Cores], None] | None = None) -> bool:
    """Reload ``KEFU_SHOP_DIR`` (SIGHUP, ``systemctl reload kefu``); return whether the new files are in use.

    Every file is validated before anything is swapped, so a broken edit keeps the old catalogues and is
    logged as one line; the bot keeps running and no update is dropped (polling and the webhook go on).
    The new catalogues are installed for every surface and handed, as one :class:`Cores`, to
    ``use_cores`` (the running bot's desk and outbound guard).
    """
    from guards import CatalogueError
    from replies import ScriptError
    from replies.faq import FaqError

    try:
        shop = use_shop_folder(settings.shop_dir)
    except (CatalogueError, ScriptError, FaqError) as exc:
        log.error("SIGHUP: reload of KEFU_SHOP_DIR failed, the old catalogue stays: %s", exc)
        return False
    if use_cores is not None:
        use_cores(Cores.installed())
    log.info(
        "SIGHUP: reload requested; KEFU_SHOP_DIR reloaded (%s FAQ, %s scripts); the bot keeps running",
        len(shop.faq),
        len(shop.scripts),
    )
    return True


def calendar_warnings(today: date) -> list[str]:
    """Return one warning per year (this one, the next) whose official holiday schedule is unknown."""
    return [
        f"China's {year} holiday schedule is not in the holidays package (only guessed: in-lieu days "
        "missing); upgrade holidays, or set KEFU_CLOSED_DATES and KEFU_OPEN_DATES"
        for year in missing_official_years(today)
    ]


async def run_bot(
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    cores: Cores | None = None,
    on_stack: Callable[[Stack], object] | None = None,
    grace_s: float = SENDER_GRACE_S,
) -> None:
    """Run the bot until ``stop`` is set or SIGTERM/SIGINT arrives.

    On the way out the sender has ``grace_s`` seconds to deliver what Telegram's pace allows.
    ``cores``: the guard, classifier, scripts, FAQ and policy (default: the package plus ``KEFU_SHOP_DIR``).
    ``on_stack`` is called with the wired :class:`~bot.ops.stack.Stack` once it is built (the bench watches
    its sender). While it runs, the loaded cores are frozen out of the garbage collector's reach and the
    collector's young generation is :data:`GC_YOUNG_THRESHOLD` (the caller's threshold again on return).
    """
    cores = load_catalogues(settings, cores)
    # The language cores live as long as the process: frozen out of the collector's reach, a full
    # collection no longer walks their ~370,000 objects (~100 ms each time, paid per update on average).
    gc.freeze()
    thresholds = gc.get_threshold()
    young = thresholds[0] and max(thresholds[0], GC_YOUNG_THRESHOLD)  # 0 (collection off) stays off
    gc.set_threshold(young, *thresholds[1:])
    try:
        await _run(settings, stop, cores, on_stack, grace_s)
    finally:
        gc.set_threshold(*thresholds)  # a caller's own setting again (tests run the bot in their process)


async def _run(
    settings: Settings,
    stop: asyncio.Event | None,
    cores: Cores,
    on_stack: Callable[[Stack], object] | None,
    grace_s: float,
) -> None:
    if settings.bot_api_proxy is not None:
        await check_reachable(settings.bot_api_proxy)  # an unreachable proxy is one line naming KEFU_PROXY
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    with contextlib.suppress(NotImplementedError, RuntimeError):  # `systemctl reload kefu` must not stop it
        loop.add_signal_handler(signal.SIGHUP, reload_shop, settings)

    lock = lock_database(settings.db_path)  # first: a second kefu on this file stops before anything
    try:
        await _serve(settings, stop, cores, on_stack, grace_s)
    finally:
        lock.release()


def _staff_teller(sender: Sender, settings: Settings) -> Callable[[str], Awaitable[object]] | None:
    """Return a function posting a notice in every staff group's General topic (None without a staff chat).

    It calls Telegram directly, not through the outbox: it must work when the disk is too full to queue.
    """
    groups = settings.staff_chat_ids
    if not groups:
        return None

    async def tell(text: str) -> object:
        results = [await sender.call("sendMessage", {"chat_id": staff, "text": text}) for staff in groups]
        return results[0]

    return tell


async def _serve(
    settings: Settings,
    stop: asyncio.Event,
    cores: Cores | None,
    on_stack: Callable[[Stack], object] | None,
    grace_s: float,
) -> None:
    is_new = not settings.db_path.exists()
    storage = open_storage(settings.db_path)  # a broken file stops start-up before any network call
    bot = build_bot(settings)
    try:
        # A wrong token or server is one line and nothing else, so the checks come before any log line.
        me = await telegram(
            through_proxy(bot.get_me(), settings.bot_api_proxy, settings.api_server), settings, "getMe"
        )
        if is_new:
            # Right on a first start; after an upgrade or a move it means a wrong KEFU_DB_PATH, and the
            # history (and any messages still queued in the old file) would be silently left behind.
            log.warning(
                "KEFU_DB_PATH %s does not exist: starting a new, empty database there", settings.db_path
            )
        await claim_updates(bot, storage, settings)  # before anything is sent or received
    except BaseException:
        await bot.session.close()
        storage.close()
        raise
    log.info("kefu is @%s; staff chat(s) %s", me.username, ",".join(map(str, settings.staff_chat_ids)))
    for warning in calendar_warnings(utc_now().astimezone(settings.zone).date()):
        log.warning(warning)
    # Cores: what load_catalogues installed (the package plus KEFU_SHOP_DIR), unless the caller gave its own.
    stack = build_stack(settings, cores=cores, bot=bot, storage=storage, clock=utc_now)
    desk, sender, dp, inbox, pump = stack.desk, stack.sender, stack.dispatcher, stack.inbox, stack.pump
    with contextlib.suppress(NotImplementedError, RuntimeError):  # SIGHUP now swaps this bot's cores too
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, reload_shop, settings, stack.use_cores)
    if on_stack is not None:
        on_stack(stack)
    allowed = dp.resolve_used_update_types()
    background = [
        asyncio.create_task(sender.run()),
        asyncio.create_task(dbfile.watch(storage, stop)),
        asyncio.create_task(sweep_busy(desk, sender)),
        asyncio.create_task(run_heap_trimmer()),
    ]
    background.append(asyncio.create_task(look_after_disk(storage, _staff_teller(sender, settings))))
    if settings.keep_updates_days:
        background.append(asyncio.create_task(prune_forever(inbox, settings.keep_updates_days)))
    for n, staff_chat_id in enumerate(settings.staff_chat_ids):  # one pinned board per staff group
        board = Board(
            storage,
            staff_chat_id,
            sender.call,
            desk.schedule,
            primary=n == 0,
            groups=settings.staff_chat_ids,
            put_off=functools.partial(sender.call, wait=False, cosmetic=True),  # relays first at a peak
        )
        background.append(asyncio.create_task(run_board(board, utc_now)))
    runner: web.AppRunner | None = None
    heartbeat = Heartbeat(heartbeat_path(settings.db_path))  # `kefu health` reads it
    try:
        await publish_menus(bot, settings)  # agents' commands in the staff chat, /start for customers
        if settings.webhook_url and settings.webhook_secret:
            secret = settings.webhook_secret.get_secret_value()
            app = build_webhook_app(pump, path=webhook_path(settings.webhook_url), secret=secret)
            runner = web.AppRunner(app, access_log=None, **server_options())  # slow senders cut off
            await runner.setup()
            await listen(web.TCPSite(runner, settings.webhook_host, settings.webhook_port), settings)
            pump.replay_pending()
            # Recorded before it is registered: after a crash in between, this kefu still knows it as its own.
            await storage.run(storage.set_state, WEBHOOK_STATE_KEY, settings.webhook_url)
            await telegram(
                bot.set_webhook(
                    settings.webhook_url,
                    secret_token=secret,
                    allowed_updates=allowed,
                    drop_pending_updates=False,
                ),
                settings,
                "setWebhook",
            )
            log.info("webhook mode on %s:%d", settings.webhook_host, settings.webhook_port)
            await beat_while_listening(heartbeat, settings.webhook_host, settings.webhook_port, stop)
        else:
            log.info("polling mode")
            heartbeat.beat()  # started; then after every getUpdates answer (at least every 25 s)
            polling = asyncio.create_task(
                poll(bot, pump, allowed_updates=allowed, stop=stop, on_answer=heartbeat.beat)
            )
            await asyncio.wait(
                [polling, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED
            )
            # Cancelling an unanswered getUpdates loses nothing: only a later call acknowledges.
            polling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await polling
    finally:
        heartbeat.remove()  # stopped: `kefu health` fails at once, not only after --max-age
        pump.stop()  # updates waiting for an unavailable database stay pending for the next start
        if runner is not None:
            await runner.cleanup()  # stops taking requests, then drains the pump (on_shutdown)
        await pump.drain()
        await sender.drain(grace_s)  # the grace period: send what Telegram's pace allows
        sender.stop()
        for task in background[1:]:
            task.cancel()
        for task in background:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await bot.session.close()
        storage.finish()  # what the storage thread still has queued is written before the file is checked
        lost = dbfile.rescue_and_close(storage) if dbfile.is_lost(storage) else None
        if lost is None:
            storage.close()
        log.info("kefu stopped")
    if lost is not None:
        raise lost
