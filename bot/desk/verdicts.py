"""A memo of one guard's verdicts (a text checked once is not checked again), and how a check is recorded.

The desk checks every script it renders before queuing it, and the outbound guard checks every call
to a customer before it leaves: the same text, twice. Both check through the same
:class:`~bot.desk.cores.Cores`, whose :class:`VerdictMemo` makes the second a dictionary lookup. The
guard is pure (same catalogue, same text, same verdict), so a memo is safe; it keeps the last
:data:`MEMO_SIZE` texts. Another guard (the shop's ``banned.toml`` reloaded) comes with a new memo.

Example::

    memo = VerdictMemo(default_guard())
    verdict = memo.check("您好,请问有什么可以帮您?")   # the guard runs
    verdict = memo.check("您好,请问有什么可以帮您?")   # remembered

:func:`guard_event` returns the ``guard_events`` fields of one check, for every place that records one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime
from typing import Any, Protocol

from guards import Verdict

__all__ = ["MEMO_SIZE", "Checks", "VerdictMemo", "guard_event"]

MEMO_SIZE = 4096


class Checks(Protocol):
    """Anything with the guard's ``check(text) -> Verdict`` (a :class:`guards.Guard`, or a test's own)."""

    def check(self, text: str) -> Verdict: ...


class VerdictMemo:
    """The verdicts of one guard on the last :data:`MEMO_SIZE` texts (thread-safe)."""

    def __init__(self, guard: Checks, size: int = MEMO_SIZE) -> None:
        self.guard = guard
        self.size = size
        self._memo: OrderedDict[str, Verdict] = OrderedDict()
        # The desk checks on the storage thread, the outbound guard on the event loop.
        self._lock = threading.Lock()

    def check(self, text: str) -> Verdict:
        """Return the guard's verdict on ``text`` (:meth:`guards.Guard.check`), remembered for the next time.

        A guard that raises remembers nothing: the next check tries again.
        """
        with self._lock:
            verdict = self._memo.get(text)
            if verdict is not None:
                self._memo.move_to_end(text)
                return verdict
        verdict = self.guard.check(text)
        with self._lock:
            self._memo[text] = verdict
            if len(self._memo) > self.size:
                self._memo.popitem(last=False)
        return verdict


def guard_event(
    source: str,
    text: str,
    verdict: Verdict | None,
    at: datetime,
    *,
    agent_id: int | None = None,
    customer_id: int | None = None,
    allowed: bool | None = None,
) -> dict[str, Any]:
    """Return the ``guard_events`` fields recording one check of ``text`` (``storage.add_guard_event(**…)``).

    ``verdict`` None means the guard failed: the words were held, with no hits. ``allowed`` overrides
    the verdict's own answer (an agent's audited 仍然发送 on a review-level hold).
    """
    return {
        "source": source,
        "text": text,
        "allowed": (verdict is not None and verdict.allowed) if allowed is None else allowed,
        "hits": verdict.to_dict()["hits"] if verdict else [],
        "suggestion": verdict.suggestion if verdict else None,
        "at": at,
        "agent_id": agent_id,
        "customer_id": customer_id,
    }
