"""What a customer message is: the statistical model, with the precise rules where they beat it.

The trained model (:mod:`replies.model`) reads every message and gives a calibrated probability.
The hand-written rules (:mod:`replies.router`, ``intents.toml``) are kept for the intents where,
measured with ``python -m replies.eval``, they are more precise than the model: the intents listed
in ``[router] rule_intents`` (insults). When the rules pick one of those, it wins, with the confidence the
rule earned on the training data (its precision there, stored in the model file by ``kefu train``).
An ``unclear`` answer carries the rules' topic ``guess`` for "您是不是说…?" when one is close.

>>> classify("转人工").key
'human_request'
"""

from __future__ import annotations

from functools import lru_cache

from guards.normalize import fold
from replies.model import IntentModel, Prediction, default_model, mask_platforms, prepare, rule_cues
from replies.router import Intent, Router, load_router

__all__ = ["Classifier", "classify", "default_classifier"]

# Confidence of a rule-picked intent when the model file has no measured precision for the rule.
_RULE_PRIOR = 0.9


class Classifier:
    """The model and the rules together; :meth:`classify` is the one question it answers."""

    def __init__(self, model: IntentModel, router: Router) -> None:
        self.model = model
        self.router = router
        self.rule_intents = frozenset(router.config.rule_intents)
        self._rule_confidence = dict(model.meta.get("rule_precision", {}))

    def classify(self, text: str, *, platforms: tuple[str, ...] | None = None) -> Intent:
        """Return the :class:`~replies.router.Intent` of a message: key, calibrated confidence, guess.

        ``platforms``: the shop's sales platforms (default: the router's), never out of scope.
        """
        if not prepare(text):
            return Intent("unclear", 0.0, None)
        rules, scores = self.router.read(text, platforms=platforms)
        cues = rule_cues(scores) if self.model.uses_rule_cues else ()
        prediction = self.model.predict(self.mask_platforms(text, platforms), cues)
        if rules.key in self.rule_intents:
            # The rules decide, with the confidence they earned; the model's reading travels along, so
            # that an insult which carries a complaint still gets its ticket (the policy's silent ticket).
            confidence = round(self._rule_confidence.get(rules.key, _RULE_PRIOR), 3)
            return Intent(rules.key, confidence, None, prediction.probabilities)
        key = prediction.key
        negated = self.router.negated(text, platforms=platforms)
        if key in negated:
            # The words of this intent are all negated (不靠谱 is no praise): the next best reading.
            key = max(
                (k for k in prediction.probabilities if k not in negated), key=prediction.probabilities.get
            )
            prediction = Prediction(key, prediction.probabilities[key], prediction.probabilities)
        if key in self.rule_intents:
            # The rules own this intent: the model alone may not send its script, only suggest it.
            confidence = min(prediction.confidence, 0.5)
        else:
            confidence = prediction.confidence
        guess = self.router.guess(fold(text)) if key == "unclear" else None
        return Intent(key, round(confidence, 3), guess, prediction.probabilities)

    def mask_platforms(self, text: str, platforms: tuple[str, ...] | None = None) -> str:
        """Return ``text`` with the shop's platform names replaced by the model's name symbol."""
        return mask_platforms(text, self.router.platforms if platforms is None else platforms)

    def rules_only(self, text: str) -> Intent:
        """Return what the hand-written rules alone say (for the eval's comparison)."""
        return self.router.classify(text)

    def model_only(self, text: str) -> str:
        """Return the intent the model picks on its own (with the rules' cues it was trained with)."""
        cues = rule_cues(self.router.scores(text)) if self.model.uses_rule_cues else ()
        return self.model.predict(self.mask_platforms(text), cues).key


@lru_cache(maxsize=1)
def default_classifier() -> Classifier:
    """Return the packaged model with the packaged rules, built once."""
    return Classifier(default_model(), load_router())


def classify(text: str, *, platforms: tuple[str, ...] | None = None) -> Intent:
    """Return the :class:`~replies.router.Intent` of ``text`` with the packaged model and rules."""
    return default_classifier().classify(text, platforms=platforms)
