"""The normaliser: examples per step, and properties that hold for every string."""

from __future__ import annotations

import itertools
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guards.normalize import Normalized, fold, normalize

# Text that looks like what agents and customers type: CJK (both scripts), latin, digits,
# punctuation, full-width forms, emoji, invisible characters, combining marks.
_ALPHABET = st.one_of(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
    st.sampled_from(list("你您妳著麽裡甚麼不知道聽清楚謝謝謝快快快")),
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E),
    st.sampled_from(["\u200b", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e", "\u0336", "\ufe0f"]),
    st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF),
)
realistic_text = st.text(alphabet=_ALPHABET, max_size=80)
any_text = st.text(max_size=80)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＡＢＣ１２３", "abc123"),  # full-width -> half-width, case-fold
        ("Hello World", "heloworld"),  # whitespace dropped, "ll" collapses
        ("不\u200b知\u200d道\ufeff", "不知道"),  # zero-width and BOM dropped
        ("不\u00ad知\u202e道", "不知道"),  # soft hyphen and bidi control dropped
        ("不̶知̶道̶", "不知道"),  # combining strike-through dropped
        ("不，知。道！？", "不知道"),  # punctuation dropped
        ("不★知♥道→", "不知道"),  # symbols dropped
        ("不😡知🙄道👍🏽", "不知道"),  # emoji and skin-tone modifiers dropped
        ("這與我無關", "这与我无关"),  # traditional -> simplified
        ("聽不清楚", "听不清楚"),
        ("妳在講甚麼", "你在讲什么"),  # variant table: 妳, 甚麼
        ("著急", "着急"),
        ("快快快點", "快点"),  # runs of one character collapse
        ("谢谢您", "谢您"),
        ("订单1100元", "订单1100元"),  # digits never collapse
        ("", ""),
        ("！？。 ", ""),
    ],
)
def test_fold_examples(raw: str, expected: str) -> None:
    assert fold(raw) == expected
    assert normalize(raw).text == expected


@pytest.mark.parametrize(
    ("raw", "start", "end", "marked"),
    [
        ("喂，大聲一點兒！", 1, 6, "大聲一點兒"),
        ("我 不 知 道", 0, 4, "我 不 知 道"),
        ("请稍等。不\u200b知\u200b道", 3, 6, "不\u200b知\u200b道"),
        ("ＯＫ了", 0, 2, "ＯＫ"),
        ("好好好的", 0, 1, "好"),
    ],
)
def test_span_maps_back_to_original(raw: str, start: int, end: int, marked: str) -> None:
    norm = normalize(raw)
    begin, finish = norm.span(start, end)
    assert raw[begin:finish] == marked


def test_span_of_empty_range_is_empty() -> None:
    norm = normalize("不知道")
    assert norm.span(1, 1) == (1, 1)
    assert norm.span(3, 3) == (3, 3)
    assert Normalized("", ()).span(0, 0) == (0, 0)


def test_expanding_character_maps_every_piece_to_its_source() -> None:
    norm = normalize("a㎏b")  # NFKC: ㎏ -> kg
    assert norm.text == "akgb"
    assert norm.offsets == (0, 1, 1, 2)
    assert norm.span(1, 3) == (1, 2)


@settings(max_examples=300, deadline=None)
@given(st.one_of(realistic_text, any_text))
def test_never_raises_and_offsets_map_inside_the_original(text: str) -> None:
    norm = normalize(text)
    assert len(norm.offsets) == len(norm.text)
    assert all(0 <= offset < len(text) for offset in norm.offsets)
    assert list(norm.offsets) == sorted(norm.offsets)


@settings(max_examples=300, deadline=None)
@given(st.one_of(realistic_text, any_text))
def test_fold_equals_normalize_text(text: str) -> None:
    assert fold(text) == normalize(text).text


def test_a_chain_of_traditional_forms_is_followed_to_its_end() -> None:
    # OpenCC's t2s maps 薴 to 苧 and only a second pass maps 苧 to 苎 (found by the property below).
    assert fold("薴") == fold("苧") == "苎"
    assert fold(fold("薴")) == fold("薴")


@settings(max_examples=300, deadline=None)
@given(st.one_of(realistic_text, any_text))
def test_idempotent(text: str) -> None:
    once = fold(text)
    assert fold(once) == once
    assert normalize(once).text == once


@settings(max_examples=200, deadline=None)
@given(st.one_of(realistic_text, any_text))
def test_output_has_only_letters_and_numbers_and_no_repeats(text: str) -> None:
    out = fold(text)
    assert all(unicodedata.category(ch)[0] in "LN" for ch in out)
    assert all(a != b or a.isdigit() for a, b in itertools.pairwise(out))


@settings(max_examples=200, deadline=None)
@given(st.one_of(realistic_text, any_text), st.integers(0, 90), st.integers(0, 90))
def test_span_stays_inside_the_original(text: str, start: int, end: int) -> None:
    begin, finish = normalize(text).span(start, end)
    assert 0 <= begin <= finish <= max(len(text), 0) or (not text and begin == finish == 0)
