"""Show where a verdict's hits are in the original text (Hit.start/end are original offsets)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

__all__ = ["mark_spans"]


def mark_spans(
    text: str, spans: Iterable[tuple[int, int]], style: Callable[[str], str] = lambda piece: f"【{piece}】"
) -> str:
    """Return ``text`` with each ``(start, end)`` span passed through ``style`` (overlaps merged).

    >>> mark_spans("好的,我不知道。", [(3, 7)])
    '好的,【我不知道】。'
    """
    merged: list[list[int]] = []
    for start, end in sorted((max(0, s), min(len(text), e)) for s, e in spans if e > s):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, last = [], 0
    for start, end in merged:
        out += [text[last:start], style(text[start:end])]
        last = end
    out.append(text[last:])
    return "".join(out)
