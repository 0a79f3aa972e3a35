"""Webhook mode: Telegram POSTs updates; each is stored before the 200 that acknowledges it.

Every request must carry ``X-Telegram-Bot-Api-Secret-Token`` equal to ``KEFU_WEBHOOK_SECRET``
(compared in constant time, as bytes): missing → 401, wrong → 403. Bodies over
:data:`MAX_UPDATE_BYTES` get 413, a body not received within
:data:`bot.ops.http_input.READ_TIMEOUT_S` 408, anything that is not a JSON object with an ``update_id``
SQLite can hold (0 to 2^63-1) 400. If the database is unavailable (locked, read-only, full), or
cannot store the update within :data:`STORE_WAIT_S` (another process holds it locked), the answer is
503, so Telegram sends the update again; an update that can never be stored (anything else the
database refuses) is logged and refused with 400, so Telegram does not retry it forever.
``GET /healthz`` answers from memory.
On shutdown the server stops taking requests, then waits for the updates in flight.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

from aiohttp import web

from bot.ops.http_input import BadJSON, header_matches, parse_json, read_body
from bot.store.sqlite import is_unavailable
from bot.telegram.inbox import UpdatePump

__all__ = [
    "HEALTHZ_PATH",
    "MAX_UPDATE_BYTES",
    "SECRET_HEADER",
    "STORE_WAIT_S",
    "build_webhook_app",
    "webhook_path",
]

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: A 4,096-character message with entities is a few tens of KiB; 1 MiB is ample and bounded.
MAX_UPDATE_BYTES = 1024 * 1024
#: The largest update_id SQLite's INTEGER holds (Telegram's are far smaller).
MAX_UPDATE_ID = 2**63 - 1
#: How long a webhook request waits for its update to be stored before answering 503 (Telegram retries):
#: an update is stored in a few ms; only a database another process holds locked takes longer.
STORE_WAIT_S = 0.05
HEALTHZ_PATH = "/healthz"
PUMP_KEY: web.AppKey[UpdatePump] = web.AppKey("pump", UpdatePump)
SECRET_KEY: web.AppKey[str] = web.AppKey("secret", str)


def webhook_path(url: str) -> str:
    """Return the path part of ``KEFU_WEBHOOK_URL`` that the server answers on (``/`` when none)."""
    return urlsplit(url).path or "/"


async def receive(request: web.Request) -> web.Response:
    """Store one update and acknowledge it with 200; reject anything unauthenticated or malformed."""
    given = request.headers.get(SECRET_HEADER)
    if given is None:
        return web.Response(status=401, text="secret token header missing")
    if not header_matches(given, request.app[SECRET_KEY]):
        return web.Response(status=403, text="wrong secret token")
    try:
        raw = parse_json(await read_body(request))
    except web.HTTPRequestEntityTooLarge:
        return web.Response(status=413, text=f"update larger than {MAX_UPDATE_BYTES} bytes")
    except BadJSON as exc:
        log.warning("webhook request with a body that is not usable JSON (%s); rejected with 400", exc)
        return web.Response(status=400, text=str(exc))
    update_id = raw.get("update_id") if isinstance(raw, dict) else None
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        log.warning("webhook request that is not an update (no update_id); rejected with 400")
        return web.Response(status=400, text="not an update")
    if not 0 <= update_id <= MAX_UPDATE_ID:
        log.warning("webhook update_id %d is out of range; rejected with 400", update_id)
        return web.Response(status=400, text="update_id out of range")
    # Shielded: an update stored after the answer is kept (and handled); Telegram's repeat is then a no-op.
    storing = asyncio.ensure_future(request.app[PUMP_KEY].receive([raw]))
    try:
        await asyncio.wait_for(asyncio.shield(storing), STORE_WAIT_S)
    except TimeoutError:
        storing.add_done_callback(_retrieve)
        log.error("update %s not stored within %.2f s; answered 503", update_id, STORE_WAIT_S)
        return web.Response(status=503, text="storage busy, retry")
    except Exception as exc:
        if is_unavailable(exc):
            log.error("could not store update %s (%s); answered 503 so Telegram retries", update_id, exc)
            return web.Response(status=503, text="storage unavailable, retry")
        log.error("update %s cannot be stored (%s: %s); refused with 400", update_id, type(exc).__name__, exc)
        return web.Response(status=400, text="update cannot be stored")
    return web.Response(status=200)


def _retrieve(task: asyncio.Future[int]) -> None:
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.error("a late store of an update failed too (%s); Telegram sends it again", exc)


async def healthz(request: web.Request) -> web.Response:
    """Answer at once, from memory (never waiting on the database): updates in flight, storage backlog."""
    pump = request.app[PUMP_KEY]
    backlog = pump.inbox.storage.thread.backlog
    return web.json_response({"ok": True, "updates_in_flight": pump.in_flight, "storage_backlog": backlog})


async def _drain(app: web.Application) -> None:
    pump = app[PUMP_KEY]
    if pump.in_flight:
        log.info("draining %d update(s) in flight", pump.in_flight)
    await pump.drain()


def build_webhook_app(pump: UpdatePump, *, path: str, secret: str) -> web.Application:
    """Return the aiohttp application receiving updates on ``path``."""
    if not secret:
        raise ValueError("a webhook needs a secret token")
    app = web.Application(client_max_size=MAX_UPDATE_BYTES)
    app[PUMP_KEY] = pump
    app[SECRET_KEY] = secret
    app.router.add_post(path, receive)
    if path != HEALTHZ_PATH:
        app.router.add_get(HEALTHZ_PATH, healthz)
    app.on_shutdown.append(_drain)
    return app
