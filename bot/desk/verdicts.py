"""A memo of one guard's verdicts: a text checked once is not checked again.

The desk checks every script it renders before queuing it, and the outbound guard checks every call
to a customer before it leaves: the same text, twice. Both check through the same
:class:`~bot.desk.cores.Cores`, whose :class:`VerdictMemo` makes the second a dictionary lookup. The
guard is pure (same catalogue, same text, same verdict), so a memo is safe; it keeps the last
:data:`MEMO_SIZE` texts. Another guard (the shop's ``banned.toml`` reloaded) comes with a new memo.

Example::

    memo = VerdictMemo(default_guard())
    verdict = memo.check("您好,请问有什么可以帮您?")   # the guard runs
    verdict = memo.check("您好,请问有什么可以帮您?")   # remembered
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Protocol

from guards import Verdict

__all__ = ["MEMO_SIZE", "Checks", "VerdictMemo"]

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
