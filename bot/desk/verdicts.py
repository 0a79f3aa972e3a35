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
from datetime import datetime
from typing import Any

from guards import Guard, Verdict, default_guard

__all__ = ["MEMO_SIZE", "check", "guard_event"]

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
