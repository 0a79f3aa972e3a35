"""One bot token, one kefu (issue 11, item 2): a second ``kefu run`` on the same database stops at once
naming the first; a 409 from getUpdates and a webhook someone else set stop polling instead of fighting
over the updates; the database path is in the env file an operator's manual run reads too."""

from __future__ import annotations

import asyncio
import os
import re
import socket
from pathlib import Path

import pytest
from test_startup import TOKEN, assert_one_clear_line, run_kefu

from bot.ops.runner import run_bot
from bot.ops.settings import load_settings
from bot.store.sqlite import open_storage
from bot.telegram.startup import WEBHOOK_STATE_KEY, AnotherPoller, StartupError, lock_database

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
HOOK = "https://support.example.com/hook"
CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"


def _settings(fake, db_path, **extra):
    return load_settings(
        bot_token=fake.token, api_server=fake.url, db_path=db_path, send_limits="inf,inf,inf", **extra
    )


async def _until(condition, seconds: float = 10.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.02)


async def test_a_second_kefu_on_the_same_database_stops_at_once_naming_the_first(fake, tmp_path):
    db_path = tmp_path / "kefu.db"
    stop = asyncio.Event()
    first = asyncio.create_task(run_bot(_settings(fake, db_path), stop=stop))
    await _until(lambda: fake.calls("getUpdates"))

    code, out, err = await run_kefu(tmp_path, KEFU_API_SERVER=fake.url, KEFU_DB_PATH=str(db_path))
    line = assert_one_clear_line(code, out, err, f"pid {os.getpid()}", str(db_path))
    assert "already running" in line
    assert [c.token for c in fake.calls("getMe")] == [fake.token]  # the second never reached Telegram

    stop.set()
    await asyncio.wait_for(first, 15)
    lock_database(db_path).release()  # and once the first has stopped, the next one may start


def test_the_lock_is_released_with_the_process_and_names_its_holder(tmp_path):
    db_path = tmp_path / "kefu.db"
    held = lock_database(db_path)
    with pytest.raises(StartupError, match=rf"another kefu \(pid {os.getpid()}\) is already running"):
        lock_database(db_path)
    held.release()
    lock_database(db_path).release()


async def test_a_409_from_get_updates_stops_polling_with_one_line(fake, db_path):
    fake.fail_next("getUpdates", 409, description=CONFLICT)
    with pytest.raises(AnotherPoller, match="another process is polling this bot token"):
        await asyncio.wait_for(run_bot(_settings(fake, db_path)), 15)
    assert len(fake.calls("getUpdates")) == 1  # not retried every second for ever


async def test_a_409_through_the_command_is_one_line_and_exit_2(fake, tmp_path):
    fake.fail_next("getUpdates", 409, description=CONFLICT)
    code, out, err = await run_kefu(tmp_path, KEFU_API_SERVER=fake.url, KEFU_BOT_TOKEN=fake.token)
    assert code == 2
    assert err.strip().splitlines()[-1].startswith("kefu: another process is polling this bot token")
    assert fake.token.split(":")[1] not in out + err


async def test_a_webhook_someone_else_set_stops_polling_and_is_left_alone(fake, db_path):
    fake.webhook_url = "https://other.example.com/their/hook"
    with pytest.raises(StartupError, match=r"a webhook that this kefu did not set .*other\.example\.com"):
        await asyncio.wait_for(run_bot(_settings(fake, db_path)), 15)
    assert fake.calls("deleteWebhook") == []  # the other process keeps its updates
    assert fake.calls("getUpdates") == []
    assert fake.webhook_url == "https://other.example.com/their/hook"


async def test_the_webhook_kefu_set_itself_is_deleted_when_switching_back_to_polling(fake, db_path):
    ours = "https://support.example.com/telegram/webhook"
    storage = open_storage(db_path)
    storage.set_state(WEBHOOK_STATE_KEY, ours)  # what a webhook-mode run records before setWebhook
    storage.close()
    fake.webhook_url = ours
    stop = asyncio.Event()
    task = asyncio.create_task(run_bot(_settings(fake, db_path), stop=stop))
    await _until(lambda: fake.calls("getUpdates"))
    assert fake.webhook_url == "" and len(fake.calls("deleteWebhook")) == 1
    stop.set()
    await asyncio.wait_for(task, 15)


async def test_webhook_mode_records_its_url_before_registering_it(fake, db_path, monkeypatch):
    monkeypatch.setattr("bot.ops.runner.web.TCPSite.start", _no_bind)
    url = "https://support.example.com/telegram/webhook"
    stop = asyncio.Event()
    settings = _settings(fake, db_path, webhook_url=url, webhook_secret="s3cret")
    task = asyncio.create_task(run_bot(settings, stop=stop))
    await _until(lambda: fake.calls("setWebhook"))
    stop.set()
    await asyncio.wait_for(task, 15)
    storage = open_storage(db_path)
    assert storage.state(WEBHOOK_STATE_KEY) == url
    storage.close()


async def _no_bind(self) -> None:
    """The webhook server's socket is not needed to see what kefu registers."""


def _env_file() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in (DEPLOY / "kefu.env.example").read_text().splitlines())
    return {k.strip(): v.strip() for k, *rest in pairs if not k.startswith("#") and rest for v in rest}


def test_the_database_path_is_in_the_env_file_a_manual_run_reads_too():
    """A manual ``kefu run`` with the service's env file opens the service's database, wherever it is run."""
    db_path = _env_file()["KEFU_DB_PATH"]
    assert Path(db_path).is_absolute()
    unit = (DEPLOY / "kefu.service").read_text()
    assert not re.search(r"^Environment=.*KEFU_DB_PATH", unit, re.M)  # one place only: the env file
    assert f"ReadWritePaths={Path(db_path).parent}" in unit
    assert TOKEN not in unit


async def test_a_webhook_port_in_use_is_one_line_naming_the_variables(fake, db_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = _settings(fake, db_path, webhook_url=HOOK, webhook_secret="s3cret", webhook_port=port)
        with pytest.raises(StartupError, match=rf"cannot listen on 127.0.0.1:{port} .*KEFU_WEBHOOK_PORT"):
            await asyncio.wait_for(run_bot(settings), 15)
    assert fake.calls("setWebhook") == []


async def test_a_webhook_url_telegram_refuses_names_the_variable(fake, db_path, monkeypatch):
    monkeypatch.setattr("bot.ops.runner.web.TCPSite.start", _no_bind)
    fake.fail_next("setWebhook", 400, description="Bad Request: bad webhook: Failed to resolve host")
    settings = _settings(fake, db_path, webhook_url=HOOK, webhook_secret="s3cret")
    with pytest.raises(StartupError, match=r"Telegram refused KEFU_WEBHOOK_URL .*Failed to resolve host"):
        await asyncio.wait_for(run_bot(settings), 15)
