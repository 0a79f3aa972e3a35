"""The proxy every Bot API call goes through: ``KEFU_PROXY``, or ``HTTPS_PROXY`` when it is unset.

Operators in mainland China cannot reach api.telegram.org without one. ``http://`` proxies are used
with CONNECT, ``socks5://`` and ``socks4://`` through aiohttp-socks (aiogram's ``AiohttpSession(proxy=…)``).
``HTTPS_PROXY`` (or ``https_proxy``) applies only to an ``https://`` KEFU_API_SERVER whose host
``NO_PROXY`` does not exclude, as curl and pip read it. A proxy that does not accept a connection stops
start-up with one line naming KEFU_PROXY (:func:`check_reachable`), and so does one that refuses
or fails the way on to Telegram at the first call (:func:`through_proxy`).

Example::

    proxy = resolve_proxy("socks5://127.0.0.1:1080", "https://api.telegram.org", {})
    proxy.shown   # 'socks5://127.0.0.1:1080' (never the password)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import SplitResult, urlsplit
from urllib.request import proxy_bypass_environment

__all__ = [
    "PROXY_SCHEMES",
    "Proxy",
    "ProxyUnreachable",
    "check_proxy_url",
    "check_reachable",
    "resolve_proxy",
    "through_proxy",
]

T = TypeVar("T")

PROXY_SCHEMES = ("http", "socks5", "socks4")
CONNECT_TIMEOUT_S = 10.0


class ProxyUnreachable(Exception):
    """The proxy does not accept a connection; the message is one line naming KEFU_PROXY."""


def check_proxy_url(value: str) -> str:
    """Return ``value`` if it is a proxy URL kefu can use (``http://`` or ``socks5://`` host and port).

    Raises ``ValueError`` saying what is wrong, without repeating a password.
    """
    parts = urlsplit(value.strip())
    if parts.scheme not in PROXY_SCHEMES:
        raise ValueError(f"{_shown(parts)!r} is not a proxy URL like http://127.0.0.1:7890 or socks5://…:1080")
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None:
        raise ValueError(f"{_shown(parts)!r} needs a host and a port, e.g. http://127.0.0.1:7890")
    return value.strip()


@dataclass(frozen=True)
class Proxy:
    """The proxy in use: its URL (credentials included) and the variable it came from."""

    url: str
    variable: str  # KEFU_PROXY or HTTPS_PROXY

    @property
    def host(self) -> str:
        """Return the proxy's host name or address."""
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        """Return the proxy's port."""
        return urlsplit(self.url).port or 0

    @property
    def password(self) -> str | None:
        """Return the proxy's password (redacted from the logs), or None."""
        return urlsplit(self.url).password

    @property
    def shown(self) -> str:
        """Return ``scheme://host:port``: the proxy as it may be printed (no user name, no password)."""
        return _shown(urlsplit(self.url))


def _shown(parts: SplitResult) -> str:
    host = parts.hostname or ""
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}" if parts.netloc else parts.path


def resolve_proxy(kefu_proxy: str | None, api_server: str, environ: Mapping[str, str]) -> Proxy | None:
    """Return the proxy for Bot API calls to ``api_server``, or None for a direct connection.

    ``kefu_proxy`` (KEFU_PROXY) wins; otherwise ``HTTPS_PROXY``/``https_proxy`` from ``environ`` for an
    https server that ``NO_PROXY`` does not exclude. Raises ``ValueError`` naming HTTPS_PROXY when that
    variable is not a usable proxy URL.
    """
    if kefu_proxy:
        return Proxy(kefu_proxy, "KEFU_PROXY")
    split = urlsplit(api_server)
    name = next((n for n in ("HTTPS_PROXY", "https_proxy") if environ.get(n, "").strip()), None)
    if split.scheme != "https" or name is None:
        return None
    no_proxy = environ.get("NO_PROXY") or environ.get("no_proxy") or ""
    if no_proxy and proxy_bypass_environment(split.hostname or "", {"no": no_proxy}):
        return None
    try:
        return Proxy(check_proxy_url(environ[name]), "HTTPS_PROXY")
    except ValueError as exc:
        raise ValueError(f"HTTPS_PROXY: {exc} (or set KEFU_PROXY, which wins)") from None


async def check_reachable(proxy: Proxy, *, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Return when the proxy accepts a TCP connection; raise :class:`ProxyUnreachable` otherwise."""
    where = proxy.shown if proxy.variable == "KEFU_PROXY" else f"{proxy.shown} (from HTTPS_PROXY)"
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(proxy.host, proxy.port)
    except (OSError, TimeoutError) as exc:
        why = f"no answer in {timeout:g} s" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise ProxyUnreachable(f"cannot reach the proxy {where} ({why}): check KEFU_PROXY") from None
    writer.close()
    await writer.wait_closed()


async def through_proxy(call: Awaitable[T], proxy: Proxy | None, server: str) -> T:
    """Return the result of a Bot API call made at start; raise :class:`ProxyUnreachable` naming
    KEFU_PROXY when the proxy refused or failed the connection (e.g. ``403 Forbidden`` to CONNECT)."""
    if proxy is None:
        return await call
    from aiogram.exceptions import TelegramNetworkError
    from aiohttp_socks import ProxyConnectionError, ProxyError, ProxyTimeoutError

    try:
        return await call
    except (ProxyError, ProxyConnectionError, ProxyTimeoutError, TelegramNetworkError) as exc:
        where = proxy.shown if proxy.variable == "KEFU_PROXY" else f"{proxy.shown} (from HTTPS_PROXY)"
        cause = str(getattr(exc, "message", exc)).removeprefix("HTTP Client says - ") or type(exc).__name__
        raise ProxyUnreachable(
            f"cannot reach the Bot API at {server} through the proxy {where} ({cause}): check KEFU_PROXY"
        ) from None
