"""guards.eval reports every set: the unseen hand-written sets when present, real replies by reference."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from guards import default_guard, realeval


def test_unseen_sets_are_reported_without_their_texts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    nearmiss = tmp_path / "guard_nearmiss_unseen.jsonl"
    reworded = tmp_path / "guard_reworded_unseen.jsonl"
    helpful = {"text": "您急什么时候用呢？", "label": "allowed"}
    nearmiss.write_text(json.dumps(helpful, ensure_ascii=False) + "\n")
    reworded.write_text(json.dumps({"text": "你自己去查吧", "label": "blocked"}, ensure_ascii=False) + "\n")
    monkeypatch.setattr(realeval, "UNSEEN", (nearmiss, reworded))
    monkeypatch.setattr(realeval, "REAL_LABELS", ())
    monkeypatch.setattr(realeval, "REAL_CONTEXT_LABELS", ())
    monkeypatch.setattr(realeval, "REAL_FILES", ())
    lines: list[str] = []
    assert realeval.report_all_sets(default_guard(), lines.append)
    report = "\n".join(lines)
    assert "guard_nearmiss_unseen.jsonl" in report and "guard_reworded_unseen.jsonl" in report
    assert "blocked   0.0%" in report and "caught  100.0%" in report
    assert "你自己去查吧" not in report and "您急什么时候用呢" not in report


def test_a_malformed_line_is_named_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "guard_reworded_unseen.jsonl"
    path.write_text('{"text": "你自己去查吧", "label": "rude"}\nnot json\n', encoding="utf-8")
    lines: list[str] = []
    realeval.report_hand_written(default_guard(), path, lines.append, counts=False)
    assert any(":2: not a case" in line for line in lines)
    assert any("caught  100.0%" in line for line in lines)


def _corpus(root: Path) -> None:
    """Write a two-line corpus: a plea then a plain question, each answered by the same flat refusal."""
    (root / "jddc").mkdir()
    (root / "jddc" / "train.enc").write_text(
        "你好,您好,求求你了能不能快点\n你好,您好,可以改地址吗\n", encoding="utf-8"
    )
    (root / "jddc" / "train.dec").write_text("地址不能改了哦\n地址不能改了哦\n", encoding="utf-8")


def test_the_context_of_a_reply_is_the_customer_turn_before_it(tmp_path: Path) -> None:
    from replies.realtext import Ref

    _corpus(tmp_path)
    assert realeval.context_of(Ref("jddc/train.dec", 1, 0), tmp_path) == "求求你了能不能快点"
    assert realeval.context_of(Ref("jddc/train.enc", 2, 1), tmp_path) == "你好"
    assert realeval.context_of(Ref("jddc/train.enc", 2, 0), tmp_path) is None
    assert realeval.context_of(Ref("jddc/train.dec", 9, 0), tmp_path) is None
    # an .enc label may name the customer's turn (the agent sent several messages after it)
    assert realeval.context_of(Ref("jddc/train.enc", 1, 2), tmp_path, context_turn=0) == "你好"
    assert realeval.context_of(Ref("jddc/train.enc", 1, 2), tmp_path, context_turn=2) is None


def test_real_replies_are_reported_text_only_and_with_context(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from replies.realtext import sha

    _corpus(tmp_path)
    monkeypatch.setenv("KEFU_REAL_DIR", str(tmp_path))
    labels = tmp_path / "agent_context_tuning.jsonl"
    rows = [
        {
            "file": "jddc/train.dec",
            "line": 1,
            "turn": 0,
            "sha": sha("地址不能改了哦"),
            "label": "review",
            "category": "推卸语",
            "note": "n",
            "split": "design",
        },
        {
            "file": "jddc/train.dec",
            "line": 2,
            "turn": 0,
            "sha": sha("地址不能改了哦"),
            "label": "allowed",
            "split": "check",
        },
    ]
    labels.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    lines: list[str] = []
    realeval.report_real_labels(default_guard(), "context tuning", labels, lines.append)
    report = "\n".join(lines)
    assert "text only    review-labelled caught:   0.0% (0 of 1" in report
    assert "with context review-labelled caught: 100.0% (1 of 1" in report
    assert "split design  with context rude caught 1 of 1" in report
    assert "split check   with context rude caught 0 of 0; allowed held 0 of 1" in report
    monkeypatch.setattr(realeval, "REAL_FILES", ("jddc/train.dec",))
    lines.clear()
    realeval.report_real_files(default_guard(), lines.append)
    assert "review 0 (0.00%) text only, 1 (50.00%) with context (+1)" in lines[0]
    assert "地址" not in "\n".join(lines)
