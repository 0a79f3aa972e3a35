"""What must hold before kefu serves anyone: one instance per database and per bot token, a token and a
Bot API server that answer. Each failure is a :class:`StartupError`: one line naming the cause and the
variable to check, never the token (``kefu run`` prints it and exits 2).

- :func:`lock_database` takes an exclusive lock on ``<KEFU_DB_PATH>.lock``; a second ``kefu run`` on the
  same file stops at once, naming the process that holds it.
- :func:`telegram` turns every way a Bot API call can fail at start (401, 404, refused connection, DNS,
  redirect loop, an HTML page from a proxy) into one line.
- :func:`claim_updates` makes sure no one else receives this token's updates: a webhook kefu did not set
  stops a polling start, instead of being deleted under the other process.
"""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Awaitable
from pathlib import Path
from typing import IO, TypeVar
from urllib.parse import urlsplit

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramUnauthorizedError,
)
from aiohttp import web

from bot.ops.logs import redact
from bot.ops.settings import Settings
from bot.store.sqlite import Storage

__all__ = [
    "WEBHOOK_STATE_KEY",
    "AnotherPoller",
    "InstanceLock",
    "NotBotApiAnswer",
    "StartupError",
    "claim_updates",
    "listen",
    "lock_database",
    "one_line",
    "telegram",
]

T = TypeVar("T")

#: ``bot_state`` key holding the webhook URL this database's kefu registered (so it may replace it later).
WEBHOOK_STATE_KEY = "webhook_url"
MAX_LINE = 300


class StartupError(Exception):
    """kefu cannot run as configured; the message is one line naming the cause and the variable to check."""


class AnotherPoller(StartupError):
    """Telegram answered 409 to ``getUpdates``: another process receives this token's updates."""

    def __init__(self, description: str = "") -> None:
        said = f": {description}" if description else ""
        super().__init__(
            f"another process is polling this bot token (Telegram answered 409 to getUpdates{said}): "
            "stop the other kefu (a manual run beside the service?); one bot token, one kefu"
        )


class NotBotApiAnswer(ClientDecodeError):
    """The server at KEFU_API_SERVER answered something that is not a Bot API answer (e.g. an HTML page)."""

    def __init__(self, status: int, original: Exception) -> None:
        self.status = status
        super().__init__(f"HTTP {status} with a body that is not a Bot API answer", original, None)

    def __str__(self) -> str:
        return self.message


def one_line(text: str, *secrets: str) -> str:
    """Return ``text`` redacted (tokens and ``secrets``), on one line, at most :data:`MAX_LINE` characters."""
    flat = re.sub(r"\s+", " ", redact(text, *secrets)).strip()
    return flat if len(flat) <= MAX_LINE else flat[: MAX_LINE - 1] + "…"


class InstanceLock:
    """An exclusive lock on ``<database>.lock`` held for the life of the process (the OS drops it at exit)."""

    def __init__(self, path: Path, handle: IO[str]) -> None:
        self.path = path
        self._handle = handle

    def release(self) -> None:
        """Let the next ``kefu run`` in (the file stays: removing it could let two runs lock two files)."""
        self._handle.close()


def lock_database(db_path: Path) -> InstanceLock:
    """Return the lock beside ``db_path``, or raise :class:`StartupError` naming the process that holds it."""
    path = db_path.with_name(db_path.name + ".lock")
    try:
        handle = open(path, "a+", encoding="utf-8")  # held open until release
    except OSError as exc:
        why = exc.strerror
        raise StartupError(f"cannot create the lock file {path} ({why}): check KEFU_DB_PATH") from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise StartupError(
            f"another kefu (pid {holder}) is already running on {db_path} (it holds {path}): "
            "stop it first, or give this one its own KEFU_DB_PATH and bot token"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return InstanceLock(path, handle)


async def telegram(call: Awaitable[T], settings: Settings, method: str) -> T:
    """Return the result of a Bot API call made at start; raise :class:`StartupError` when it fails."""
    from bot.ops.proxy import ProxyUnreachable

    try:
        return await call
    except ProxyUnreachable:
        raise  # already one line, naming KEFU_PROXY
    except Exception as exc:
        raise StartupError(_explain(exc, settings, method)) from None


def _explain(exc: Exception, settings: Settings, method: str) -> str:
    token = settings.bot_token.get_secret_value() if settings.bot_token else ""
    server = settings.api_server
    if isinstance(exc, TelegramUnauthorizedError):
        text = (
            f"Telegram rejected KEFU_BOT_TOKEN (401 Unauthorized at {method}): the token is wrong or was "
            "revoked; copy it again from @BotFather"
        )
    elif isinstance(exc, TelegramNotFound) and method == "getMe":
        text = (
            f"the Bot API at {server} knows no bot with this token (404 Not Found): check KEFU_BOT_TOKEN "
            "(and KEFU_API_SERVER)"
        )
    elif isinstance(exc, TelegramNetworkError):
        cause = exc.message.removeprefix("HTTP Client says - ")
        text = f"cannot reach the Bot API at {server} ({cause}): check KEFU_API_SERVER and the network"
    elif isinstance(exc, NotBotApiAnswer):
        text = (
            f"the server at {server} answered {method} with HTTP {exc.status} and a body that is not a "
            "Bot API answer (a proxy or another service in the way?): check KEFU_API_SERVER"
        )
    elif isinstance(exc, ClientDecodeError):
        text = (
            f"the server at {server} answered {method} with something that is not a Bot API answer: "
            "check KEFU_API_SERVER"
        )
    elif isinstance(exc, TelegramBadRequest) and method == "setWebhook":
        url = settings.webhook_url
        text = f"Telegram refused KEFU_WEBHOOK_URL {url} ({exc.message}): check KEFU_WEBHOOK_URL"
    elif isinstance(exc, TelegramAPIError):
        text = f"the Bot API at {server} refused {method} ({exc.message}): check KEFU_API_SERVER"
    else:
        text = f"{method} at {server} failed ({type(exc).__name__}: {exc}): check KEFU_API_SERVER"
    return one_line(text, token)


async def listen(site: web.TCPSite, settings: Settings) -> None:
    """Start the webhook server's ``site``; raise :class:`StartupError` when the address cannot be used."""
    try:
        await site.start()
    except OSError as exc:
        raise StartupError(
            f"cannot listen on {settings.webhook_host}:{settings.webhook_port} ({exc.strerror or exc}): "
            "check KEFU_WEBHOOK_HOST and KEFU_WEBHOOK_PORT (another program on that port?)"
        ) from None


async def claim_updates(bot: Bot, storage: Storage, settings: Settings) -> None:
    """Make sure this kefu may receive the token's updates in its mode; raise :class:`StartupError` if not.

    A webhook that this database never registered belongs to someone else (another kefu in webhook mode,
    another program): polling would delete it and take that process's updates, so start-up stops instead.
    Polling: the webhook kefu set itself (the operator switched back to polling) is deleted.
    """
    info = await telegram(bot.get_webhook_info(), settings, "getWebhookInfo")
    ours = storage.state(WEBHOOK_STATE_KEY)
    if info.url and info.url != ours and info.url != settings.webhook_url:
        where = urlsplit(info.url)
        raise StartupError(
            f"a webhook that this kefu did not set receives this bot token's updates "
            f"({where.scheme}://{where.netloc}{where.path}): another process is using the token; stop it, "
            "or delete that webhook (Bot API deleteWebhook) if nothing uses it any more"
        )
    if settings.webhook_url is None:
        await telegram(bot.delete_webhook(drop_pending_updates=False), settings, "deleteWebhook")
        storage.set_state(WEBHOOK_STATE_KEY, None)

