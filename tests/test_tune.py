"""``python -m replies.tune``: the policy's figures out-of-fold on training data, as the eval counts them."""

from __future__ import annotations

from dataclasses import replace

import pytest

pytest.importorskip("sklearn")

from replies.eval import DEFAULT_CASES
from replies.policy import default_policy
from replies.router import load_router
from replies.train import read_examples, train_with_folds
from replies.tune import _pooled_random, _with_ticket_threshold, fold_figures

EXAMPLES = read_examples([DEFAULT_CASES])[::2]


@pytest.fixture(scope="module")
def folds():
    return train_with_folds(EXAMPLES, folds=2, router=load_router())[1]


def test_every_example_is_counted_once_per_group_and_in_all(folds):
    groups = ["a" if i % 2 else "b" for i in range(len(EXAMPLES))]
    figures = fold_figures(EXAMPLES, groups, folds, default_policy())
    assert figures["all"].n == len(EXAMPLES) == figures["a"].n + figures["b"].n
    complaints = sum(e.intent == "complaint" for e in EXAMPLES)
    assert figures["all"].complaints == complaints > 0
    assert figures["all"].insults == sum(e.intent == "uncivil" for e in EXAMPLES)
    assert figures["all"].tickets <= complaints and figures["all"].silent <= figures["all"].tickets
    assert "tickets" in figures["all"].line("all")


def test_a_lower_ticket_threshold_never_opens_fewer_tickets(folds):
    groups = ["all-set"] * len(EXAMPLES)
    strict = fold_figures(EXAMPLES, groups, folds, _with_ticket_threshold(default_policy(), 0.9))["all"]
    loose = fold_figures(EXAMPLES, groups, folds, _with_ticket_threshold(default_policy(), 0.01))["all"]
    assert loose.tickets >= strict.tickets
    assert loose.tickets + loose.spurious > strict.tickets + strict.spurious


def test_the_random_pool_sums_only_the_randomly_drawn_real_groups(folds):
    groups = ["customer_train:random", "customer_train_12:random-12", "customer_train:search", "intent_cases"]
    labels = [groups[i % 4] for i in range(len(EXAMPLES))]
    figures = fold_figures(EXAMPLES, labels, folds, default_policy())
    pooled = _pooled_random(figures)
    assert pooled.n == figures[groups[0]].n + figures[groups[1]].n < len(EXAMPLES)
    assert pooled.complaints == figures[groups[0]].complaints + figures[groups[1]].complaints


def test_a_measured_file_is_scored_but_never_learnt_from():
    # Weight 0: the measured examples change no weight, so the model equals one trained without them.
    measured = [replace(e, weight=0.0) for e in read_examples([DEFAULT_CASES])[1::2]]
    alone = train_with_folds(EXAMPLES, folds=2)[0]
    together, scores = train_with_folds([*EXAMPLES, *measured], folds=2)
    assert len(scores) == len(EXAMPLES) + len(measured)
    assert alone.bias == pytest.approx(together.bias, abs=0.05)
