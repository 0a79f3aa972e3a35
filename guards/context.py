"""The customer's last message as context of an agent's draft (``guards/context.toml``).

The same flat reply reads differently after different messages: 「这个无法提前的呢」 answers a plain
question, but after a plea (「求求你了能不能快点」) or a complaint (「怎么还没到，太慢了」) it leaves an
anxious customer with a bare refusal, which the documents ask an agent never to do (003 第6篇 安抚服务用语:
很抱歉，我理解您的心情…马上为您反馈; 003 第5篇 推卸语). How the draft and its context are read:

1. the context (the customer's message) is folded (:func:`guards.normalize.fold`) and matched against the
   cue classes (``[[cue]]``: plea, complaint, repeated ask), each with the words that unsay it (不急);
2. the draft is folded and matched against the reply classes (``[[reply]]``: flat refusal, inability,
   ignorance, referral, system-says), whose words are their own plus those of concept classes of
   ``concepts.toml`` they name;
3. a rule (``[[rule]]``) raises the draft to a review when one of its reply classes is in the draft, one of
   its cue classes in the context, and no help (an apology, a next step, an explanation: its ``unless``
   lists of ``concepts.toml`` and its own ``unless`` words) in the draft, the draft being short
   (``max_chars`` folded characters: a flat answer, not a paragraph of product facts).

Context only ever raises an allowed draft to a review; it never blocks and never lowers a verdict.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from guards.catalogue import CATEGORIES, CatalogueError, load_toml_file
from guards.meaning import Concepts, expand
from guards.normalize import fold

__all__ = ["ContextRule", "ContextRules", "load_context_rules"]

# The rule name of a context hit starts with this (hits and guard_events say which layer held a message).
RULE_PREFIX = "context:"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class CueSpec(_Strict):
    """A class of customer messages: the words that say it and those that unsay it (不急 is no plea)."""

    id: str = Field(min_length=1)
    source: str = Field(min_length=1)
    explain: str = Field(min_length=1)
    words: tuple[str, ...] = Field(min_length=1)
    not_words: tuple[str, ...] = ()


class ReplySpec(_Strict):
    """A class of flat replies: its own words and the concept classes of ``concepts.toml`` it reuses."""

    id: str = Field(min_length=1)
    source: str = Field(min_length=1)
    explain: str = Field(min_length=1)
    words: tuple[str, ...] = ()
    concepts: tuple[str, ...] = ()
    not_words: tuple[str, ...] = ()


class RuleSpec(_Strict):
    """Reply class X after cue class Y → review, naming the catalogue entry and category it enforces."""

    id: str = Field(min_length=1)
    replies: tuple[str, ...] = Field(min_length=1)
    cues: tuple[str, ...] = Field(min_length=1)
    entry: str = Field(min_length=1)
    category: str
    source: str = Field(min_length=1)
    explain: str = Field(min_length=1)
    max_chars: int = Field(default=40, ge=1, le=400)
    unless_lists: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str) -> str:
        if value not in CATEGORIES:
            raise ValueError(f"{value!r} is not one of {', '.join(CATEGORIES)}")
        return value


class ContextFile(_Strict):
    """The whole ``context.toml``."""

    cue: tuple[CueSpec, ...] = Field(min_length=1)
    reply: tuple[ReplySpec, ...] = Field(min_length=1)
    rule: tuple[RuleSpec, ...] = Field(min_length=1)


def _words_regex(words: Iterable[str]) -> re.Pattern[str] | None:
    """Return one regex finding any of the folded ``words`` (longest first), None when there are none."""
    folded = sorted(
        {fold(spelled) for word in words for spelled in expand(word)} - {""}, key=len, reverse=True
    )
    if not folded:
        return None
    return re.compile("|".join(map(re.escape, folded)))


def _marks_regex(words: Iterable[str]) -> re.Pattern[str] | None:
    """Return one regex finding any of the ``words`` that are marks only (?? folds away), on the raw text."""
    marks = sorted({word for word in words if word and not fold(word)}, key=len, reverse=True)
    if not marks:
        return None
    return re.compile("|".join(map(re.escape, marks)))


def _found(pattern: re.Pattern[str] | None, unsaid: re.Pattern[str] | None, folded: str) -> bool:
    """Return True when ``pattern`` finds a word of ``folded`` outside the words ``unsaid`` finds."""
    if pattern is None:
        return False
    if unsaid is not None:
        folded = unsaid.sub("丨", folded)
    return pattern.search(folded) is not None


@dataclass(frozen=True, slots=True)
class ContextRule:
    """A compiled rule: what it names (entry, category, source) and the words it reads."""

    id: str
    entry: str
    category: str
    source: str
    cues: tuple[str, ...]
    replies: tuple[str, ...]
    max_chars: int
    help: re.Pattern[str] | None

    @property
    def rule(self) -> str:
        """Return the rule name a hit of this rule carries (``context:<id>``)."""
        return RULE_PREFIX + self.id


class ContextRules:
    """Compiled ``context.toml``: :meth:`match` returns the rule a draft breaks after a context, or None."""

    def __init__(self, data: ContextFile, concepts: Concepts | None, name: str = "context.toml") -> None:
        self.data = data
        known_concepts = concepts.concepts if concepts is not None else {}
        lists = concepts.data.lists if concepts is not None else {}
        self._cues: dict[str, tuple[re.Pattern[str] | None, re.Pattern[str] | None]] = {}
        # Cue words of marks only (??, ？？) are looked for in the customer's message as typed.
        self._cue_marks: dict[str, re.Pattern[str]] = {}
        for cue in data.cue:
            self._cues[cue.id] = (_words_regex(cue.words), _words_regex(cue.not_words))
            marks = _marks_regex(cue.words)
            if marks is not None:
                self._cue_marks[cue.id] = marks
        self._replies: dict[str, tuple[re.Pattern[str] | None, re.Pattern[str] | None]] = {}
        for reply in data.reply:
            words = list(reply.words)
            for concept in reply.concepts:
                if concept not in known_concepts:
                    raise CatalogueError(
                        f"{name}: reply {reply.id!r}: field 'concepts': no concept {concept!r}"
                    )
                words.extend(known_concepts[concept].words)
            if not words:
                raise CatalogueError(f"{name}: reply {reply.id!r}: field 'words': no words and no concepts")
            self._replies[reply.id] = (_words_regex(words), _words_regex(reply.not_words))
        rules = []
        for spec in data.rule:
            for field, names, known in (
                ("cues", spec.cues, self._cues),
                ("replies", spec.replies, self._replies),
            ):
                for item in names:
                    if item not in known:
                        raise CatalogueError(
                            f"{name}: rule {spec.id!r}: field {field!r}: no {field[:-1]} {item!r}"
                        )
            help_words = list(spec.unless)
            for list_name in spec.unless_lists:
                if list_name not in lists:
                    raise CatalogueError(
                        f"{name}: rule {spec.id!r}: field 'unless_lists': no list {list_name!r}"
                    )
                help_words.extend(lists[list_name])
            rules.append(
                ContextRule(
                    spec.id,
                    spec.entry,
                    spec.category,
                    spec.source,
                    spec.cues,
                    spec.replies,
                    spec.max_chars,
                    _words_regex(help_words),
                )
            )
        self.rules: tuple[ContextRule, ...] = tuple(rules)

    def cues_of(self, context: str) -> set[str]:
        """Return the ids of the cue classes the customer's message ``context`` says."""
        folded = fold(context)
        found = {cue for cue, (words, unsaid) in self._cues.items() if _found(words, unsaid, folded)}
        found.update(cue for cue, marks in self._cue_marks.items() if marks.search(context) is not None)
        return found

    def replies_of(self, text: str) -> set[str]:
        """Return the ids of the reply classes the draft ``text`` says."""
        return self._replies_in(fold(text))

    def _replies_in(self, folded: str) -> set[str]:
        """Return the ids of the reply classes the folded draft says."""
        return {reply for reply, (words, unsaid) in self._replies.items() if _found(words, unsaid, folded)}

    def match(self, text: str, context: str | None) -> ContextRule | None:
        """Return the first rule that ``text`` breaks after the customer's ``context``, or None.

        None when the context is None or empty (unknown).

        >>> from guards.matcher import default_context_rules
        >>> rules = default_context_rules()
        >>> rules.match("地址不能改了哦", "求求你了能不能快点").id
        'flat-after-plea-or-complaint'
        >>> rules.match("地址不能改了哦", "可以改地址吗") is None
        True
        """
        if not context or not text:
            return None
        folded = fold(text)
        replies = None
        cues = None
        for rule in self.rules:
            if len(folded) > rule.max_chars:
                continue
            if replies is None:
                replies = self._replies_in(folded)
                if not replies:
                    return None
            if not replies.intersection(rule.replies):
                continue
            if rule.help is not None and rule.help.search(folded) is not None:
                continue
            if cues is None:
                cues = self.cues_of(context)
                if not cues:
                    return None
            if cues.intersection(rule.cues):
                return rule
        return None


def load_context_rules(path: str | Path | None = None, concepts: Concepts | None = None) -> ContextRules:
    """Return the compiled context rules read from ``path`` (default: the packaged ``guards/context.toml``).

    ``concepts``: the concept classes whose words and lists the rules reuse. Raises
    :class:`~guards.catalogue.CatalogueError` naming the file, the entry and the field.
    """
    data, name = load_toml_file(ContextFile, "context.toml", path, ("cue", "reply", "rule"))
    return ContextRules(data, concepts, name)
