"""The storage thread: the one thread that runs the running bot's storage work, off the event loop."""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import functools
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["GroupWrite", "StorageThread", "log_failure"]

T = TypeVar("T")
I = TypeVar("I")  # noqa: E741  (an item of a group write)
log = logging.getLogger(__name__)


class StorageThread:
    """The one thread that runs the running bot's storage work, one job at a time, in the order given.

    SQLite waits up to the busy timeout for a lock another process holds (a backup, an operator's
    ``sqlite3``, Datasette writing); on this thread that wait stalls storage work only, never the event
    loop, so the webhook, the board and every chat's network calls go on. One thread means one writer,
    and the order jobs are queued in is the order they run in (the inbox pump queues a chat's updates one
    after the other). ``urgent`` jobs (storing arriving updates, which Telegram waits on) go before the
    others already queued, in their own order.
    """

    def __init__(self) -> None:
        # Two queues (deque appends and pops are thread-safe); one wake-up token per job queued.
        self._urgent: collections.deque[Any] = collections.deque()
        self._normal: collections.deque[Any] = collections.deque()
        self._tokens: queue.SimpleQueue[None] = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name="kefu-storage", daemon=True)
        self._thread.start()

    async def run(self, fn: Callable[..., T], /, *args: Any, urgent: bool = False, **kwargs: Any) -> T:
        """Return ``fn(*args, **kwargs)`` run on the storage thread (raising what it raised).

        A job once queued always runs, even when the awaiting task is cancelled (a shutdown's grace
        period running out must not drop the record of a send Telegram already confirmed).
        """
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[T] = loop.create_future()
        call = functools.partial(fn, *args, **kwargs)
        self._put(urgent, call, functools.partial(_settle_soon, loop, waiter))
        return await waiter

    def submit(
        self, fn: Callable[..., T], /, *args: Any, urgent: bool = False, **kwargs: Any
    ) -> concurrent.futures.Future[T]:
        """Queue ``fn(*args, **kwargs)`` on the storage thread; return its future at once."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        future.set_running_or_notify_cancel()  # queued means it will run: it cannot be cancelled
        self._put(urgent, functools.partial(fn, *args, **kwargs), functools.partial(_settle_future, future))
        return future

    def post(self, fn: Callable[..., Any], /, *args: Any, urgent: bool = False) -> None:
        """Queue ``fn(*args)`` on the storage thread and return at once; nothing waits for it (its error
        is logged). Lighter than :meth:`submit`: no future to make and settle."""
        self._put(urgent, functools.partial(fn, *args), _log_settled)

    def close(self) -> None:
        """Run what is queued, then stop the thread (waits for it)."""
        if not self._closed:
            self._closed = True
            self._normal.append(None)  # after everything queued so far
            self._tokens.put(None)
            self._thread.join()

    @property
    def backlog(self) -> int:
        """Return how many jobs wait for the thread (the one running excluded)."""
        return len(self._urgent) + len(self._normal)

    def _put(self, urgent: bool, call: Callable[[], Any], settle: Callable[[Any, Any], None]) -> None:
        if self._closed:
            raise RuntimeError("the storage thread is closed")
        (self._urgent if urgent else self._normal).append((call, settle))
        self._tokens.put(None)

    def _serve(self) -> None:
        while True:
            self._tokens.get()
            job = self._urgent.popleft() if self._urgent else self._normal.popleft()
            if job is None:
                return
            call, settle = job
            try:
                result = call()
            except BaseException as exc:
                settle(None, exc)
            else:
                settle(result, None)


class GroupWrite(Generic[I]):
    """Small writes that many tasks wait for, done on the storage thread a group at a time.

    :meth:`write` queues one item and returns once the transaction holding it committed (or raises what
    the database raised). The first item queues a storage job at once; every item queued before that
    job starts goes in it too: one job, one transaction and one wake-up of the event loop for the group
    (a group commit). ``write_many`` gets the items in the order queued and returns, per item, None or
    that item's own error; anything it raises is every item's error. Like every storage job, a queued
    group is written even when its waiters are cancelled. ``most`` caps a group: the rest go in the next
    job, queued behind whatever else waits for the thread (so a long group holds no urgent job back long).
    """

    def __init__(
        self,
        thread: Callable[[], StorageThread],
        write_many: Callable[[list[I]], list[BaseException | None]],
        *,
        urgent: bool = False,
        most: int | None = None,
    ) -> None:
        self._thread = thread
        self._write_many = write_many
        self._urgent = urgent
        self._most = most
        self._items: collections.deque[tuple[I, asyncio.Future[None]]] = collections.deque()
        self._queued = False  # a job that will take the items is queued and has not started yet

    async def write(self, item: I) -> None:
        """Write ``item`` with whatever else is queued; return once it is committed."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._items.append((item, done))
        if not self._queued:
            self._queued = True
            try:
                self._thread().post(self._run, loop, urgent=self._urgent)
            except BaseException:
                self._queued = False
                self._items.remove((item, done))
                raise
        await done

    def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the storage thread: write every item queued so far, then wake their waiters."""
        self._queued = False  # before taking the group: an item queued from now on queues a new job
        group = []
        while self._items and (self._most is None or len(group) < self._most):
            group.append(self._items.popleft())
        if not group:
            return
        errors: list[BaseException | None]
        try:
            errors = list(self._write_many([item for item, _ in group]))
        except Exception as exc:
            errors = [exc] * len(group)
        with contextlib.suppress(RuntimeError):  # the loop is closed: no one waits any more
            loop.call_soon_threadsafe(_settle_group, [done for _, done in group], errors)
        if self._items and not self._queued:  # more than ``most`` waited: the rest go in the next job
            self._queued = True
            try:
                self._thread().post(self._run, loop, urgent=self._urgent)
            except RuntimeError:  # the thread is closing (a stop): the rest are written now, in this job
                self._run(loop)


def _log_settled(result: Any, error: BaseException | None) -> None:
    if error is not None:
        log.error("a storage job queued without waiting failed: %s: %s", type(error).__name__, error)


def _settle_group(waiters: list[asyncio.Future[None]], errors: list[BaseException | None]) -> None:
    for done, error in zip(waiters, errors, strict=True):
        if done.done():  # its task was cancelled; the item was written (or failed) all the same
            continue
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)


def _settle_soon(loop: Any, waiter: asyncio.Future[Any], result: Any, error: Any) -> None:
    with contextlib.suppress(RuntimeError):  # the loop is closed: no one waits any more
        loop.call_soon_threadsafe(_settle, waiter, result, error)


def _settle(waiter: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if waiter.done():  # its task was cancelled; the job ran all the same
        return
    if error is not None:
        waiter.set_exception(error)
    else:
        waiter.set_result(result)


def _settle_future(future: concurrent.futures.Future[Any], result: Any, error: BaseException | None) -> None:
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def log_failure(future: concurrent.futures.Future[Any]) -> None:
    """Log the error of a job queued without waiting, if it failed (returns nothing)."""
    if not future.cancelled() and (exc := future.exception()) is not None:
        log.error("a storage write queued without waiting failed: %s: %s", type(exc).__name__, exc)
