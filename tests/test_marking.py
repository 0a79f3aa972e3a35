"""Marking hits in the original text: one function behind the CLI, the demo and the staff topic."""

from __future__ import annotations

import pytest

from guards import check, mark_spans


@pytest.mark.parametrize(
    ("spans", "expected"),
    [
        ([], "abcdef"),
        ([(1, 3)], "a【bc】def"),
        ([(1, 3), (2, 5)], "a【bcde】f"),
        ([(4, 6), (0, 1)], "【a】bcd【ef】"),
        ([(-3, 2), (5, 99)], "【ab】cde【f】"),
        ([(3, 3)], "abcdef"),
    ],
)
def test_mark_spans(spans, expected):
    assert mark_spans("abcdef", spans) == expected


def test_marks_land_on_the_original_characters_of_an_obfuscated_hit():
    text = "好的,我 不\u200b知 道。"
    verdict = check(text)
    assert not verdict.allowed
    marked = mark_spans(text, [(h.start, h.end) for h in verdict.hits], lambda piece: f"<{piece}>")
    assert "<我 不\u200b知 道>" in marked
