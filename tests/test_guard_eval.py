"""The labelled cases: coverage of the catalogue, the quality targets, and every reply script passes."""

from __future__ import annotations

import json
import tomllib
from collections import Counter
from pathlib import Path

import pytest

from guards import check, default_guard, load_catalogue
from guards.eval import DEFAULT_CASES, FP_TARGETS, RECALL_TARGETS, evaluate, load_cases, main

CASES = load_cases(DEFAULT_CASES)
SCRIPTS = Path(__file__).resolve().parent.parent / "replies" / "scripts.toml"


def test_cases_cover_every_entry_with_three_variants() -> None:
    per_entry = Counter(case.entry_id for case in CASES if case.label == "blocked")
    for entry in load_catalogue().entries:
        assert per_entry[entry.id] >= 3, entry.id
    assert set(per_entry) <= {entry.id for entry in load_catalogue().entries}


def test_cases_have_every_kind_and_enough_allowed() -> None:
    kinds = {(case.label, case.kind) for case in CASES}
    for kind in ("exact", "embedded", "obfuscated", "edited", "paraphrased"):
        assert ("blocked", kind) in kinds
    for kind in ("script", "hard_negative", "ordinary"):
        assert ("allowed", kind) in kinds
    assert sum(case.label == "allowed" for case in CASES) >= 150


def test_eval_meets_every_target() -> None:
    report = evaluate(default_guard(), CASES)
    assert report.ok, "\n".join(report.lines())
    for kind, target in RECALL_TARGETS.items():
        assert report.by_kind(kind).rate >= target
    for kind, target in FP_TARGETS.items():
        assert report.by_kind(kind).rate <= target


def test_eval_command_exits_1_when_a_target_is_missed(tmp_path: Path) -> None:
    from click.testing import CliRunner

    bad = tmp_path / "cases.jsonl"
    bad.write_text(
        json.dumps({"text": "您好", "label": "blocked", "kind": "exact", "entry_id": "x"}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, [str(bad)])
    assert result.exit_code == 1
    assert "MISSED" in result.output
    assert "missed [exact] (x): 您好" in result.output


def test_eval_command_passes_on_the_shipped_cases() -> None:
    from click.testing import CliRunner

    result = CliRunner().invoke(main, [])
    assert result.exit_code == 0, result.output
    assert "obfuscated" in result.output


def _script_texts() -> list[str]:
    if not SCRIPTS.exists():
        return []
    data = tomllib.loads(SCRIPTS.read_text(encoding="utf-8"))
    texts = []
    for table in data.values():
        if isinstance(table, dict) and isinstance(table.get("text"), str):
            texts.append(table["text"])
            for variant in table.get("variants", {}).values():
                texts.append(variant["text"])
    return texts


@pytest.mark.skipif(not SCRIPTS.exists(), reason="replies/scripts.toml not written yet")
@pytest.mark.parametrize("text", _script_texts())
def test_every_reply_script_passes_the_guard(text: str) -> None:
    verdict = check(text)
    assert verdict.allowed, verdict.hits
