"""Measure the guard on labelled cases: recall per kind of banned variant, false positives per allowed kind.

Run ``python -m guards.eval [CASES.jsonl] [--catalogue banned.toml]``. Each line of a cases file is
``{"text", "label": "blocked"|"allowed", "kind", "entry_id"?}``. Prints one line per kind and every
miss; exits 1 when a target is missed.

Without CASES it reports every set (see :mod:`guards.realeval`): ``tests/data/guard_cases.jsonl``,
the hand-written meaning tuning set, the unseen hand-written sets when present (never tuned on),
the labelled real agent replies (tuning and report-only eval) and all real agent replies of the
corpus, with every block listed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import click

from guards.catalogue import CatalogueError, load_catalogue
from guards.matcher import Guard

__all__ = ["FP_TARGETS", "RECALL_TARGETS", "Case", "EvalReport", "evaluate", "load_cases", "main"]

DEFAULT_CASES = Path(__file__).resolve().parent.parent / "tests" / "data" / "guard_cases.jsonl"

# Minimum recall per kind of banned variant (paraphrases are reported, not targeted).
RECALL_TARGETS: Mapping[str, float] = MappingProxyType(
    {"exact": 1.0, "embedded": 1.0, "obfuscated": 0.97, "edited": 0.90}
)
# Maximum false-positive rate per kind of allowed text.
FP_TARGETS: Mapping[str, float] = MappingProxyType({"script": 0.0, "hard_negative": 0.02})


@dataclass(frozen=True, slots=True)
class Case:
    """One labelled message."""

    text: str
    label: str
    kind: str
    entry_id: str | None = None


@dataclass(frozen=True, slots=True)
class KindResult:
    """How the guard did on one kind of case: ``rate`` is recall (blocked kinds) or false-positive rate."""

    label: str
    kind: str
    total: int
    wrong: tuple[Case, ...]
    target: float | None

    @property
    def rate(self) -> float:
        """Return recall for blocked kinds, false-positive rate for allowed kinds."""
        if not self.total:
            return 1.0 if self.label == "blocked" else 0.0
        bad = len(self.wrong) / self.total
        return 1.0 - bad if self.label == "blocked" else bad

    @property
    def ok(self) -> bool:
        """Return True when there is no target or the target is met."""
        if self.target is None:
            return True
        return self.rate >= self.target if self.label == "blocked" else self.rate <= self.target


@dataclass(frozen=True, slots=True)
class EvalReport:
    """Results for every kind, blocked kinds first."""

    results: tuple[KindResult, ...]

    @property
    def ok(self) -> bool:
        """Return True when every target is met."""
        return all(result.ok for result in self.results)

    def by_kind(self, kind: str) -> KindResult:
        """Return the result for one kind (KeyError when the cases have none)."""
        for result in self.results:
            if result.kind == kind:
                return result
        raise KeyError(kind)

    def lines(self) -> list[str]:
        """Return the printable report: one line per kind, then the misses."""
        out = []
        for result in self.results:
            name = "recall" if result.label == "blocked" else "false positives"
            target = ""
            if result.target is not None:
                sign = ">=" if result.label == "blocked" else "<="
                target = f"  (target {sign} {result.target:.0%}){'' if result.ok else '  MISSED'}"
            out.append(
                f"{result.label:8} {result.kind:14} {name:16} {result.rate:7.1%}"
                f"  [{len(result.wrong)} wrong of {result.total}]{target}"
            )
        for result in self.results:
            for case in result.wrong:
                what = "missed" if result.label == "blocked" else "false positive"
                detail = f" ({case.entry_id})" if case.entry_id else ""
                out.append(f"  {what} [{result.kind}]{detail}: {case.text}")
        return out


def load_cases(path: str | Path) -> list[Case]:
    """Return the cases of a JSONL file; raise ValueError naming the line of a malformed one."""
    cases = []
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                case = Case(
                    text=raw["text"], label=raw["label"], kind=raw["kind"], entry_id=raw.get("entry_id")
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: bad case: {exc}") from None
            if case.label not in ("blocked", "allowed"):
                raise ValueError(f"{path}:{number}: label must be 'blocked' or 'allowed'")
            cases.append(case)
    return cases


def evaluate(guard: Guard, cases: Iterable[Case]) -> EvalReport:
    """Return recall per blocked kind and false-positive rate per allowed kind of ``guard`` on ``cases``."""
    groups: dict[tuple[str, str], list[tuple[Case, bool]]] = {}
    for case in cases:
        blocked = not guard.check(case.text).allowed
        groups.setdefault((case.label, case.kind), []).append((case, blocked))
    results = []
    order = sorted(groups.items(), key=lambda item: (item[0][0] != "blocked", item[0][1]))
    for (label, kind), items in order:
        want_blocked = label == "blocked"
        wrong = tuple(case for case, blocked in items if blocked != want_blocked)
        targets = RECALL_TARGETS if want_blocked else FP_TARGETS
        results.append(KindResult(label, kind, len(items), wrong, targets.get(kind)))
    return EvalReport(tuple(results))


@click.command()
@click.argument("cases", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--catalogue", "catalogue_path", type=click.Path(dir_okay=False, path_type=Path), default=None)
def main(cases: Path | None, catalogue_path: Path | None) -> None:
    """Print the guard's recall and false-positive rate per kind on CASES; exit 1 when a target is missed."""
    try:
        guard = Guard.from_catalogue(load_catalogue(catalogue_path))
        loaded = load_cases(cases or DEFAULT_CASES)
    except (CatalogueError, ValueError, OSError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    report = evaluate(guard, loaded)
    for line in report.lines():
        click.echo(line)
    ok = report.ok
    if cases is None:
        from guards.realeval import report_all_sets

        ok = report_all_sets(guard, click.echo) and ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
