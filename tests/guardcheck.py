"""Shared checks for the guard's concept-round tests: which rules of one round hit a text."""

from __future__ import annotations

from guards import Guard, check


def concept_hits(text: str, marker: str, guard: Guard | None = None) -> set[tuple[str, str]]:
    """Return (rule id, category) of the concept rules whose id contains ``marker`` that hit ``text``.

    ``guard`` defaults to the packaged guard (rules and review model); pass
    ``guards.train_review.rules_only_guard()`` to ask the rules alone.
    """
    verdict = guard.check(text) if guard is not None else check(text)
    return {
        (hit.rule, hit.category)
        for hit in verdict.hits
        if hit.method == "concept" and hit.rule is not None and marker in hit.rule
    }


def assert_held(text: str) -> None:
    """Assert the packaged guard holds ``text`` (block or review)."""
    assert not check(text).allowed, text


def assert_allowed(text: str) -> None:
    """Assert the packaged guard lets ``text`` through (no block, no review)."""
    verdict = check(text)
    assert (verdict.allowed, verdict.level) == (True, None), (text, [hit.to_dict() for hit in verdict.hits])


def assert_blocked(text: str) -> None:
    """Assert the packaged guard blocks ``text`` (the confident level)."""
    verdict = check(text)
    assert verdict.level == "block", (text, verdict.level, [hit.to_dict() for hit in verdict.hits])
