"""The event loop never waits on SQLite (issue 11, item 6). Another process holds the database locked for
10 s (a second connection with ``BEGIN EXCLUSIVE``, the bot's busy timeout left at its real 5 s): the
webhook and ``/healthz`` still answer within 100 ms, and once the lock is released nothing is lost."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from conftest import STAFF_CHAT_ID, TEST_TOKEN, BotStack

from bot.ops.settings import load_settings
from bot.store.sqlite import StorageThread
from bot.telegram.webhook import HEALTHZ_PATH, SECRET_HEADER, STORE_WAIT_S, build_webhook_app

SECRET = "storage-thread-secret"
LOCK_S = 10.0  # the figure
# The issue asks for answers within 0.1 s while the lock is held (the webhook gives up waiting for storage
# after STORE_WAIT_S = 0.05 s). A test is no stopwatch on a shared 2-core machine: 1 s is ten times the
# issue's bound and still a tenth of the lock, so a handler or loop that waited for the lock fails here.
ANSWER_WITHIN_S = 1.0
POST_EVERY_S = 0.5
FIRST_CUSTOMER = 7100


class Loop:
    """Measures how late the event loop wakes a 10 ms sleeper: the longest stall it saw."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(0.01)
            self.worst = max(self.worst, loop.time() - before - 0.01)

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch())

    async def stop(self) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


async def _timed(http: aiohttp.ClientSession, method: str, url: str, **kwargs) -> tuple[int, float]:
    loop = asyncio.get_running_loop()
    start = loop.time()
    async with http.request(method, url, **kwargs) as response:
        await response.read()
        return response.status, loop.time() - start


@pytest.fixture
async def stack(fake, db_path):
    settings = load_settings(
        bot_token=TEST_TOKEN,
        staff_chat_id=STAFF_CHAT_ID,
        db_path=db_path,
        business_hours="00:00-24:00",  # on the real clock: no off-hours reply to account for
        send_limits="inf,inf,inf",
    )
    stack = BotStack(fake, settings)
    runner = web.AppRunner(build_webhook_app(stack.pump, path="/hook", secret=SECRET), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    stack.url = f"http://{host}:{port}"
    sender = asyncio.create_task(stack.sender.run())
    yield stack
    stack.sender.stop()
    await asyncio.gather(sender, return_exceptions=True)
    await runner.cleanup()
    stack.close()


async def test_a_lock_held_for_10_s_stalls_neither_the_webhook_nor_healthz_and_loses_nothing(stack, fake):
    hook, health = f"{stack.url}/hook", f"{stack.url}{HEALTHZ_PATH}"
    headers = {SECRET_HEADER: SECRET}
    updates = []
    loop_watch = Loop()
    async with aiohttp.ClientSession() as http:
        first = {**fake.text_update("在吗", user_id=FIRST_CUSTOMER), "update_id": 1}
        assert (await _timed(http, "POST", hook, json=first, headers=headers))[0] == 200
        updates.append(first)

        other = sqlite3.connect(stack.settings.db_path, isolation_level=None, timeout=10)
        other.execute("BEGIN EXCLUSIVE")  # a backup, an operator's sqlite3, a Datasette write …
        loop_watch.start()
        loop = asyncio.get_running_loop()
        locked_at, refused, answers = loop.time(), [], []
        while loop.time() - locked_at < LOCK_S:
            update_id = len(updates) + 1
            update = {**fake.text_update("你好", user_id=FIRST_CUSTOMER + update_id), "update_id": update_id}
            updates.append(update)
            status, took = await _timed(http, "POST", hook, json=update, headers=headers)
            answers.append(("webhook", status, took))
            if status != 200:
                refused.append(update)
            answers.append(("healthz", *await _timed(http, "GET", health)))
            await asyncio.sleep(POST_EVERY_S)
        other.execute("COMMIT")
        other.close()
        await loop_watch.stop()

        slow = [(what, status, round(took, 3)) for what, status, took in answers if took >= ANSWER_WITHIN_S]
        assert slow == [], f"answers slower than {ANSWER_WITHIN_S} s while the database was locked: {slow}"
        assert {status for what, status, _ in answers if what == "webhook"} <= {200, 503}
        assert all(status == 200 for what, status, _ in answers if what == "healthz")
        assert refused, "the database was locked: some update must have been refused for Telegram to repeat"
        assert loop_watch.worst < ANSWER_WITHIN_S

        # Telegram repeats what got a 503; each repeat is stored (or found stored already) and acknowledged.
        for update in refused:
            async with asyncio.timeout(30):
                while (await _timed(http, "POST", hook, json=update, headers=headers))[0] != 200:
                    await asyncio.sleep(0.2)

    await stack.pump.drain()
    async with asyncio.timeout(30):
        while stack.sender.unrecorded or stack.storage.outbox("pending"):
            await stack.sender.flush()
            await asyncio.sleep(0.05)
    assert {stack.status(u["update_id"]) for u in updates} == {"done"}
    customers = {u["message"]["chat"]["id"] for u in updates}
    stored = {c for c in customers if any(m.direction == "in" for m in stack.storage.messages(c))}
    assert stored == customers  # every message is in the database
    answered = {c.params["chat_id"] for c in fake.calls("sendMessage", ok=True)}
    assert customers <= answered  # and every customer got an answer


async def test_the_storage_thread_runs_jobs_in_order_with_urgent_ones_first():
    worker = StorageThread()
    gate = threading.Event()
    done: list[str] = []
    blocker = worker.submit(gate.wait)  # holds the thread while the others queue up
    futures = [
        worker.submit(done.append, "a"),
        worker.submit(done.append, "b"),
        worker.submit(done.append, "stored-update-1", urgent=True),
        worker.submit(done.append, "stored-update-2", urgent=True),
    ]
    gate.set()
    blocker.result(5)
    for future in futures:
        future.result(5)
    worker.close()
    assert done == ["stored-update-1", "stored-update-2", "a", "b"]
    with pytest.raises(RuntimeError):
        worker.submit(done.append, "late")


async def test_a_job_error_is_raised_to_the_awaiting_adapter():
    worker = StorageThread()
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        await worker.run(_locked)
    assert await worker.run(sum, [1, 2]) == 3
    worker.close()


def _locked() -> None:
    raise sqlite3.OperationalError("database is locked")


def test_the_webhook_store_wait_is_documented_and_under_the_bound():
    assert STORE_WAIT_S < ANSWER_WITHIN_S
    figure = f"{STORE_WAIT_S * 1000:.0f} ms"
    root = Path(__file__).resolve().parent.parent
    assert figure in (root / "README.md").read_text()
    assert figure in (root / "deploy" / "README.md").read_text()


async def test_a_queued_job_still_runs_when_its_awaiting_task_is_cancelled(db_path):
    """A shutdown's grace period running out must not drop the record of a send Telegram confirmed."""
    from bot.store.sqlite import open_storage

    storage = open_storage(db_path)
    gate = threading.Event()
    storage.thread.submit(gate.wait)  # the thread is busy: the next job waits in the queue
    waiting = asyncio.create_task(storage.run(storage.set_state, "recorded", "yes"))
    await asyncio.sleep(0.05)
    waiting.cancel()
    gate.set()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    storage.finish()
    assert storage.state("recorded") == "yes"
    storage.close()


def _recorder(groups: list[list]):
    """Return a group writer that records each group it is given in ``groups``; an item "bad" fails."""

    def write_many(items: list) -> list[BaseException | None]:
        groups.append(items)
        return [ValueError(item) if item == "bad" else None for item in items]

    return write_many


async def test_a_group_write_takes_everything_queued_while_the_thread_was_busy_in_one_job():
    from bot.store.thread import GroupWrite

    worker = StorageThread()
    groups: list[list[str]] = []
    writes = GroupWrite(lambda: worker, _recorder(groups))
    gate = threading.Event()
    worker.submit(gate.wait)  # the thread is busy: the writes queue up behind it
    tasks = [asyncio.create_task(writes.write(item)) for item in ("a", "bad", "c")]
    await asyncio.sleep(0.05)
    gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert groups == [["a", "bad", "c"]]  # one job, in the order queued
    assert results[0] is None and results[2] is None and isinstance(results[1], ValueError)
    await writes.write("d")  # the thread is idle now: a group of one, written at once
    assert groups[-1] == ["d"]
    worker.close()


async def test_a_group_write_fails_every_item_of_a_group_whose_transaction_failed():
    from bot.store.thread import GroupWrite

    worker = StorageThread()
    writes = GroupWrite(lambda: worker, lambda items: _locked())
    results = await asyncio.gather(writes.write(1), writes.write(2), return_exceptions=True)
    assert all(isinstance(r, sqlite3.OperationalError) for r in results)
    worker.close()


async def test_a_group_write_is_written_when_its_waiter_is_cancelled():
    """Like any storage job: a stop's grace period ending must not drop a confirmed send's record."""
    from bot.store.thread import GroupWrite

    worker = StorageThread()
    groups: list[list[int]] = []
    writes = GroupWrite(lambda: worker, _recorder(groups))
    gate = threading.Event()
    worker.submit(gate.wait)
    waiting = asyncio.create_task(writes.write(7))
    await asyncio.sleep(0.05)
    waiting.cancel()
    gate.set()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    worker.close()
    assert groups == [[7]]


async def test_a_group_write_takes_at_most_its_limit_per_job_and_queues_the_rest():
    from bot.store.thread import GroupWrite

    worker = StorageThread()
    groups: list[list[int]] = []
    writes = GroupWrite(lambda: worker, _recorder(groups), most=2)
    gate = threading.Event()
    worker.submit(gate.wait)
    tasks = [asyncio.create_task(writes.write(n)) for n in range(5)]
    await asyncio.sleep(0.05)
    gate.set()
    assert await asyncio.gather(*tasks) == [None] * 5
    assert groups == [[0, 1], [2, 3], [4]]  # in the order queued, none lost
    worker.close()


async def test_a_capped_group_write_still_writes_the_rest_when_the_thread_is_closing():
    """A stop closes the storage thread: the items past the cap are written in the job already running."""
    from bot.store.thread import GroupWrite

    worker = StorageThread()
    groups: list[list[int]] = []
    writes = GroupWrite(lambda: worker, _recorder(groups), most=1)
    gate = threading.Event()
    worker.submit(gate.wait)
    tasks = [asyncio.create_task(writes.write(n)) for n in range(3)]
    await asyncio.sleep(0.05)
    closing = threading.Thread(target=worker.close)
    closing.start()
    await asyncio.sleep(0.05)
    gate.set()
    assert await asyncio.wait_for(asyncio.gather(*tasks), 5) == [None] * 3
    closing.join()
    assert groups == [[0], [1], [2]]
