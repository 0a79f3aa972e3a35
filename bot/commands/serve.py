"""The HTTP check endpoint (``kefu serve``): other helpdesks ask the guard before a reply goes out.

``POST /v1/check`` with ``{"text": "…"}`` (and optionally ``"context"``, the customer's last message the
text answers) answers what one ``kefu check --jsonl`` line would:
the request's fields, plus ``allowed``, ``level`` ("block", "review" or null), ``hits`` and
``suggestion``. The whole text is checked, however long (up to the request size limit).
``GET /healthz`` answers ``{"ok": true}`` once the catalogue is loaded. Hostile input (a bearer header
that is not UTF-8, JSON nested too deep, a body sent too slowly) gets a 4xx (see :mod:`bot.ops.http_input`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiohttp import web

from bot.ops.http_input import BadJSON, header_matches, parse_json, read_body, server_options
from bot.ops.settings import Settings
from guards import Guard, default_guard

__all__ = ["MAX_REQUEST_BYTES", "build_app", "run_server"]

log = logging.getLogger(__name__)

#: Telegram's own limit is 4,096 characters; 64 KiB leaves room for the JSON and other fields.
MAX_REQUEST_BYTES = 64 * 1024
GUARD_KEY: web.AppKey[Guard] = web.AppKey("guard", Guard)
TOKEN_KEY: web.AppKey[str] = web.AppKey("api_token", str)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status, dumps=_dumps)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


@web.middleware
async def _bearer_auth(request: web.Request, handler: Any) -> web.StreamResponse:
    token = request.app[TOKEN_KEY]
    if token and request.path != "/healthz":
        if not header_matches(request.headers.get("Authorization"), f"Bearer {token}"):
            return _error(401, "missing or wrong bearer token")
    return await handler(request)


async def check(request: web.Request) -> web.Response:
    """Return the guard's verdict on ``{"text": …}`` merged into the request object.

    An optional ``"context"`` (the customer's last message, which the text answers) is judged with it.
    """
    try:
        payload = parse_json(await read_body(request))
    except web.HTTPRequestEntityTooLarge:
        return _error(413, f"request larger than {MAX_REQUEST_BYTES} bytes")
    except web.HTTPRequestTimeout as exc:
        return _error(408, exc.text or "request body too slow")
    except BadJSON as exc:
        return _error(400, str(exc))
    if not isinstance(payload, dict):
        return _error(400, 'body must be a JSON object like {"text": "…"}')
    text = payload.get("text")
    if not isinstance(text, str):
        return _error(400, 'field "text" is missing or not a string')
    context = payload.get("context")
    if context is not None and not isinstance(context, str):
        return _error(400, 'field "context" (the customer\'s last message) must be a string')
    guard = request.app[GUARD_KEY]
    # The guard is synchronous and fast; a thread keeps a 4,096-character check off the event loop.
    verdict = await asyncio.to_thread(guard.check, text, context)
    return web.json_response({**payload, **verdict.to_dict()}, dumps=_dumps)


async def healthz(request: web.Request) -> web.Response:
    """Return ``{"ok": true}`` with the catalogue loaded."""
    return web.json_response({"ok": True})


def build_app(settings: Settings, guard: Guard | None = None) -> web.Application:
    """Return the aiohttp application serving ``/v1/check`` and ``/healthz``."""
    app = web.Application(client_max_size=MAX_REQUEST_BYTES, middlewares=[_bearer_auth])
    app[GUARD_KEY] = guard or default_guard()
    app[TOKEN_KEY] = settings.api_token.get_secret_value() if settings.api_token else ""
    app.router.add_post("/v1/check", check)
    app.router.add_get("/healthz", healthz)
    return app


def run_server(settings: Settings, *, host: str, port: int) -> None:
    """Serve the endpoint until interrupted."""
    log.info("check endpoint on http://%s:%d/v1/check", host, port)
    web.run_app(build_app(settings), host=host, port=port, print=None, **server_options())
