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
