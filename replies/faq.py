"""The shop's own questions and answers (``KEFU_SHOP_DIR/faq.toml``) and the matcher that finds one.

A message is folded like the guard folds (simplified, lower case, no punctuation, repeats collapsed)
and compared with every folded example: the score of an FAQ is the best of rapidfuzz's ``ratio`` over
its examples, or 0.9 × ``partial_ratio`` when the example (3+ characters) is within a longer message.
A match of :data:`FAQ_FLOOR` or more takes the message's intent over (key ``faq``, ``guess`` = the id)
when the model is less sure of its own intent, or read it as ``other``/``unclear``/``out_of_scope``;
the policy table's ``[intents.faq]`` threshold then decides between sending the answer and offering
it to the agent, as for every documented script. Pure: files are read by :func:`load_faq` only.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from string import Formatter

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from rapidfuzz import fuzz

from guards.normalize import fold
from replies.router import Intent

__all__ = [
    "FAQ_FLOOR",
    "Faq",
    "FaqCatalogue",
    "FaqError",
    "FaqMatch",
    "default_faq",
    "load_faq",
    "use_faq",
    "with_faq",
]

# Below this score an FAQ is not considered at all (neither sent nor suggested).
FAQ_FLOOR = 0.6
# The model's intents an FAQ match always takes over: they get no documented answer of their own.
_WEAK_INTENTS = frozenset({"other", "unclear", "out_of_scope"})
_PARTIAL_MIN_CHARS = 3
_PARTIAL_WEIGHT = 0.9


class FaqError(ValueError):
    """The FAQ file is malformed; the message names the file, the entry and the field."""


@dataclass(frozen=True)
class Faq:
    """One question the shop answers: its id, example wordings (and their folded forms), the answer."""

    id: str
    examples: tuple[str, ...]
    answer: str
    folded: tuple[str, ...]


@dataclass(frozen=True)
class FaqMatch:
    """The best FAQ for a message and its score (0..1)."""

    faq: Faq
    score: float


class FaqCatalogue:
    """The shop's FAQs, in file order; empty without a file."""

    def __init__(self, faqs: tuple[Faq, ...] = (), path: Path | None = None) -> None:
        self.faqs = faqs
        self.path = path

    def __len__(self) -> int:
        return len(self.faqs)

    def match(self, text: str | None) -> FaqMatch | None:
        """Return the best-scoring FAQ for ``text``, or None when none reaches :data:`FAQ_FLOOR`.

        >>> faqs = FaqCatalogue((_entry("ship", ["什么时候发货", "多久能发货"], "两天内发货。"),))
        >>> faqs.match("请问什么时候发货？").faq.id, faqs.match("你好") is None
        ('ship', True)
        """
        body = fold(text or "")
        if not body or not self.faqs:
            return None
        best: FaqMatch | None = None
        for faq in self.faqs:
            score = max(_score(body, example) for example in faq.folded)
            if best is None or score > best.score:
                best = FaqMatch(faq, round(score, 3))
        return best if best is not None and best.score >= FAQ_FLOOR else None


def _score(body: str, example: str) -> float:
    score = fuzz.ratio(body, example) / 100
    if len(example) >= _PARTIAL_MIN_CHARS and len(body) > len(example):
        score = max(score, _PARTIAL_WEIGHT * fuzz.partial_ratio(example, body) / 100)
    return score


def _entry(faq_id: str, examples: list[str], answer: str) -> Faq:
    return Faq(faq_id, tuple(examples), answer, tuple(fold(e) for e in examples))


class _FaqEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    examples: list[str] = Field(min_length=1)
    answer: str

    @field_validator("answer")
    @classmethod
    def _answer_text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        if any(name is not None for _, name, _, _ in Formatter().parse(value)):
            raise ValueError("must not contain { } placeholders")
        return value

    @field_validator("examples")
    @classmethod
    def _examples_read(cls, value: list[str]) -> list[str]:
        for example in value:
            if not fold(example):
                raise ValueError(f"example {example!r} has nothing to match (no letters or digits)")
        return value


class _FaqFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    faq: list[dict] = []


def load_faq(shop_dir: str | Path | None, refuse: Callable[[str], str | None] | None = None) -> FaqCatalogue:
    """Return the FAQs of ``shop_dir/faq.toml`` (empty without folder or file), validated.

    ``refuse(answer)`` (the outbound guard) returns why an answer may not be sent, or None. Any defect
    raises :class:`FaqError` naming the file, the entry (its id, or its index) and the field.
    """
    if shop_dir is None:
        return FaqCatalogue()
    path = Path(shop_dir) / "faq.toml"
    if not path.exists():
        return FaqCatalogue()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        data = _FaqFile.model_validate(raw)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise FaqError(f"{path}: cannot read the FAQ: {exc}") from None
    except ValidationError as exc:
        error = exc.errors()[0]
        raise FaqError(f"{path}: {'.'.join(str(p) for p in error['loc'])}: {error['msg']}") from None
    faqs: list[Faq] = []
    seen: set[str] = set()
    for index, body in enumerate(data.faq):
        name = repr(body["id"]) if isinstance(body.get("id"), str) else f"#{index + 1}"
        try:
            entry = _FaqEntry.model_validate(body)
        except ValidationError as exc:
            error = exc.errors()[0]
            loc = ".".join(str(p) for p in error["loc"]) or "entry"
            raise FaqError(f"{path}: faq {name}: field '{loc}': {error['msg']}") from None
        if entry.id in seen:
            raise FaqError(f"{path}: faq {name}: field 'id': used twice")
        seen.add(entry.id)
        reason = refuse(entry.answer) if refuse is not None else None
        if reason:
            raise FaqError(f"{path}: faq {name}: field 'answer': the outbound guard refuses it: {reason}")
        faqs.append(_entry(entry.id, entry.examples, entry.answer))
    return FaqCatalogue(tuple(faqs), path)


def with_faq(text: str | None, intent: Intent, faqs: FaqCatalogue) -> Intent:
    """Return ``intent``, or the ``faq`` intent (score = the match, ``guess`` = the FAQ id) when an FAQ
    matches ``text`` at :data:`FAQ_FLOOR` or more and the model is less sure, or read ``other``,
    ``unclear`` or ``out_of_scope``. Rule-decided intents (insults, human requests: no probabilities
    and score 1) keep their key unless the FAQ matches fully.
    """
    found = faqs.match(text)
    if found is None:
        return intent
    if intent.key in _WEAK_INTENTS or found.score >= intent.score:
        return Intent("faq", found.score, guess=found.faq.id)
    return intent


_installed = FaqCatalogue()


def use_faq(catalogue: FaqCatalogue) -> FaqCatalogue:
    """Make ``catalogue`` the FAQs :func:`default_faq` returns (start-up and reload); return it."""
    global _installed
    _installed = catalogue
    return catalogue


def default_faq() -> FaqCatalogue:
    """Return the FAQs in use (empty until :func:`use_faq` installs the shop's)."""
    return _installed
