"""Out-of-fold figures of the review model on the labelled real replies of the tuning files only.

    python -m guards.review_folds                                  # all of REAL_TUNING vs. without the last
    python -m guards.review_folds --without agent_tuning3.jsonl    # name the file to leave out
    python -m guards.review_folds --folds 5 --seed 1

The labelled real replies of every file in ``REAL_TUNING`` (jddc/train.* only) are split into folds by
text (identical texts share a fold; ``random.Random(seed)``). For each fold the model is trained as
:mod:`guards.train_review` trains it, on the hand-written sets, the labelled replies of the other folds
and the unlabelled jddc/train.dec answers, and the guard (rules + that model) judges the held-out fold.
The held-out texts are never training examples, labelled or unlabelled. Two trainings are compared on
the same held-out replies: one with every file of ``REAL_TUNING``, one without the file named by
``--without`` (its replies then count as unlabelled answers, as they did before it was labelled, except
those held out). Printed per condition: real rude replies (``review`` or ``blocked``) caught by the
guard, and of those the rules alone miss, how many the model holds; the review and block rates on
replies labelled ``allowed``; and the size of a model trained on all folds. Nothing report-only is read.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import click

from guards.catalogue import load_catalogue
from guards.matcher import Guard
from guards.realeval import DATA, REAL_TUNING
from guards.review import ReviewModel
from guards.train_review import combined_texts, hand_written_texts, rules_only_guard, train

__all__ = ["Outcome", "fold_of", "main", "measure"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the guard did to one held-out labelled reply."""

    file: str
    key: str  # file:line:turn in the corpus
    text: str
    rude: bool
    level: str | None  # the guard with the fold's model: "block", "review" or None
    rules_level: str | None  # the rules alone


def labelled_by_file() -> dict[str, list[tuple[str, str, str]]]:
    """Return ``{file: [(key, text, "rude" | "civil" | "skip")]}`` for every REAL_TUNING file's labels."""
    from replies.realtext import read_labels

    out: dict[str, list[tuple[str, str, str]]] = {}
    for name in REAL_TUNING:
        rows = out.setdefault(name, [])
        for ref, text, label in read_labels(DATA / "real" / name):
            kind = label.get("label")
            rows.append((ref.key, text, "rude" if kind in ("review", "blocked") else kind or "skip"))
    return out


def fold_of(texts: Sequence[str], folds: int, seed: int) -> dict[str, int]:
    """Return each distinct text's fold (0..folds-1), shuffled with ``random.Random(seed)``."""
    distinct = sorted(set(texts))
    random.Random(seed).shuffle(distinct)
    return {text: i % folds for i, text in enumerate(distinct)}


def measure(without: str | None, folds: int, seed: int) -> tuple[list[Outcome], int]:
    """Return the held-out outcomes of every labelled reply and the weight count of an all-folds model.

    ``without``: a REAL_TUNING file whose labels are not trained on (None: all are).
    """
    by_file = labelled_by_file()
    every = [text for rows in by_file.values() for _, text, _ in rows]
    fold = fold_of(every, folds, seed)
    hand = hand_written_texts()
    rules = rules_only_guard()
    catalogue = load_catalogue()
    outcomes: list[Outcome] = []
    size = 0
    for k in [*range(folds), None]:  # None: train on every fold, only to report the model's size
        real_rude: list[str] = []
        real_civil: list[str] = []
        labelled: set[str] = set()
        held_rude: set[str] = set()
        for name, rows in by_file.items():
            for _, text, kind in rows:
                held = k is not None and fold[text] == k
                if held:
                    labelled.add(text)
                    if kind == "rude":
                        held_rude.add(text)
                    continue
                if name == without:
                    continue  # unlabelled again: it may be taken as a civil answer
                labelled.add(text)
                if kind == "rude":
                    real_rude.append(text)
                elif kind == "allowed":
                    real_civil.append(text)
        rude, civil = combined_texts(hand, real_rude, real_civil, labelled, held_rude)
        model = train(rude, civil)
        if k is None:
            size = len(model["weights"])
            break
        guard = Guard.from_catalogue(
            catalogue,
            review_model=ReviewModel(model["bias"], model["weights"], model["threshold"], model["min_chars"]),
        )
        for name, rows in by_file.items():
            for key, text, kind in rows:
                if kind != "skip" and fold[text] == k:
                    verdicts = guard.check(text).level, rules.check(text).level
                    outcomes.append(Outcome(name, key, text, kind == "rude", *verdicts))
    return outcomes, size


def summary(outcomes: Sequence[Outcome]) -> list[str]:
    """Return the report lines for one condition: overall and per file."""
    lines = []
    groups: dict[str, list[Outcome]] = {"all": list(outcomes)}
    for outcome in outcomes:
        groups.setdefault(outcome.file, []).append(outcome)
    for name, items in groups.items():
        rude = [o for o in items if o.rude]
        civil = [o for o in items if not o.rude]
        caught = sum(o.level is not None for o in rude)
        missed_by_rules = [o for o in rude if o.rules_level is None]
        by_model = sum(o.level is not None for o in missed_by_rules)
        levels = Counter(o.level for o in civil)
        lines.append(
            f"  {name:20} rude caught {caught / max(1, len(rude)):6.1%} ({caught} of {len(rude)});"
            f" rules miss {len(missed_by_rules)}, model holds {by_model};"
            f" allowed: review {levels['review'] / max(1, len(civil)):5.2%},"
            f" block {levels['block']} of {len(civil)}"
        )
    return lines


@click.command()
@click.option("--without", default=None, help="REAL_TUNING file left out of one training (default: last).")
@click.option("--folds", default=5, show_default=True)
@click.option("--seed", default=1, show_default=True)
def main(without: str | None, folds: int, seed: int) -> None:
    """Print out-of-fold figures with every real tuning file and without one of them."""
    without = without or REAL_TUNING[-1]
    if without not in REAL_TUNING:
        raise click.BadParameter(f"{without} is not in REAL_TUNING {REAL_TUNING}")
    results = {}
    for name, left_out in ((f"without {without}", without), ("with every REAL_TUNING file", None)):
        outcomes, size = measure(left_out, folds, seed)
        results[name] = outcomes
        click.echo(f"== {name} ({folds} folds, seed {seed}; all-folds model: {size} weights)")
        for line in summary(outcomes):
            click.echo(line)
    before, after = results.values()
    changed = [(b, a) for b, a in zip(before, after, strict=True) if (b.level is None) != (a.level is None)]
    click.echo(f"== replies whose held/let-through verdict changed: {len(changed)}")
    for b, a in changed:
        label = "rude " if a.rude else "civil"
        click.echo(f"  {label} {b.level or '-':6} -> {a.level or '-':6} {a.key}")


if __name__ == "__main__":
    main()
