"""Measure the intent router on labelled sets: ``python -m replies.eval [CASES.jsonl ...]``.

Prints, for each file, accuracy, per-intent precision/recall, the keyword-only baseline's accuracy
(first matching keyword wins) and every miss. Without arguments it measures the three packaged sets:
``tests/data/intent_cases.jsonl`` (the set the rules were tuned on),
``tests/data/intent_holdout.jsonl`` (written apart from the rules, but the lexicons were later tuned
against it too) and ``tests/data/intent_fresh.jsonl`` (170 messages, 10 per intent, written without
looking at the rules or the other sets and never tuned on: the honest estimate on unseen messages —
keep it that way, do not tune the lexicons on its misses).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from replies.router import INTENT_KEYS, Router, load_router

__all__ = [
    "DEFAULT_CASES",
    "DEFAULT_FRESH",
    "DEFAULT_HOLDOUT",
    "Case",
    "Report",
    "evaluate",
    "format_report",
    "load_cases",
    "main",
]

_DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
DEFAULT_CASES = _DATA / "intent_cases.jsonl"
DEFAULT_HOLDOUT = _DATA / "intent_holdout.jsonl"
DEFAULT_FRESH = _DATA / "intent_fresh.jsonl"


@dataclass(frozen=True, slots=True)
class Case:
    """One labelled message."""

    text: str
    intent: str


@dataclass(frozen=True)
class Report:
    """Result of an evaluation: accuracy, per-intent precision/recall, baseline accuracy and the misses."""

    total: int
    correct: int
    precision: dict[str, float]
    recall: dict[str, float]
    support: dict[str, int]
    baseline_correct: int
    misses: tuple[tuple[Case, str], ...]

    @property
    def accuracy(self) -> float:
        """Return the share of cases classified as labelled."""
        return self.correct / self.total if self.total else 0.0

    @property
    def baseline_accuracy(self) -> float:
        """Return the share the keyword-only baseline gets right."""
        return self.baseline_correct / self.total if self.total else 0.0


def load_cases(path: str | Path) -> list[Case]:
    """Return the cases of a JSONL file (``{"text":…, "intent":…}`` a line); ValueError names a bad line."""
    cases = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            case = Case(str(row["text"]), str(row["intent"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{Path(path).name}:{number}: not a case: {exc}") from None
        if case.intent not in INTENT_KEYS:
            raise ValueError(f"{Path(path).name}:{number}: unknown intent {case.intent!r}")
        cases.append(case)
    return cases


def evaluate(cases: Iterable[Case], router: Router | None = None) -> Report:
    """Return the :class:`Report` of ``router`` (default: the packaged rules) on ``cases``."""
    router = router or load_router()
    cases = list(cases)
    predicted = [router.classify(c.text).key for c in cases]
    baseline: Callable[[str], str] = router.keyword_baseline
    baseline_correct = sum(baseline(c.text) == c.intent for c in cases)
    precision, recall, support = {}, {}, {}
    for key in INTENT_KEYS:
        true_pos = sum(p == key and c.intent == key for p, c in zip(predicted, cases, strict=True))
        said = sum(p == key for p in predicted)
        actual = sum(c.intent == key for c in cases)
        support[key] = actual
        precision[key] = true_pos / said if said else 0.0
        recall[key] = true_pos / actual if actual else 0.0
    misses = tuple((c, p) for c, p in zip(cases, predicted, strict=True) if c.intent != p)
    return Report(
        total=len(cases),
        correct=len(cases) - len(misses),
        precision=precision,
        recall=recall,
        support=support,
        baseline_correct=baseline_correct,
        misses=misses,
    )


def format_report(report: Report) -> str:
    """Return the report as printed by ``python -m replies.eval``."""
    lines = [
        f"cases: {report.total}",
        f"accuracy: {report.accuracy:.1%} ({report.correct}/{report.total})",
        f"keyword-only baseline (first matching keyword wins): {report.baseline_accuracy:.1%}",
        "",
        f"{'intent':<20}{'precision':>10}{'recall':>10}{'n':>6}",
    ]
    for key in INTENT_KEYS:
        lines.append(
            f"{key:<20}{report.precision[key]:>10.1%}{report.recall[key]:>10.1%}{report.support[key]:>6}"
        )
    lines += ["", f"misses ({len(report.misses)}):"]
    lines += [f"  {case.intent:<18} → {got:<18} {case.text}" for case, got in report.misses]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the evaluation of the router on each cases file; return the exit status (2: bad input)."""
    parser = argparse.ArgumentParser(prog="python -m replies.eval", description=__doc__.splitlines()[0])
    parser.add_argument(
        "cases",
        nargs="*",
        default=[str(DEFAULT_CASES), str(DEFAULT_HOLDOUT), str(DEFAULT_FRESH)],
        help="JSONL files of labelled messages (default: the tuning, holdout and fresh sets)",
    )
    args = parser.parse_args(argv)
    try:
        sets = [(Path(name), load_cases(name)) for name in args.cases]
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    router = load_router()
    reports = [(path, evaluate(cases, router)) for path, cases in sets]
    for index, (path, report) in enumerate(reports):
        if index:
            print()
        print(f"== {path.name}")
        print(format_report(report))
    if len(reports) > 1:
        print("\nsummary:")
        for path, report in reports:
            print(
                f"  {path.name:<28} accuracy {report.accuracy:6.1%}"
                f"   keyword baseline {report.baseline_accuracy:6.1%}   n={report.total}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
