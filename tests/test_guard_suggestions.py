"""Every suggestion the guard offers can be sent in a chat as it stands and fits the draft it replaces."""

from __future__ import annotations

import re

import pytest

from guards import check, default_concepts, load_catalogue

PHONE_WORDS = ("电话", "话筒", "挂机", "线路", "来电", "再拨", "回电", "接听")
HALF_WIDTH_PUNCTUATION = re.compile(r"[,!?;:()]")


def all_suggestions() -> list[tuple[str, str]]:
    catalogue = [(entry.id, entry.suggestion) for entry in load_catalogue().entries]
    concepts = [(c.id, c.suggestion) for c in default_concepts().data.concept if c.suggestion]
    bare = [(b.id, b.suggestion) for b in default_concepts().data.bare_reply]
    return catalogue + concepts + bare


@pytest.mark.parametrize(("owner", "text"), all_suggestions())
def test_every_suggestion_is_chat_ready(owner: str, text: str) -> None:
    assert "先生" not in text and "小姐" not in text, owner
    assert "**" not in text and "XX" not in text and "……" not in text, owner
    assert "（" not in text and "/" not in text, owner
    assert not any(word in text for word in PHONE_WORDS), owner
    assert HALF_WIDTH_PUNCTUATION.search(text) is None, owner
    assert text[-1] in "。！？", owner


def test_every_concept_says_where_its_suggestion_comes_from() -> None:
    for concept in default_concepts().data.concept:
        assert concept.suggestion and concept.suggestion_source, concept.id


@pytest.mark.parametrize(
    ("draft", "unfit"),
    [
        ("这是公司规定，我也没办法", "线路"),
        ("系统有故障，我能有什么办法", "线路"),
        ("不清楚", "久等"),
    ],
)
def test_suggestion_fits_the_draft(draft: str, unfit: str) -> None:
    verdict = check(draft)
    assert verdict.suggestion and unfit not in verdict.suggestion


def test_every_concept_and_bare_reply_names_a_catalogue_entry() -> None:
    entries = {entry.id for entry in load_catalogue().entries}
    data = default_concepts().data
    for item in (*data.concept, *data.bare_reply):
        assert item.entry in entries, (item.id, item.entry)
