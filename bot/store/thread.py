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
from typing import Any, TypeVar

__all__ = ["StorageThread", "log_failure"]

T = TypeVar("T")
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
