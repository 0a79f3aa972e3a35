"""Check the policy's thresholds out-of-fold on the training sources: ``python -m replies.tune``.

Needs the ``[train]`` extra. Every training example is scored by a model that never saw it (the
k-fold scores of :func:`replies.train.train_with_folds`), then the real classifier logic (the rules
where they decide, negation) and the real policy (``policy.toml``) decide the first reply, as
``replies.eval`` does. Printed per source group (the random real turns are what a shop's traffic
looks like; the searched real turns and the written sets carry the rare intents):

- complaint tickets (with the receipt, silent) and tickets for messages that are no complaint;
- wrong auto-replies; insults warned and civil customers warned;
- for ``--ticket`` values, what a different ``ticket_threshold`` would give on the same scores.

Only training sources are read (never an eval, fresh or unseen set): this is where thresholds are
chosen, and the reason for each is written beside it in ``policy.toml``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from replies.classifier import Classifier
from replies.eval import outcome
from replies.model import Prediction, mask_platforms
from replies.policy import Policy, default_policy
from replies.realtext import read_labels
from replies.router import load_router
from replies.train import Example, default_sources, read_examples, train_with_folds

__all__ = ["FoldFigures", "fold_figures", "main"]


class _FoldModel:
    """Stands in for the model: the out-of-fold probabilities of each training text."""

    uses_rule_cues = True

    def __init__(self, by_text: dict[str, dict[str, float]]) -> None:
        self.by_text = by_text
        self.meta: dict = {}

    def predict(self, text: str, cues=()) -> Prediction:
        """Return the out-of-fold prediction stored for ``text``."""
        probabilities = self.by_text[text]
        best = max(probabilities, key=probabilities.__getitem__)
        return Prediction(best, probabilities[best], probabilities)


@dataclass
class FoldFigures:
    """What the policy does, out-of-fold, on one group of training examples."""

    n: int = 0
    correct: int = 0
    complaints: int = 0
    tickets: int = 0
    silent: int = 0
    spurious: int = 0
    sent: int = 0
    wrong: int = 0
    insults: int = 0
    warned: int = 0
    civil_warned: int = 0

    def line(self, name: str) -> str:
        """Return the figures as one printed line."""

        def share(a: int, b: int) -> str:
            return f"{a}/{b} {a / b:.1%}" if b else "-"

        return (
            f"{name:<16} n={self.n:<5} acc {share(self.correct, self.n):<16} "
            f"tickets {share(self.tickets, self.complaints):<15} (silent {self.silent}) "
            f"spurious {share(self.spurious, self.n):<14} wrong replies {share(self.wrong, self.n):<14} "
            f"insults {share(self.warned, self.insults):<12} civil warned {self.civil_warned}"
        )


def fold_figures(
    examples: Sequence[Example],
    groups: Sequence[str],
    folds: Sequence[dict[str, float]],
    policy: Policy,
) -> dict[str, FoldFigures]:
    """Return the out-of-fold :class:`FoldFigures` per group name (and ``all``)."""
    router = load_router()
    summed: dict[str, dict[str, float]] = {}
    count: dict[str, int] = defaultdict(int)
    for example, probabilities in zip(examples, folds, strict=True):
        key = mask_platforms(example.text, router.platforms)
        row = summed.setdefault(key, defaultdict(float))
        for intent, p in probabilities.items():
            row[intent] += p
        count[key] += 1
    by_text = {k: {i: p / count[k] for i, p in row.items()} for k, row in summed.items()}
    classifier = Classifier(_FoldModel(by_text), router)  # type: ignore[arg-type]
    out: dict[str, FoldFigures] = defaultdict(FoldFigures)
    for example, group in zip(examples, groups, strict=True):
        intent = classifier.classify(example.text)
        done = outcome(example.text, intent, example.intent, policy)
        for name in (group, "all"):
            f = out[name]
            f.n += 1
            f.correct += intent.key == example.intent
            f.sent += done.sent
            f.wrong += done.wrong
            f.complaints += done.complaint
            f.tickets += done.ticket
            f.silent += done.silent
            f.spurious += done.spurious
            f.insults += done.insult
            f.warned += done.warned
            f.civil_warned += done.civil_warned
    return dict(out)


def _pooled_random(figures: dict[str, FoldFigures]) -> FoldFigures:
    """Return the figures of every randomly drawn real group together (what a shop's traffic looks like)."""
    pooled = FoldFigures()
    for name, figure in figures.items():
        if name.split(" ")[0].endswith((":random", ":random-12")):
            for field in vars(pooled):
                setattr(pooled, field, getattr(pooled, field) + getattr(figure, field))
    return pooled


def _with_ticket_threshold(policy: Policy, value: float) -> Policy:
    rules = dict(policy.rules)
    rules["complaint"] = rules["complaint"].model_copy(update={"ticket_threshold": value})
    return replace(policy, rules=rules)


def main(argv: list[str] | None = None) -> int:
    """Train with folds on the default sources, print the out-of-fold figures; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m replies.tune", description=__doc__.splitlines()[0])
    parser.add_argument("--ticket", type=float, nargs="*", default=[], help="ticket_threshold values to try")
    parser.add_argument("--cache", help="keep the fold scores here (reused while the data is the same)")
    parser.add_argument(
        "--measure",
        action="append",
        default=[],
        help="a real label file to score out-of-fold WITHOUT training on it (weight 0; repeatable)",
    )
    args = parser.parse_args(argv)
    written, real = default_sources()
    examples: list[Example] = []
    groups: list[str] = []
    for path in written:
        batch = read_examples([path])
        examples += batch
        groups += [path.stem] * len(batch)
    for path in real:
        for _, _, label in read_labels(path):
            if label.get("skip") or not label.get("intent"):
                continue
            groups.append(f"{path.stem}:{label.get('src', 'random')}")
        examples += read_examples([], [path])
    for name in args.measure:
        # Weight 0: the file is split into the folds and scored like the rest, but no model learns from it,
        # so a file can be judged as more training data (compare with it in default_sources()).
        path = Path(name)
        for _, _, label in read_labels(path):
            if label.get("skip") or not label.get("intent"):
                continue
            groups.append(f"{path.stem}:{label.get('src', 'random')} (measured)")
        examples += [replace(e, weight=0.0) for e in read_examples([], [path])]
    cache = Path(args.cache) if args.cache else None
    digest = hashlib.sha1(repr([(e.text, e.intent, e.weight) for e in examples]).encode()).hexdigest()
    if cache is not None and cache.exists() and json.loads(cache.read_text())["digest"] == digest:
        folds = json.loads(cache.read_text())["folds"]
    else:
        _, folds = train_with_folds(examples, router=load_router())
        if cache is not None:
            cache.write_text(json.dumps({"digest": digest, "folds": folds}))
    policy = default_policy()
    settings = [(None, policy)] + [(value, _with_ticket_threshold(policy, value)) for value in args.ticket]
    for value, chosen in settings:
        print(f"== ticket_threshold {value if value is not None else 'as in policy.toml'}")
        figures = fold_figures(examples, groups, folds, chosen)
        for name in sorted(figures):
            print(figures[name].line(name))
        print(_pooled_random(figures).line("random real (all)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
