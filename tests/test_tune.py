"""``python -m replies.tune``: the policy's figures out-of-fold on training data, as the eval counts them."""

from __future__ import annotations

import pytest

pytest.importorskip("sklearn")

from replies.eval import DEFAULT_CASES
from replies.policy import default_policy
from replies.router import load_router
from replies.train import read_examples, train_with_folds
from replies.tune import _with_ticket_threshold, fold_figures

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
