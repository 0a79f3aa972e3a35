"""Webhook mode: only Telegram (the secret) gets in, an update is stored before its 200, shutdown drains."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from aiohttp.test_utils import TestClient, TestServer
from conftest import BotStack

from bot.telegram.webhook import MAX_UPDATE_BYTES, SECRET_HEADER, build_webhook_app, webhook_path

SECRET = "webhook-secret-0123456789"
PATH = "/telegram/webhook"
CUSTOMER = 5150


@pytest.fixture
async def rig(fake, settings):
    stack = BotStack(fake, settings)
    client = TestClient(TestServer(build_webhook_app(stack.pump, path=PATH, secret=SECRET), host="127.0.0.1"))
    await client.start_server()
    yield client, stack
    await client.close()
    stack.close()


def _to_customer(fake):
    return [c for c in fake.calls("sendMessage", ok=True) if c.params["chat_id"] == CUSTOMER]


def test_webhook_path_from_the_url():
    assert webhook_path("https://support.example.com/telegram/webhook") == "/telegram/webhook"
    assert webhook_path("https://support.example.com") == "/"


async def test_an_update_is_stored_before_the_200_and_then_answered(rig, fake):
    client, stack = rig
    update = {**fake.text_update("你好", user_id=CUSTOMER), "update_id": 501}
    response = await client.post(PATH, json=update, headers={SECRET_HEADER: SECRET})
    assert response.status == 200
    assert stack.status(501) in {"pending", "done"}  # stored by the time Telegram hears 200
    await stack.pump.drain()
    await stack.sender.flush()
    assert stack.status(501) == "done"
    assert len(_to_customer(fake)) == 1


async def test_the_same_update_twice_is_handled_once(rig, fake):
    client, stack = rig
    update = {**fake.text_update("你好", user_id=CUSTOMER), "update_id": 502}
    for _ in range(2):
        assert (await client.post(PATH, json=update, headers={SECRET_HEADER: SECRET})).status == 200
    await stack.pump.drain()
    await stack.sender.flush()
    assert len(_to_customer(fake)) == 1


@pytest.mark.parametrize(
    ("headers", "status"), [({}, 401), ({SECRET_HEADER: "guess"}, 403), ({SECRET_HEADER: ""}, 403)]
)
async def test_requests_without_the_secret_are_rejected(rig, fake, headers, status):
    client, stack = rig
    update = {**fake.text_update("伪造的消息", user_id=CUSTOMER), "update_id": 503}
    response = await client.post(PATH, json=update, headers=headers)
    assert response.status == status
    assert stack.status(503) is None


@pytest.mark.parametrize(
    ("body", "status"),
    [(b"{broken", 400), (b'{"message": {}}', 400), (b"[1,2,3]", 400), (b'{"update_id": "7"}', 400)],
)
async def test_bad_bodies_are_rejected(rig, body, status):
    client, stack = rig
    response = await client.post(PATH, data=body, headers={SECRET_HEADER: SECRET})
    assert response.status == status
    assert stack.storage.db.execute("SELECT count(*) FROM updates").fetchone()[0] == 0


async def test_an_oversized_request_is_413(rig):
    client, _ = rig
    body = b'{"update_id": 1, "pad": "' + b"x" * MAX_UPDATE_BYTES + b'"}'
    response = await client.post(PATH, data=body, headers={SECRET_HEADER: SECRET})
    assert response.status == 413


async def test_storage_failure_answers_503_so_telegram_retries(rig, fake, monkeypatch):
    client, stack = rig

    def locked(raw, at):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(stack.inbox, "store", locked)
    update = {**fake.text_update("你好", user_id=CUSTOMER), "update_id": 504}
    response = await client.post(PATH, json=update, headers={SECRET_HEADER: SECRET})
    assert response.status == 503
    monkeypatch.undo()
    assert (await client.post(PATH, json=update, headers={SECRET_HEADER: SECRET})).status == 200


async def test_shutdown_drains_updates_in_flight(fake, settings, monkeypatch):
    stack = BotStack(fake, settings)
    pump = stack.pump
    real_handle = pump.handle

    async def slow(raw):
        await asyncio.sleep(0.3)
        return await real_handle(raw)

    monkeypatch.setattr(pump, "handle", slow)
    client = TestClient(TestServer(build_webhook_app(pump, path=PATH, secret=SECRET), host="127.0.0.1"))
    await client.start_server()
    update = {**fake.text_update("你好", user_id=CUSTOMER), "update_id": 505}
    assert (await client.post(PATH, json=update, headers={SECRET_HEADER: SECRET})).status == 200
    assert stack.status(505) == "pending"
    await client.close()  # runs on_shutdown: waits for the update in flight
    assert stack.status(505) == "done"
    stack.close()
