"""The labelled real agent replies: valid references into jddc/train.* only, one label per piece."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from replies.realtext import read_labels, real_dir

REAL = Path(__file__).resolve().parent / "data" / "real"
TUNING = ("agent_tuning.jsonl", "agent_tuning2.jsonl", "agent_tuning3.jsonl", "agent_tuning4.jsonl")
CATEGORIES = {"讽刺语", "命令语", "责备语", "埋怨语", "教训语", "推卸语", "烦躁语", "随意附和语", "不可以说"}


def _rows(name: str) -> list[dict]:
    lines = (REAL / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.mark.parametrize("name", TUNING)
def test_a_tuning_file_labels_training_pieces_only_each_once(name: str) -> None:
    rows = _rows(name)
    assert rows
    assert {row["file"] for row in rows} <= {"jddc/train.dec", "jddc/train.enc"}  # test.* is report-only
    keys = Counter((row["file"], row["line"], row["turn"]) for row in rows)
    assert max(keys.values()) == 1
    for row in rows:
        assert ("label" in row) != ("skip" in row), row
        if row.get("label") in ("blocked", "review"):
            assert row["category"] in CATEGORIES and row["note"], row
        else:
            assert row.get("label", "allowed") == "allowed" and "category" not in row, row


def test_the_second_tuning_file_labels_no_piece_of_the_first() -> None:
    first = {(row["file"], row["line"], row["turn"]) for row in _rows(TUNING[0])}
    second = {(row["file"], row["line"], row["turn"]) for row in _rows(TUNING[1])}
    assert not first & second


def test_the_third_tuning_file_labels_no_piece_of_the_others_and_records_its_batches() -> None:
    earlier = {(row["file"], row["line"], row["turn"]) for name in TUNING[:2] for row in _rows(name)}
    rows = _rows(TUNING[2])
    assert not earlier & {(row["file"], row["line"], row["turn"]) for row in rows}
    # the random draws first, then the searched batches, each in corpus order (README: agent_tuning3)
    sources = [row["src"] for row in rows]
    assert sources == sorted(sources, key=lambda src: src != "random-17")
    batches = [(row["src"], row["batch"]) for row in rows]
    assert batches[0] == ("random-17", "seed-1703")
    assert len(batches) == len(rows) and all(batch for _, batch in batches)
    for start, end in _runs(batches):
        refs = [(row["file"], row["line"], row["turn"]) for row in rows[start:end]]
        assert refs == sorted(refs), batches[start]


def test_the_fourth_tuning_file_labels_no_piece_of_the_others_and_records_its_searches() -> None:
    earlier = {(row["file"], row["line"], row["turn"]) for name in TUNING[:3] for row in _rows(name)}
    rows = _rows(TUNING[3])
    assert not earlier & {(row["file"], row["line"], row["turn"]) for row in rows}
    # every piece found by one of the round-6 searches, each batch in corpus order (README: agent_tuning4)
    assert {row["src"] for row in rows} == {"search-18"}
    batches = [row["batch"] for row in rows]
    assert all(batches) and len(set(batches)) == len(_runs(batches))  # a batch is one run
    for start, end in _runs(batches):
        refs = [(row["file"], row["line"], row["turn"]) for row in rows[start:end]]
        assert refs == sorted(refs), batches[start]


def _runs(items: list) -> list[tuple[int, int]]:
    """Return the (start, end) of each run of equal neighbours in ``items``."""
    runs, start = [], 0
    for i in range(1, len(items) + 1):
        if i == len(items) or items[i] != items[start]:
            runs.append((start, i))
            start = i
    return runs


CORPUS_ABSENT = not (real_dir() / "jddc" / "train.dec").exists()


@pytest.mark.skipif(CORPUS_ABSENT, reason="the real corpus is not beside the checkout")
def test_the_second_tuning_file_reads_from_the_corpus() -> None:
    labels = Counter(label.get("label", label.get("skip")) for _, _, label in read_labels(REAL / TUNING[1]))
    assert labels["allowed"] > 800 and labels["review"] + labels["blocked"] > 60


@pytest.mark.skipif(CORPUS_ABSENT, reason="the real corpus is not beside the checkout")
def test_the_third_tuning_file_reads_from_the_corpus() -> None:
    """Every label resolves (file, line, turn and sha); 1,500 replies or more, 500 or more drawn at random."""
    labels = list(read_labels(REAL / TUNING[2]))
    kinds = Counter(label.get("label", label.get("skip")) for _, _, label in labels)
    assert len(labels) >= 1500 and kinds["review"] + kinds["blocked"] >= 30
    assert sum(label["src"] == "random-17" for _, _, label in labels) >= 500


@pytest.mark.skipif(CORPUS_ABSENT, reason="the real corpus is not beside the checkout")
def test_the_fourth_tuning_file_reads_from_the_corpus() -> None:
    """Every label resolves (file, line, turn and sha); 300 replies or more, rude ones among them."""
    labels = list(read_labels(REAL / TUNING[3]))
    kinds = Counter(label.get("label", label.get("skip")) for _, _, label in labels)
    assert len(labels) >= 300 and kinds["review"] + kinds["blocked"] >= 10


CONTEXT = "agent_context_tuning.jsonl"


def _assert_context_label(row: dict) -> None:
    """A context label: its split by line parity, allowed or review, and a review names category and why."""
    assert row["split"] == ("design" if row["line"] % 2 else "check"), row
    assert row["label"] in ("allowed", "review"), row
    if row["label"] == "review":
        assert row["category"] in CATEGORIES and row["note"], row
    else:
        assert "category" not in row, row


def test_the_context_file_labels_training_replies_none_of_the_others_with_a_split_by_line_parity() -> None:
    """agent_context_tuning.jsonl (README): train.dec replies only, none labelled elsewhere, each with the
    split it belongs to (design: odd line, check: even line) and its search."""
    rows = _rows(CONTEXT)
    assert len(rows) >= 200
    assert {row["file"] for row in rows} == {"jddc/train.dec"}
    earlier = {(row["file"], row["line"], row["turn"]) for name in TUNING for row in _rows(name)}
    keys = [(row["file"], row["line"], row["turn"]) for row in rows]
    assert len(set(keys)) == len(keys) and not earlier & set(keys) and keys == sorted(keys)
    for row in rows:
        assert row["src"] == "search-context"
        _assert_context_label(row)


@pytest.mark.skipif(CORPUS_ABSENT, reason="the real corpus is not beside the checkout")
def test_the_context_file_reads_from_the_corpus() -> None:
    labels = list(read_labels(REAL / CONTEXT))
    kinds = Counter((label["split"], label["label"]) for _, _, label in labels)
    assert kinds[("design", "review")] >= 5 and kinds[("check", "review")] >= 5


CONTEXT2 = "agent_context_check2.jsonl"


def test_the_second_context_file_labels_agent_turns_of_train_enc_none_labelled_elsewhere() -> None:
    """agent_context_check2.jsonl (README): agent turns inside train.enc sessions, none labelled in another
    file, each with the customer turn it was read after (context_turn), its batch in corpus order, a split by
    line parity; the draw's customer turns kept as skips."""
    rows = _rows(CONTEXT2)
    assert len(rows) >= 400
    assert {row["file"] for row in rows} == {"jddc/train.enc"}
    keys = [(row["file"], row["line"], row["turn"]) for row in rows]
    assert len(set(keys)) == len(keys)
    others = {
        (row["file"], row["line"], row["turn"])
        for path in sorted(REAL.glob("*.jsonl"))
        if path.name != CONTEXT2
        for row in _rows(path.name)
    }
    assert not others & set(keys)
    batches = [row["src"] for row in rows]
    assert batches == sorted(batches, key=["random-context2", "plea-context2", "session-context2"].index)
    for start, end in _runs(batches):
        assert keys[start:end] == sorted(keys[start:end]), batches[start]
    for row in rows:
        if "skip" in row:
            assert row["split"] == ("design" if row["line"] % 2 else "check")
            assert row["skip"] == "customer" and "label" not in row, row
            continue
        assert 0 <= row["context_turn"] < row["turn"], row
        _assert_context_label(row)


@pytest.mark.skipif(CORPUS_ABSENT, reason="the real corpus is not beside the checkout")
def test_the_second_context_file_reads_from_the_corpus() -> None:
    labels = list(read_labels(REAL / CONTEXT2))
    kinds = Counter((label["split"], label.get("label")) for _, _, label in labels)
    assert kinds[("design", "review")] >= 10 and kinds[("check", "review")] >= 10
