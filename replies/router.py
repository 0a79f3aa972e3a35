"""The intent router: which documented situation a customer message is.

Rules and examples live in ``intents.toml``. A message is folded (``guards.normalize.fold``), then
each intent gets a score in 0..1 — the weights of its keywords and regular-expression patterns found
in the message (added up) or the best fuzzy match (rapidfuzz) of one of its example phrases,
whichever is higher; a negative cue rules the intent out. Of the intents that reach the threshold,
the first of uncivil > human_request > complaint_followup > complaint > security > site_problem
wins; otherwise the best-scoring substantive intent, then the social ones (praise, apology,
goodbye, thanks); greeting only when nothing else is said (at most ``greeting_max_rest``
characters left once the greeting words are taken out). Nothing reaching the threshold is
``unclear``, with the closest likely topic as ``guess`` when one is close enough.
"""

from __future__ import annotations

import re
import tomllib
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from rapidfuzz import fuzz, process

from guards.normalize import fold

__all__ = [
    "DEFAULT_INTENTS",
    "DEFAULT_PLATFORMS",
    "INTENT_KEYS",
    "Intent",
    "IntentError",
    "Router",
    "classify",
    "keyword_baseline",
    "load_router",
]

DEFAULT_INTENTS = Path(__file__).with_name("intents.toml")

INTENT_KEYS: tuple[str, ...] = (
    "greeting",
    "service_hours",
    "complaint",
    "complaint_followup",
    "suggestion",
    "security",
    "how_to",
    "site_problem",
    "out_of_scope",
    "thanks",
    "praise",
    "apology",
    "agent_identity",
    "human_request",
    "uncivil",
    "goodbye",
    "unclear",
    "other",
)
# The first present wins, in this order.
_STRICT = ("uncivil", "human_request", "complaint_followup", "complaint", "security", "site_problem")
# Then the best score wins (ties in this order).
_SUBSTANTIVE = ("suggestion", "service_hours", "how_to", "out_of_scope", "agent_identity")
# Then courtesy messages, in this order; greeting only when nothing else is said.
_SOCIAL = ("praise", "apology", "goodbye", "thanks")
_SCORED = (*_STRICT, *_SUBSTANTIVE, *_SOCIAL, "greeting")


class IntentError(ValueError):
    """The intents file is malformed; the message names the file, the entry and the field."""


@dataclass(frozen=True, slots=True)
class Intent:
    """A classified message: ``key`` (one of :data:`INTENT_KEYS`), ``score`` 0..1, for unclear a ``guess``.

    ``probabilities`` (the model's, every intent; empty when the rules decided) is not part of equality.
    """

    key: str
    score: float
    guess: str | None = None
    probabilities: Mapping[str, float] = field(default_factory=dict, compare=False, repr=False)

    def probability(self, *keys: str) -> float:
        """Return the summed probability of ``keys`` (the score when the rules decided one of them)."""
        if not self.probabilities:
            return self.score if self.key in keys else 0.0
        return sum(self.probabilities.get(k, 0.0) for k in keys)


class _RouterConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    threshold: float = Field(gt=0, le=1)
    fuzzy_cutoff: float = Field(ge=50, le=100)
    fuzzy_weight: float = Field(gt=0, le=1)
    fuzzy_min_length: int = Field(ge=1)
    guess_cutoff: float = Field(ge=50, le=100)
    greeting_max_rest: int = Field(default=6, ge=0)
    # Intents where the rules beat the statistical model (measured by ``python -m replies.eval``).
    rule_intents: tuple[str, ...] = ()
    # Words that negate the keyword right after them (不靠谱 is not praise), for ``negatable`` intents.
    negators: tuple[str, ...] = ()


class _IntentEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    topic: str = Field(min_length=1)
    keywords: dict[str, float] = {}
    patterns: dict[str, float] = {}
    examples: list[str] = []
    negative: list[str] = []
    negatable: bool = False  # a keyword right after a negator (不, 没有 …) does not count

    @field_validator("keywords", "patterns")
    @classmethod
    def _weights(cls, value: dict[str, float]) -> dict[str, float]:
        for word, weight in value.items():
            if not 0 < weight <= 1:
                raise ValueError(f"weight of {word!r} must be in (0, 1]")
        return value

    @field_validator("patterns")
    @classmethod
    def _regexes(cls, value: dict[str, float]) -> dict[str, float]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from None
        return value


class _Topic(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    phrase: str = Field(min_length=1)
    cues: list[str] = Field(min_length=1)


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    router: _RouterConfig
    intents: dict[str, _IntentEntry]
    topics: list[_Topic] = []


@dataclass(frozen=True, slots=True)
class _Rules:
    keywords: tuple[tuple[str, float], ...]
    patterns: tuple[tuple[re.Pattern[str], float], ...]
    examples: tuple[str, ...]
    negative: tuple[str, ...]
    negatable: bool = False


# The shop's own sales platforms: never out of scope (``KEFU_SHOP_PLATFORMS``).
DEFAULT_PLATFORMS: tuple[str, ...] = ("淘宝", "天猫", "京东", "拼多多", "抖音")
# A link is an address, not words: its letters must not read as keywords (https is not a worry).
_LINK = re.compile(r"https?://\S+|www\.\S+|\[链接[^\]]*\]", re.IGNORECASE)
_PLATFORM_MASK = "Ⓟ"
_LATIN = frozenset("abcdefghijklmnopqrstuvwxyz")
_DIGITS = frozenset("0123456789")
#: How many recent texts the router keeps its folding and keyword scan of (a message is read 2-3 times).
_RECENT = 64


@lru_cache(maxsize=16)
def _folded_platforms(platforms: tuple[str, ...]) -> tuple[str, ...]:
    """Return the shop's platform names folded as the rules read text, in their order, empty ones dropped."""
    return tuple(folded for folded in (fold(p) for p in platforms) if folded)


def _word_edges_ok(folded: str, start: int, word: str) -> bool:
    """Return whether ``word`` found at ``start`` is a whole word where that matters.

    A Latin keyword must not sit inside a Latin word (sb in usb); a keyword with digits must not sit
    inside a longer number (88 in 8812); a negated keyword (不是人) must not be the second half of an
    A-not-A question (是不是人工: 是 + 不是…).
    """
    end = start + len(word)
    before = folded[start - 1] if start else ""
    after = folded[end] if end < len(folded) else ""
    if (word[0] in _LATIN and before in _LATIN) or (word[-1] in _LATIN and after in _LATIN):
        return False
    if (word[0] in _DIGITS and before in _DIGITS) or (word[-1] in _DIGITS and after in _DIGITS):
        return False
    return not (word[0] in "不没" and len(word) > 1 and before == word[1])


class Router:
    """A loaded intents file; :meth:`classify` is the only question it answers."""

    def __init__(
        self,
        config: _RouterConfig,
        rules: Mapping[str, _Rules],
        topics: Mapping[str, str],
        platforms: tuple[str, ...] = DEFAULT_PLATFORMS,
    ) -> None:
        self.config = config
        self.platforms = tuple(sorted({fold(p) for p in platforms if fold(p)}, key=len, reverse=True))
        self._negators = tuple(sorted({fold(n) for n in config.negators if fold(n)}, key=len, reverse=True))
        self._rules = MappingProxyType(dict(rules))
        self._topics = MappingProxyType(dict(topics))  # folded cue → topic phrase
        self._greeting_words = tuple(
            sorted(
                {word for word, _ in rules["greeting"].keywords} | set(rules["greeting"].examples),
                key=len,
                reverse=True,
            )
        )
        self._first_keywords = tuple(
            (word, key) for key in _SCORED for word, _ in sorted(rules[key].keywords, key=lambda kw: -kw[1])
        )
        # Keywords by their first character, so that a message is scanned once, not once per keyword.
        by_first: dict[str, set[str]] = {}
        owners: dict[str, list[tuple[str, float]]] = {}
        for key in _SCORED:
            for word, weight in rules[key].keywords:
                by_first.setdefault(word[0], set()).add(word)
                owners.setdefault(word, []).append((key, weight))
        self._by_first = {first: tuple(words) for first, words in by_first.items()}
        self._owners = {word: tuple(keys) for word, keys in owners.items()}
        # Examples sorted by length: those no longer than a message are matched partially (aligned),
        # the longer ones whole — each half with a native rapidfuzz scorer.
        self._examples = {key: tuple(sorted(rules[key].examples, key=len)) for key in _SCORED}
        self._example_lengths = {key: tuple(len(e) for e in self._examples[key]) for key in _SCORED}
        # Per intent: does a text hold one of its negative cues (one search, not a test per cue)
        self._has_negative = {
            key: re.compile("|".join(map(re.escape, r.negative))).search if r.negative else None
            for key, r in self._rules.items()
        }
        # Pure functions of their arguments, kept for the last texts: one message is read several times.
        self._fold_recent = lru_cache(maxsize=_RECENT)(self._fold_masked)
        self._found_recent = lru_cache(maxsize=_RECENT)(self._found)

    def scores(self, text: str, *, platforms: tuple[str, ...] | None = None) -> dict[str, float]:
        """Return every scored intent's score (0..1) for ``text`` — for diagnostics and the eval."""
        return self._scores(self.fold(text, platforms=platforms))

    def fold(self, text: str, *, platforms: tuple[str, ...] | None = None) -> str:
        """Return ``text`` as the rules read it: links dropped, folded, the shop's platforms masked.

        The last texts' results are kept (:data:`_RECENT`): a message is read by :meth:`read`, then by
        :meth:`negated`, with the same platforms each time.
        """
        return self._fold_recent(text, self.platforms if platforms is None else _folded_platforms(platforms))

    @staticmethod
    def _fold_masked(text: str, platforms: tuple[str, ...]) -> str:
        folded = fold(_LINK.sub(" ", text))
        for platform in platforms:
            folded = folded.replace(platform, _PLATFORM_MASK)
        return folded

    def _negated(self, folded: str, start: int) -> bool:
        """Return whether a negator (不, 没有 …) ends right before ``start``."""
        return any(folded.startswith(n, start - len(n)) for n in self._negators if start >= len(n))

    def negated(self, text: str, *, platforms: tuple[str, ...] | None = None) -> frozenset[str]:
        """Return the negatable intents that ``text`` negates: their keywords occur only after a negator
        (不靠谱 is no praise), or one of their negative cues occurs (服务不太好).
        """
        folded = self.fold(text, platforms=platforms)
        cued = {
            k
            for k, rules in self._rules.items()
            if rules.negatable and (has := self._has_negative[k]) is not None and has(folded) is not None
        }
        found = self._found_recent(folded)
        plain = {key for word, ok in found.items() if ok for key, _ in self._owners[word]}
        negated = {key for word, ok in found.items() if not ok for key, _ in self._owners[word]}
        return frozenset({k for k in negated - plain if self._rules[k].negatable} | cued)

    def _found(self, folded: str) -> MappingProxyType[str, bool]:
        """Return each keyword found in ``folded`` as a word → whether once at least without a negator."""
        found: dict[str, bool] = {}
        for index, char in enumerate(folded):
            for word in self._by_first.get(char, ()):
                if folded.startswith(word, index) and _word_edges_ok(folded, index, word):
                    found[word] = found.get(word, False) or not self._negated(folded, index)
        return MappingProxyType(found)

    def _keyword_scores(self, folded: str) -> dict[str, float]:
        """Return the summed weights of the distinct keywords found in ``folded`` as words, per intent."""
        found = self._found_recent(folded)
        sums: dict[str, float] = dict.fromkeys(_SCORED, 0.0)
        for word, plain in found.items():
            for key, weight in self._owners[word]:
                if plain or not self._rules[key].negatable:
                    sums[key] += weight
        return sums

    def _fuzzy(self, key: str, folded: str) -> float:
        """Return the best example similarity (0..100) of ``folded`` for one intent, 0 below the cutoff."""
        examples = self._examples[key]
        if not examples:
            return 0.0
        if len(folded) < self.config.fuzzy_min_length:
            return 100.0 if folded in examples else 0.0
        split = bisect_right(self._example_lengths[key], len(folded))
        cutoff = self.config.fuzzy_cutoff
        best = 0.0
        if split:
            hit = process.extractOne(folded, examples[:split], scorer=fuzz.partial_ratio, score_cutoff=cutoff)
            best = hit[1] if hit else 0.0
        if split < len(examples):
            hit = process.extractOne(folded, examples[split:], scorer=fuzz.ratio, score_cutoff=cutoff)
            best = max(best, hit[1] if hit else 0.0)
        return best

    def _scores(self, folded: str) -> dict[str, float]:
        weight = self.config.fuzzy_weight
        keywords = self._keyword_scores(folded)
        out: dict[str, float] = {}
        for key in _SCORED:
            rules = self._rules[key]
            has_negative = self._has_negative[key]
            if has_negative is not None and has_negative(folded) is not None:
                out[key] = 0.0
                continue
            keyword = keywords[key] + sum(w for regex, w in rules.patterns if regex.search(folded))
            if keyword >= weight:  # the example match adds at most ``weight``: it cannot change the score
                out[key] = min(1.0, keyword)
            else:
                out[key] = min(1.0, max(keyword, self._fuzzy(key, folded) / 100 * weight))
        return out

    def classify(self, text: str, *, platforms: tuple[str, ...] | None = None) -> Intent:
        """Return the :class:`Intent` of a customer message (``unclear`` when nothing is clear enough).

        ``platforms`` overrides the shop's sales platforms (never out of scope) given at load.

        >>> load_router().classify("我要投诉，收到的杯子是碎的").key
        'complaint'
        """
        return self.read(text, platforms=platforms)[0]

    def read(self, text: str, *, platforms: tuple[str, ...] | None = None) -> tuple[Intent, dict[str, float]]:
        """Return the rules' :class:`Intent` of a message and every intent's score, from one pass."""
        folded = self.fold(text, platforms=platforms)
        if not folded:
            return Intent("unclear", 0.0, None), dict.fromkeys(_SCORED, 0.0)
        scores = self._scores(folded)
        return self._pick(folded, scores), scores

    def _pick(self, folded: str, scores: dict[str, float]) -> Intent:
        """Return the intent the scores choose, by the priorities of the module docstring."""
        threshold = self.config.threshold
        for key in _STRICT:
            if scores[key] >= threshold:
                return Intent(key, round(scores[key], 3))
        for group in (_SUBSTANTIVE, _SOCIAL):
            best = max(group, key=lambda k: (scores[k], -group.index(k)))
            if scores[best] >= threshold:
                if group is _SOCIAL:
                    best = next(k for k in _SOCIAL if scores[k] >= threshold)
                return Intent(best, round(scores[best], 3))
        if scores["greeting"] >= threshold and len(self._rest(folded)) <= self.config.greeting_max_rest:
            return Intent("greeting", round(scores["greeting"], 3))
        return Intent("unclear", round(max(scores.values()), 3), self.guess(folded))

    def _rest(self, folded: str) -> str:
        """Return what is left of a message once every greeting word is taken out (longest first)."""
        for word in self._greeting_words:
            folded = folded.replace(word, "")
        return folded

    def guess(self, folded: str) -> str | None:
        """Return the likely topic phrase of a folded unclear message ("您是不是说…?"), or None."""
        for cue, phrase in self._topics.items():
            if cue in folded:
                return phrase
        if len(folded) < 2:
            return None
        best = process.extractOne(
            folded, list(self._topics), scorer=fuzz.partial_ratio, score_cutoff=self.config.guess_cutoff
        )
        return self._topics[best[0]] if best and len(best[0]) >= 2 else None

    def keyword_baseline(self, text: str) -> str:
        """Return the intent of the first keyword found (strongest first, in priority order), else unclear.

        The "first matching keyword wins" router most support bots use, kept for comparison in the eval.
        """
        folded = fold(text)  # deliberately naive: substrings, no word edges, no negation
        for word, key in self._first_keywords:
            if word in folded:
                return key
        return "unclear"


def load_router(path: str | Path | None = None, *, platforms: tuple[str, ...] = DEFAULT_PLATFORMS) -> Router:
    """Return the router built from ``path`` (default: the packaged ``intents.toml``).

    Raises :class:`IntentError` naming the file, the entry and the field for any defect.
    """
    path = Path(path) if path is not None else DEFAULT_INTENTS
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        data = _File.model_validate(raw)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise IntentError(f"{path.name}: cannot read intents: {exc}") from None
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = ".".join(str(p) for p in error["loc"]) or "file"
        raise IntentError(f"{path.name}: {loc}: {error['msg']}") from None
    missing = [key for key in _SCORED if key not in data.intents]
    unknown = [key for key in data.intents if key not in _SCORED]
    if missing:
        raise IntentError(f"{path.name}: intents.{missing[0]}: missing")
    if unknown:
        raise IntentError(f"{path.name}: intents.{unknown[0]}: not an intent key")
    rules: dict[str, _Rules] = {}
    for key, entry in data.intents.items():
        keywords: dict[str, float] = {}
        for word, weight in entry.keywords.items():
            folded = fold(word)
            if not folded:
                raise IntentError(f"{path.name}: intents.{key}.keywords: {word!r} is empty once folded")
            keywords[folded] = max(weight, keywords.get(folded, 0.0))
        examples = tuple(dict.fromkeys(f for f in (fold(e) for e in entry.examples) if f))
        negative = tuple(f for f in (fold(n) for n in entry.negative) if f)
        patterns = tuple((re.compile(pattern), weight) for pattern, weight in entry.patterns.items())
        rules[key] = _Rules(tuple(keywords.items()), patterns, examples, negative, entry.negatable)
    topics: dict[str, str] = {}
    for topic in data.topics:
        for cue in topic.cues:
            folded = fold(cue)
            if folded:
                topics.setdefault(folded, topic.phrase)
    return Router(data.router, rules, topics, platforms)


@lru_cache(maxsize=1)
def _default() -> Router:
    return load_router()


def classify(text: str) -> Intent:
    """Return the :class:`Intent` of ``text`` with the packaged rules (see :meth:`Router.classify`)."""
    return _default().classify(text)


def keyword_baseline(text: str) -> str:
    """Return the intent a first-keyword-wins router picks for ``text`` (for comparison only)."""
    return _default().keyword_baseline(text)
