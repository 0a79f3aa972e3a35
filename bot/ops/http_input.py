"""Untrusted HTTP input for both servers (the webhook and ``kefu serve``): read it without a 500.

Anyone on the network can send anything: header values with bytes that are not UTF-8, JSON nested a
hundred thousand levels deep, numbers thousands of digits long, a body sent one byte a minute. Each
helper here turns such input into a plain refusal the handler answers with a 4xx:

- :func:`header_matches` compares a secret header with the expected value as bytes, in constant time;
- :func:`read_body` reads the body within :data:`READ_TIMEOUT_S` (``HTTPRequestTimeout``, 408);
- :func:`parse_json` parses it, raising :class:`BadJSON` for anything that is not sane JSON;
- :func:`server_options` are the aiohttp runner options: a connection that has not sent a complete
  request within :data:`READ_TIMEOUT_S` is closed (slow headers), and a stop waits no longer than
  that for requests in flight.

Example::

    if not header_matches(request.headers.get("Authorization"), "Bearer s3cret"):
        return web.Response(status=401)
    payload = parse_json(await read_body(request))
"""

from __future__ import annotations

import asyncio
import hmac
import json
from typing import Any

from aiohttp import web

__all__ = ["READ_TIMEOUT_S", "BadJSON", "header_matches", "parse_json", "read_body", "server_options"]

#: Seconds a client has to send a whole request (headers, then body). Telegram and helpdesks send
#: a few KiB at once; a sender slower than this is holding a connection open, not sending.
READ_TIMEOUT_S = 10.0


class BadJSON(ValueError):
    """The body is not sane JSON (not UTF-8, malformed, nested too deep, a number too long)."""


def header_matches(given: str | None, expected: str) -> bool:
    """Return whether a header value equals ``expected``, compared as bytes in constant time.

    aiohttp hands over undecodable header bytes as surrogates; they are compared as the bytes they were
    (and never match), instead of raising ``UnicodeEncodeError``.
    """
    if given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode())


async def read_body(request: web.Request) -> bytes:
    """Return the request body; raise ``HTTPRequestTimeout`` (408) when it takes over :data:`READ_TIMEOUT_S`.

    A body over the app's ``client_max_size`` raises ``HTTPRequestEntityTooLarge`` (413) as before.
    """
    try:
        async with asyncio.timeout(READ_TIMEOUT_S):
            return await request.read()
    except TimeoutError:
        raise web.HTTPRequestTimeout(text=f"request body not received within {READ_TIMEOUT_S:g} s") from None


def parse_json(body: bytes) -> Any:
    """Return the JSON value of ``body``; raise :class:`BadJSON` saying what is wrong with it.

    A string escaping half of a surrogate pair (``"\\ud800"``) is refused too: it is valid JSON but not
    text, and neither SQLite nor an answer in UTF-8 can carry it.
    """
    try:
        value = json.loads(body)
        json.dumps(value, ensure_ascii=False).encode()
        return value
    except UnicodeEncodeError:
        raise BadJSON("body holds a lone surrogate (\\ud800-\\udfff), which is not text") from None
    except UnicodeDecodeError as exc:
        raise BadJSON(f"body is not UTF-8: {exc.reason}") from None
    except RecursionError:
        raise BadJSON("JSON nested too deep") from None
    except json.JSONDecodeError as exc:
        raise BadJSON(f"body is not valid JSON: {exc}") from None
    except ValueError as exc:  # e.g. an integer with more than 4,300 digits
        raise BadJSON(f"body is not usable JSON: {exc}") from None


def server_options() -> dict[str, Any]:
    """Return the aiohttp ``AppRunner`` options both servers use: a connection idle or still sending its
    headers after :data:`READ_TIMEOUT_S` is closed, and a stop waits as long for requests in flight (not
    aiohttp's default minute, which would eat the bot's grace period)."""
    return {"keepalive_timeout": READ_TIMEOUT_S, "shutdown_timeout": READ_TIMEOUT_S}
