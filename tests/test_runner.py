"""`kefu run` end to end in one event loop: webhook mode registers itself and answers; stop is clean."""

from __future__ import annotations

import asyncio
import gc
import socket
import sqlite3

import aiohttp
import pytest

from bot.ops.runner import GC_YOUNG_THRESHOLD, run_bot
from bot.ops.settings import load_settings
from bot.store.files import DatabaseLost
from bot.store.sqlite import open_storage
from bot.telegram.inbox import Inbox, prune_forever
from bot.telegram.webhook import SECRET_HEADER

CUSTOMER = 6060
SECRET = "runner-secret-0123456789"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _settings(fake, db_path, **extra):
    """Settings of a bot against ``fake``: open around the clock, Telegram's limits raised."""
    return load_settings(
        bot_token=fake.token,
        api_server=fake.url,
        db_path=db_path,
        business_hours="00:00-24:00",
        send_limits="inf,inf,inf",
        **extra,
    )


async def _until(condition, seconds: float = 10.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.02)


async def test_webhook_mode_registers_receives_answers_and_stops(fake, db_path):
    port = _free_port()
    settings = _settings(
        fake,
        db_path,
        webhook_url="https://support.example.com/telegram/webhook",
        webhook_secret=SECRET,
        webhook_port=port,
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
    settings = _settings(fake, db_path)
    stop = asyncio.Event()
    bot_task = asyncio.create_task(run_bot(settings, stop=stop))
    fake.push_update(fake.text_update("你好", user_id=CUSTOMER))
    await _until(lambda: any(c.params.get("chat_id") == CUSTOMER for c in fake.calls("sendMessage", ok=True)))
    assert fake.calls("deleteWebhook")
    stop.set()  # mid long-poll: the unanswered getUpdates is cancelled, nothing is lost
    await asyncio.wait_for(bot_task, 5)
    assert f"KEFU_DB_PATH {db_path} does not exist: starting a new, empty database" in caplog.text


async def test_the_loaded_cores_are_frozen_and_the_young_generation_raised_while_the_bot_runs(fake, db_path):
    # issue 15, CPU: a full collection must not walk the language cores; the collector runs every
    # GC_YOUNG_THRESHOLD young objects, not every 700. Both through the real start path, then restored.
    gc.unfreeze()  # whatever an earlier test froze goes back to the collector
    assert gc.get_freeze_count() == 0
    before = gc.get_threshold()
    seen = {}

    def look(stack) -> None:  # called by run_bot once the bot is wired, before it receives anything
        cores = stack.desk.cores
        tracked = {id(o) for o in gc.get_objects()}  # the collector's generations; frozen objects are not
        seen.update(
            frozen=gc.get_freeze_count(),
            guard_frozen=gc.is_tracked(cores.guard) and id(cores.guard) not in tracked,
            scripts_frozen=gc.is_tracked(cores.scripts) and id(cores.scripts) not in tracked,
            threshold=gc.get_threshold(),
        )

    stop = asyncio.Event()
    bot_task = asyncio.create_task(run_bot(_settings(fake, db_path), stop=stop, on_stack=look))
    fake.push_update(fake.text_update("你好", user_id=CUSTOMER))
    await _until(lambda: any(c.params.get("chat_id") == CUSTOMER for c in fake.calls("sendMessage", ok=True)))
    assert gc.get_threshold()[0] == max(before[0], GC_YOUNG_THRESHOLD)
    stop.set()
    await asyncio.wait_for(bot_task, 5)
    assert seen["frozen"] > 100_000  # the cores' objects (hundreds of thousands), not a handful
    assert seen["guard_frozen"] and seen["scripts_frozen"]
    assert seen["threshold"] == (max(before[0], GC_YOUNG_THRESHOLD), *before[1:])
    assert gc.get_threshold() == before  # the caller's setting again


async def test_an_existing_database_is_not_announced_as_new(fake, db_path, caplog):
    open_storage(db_path).close()
    settings = _settings(fake, db_path)
    stop = asyncio.Event()
    bot_task = asyncio.create_task(run_bot(settings, stop=stop))
    await _until(lambda: fake.calls("getUpdates"))
    stop.set()
    await asyncio.wait_for(bot_task, 5)
    assert "does not exist" not in caplog.text


async def test_a_database_deleted_while_running_is_written_back_and_nothing_is_lost(
    fake, db_path, monkeypatch
):
    monkeypatch.setattr("bot.store.files.WATCH_S", 0.05)
    settings = _settings(fake, db_path)

    def answered() -> list[str]:
        return [
            c.params["text"] for c in fake.calls("sendMessage", ok=True) if c.params["chat_id"] == CUSTOMER
        ]

    stop = asyncio.Event()
    bot_task = asyncio.create_task(run_bot(settings, stop=stop))
    fake.push_update(fake.text_update("你好", user_id=CUSTOMER))
    await _until(lambda: len(answered()) == 1)
    for name in (db_path.name, f"{db_path.name}-wal", f"{db_path.name}-shm"):  # rm kefu.db*
        (db_path.parent / name).unlink(missing_ok=True)
    fake.push_update(fake.text_update("客服几点上班?", user_id=CUSTOMER))
    with pytest.raises(DatabaseLost, match="written back to"):
        await asyncio.wait_for(bot_task, 10)
    assert db_path.exists()
    restored = sqlite3.connect(db_path)
    assert [r[0] for r in restored.execute("SELECT text FROM messages WHERE direction = 'in'")][:1] == [
        "你好"
    ]
    restored.close()

    again = asyncio.Event()  # restarted (systemd would): it goes on from the restored file
    bot_task = asyncio.create_task(run_bot(settings, stop=again))
    await _until(lambda: len(answered()) >= 2 and fake.pending_updates() == 0)
    again.set()
    await asyncio.wait_for(bot_task, 5)
    check = sqlite3.connect(db_path)
    stored = [r[0] for r in check.execute("SELECT text FROM messages WHERE direction = 'in' ORDER BY id")]
    sent = check.execute(
        "SELECT count(*) FROM outbox WHERE status = 'sent' AND chat_id = ?", [CUSTOMER]
    ).fetchone()
    check.close()
    assert stored == ["你好", "客服几点上班?"]  # each once
    assert len(answered()) == sent[0]  # nothing answered twice


async def test_old_raw_updates_are_pruned_in_the_background(db_path):
    storage = open_storage(db_path)
    inbox = Inbox(storage)
    for update_id in (1, 2, 3):
        storage.db.execute(
            "INSERT INTO updates (update_id, raw, status, received_at, handled_at) "
            "VALUES (?, '{}', 'done', '2020-01-01T00:00:00+00:00', '2020-01-01T00:00:00+00:00')",
            [update_id],
        )
    storage.db.conn.commit()
    task = asyncio.create_task(prune_forever(inbox, 30, every_s=0.01))
    await _until(lambda: inbox.counts() == {"done": 1})  # the newest stays for the offset
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    storage.close()


async def test_sighup_does_not_stop_the_bot(fake, db_path, caplog):
    import logging
    import os
    import signal

    caplog.set_level(logging.INFO, logger="bot.ops.runner")
    settings = _settings(fake, db_path)
    stop = asyncio.Event()
    bot_task = asyncio.create_task(run_bot(settings, stop=stop))
    await _until(lambda: fake.calls("getUpdates"))
    os.kill(os.getpid(), signal.SIGHUP)  # what `systemctl reload kefu` (ExecReload) sends
    await _until(lambda: "SIGHUP: reload requested" in caplog.text)
    assert not bot_task.done()
    fake.push_update(fake.text_update("你好", user_id=CUSTOMER))
    await _until(lambda: any(c.params.get("chat_id") == CUSTOMER for c in fake.calls("sendMessage", ok=True)))
    stop.set()
    await asyncio.wait_for(bot_task, 5)
