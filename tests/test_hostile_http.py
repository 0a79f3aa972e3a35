"""Hostile HTTP input to both servers (the webhook and ``kefu serve``): a 4xx or a logged refusal, never a
500, and slow senders are cut off (issue 11, item 8). Raw sockets send what an HTTP client would not."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from conftest import BotStack

from bot.commands.serve import build_app
from bot.ops import http_input
from bot.ops.settings import load_settings
from bot.telegram.webhook import SECRET_HEADER, build_webhook_app

SECRET = "webhook-secret-0123456789"
TOKEN = "let-me-in"
PATH = "/telegram/webhook"
CUSTOMER = 5152
DEEP = b"[" * 30_000 + b"]" * 30_000  # under both servers' size limits


async def _serve(app) -> TestClient:
    """Start ``app`` with the runner options ``kefu run`` and ``kefu serve`` use; return a client."""
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(**http_input.server_options())
    client = TestClient(server)
    await client.start_server()
    return client


@pytest.fixture
async def webhook(fake, settings) -> AsyncIterator[tuple[TestClient, BotStack]]:
    stack = BotStack(fake, settings)
    client = await _serve(build_webhook_app(stack.pump, path=PATH, secret=SECRET))
    yield client, stack
    await client.close()
    stack.close()


@pytest.fixture
async def checker() -> AsyncIterator[TestClient]:
    client = await _serve(build_app(load_settings(api_token=TOKEN)))
    yield client
    await client.close()


async def raw(client: TestClient, data: bytes) -> bytes:
    """Send raw bytes to the server; return everything it answers until it closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
    try:
        writer.write(data)
        await writer.drain()
        async with asyncio.timeout(30):  # a bound for a hung test, not a timing: the server must close
            return await reader.read()
    finally:
        writer.close()


def request(path: str, header: bytes, body: bytes, *, length: int | None = None) -> bytes:
    """Return a raw HTTP/1.1 POST with one extra header line (bytes as they are) and ``body``."""
    size = len(body) if length is None else length
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {size}\r\nConnection: close\r\n".encode()
        + header
        + b"\r\n\r\n"
        + body
    )


def status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


# bytes that are not UTF-8 in the secret headers --------------------------------------------------------
async def test_a_0xff_byte_in_the_webhook_secret_is_refused(webhook, fake):
    client, stack = webhook
    body = b'{"update_id": 9}'
    for secret in (b"\xff", SECRET.encode() + b"\xff", b"\xff" * 300):
        answer = await raw(client, request(PATH, SECRET_HEADER.encode() + b": " + secret, body))
        assert status(answer) == 403
    assert stack.status(9) is None


async def test_a_0xff_byte_in_the_bearer_header_is_refused(checker):
    for bearer in (b"Bearer \xff", b"Bearer " + TOKEN.encode() + b"\xff"):
        answer = await raw(checker, request("/v1/check", b"Authorization: " + bearer, b'{"text": "x"}'))
        assert status(answer) == 401


# bodies that break a naive parser --------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        DEEP,
        b'{"update_id": 1, "x": ' + b"9" * 5000 + b"}",
        b'{"update_id": true}',
        b'{"update_id": -1}',
        b'{"update_id": 77, "message": {"text": "\\ud800"}}',
    ],
    ids=["nested", "long-number", "bool-id", "negative-id", "lone-surrogate"],
)
async def test_hostile_webhook_bodies_get_a_400(webhook, body):
    client, stack = webhook
    response = await client.post(PATH, data=body, headers={SECRET_HEADER: SECRET})
    assert response.status == 400
    assert stack.storage.db.execute("SELECT count(*) FROM updates").fetchone()[0] == 0


async def test_an_update_id_sqlite_cannot_hold_is_refused_and_logged_not_retried(webhook, fake, caplog):
    client, _ = webhook
    update = {**fake.text_update("你好", user_id=CUSTOMER), "update_id": 2**70}
    response = await client.post(PATH, json=update, headers={SECRET_HEADER: SECRET})
    assert response.status == 400  # a 503 would make Telegram send it again forever
    assert "update_id" in caplog.text and str(2**70) in caplog.text


async def test_an_update_the_database_refuses_for_good_is_refused_and_logged(
    webhook, fake, monkeypatch, caplog
):
    client, stack = webhook

    def refused(raw, at):
        raise sqlite3.IntegrityError("CHECK constraint failed")  # not "unavailable": a retry cannot help

    monkeypatch.setattr(stack.inbox, "store", refused)
    update = {**fake.text_update("你好", user_id=CUSTOMER), "update_id": 77}
    response = await client.post(PATH, json=update, headers={SECRET_HEADER: SECRET})
    assert response.status == 400
    assert any(r.levelno == logging.ERROR and "update 77" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "body",
    [DEEP, b'{"text": ' + b"1" * 5000 + b"}", b'{"text": "\\ud800"}'],
    ids=["nested", "long-number", "lone-surrogate"],
)
async def test_hostile_check_bodies_get_a_400(checker, body):
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    response = await checker.post("/v1/check", data=body, headers=headers)
    assert response.status == 400 and "error" in await response.json()


# slow senders ----------------------------------------------------------------------------------------------
@pytest.fixture
def quick_timeout(monkeypatch):
    monkeypatch.setattr(http_input, "READ_TIMEOUT_S", 0.3)


@pytest.mark.parametrize("server", ["webhook", "checker"])
async def test_a_body_that_never_comes_gets_a_408(quick_timeout, request_server, server):
    client, path, header = request_server(server)
    answer = await raw(client, request(path, header, b'{"te', length=100))
    assert status(answer) == 408


@pytest.mark.parametrize("server", ["webhook", "checker"])
async def test_headers_that_never_end_are_cut_off(quick_timeout, request_server, server):
    client, path, _ = request_server(server)
    answer = await raw(client, f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".encode())
    assert answer == b""  # the server closed the connection without waiting for the rest


@pytest.fixture
async def request_server(quick_timeout, fake, settings):
    """Return a function giving (client, path, auth header line) for the webhook or the check server."""
    stack = BotStack(fake, settings)
    servers = {
        "webhook": (
            await _serve(build_webhook_app(stack.pump, path=PATH, secret=SECRET)),
            PATH,
            f"{SECRET_HEADER}: {SECRET}".encode(),
        ),
        "checker": (
            await _serve(build_app(load_settings(api_token=TOKEN))),
            "/v1/check",
            f"Authorization: Bearer {TOKEN}".encode(),
        ),
    }
    yield servers.__getitem__
    for client, _, _ in servers.values():
        await client.close()
    stack.close()
