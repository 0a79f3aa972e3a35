"""The review-level model: likely rude wording that no concept rule names (a learned second opinion).

A character 1-3-gram logistic regression (``review_model.json``, trained by :mod:`guards.train_review`
on the tuning sets). It only ever raises ``review``: the message is held with 仍然发送 beside the
suggestion, and an agent may send it anyway (audited). Its hit names the documented phrasing closest
to the message (most shared character bigrams), so the verdict still says which catalogue entry and
category it enforces. Pure: the weights are read once at load.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from guards.meaning import compact_of, with_boundaries
from guards.normalize import fold_clauses

__all__ = ["MODEL_PATH", "ReviewModel", "grams", "load_review_model", "model_text"]

MODEL_PATH = Path(__file__).resolve().parent / "review_model.json"
# Chinese characters: a text with fewer than ``min_chars`` of them (a link, an order number, letters) says
# nothing in words the model could judge.
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def model_text(text: str) -> str:
    """Return the text the model reads: folded by clause, emoticon codes and boundaries removed.

    The guard gives the model exactly this (``compact_of(fold_clauses(with_boundaries(text)))``).
    """
    return compact_of(fold_clauses(with_boundaries(text)))


def grams(text: str) -> set[str]:
    """Return the character 1-, 2- and 3-grams of :func:`model_text` of ``text``, with ^ and $ at its ends.

    >>> sorted(grams("好")) == sorted({"^", "好", "$", "^好", "好$", "^好$"})
    True
    """
    marked = "^" + model_text(text) + "$"
    return {marked[i : i + n] for n in (1, 2, 3) for i in range(len(marked) - n + 1)}


@dataclass(frozen=True, slots=True)
class ReviewModel:
    """Weights of the n-gram model and the probability above which a message goes to review."""

    bias: float
    weights: dict[str, float]
    threshold: float
    min_chars: int = 0  # shorter texts are never flagged (bare replies are the rules' domain)

    def probability(self, folded: str) -> float:
        """Return the model's probability that a :func:`model_text` is rude (0..1)."""
        marked = "^" + folded + "$"
        weights = self.weights
        z = self.bias
        for n in (1, 2, 3):
            for i in range(len(marked) - n + 1):
                z += weights.get(marked[i : i + n], 0.0)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def flags(self, folded: str) -> bool:
        """Return True when a :func:`model_text` should be held for review.

        Only a text of ``min_chars`` Chinese characters or more is read (a link or an order number is not
        wording the model can judge).
        """
        return len(_HAN.findall(folded)) >= self.min_chars and self.probability(folded) > self.threshold


def load_review_model(path: str | Path | None = None) -> ReviewModel | None:
    """Return the packaged review model (or the one at ``path``); None when there is no model file."""
    try:
        if path is None:
            text = resources.files("guards").joinpath("review_model.json").read_text(encoding="utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return None
    data = json.loads(text)
    return ReviewModel(
        float(data["bias"]), dict(data["weights"]), float(data["threshold"]), int(data.get("min_chars", 0))
    )
