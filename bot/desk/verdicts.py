"""One memo of guard verdicts for the whole bot: a text checked once is not checked again.

The desk checks every script it renders before queuing it, and the outbound guard checks every call
to a customer before it leaves: the same text, twice. Both call :func:`check` here, so the second is
a dictionary lookup. The guard is pure (same catalogue, same text, same verdict), so a memo is safe;
it keeps the last :data:`MEMO_SIZE` texts.

Example::

    verdict = check("您好,请问有什么可以帮您?")   # the guard runs
    verdict = check("您好,请问有什么可以帮您?")   # remembered
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from guards import Guard, Verdict, default_guard

__all__ = ["MEMO_SIZE", "check"]

MEMO_SIZE = 4096
_memo: OrderedDict[str, Verdict] = OrderedDict()
_memo_guard: list[Guard | None] = [None]  # the guard the memo's verdicts are from
_lock = threading.Lock()  # the desk checks on the storage thread, the outbound guard on the event loop


def check(text: str) -> Verdict:
    """Return the default guard's verdict on ``text`` (:func:`guards.check`), remembered for the next time.

    A new default guard (the shop's ``banned.toml`` loaded or reloaded) starts a new memo.
    """
    guard = default_guard()
    with _lock:
        if _memo_guard[0] is not guard:
            _memo.clear()
            _memo_guard[0] = guard
        verdict = _memo.get(text)
        if verdict is not None:
            _memo.move_to_end(text)
            return verdict
    verdict = guard.check(text)
    with _lock:
        if _memo_guard[0] is guard:
            _memo[text] = verdict
            if len(_memo) > MEMO_SIZE:
                _memo.popitem(last=False)
    return verdict
