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

from collections import OrderedDict

from guards import Verdict
from guards import check as guard_check

__all__ = ["MEMO_SIZE", "check"]

MEMO_SIZE = 4096
_memo: OrderedDict[str, Verdict] = OrderedDict()


def check(text: str) -> Verdict:
    """Return the guard's verdict on ``text`` (:func:`guards.check`), remembered for the next time."""
    verdict = _memo.get(text)
    if verdict is not None:
        _memo.move_to_end(text)
        return verdict
    verdict = guard_check(text)
    _memo[text] = verdict
    if len(_memo) > MEMO_SIZE:
        _memo.popitem(last=False)
    return verdict
