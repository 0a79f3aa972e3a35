"""Webhook mode: Telegram POSTs updates; each is stored before the 200 that acknowledges it.

Every request must carry ``X-Telegram-Bot-Api-Secret-Token`` equal to ``KEFU_WEBHOOK_SECRET``
(compared in constant time): missing → 401, wrong → 403. Bodies over :data:`MAX_UPDATE_BYTES`
get 413. If the database cannot store the update the answer is 503, so Telegram sends it again.
On shutdown the server stops taking requests, then waits for the updates in flight.
"""

from __future__ import annotations

import hmac
import json
import logging
from urllib.parse import urlsplit

from aiohttp import web

from bot.inbox import UpdatePump

__all__ = ["MAX_UPDATE_BYTES", "SECRET_HEADER", "build_webhook_app", "webhook_path"]

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: A 4,096-character message with entities is a few tens of KiB; 1 MiB is ample and bounded.
MAX_UPDATE_BYTES = 1024 * 1024
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
    if not hmac.compare_digest(given.encode(), request.app[SECRET_KEY].encode()):
        return web.Response(status=403, text="wrong secret token")
    try:
        raw = json.loads(await request.read())
    except web.HTTPRequestEntityTooLarge:
        return web.Response(status=413, text=f"update larger than {MAX_UPDATE_BYTES} bytes")
    except (UnicodeDecodeError, json.JSONDecodeError):
        log.warning("webhook request with a body that is not JSON; rejected with 400")
        return web.Response(status=400, text="body is not JSON")
    if not isinstance(raw, dict) or not isinstance(raw.get("update_id"), int):
        log.warning("webhook request that is not an update (no update_id); rejected with 400")
        return web.Response(status=400, text="not an update")
    try:
        request.app[PUMP_KEY].accept([raw])
    except Exception as exc:
        log.error("could not store update %s (%s); answered 503 so Telegram retries", raw["update_id"], exc)
        return web.Response(status=503, text="storage unavailable, retry")
    return web.Response(status=200)


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
    app.on_shutdown.append(_drain)
    return app
