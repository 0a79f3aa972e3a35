"""`kefu health` proves the bot is alive: the polling loop (or the webhook listener) beats a heartbeat
file; it is fresh while the bot runs, gone after a clean stop, stale when the loop stops answering."""

from __future__ import annotations

import asyncio
import os
import socket
import stat
import time

from click.testing import CliRunner

from bot.commands.cli import main
from bot.ops.heartbeat import Heartbeat, heartbeat_age, heartbeat_path
from bot.ops.runner import run_bot
from bot.ops.settings import load_settings

SECRET = "health-secret-0123456789"


def _health(db_path, *args: str):
    return CliRunner().invoke(main, ["health", *args], env={"KEFU_DB_PATH": str(db_path)})


async def _until(condition, seconds: float = 10.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.02)


async def test_polling_beats_health_passes_while_running_and_fails_after_stop(fake, db_path):
    settings = load_settings(bot_token=fake.token, api_server=fake.url, db_path=db_path)
    path = heartbeat_path(db_path)
    assert _health(db_path).exit_code == 1  # not started yet
    stop = asyncio.Event()
    task = asyncio.create_task(run_bot(settings, stop=stop))
    await _until(path.exists)
    result = await asyncio.to_thread(_health, db_path)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("alive: last heartbeat ")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stop.set()
    await asyncio.wait_for(task, 10)
    result = _health(db_path)
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"kefu: no heartbeat at {path.resolve()}: kefu run is not running (or uses another KEFU_DB_PATH)"
    )


async def test_webhook_mode_beats_while_its_listener_accepts(fake, db_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = load_settings(
        bot_token=fake.token,
        api_server=fake.url,
        db_path=db_path,
        webhook_url="https://support.example.com/telegram/webhook",
        webhook_secret=SECRET,
        webhook_port=port,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(run_bot(settings, stop=stop))
    await _until(heartbeat_path(db_path).exists)
    assert (await asyncio.to_thread(_health, db_path)).exit_code == 0
    stop.set()
    await asyncio.wait_for(task, 10)
    assert not heartbeat_path(db_path).exists()


def test_a_stale_heartbeat_fails_naming_its_age(db_path):
    path = heartbeat_path(db_path)
    Heartbeat(path, clock=lambda: time.time() - 300).beat()
    result = _health(db_path)
    assert result.exit_code == 1
    assert "is 300 s old (over 90 s): the bot is not receiving updates" in result.output
    assert _health(db_path, "--max-age", "600").exit_code == 0


def test_heartbeat_is_throttled_and_never_raises(tmp_path):
    now = [1000.0]
    heartbeat = Heartbeat(tmp_path / "kefu.db.heartbeat", clock=lambda: now[0], min_interval_s=5)
    heartbeat.beat()
    assert heartbeat_age(heartbeat.path, 1000.0) == 0.0
    now[0] = 1003.0
    heartbeat.beat()  # too soon: not written
    assert os.stat(heartbeat.path).st_mtime == 1000.0
    now[0] = 1006.0
    heartbeat.beat()
    assert os.stat(heartbeat.path).st_mtime == 1006.0
    Heartbeat(tmp_path / "missing-folder" / "x.heartbeat").beat()  # logged, not raised
