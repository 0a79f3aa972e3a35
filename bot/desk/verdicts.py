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

from datetime import datetime
from typing import Any, Protocol

from bot.desk.memo import Memo
from guards import Verdict

__all__ = ["MEMO_SIZE", "Checks", "VerdictMemo", "guard_event"]

MEMO_SIZE = 4096


class Checks(Protocol):
    """Anything with the guard's ``check(text, context=None) -> Verdict`` (a :class:`guards.Guard`, or a
    test's own). :meth:`VerdictMemo.check` passes ``context`` (the customer's last message) only when there
    is one, so a test's guard that never sees a context may take the text alone."""

    def check(self, text: str, context: str | None = None) -> Verdict: ...


class VerdictMemo(Memo[str, Verdict]):
    """The verdicts of one guard on the last :data:`MEMO_SIZE` texts (thread-safe, :class:`Memo`)."""

    def __init__(self, guard: Checks, size: int = MEMO_SIZE) -> None:
        super().__init__(guard.check, size)
        self.guard = guard
        self._in_context: Memo[tuple[str, str], Verdict] = Memo(lambda key: guard.check(*key), size)

    def check(self, text: str, context: str | None = None) -> Verdict:
        """Return the guard's verdict on ``text`` (:meth:`guards.Guard.check`), remembered for the next time.

        ``context``: the customer's last message, which the draft answers. The guard's context can only
        raise an allowed text to ``review``, so a text held on its own words keeps its own verdict, and
        the text's own verdict is checked (and remembered) first: the outbound guard, which sees the text
        alone, finds it here. A guard that raises remembers nothing: the next check tries again.
        """
        verdict = self(text)
        if not verdict.allowed or not context or not context.strip():
            return verdict
        return self._in_context((text, context))


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
