"""`kefu run` end to end in one event loop: webhook mode registers itself and answers; stop is clean."""

from __future__ import annotations

import asyncio
import socket

import aiohttp

from bot.runner import run_bot
from bot.settings import load_settings
from bot.storage import open_storage
from bot.webhook import SECRET_HEADER

CUSTOMER = 6060
SECRET = "runner-secret-0123456789"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _until(condition, seconds: float = 10.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.02)


async def test_webhook_mode_registers_receives_answers_and_stops(fake, db_path):
    port = _free_port()
    settings = load_settings(
        bot_token=fake.token,
        api_server=fake.url,
        db_path=db_path,
        business_hours="00:00-24:00",
        webhook_url="https://support.example.com/telegram/webhook",
        webhook_secret=SECRET,
        webhook_port=port,
        send_limits="inf,inf,inf",
    )
    stop = asyncio.Event()
    bot_task = asyncio.create_task(run_bot(settings, stop=stop))
    await _until(lambda: fake.calls("setWebhook"))
    (registered,) = fake.calls("setWebhook")
    assert registered.params["url"] == settings.webhook_url
    assert registered.params["secret_token"] == SECRET

    update = {**fake.text_update("你好", user_id=CUSTOMER), "update_id": 7001}
    async with aiohttp.ClientSession() as http:
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        async with http.post(url, json=update, headers={SECRET_HEADER: SECRET}) as response:
            assert response.status == 200
        async with http.post(url, json=update, headers={SECRET_HEADER: "wrong"}) as response:
            assert response.status == 403

    def answered() -> bool:
        return any(c.params.get("chat_id") == CUSTOMER for c in fake.calls("sendMessage", ok=True))

    await _until(answered)
    stop.set()
    await asyncio.wait_for(bot_task, 15)
    assert fake.calls("getUpdates") == []  # webhook mode never polls


async def test_polling_mode_answers_and_stops_promptly(fake, db_path, caplog):
    settings = load_settings(
        bot_token=fake.token,
        api_server=fake.url,
        db_path=db_path,
        business_hours="00:00-24:00",
        send_limits="inf,inf,inf",
    )
    stop = asyncio.Event()
    bot_task = asyncio.create_task(run_bot(settings, stop=stop))
    fake.push_update(fake.text_update("你好", user_id=CUSTOMER))
    await _until(lambda: any(c.params.get("chat_id") == CUSTOMER for c in fake.calls("sendMessage", ok=True)))
    assert fake.calls("deleteWebhook")
    stop.set()  # mid long-poll: the unanswered getUpdates is cancelled, nothing is lost
    await asyncio.wait_for(bot_task, 5)
    assert f"KEFU_DB_PATH {db_path} does not exist: starting a new, empty database" in caplog.text


async def test_an_existing_database_is_not_announced_as_new(fake, db_path, caplog):
    open_storage(db_path).close()
    settings = load_settings(bot_token=fake.token, api_server=fake.url, db_path=db_path)
    stop = asyncio.Event()
    bot_task = asyncio.create_task(run_bot(settings, stop=stop))
    await _until(lambda: fake.calls("getUpdates"))
    stop.set()
    await asyncio.wait_for(bot_task, 5)
    assert "does not exist" not in caplog.text
