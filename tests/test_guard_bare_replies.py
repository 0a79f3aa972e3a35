"""Bare replies (issue 16): an agent reply of marks only — a lone ? or a row of dots — is held for review with
the documented phrasing it stands for; anything with words is left to the other rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guards import check
from guards.catalogue import CatalogueError
from guards.matcher import default_concepts
from guards.meaning import load_concepts
from tests.test_guard_meaning_dialect import resources_text


@pytest.mark.parametrize(
    ("text", "rule", "entry"),
    [
        ("?", "bare-question-mark", "bukeyi-05"),
        (" ？？ ", "bare-question-mark", "bukeyi-05"),
        ("。。。。", "bare-dots", "maiyuan-03"),
        ("……", "bare-dots", "maiyuan-03"),
    ],
)
def test_a_reply_of_marks_only_is_held_for_review(text: str, rule: str, entry: str) -> None:
    verdict = check(text)
    assert (verdict.allowed, verdict.level) == (False, "review")
    assert [(hit.rule, hit.entry_id) for hit in verdict.hits] == [(rule, entry)]
    assert verdict.suggestion and "？" in verdict.suggestion


@pytest.mark.parametrize("text", ["。", "= =", "", "   ", "好的?", "?好的", "！", "？！", "?" * 13])
def test_one_full_stop_other_marks_or_words_are_not_a_bare_reply(text: str) -> None:
    assert check(text).allowed, text


@given(st.text(min_size=1, max_size=20), st.text(alphabet="?？。.… ", max_size=6))
def test_no_reply_with_a_word_is_a_bare_reply(words: str, marks: str) -> None:
    concepts = default_concepts()
    assert concepts is not None
    if any(not ch.isspace() and ch not in "?？。.…⋯" for ch in words):
        assert concepts.bare_reply(marks + words + marks) is None


def test_a_bare_reply_pattern_is_checked_at_load(tmp_path) -> None:
    for bad, message in (('"[?"', "not a regular expression"), ('"你?"', "a bare reply is marks only")):
        text = resources_text().replace('pattern = "[?？]+"', f"pattern = {bad}", 1)
        path = tmp_path / "concepts.toml"
        path.write_text(text, encoding="utf-8")
        where = "bare_reply 'bare-question-mark': field 'pattern'"
        with pytest.raises(CatalogueError, match=f"{where}: {message}"):
            load_concepts(path)


def test_a_word_that_spells_out_too_many_strings_is_refused_at_load(tmp_path) -> None:
    # every spelling is keyed and stored at start-up: one such word once cost ten seconds of it
    word = "".join(f"({'|'.join('甲乙丙丁戊己庚辛壬癸')})" for _ in range(5))  # 10**5 spellings
    text = resources_text().replace('words = ["(也|就|)只能这样(了|的|子|)"', f'words = ["{word}"', 1)
    assert text != resources_text()
    path = tmp_path / "concepts.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"concept 'resigned-round5': field 'words': .*100,000 strings"):
        load_concepts(path)
