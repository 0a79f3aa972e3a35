"""Meaning-level matching: concept classes and composition rules (``guards/concepts.toml``) on a phonetic key.

How a message is read:

1. :func:`guards.normalize.fold` with clause boundaries kept (punctuation and spaces become ``丨``);
2. spelling (:class:`Spelling`): Cantonese / Taiwanese wordings, internet slang, pinyin written in
   Latin letters (``ming白`` → 明白) and pinyin initials of a concept word (``bzd`` → 不知道) are
   rewritten, keeping a map back to the folded text;
3. phonetic key: every Chinese character becomes one representative of its toneless pinyin syllable
   (尼 and 你 are the same key, 到 and 道 too), except :data:`exact_chars` that keep their own key;
4. concepts: a prefix-tree regex finds every concept word; each rule of the word's concept decides
   from the word's clause (``bare``: only subjects, softeners and particles around it; ``end``: it
   ends the clause; ``any``), the words right before and after it, and the rest of the message
   (``unless``: a follow-up commitment makes an ignorance statement a helpful answer).

Every hit names its concept, the catalogue entry it enforces and the rule's level (block/review).
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from guards.catalogue import CATEGORIES, CatalogueError, load_toml_file
from guards.normalize import _REPEAT_TAIL, BOUNDARY, char_class
from guards.prefilter import Automaton, automaton, occurs

__all__ = [
    "BOUNDARY",
    "ConceptHit",
    "Concepts",
    "Keyed",
    "Phonetic",
    "compact_of",
    "expand",
    "load_concepts",
    "with_boundaries",
]

LEVELS = ("block", "review")
# What an exemption makes of a hit: none (allow) or a review instead of a block.
EXEMPTION_LEVELS = ("allow", "review")
SHAPES = ("bare", "end", "any")
_ALTERNATIVES = re.compile(r"\(([^()]*)\)")
_LATIN_RUN = re.compile(r"[a-z]+")
_LATIN_LETTER = re.compile("[a-z]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
# A Latin letter (the spelling may rewrite it) or a character beyond the Basic Multilingual Plane (the
# phonetic key's list table stops there): a text with neither is keyed by one translate.
_LATIN_OR_ASTRAL = re.compile("[a-z\U00010000-\U0010ffff]")


# Every spelling of every word is folded, keyed and put in the word tree at start-up (~20 us each): one
# word of 389,618 spellings once took start-up from 4 to 14 s. The largest word shipped spells 27,360.
MAX_SPELLINGS_PER_WORD = 50_000


def expand(word: str) -> list[str]:
    """Return every spelling of ``word`` with its ``(a|b|)`` alternatives expanded.

    >>> expand("(与|和)我无关")
    ['与我无关', '和我无关']
    """
    parts = _ALTERNATIVES.split(word)
    choices = [[part] if index % 2 == 0 else part.split("|") for index, part in enumerate(parts)]
    return ["".join(combo) for combo in itertools.product(*choices)]


# ───────────────────────────── data model ─────────────────────────────


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


# A bare reply is short: a longer run of marks is decoration or a paste, not a curt answer.
BARE_REPLY_MAX = 12


def _one_of(value: str, choices: tuple[str, ...]) -> str:
    """Return ``value`` when it is one of ``choices``; raise the ValueError a field validator reports."""
    if value not in choices:
        raise ValueError(f"{value!r} is not one of {', '.join(choices)}")
    return value


class ConceptSpec(_Strict):
    """One concept class: the words that say it, the catalogue entry and category it enforces."""

    id: str = Field(min_length=1)
    entry: str = Field(min_length=1)
    category: str
    source: str = Field(min_length=1)
    words: tuple[str, ...] = Field(min_length=1)
    suggestion: str | None = None
    suggestion_source: str | None = None

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str) -> str:
        return _one_of(value, CATEGORIES)

    @field_validator("words")
    @classmethod
    def _spellings_bounded(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for word in value:
            count = math.prod(len(part.split("|")) for part in _ALTERNATIVES.split(word)[1::2])
            if count > MAX_SPELLINGS_PER_WORD:
                raise ValueError(
                    f"{word!r} spells out {count:,} strings (at most {MAX_SPELLINGS_PER_WORD:,}): "
                    "split it into words, or drop an optional group at its end (a word is found anywhere)"
                )
        return value


class RuleSpec(_Strict):
    """How a concept becomes a verdict (see the header of ``concepts.toml``)."""

    id: str = Field(min_length=1)
    concepts: tuple[str, ...] = Field(min_length=1)
    shape: str
    level: str
    reach: int = Field(default=0, ge=0, le=12)
    unless: tuple[str, ...] = ()
    not_before: tuple[str, ...] = ()
    not_after: tuple[str, ...] = ()
    explain: str = Field(min_length=1)

    @field_validator("shape")
    @classmethod
    def _known_shape(cls, value: str) -> str:
        return _one_of(value, SHAPES)

    @field_validator("level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        return _one_of(value, LEVELS)


class BareReplySpec(_Strict):
    """A whole reply of marks only (a bare ? or a row of dots) that says a banned phrasing without words."""

    id: str = Field(min_length=1)
    pattern: str = Field(min_length=1)
    entry: str = Field(min_length=1)
    category: str
    source: str = Field(min_length=1)
    suggestion: str = Field(min_length=1)
    suggestion_source: str = Field(min_length=1)
    explain: str = Field(min_length=1)

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str) -> str:
        return _one_of(value, CATEGORIES)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        if re.search(r"[\u3400-\u9fff]", value):
            raise ValueError("a bare reply is marks only: no Chinese character in its pattern")
        return value


class SpellingSpec(_Strict):
    """Wordings rewritten to one standard word before matching (dialect, slang, initials)."""

    to: str = Field(min_length=1)
    keep_tail: bool = False
    note: str = Field(min_length=1)
    from_: tuple[str, ...] = Field(alias="from", min_length=1)


class ExemptionSpec(_Strict):
    """Who and what: when a hit of these categories is not meant at the customer (see ``concepts.toml``)."""

    id: str = Field(min_length=1)
    categories: tuple[str, ...] = Field(min_length=1)
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    next: tuple[str, ...] = ()
    later_in_clause: tuple[str, ...] = ()
    anywhere: tuple[tuple[str, ...], ...] = ()
    not_in_clause: tuple[str, ...] = ()
    # with ``next``: the clause goes on past that word with more than tail words (烦人的苍蝇, not 真烦人的呢)
    then_more: bool = False
    # the hit's clause holds, before the hit, words other than lead words (a subject: 夏天的苍蝇真讨厌)
    not_bare: bool = False
    # list names: the clause just before the hit's clause ends with a word of them (您说的 + “不知道”)
    previous_clause_ends: tuple[str, ...] = ()
    # list names: no word of them anywhere in the message (怎么搞的 … 你地址写错了 blames after all)
    nowhere: tuple[str, ...] = ()
    level: str = "allow"
    explain: str = Field(min_length=1)

    @field_validator("categories")
    @classmethod
    def _known_categories(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for category in value:
            _one_of(category, CATEGORIES)
        return value

    @field_validator("level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        return _one_of(value, EXEMPTION_LEVELS)


class ConceptFile(_Strict):
    """The whole ``concepts.toml``."""

    exact_chars: str = ""
    initials_concepts: tuple[str, ...] = ()
    phonetic_min_length: int = Field(default=3, ge=1)
    marker_chars: str = ""
    lists: dict[str, tuple[str, ...]]
    concept: tuple[ConceptSpec, ...] = Field(min_length=1)
    rule: tuple[RuleSpec, ...] = Field(min_length=1)
    spelling: tuple[SpellingSpec, ...] = ()
    exemption: tuple[ExemptionSpec, ...] = ()
    bare_reply: tuple[BareReplySpec, ...] = ()


# ───────────────────────────── phonetic key ─────────────────────────────


def _toneless(syllable: str) -> str:
    """Return a pinyin syllable without tone marks (ü as v)."""
    plain = unicodedata.normalize("NFKD", syllable.replace("ü", "v"))
    return "".join(c for c in plain if not unicodedata.combining(c))


class Phonetic:
    """The phonetic key: each Chinese character → one representative character of its syllable."""

    def __init__(self, preferred: str, exact_chars: str) -> None:
        from pypinyin.pinyin_dict import pinyin_dict

        syllable_of: dict[str, str] = {}
        for code, readings in pinyin_dict.items():
            first = readings.split(",")[0]
            syllable_of[chr(code)] = _toneless(first)
        self.syllable_of = syllable_of
        representative: dict[str, str] = {}
        for ch in preferred:  # concept characters represent their syllable, so keys stay readable
            syllable = syllable_of.get(ch)
            if syllable and ch not in exact_chars:
                representative.setdefault(syllable, ch)
        table: dict[int, str] = {}
        for ch, syllable in syllable_of.items():
            if ch in exact_chars or ch == BOUNDARY:
                continue
            rep = representative.setdefault(syllable, ch)
            if rep != ch:
                table[ord(ch)] = rep
        self.table = table
        # The same table as a list over the Basic Multilingual Plane (the index is the code point; a
        # character that keeps its own key maps to itself): ``str.translate`` reads a list faster.
        bmp_table: list[int | str] = list(range(0x10000))
        for code, rep in table.items():
            if code < 0x10000:
                bmp_table[code] = rep
        self.bmp_table = bmp_table
        # Latin syllables prefer an exact concept character (fan → 烦, ji → 急, zhi → 知), else a concept
        # character (ming → 明). A syllable that is both an exact character and other characters (ji: 急 and
        # 自己's 己) is read a second time as its other key (:attr:`latin_other`): pinyin has no tones to
        # tell them apart.
        latin: dict[str, str] = {}
        for ch in preferred:
            syllable = syllable_of.get(ch)
            if syllable and ch in exact_chars:
                latin.setdefault(syllable, ch)
        for ch in preferred:
            syllable = syllable_of.get(ch)
            if syllable:
                latin.setdefault(syllable, ch)
        for syllable, rep in representative.items():
            latin.setdefault(syllable, rep)
        self.latin = latin
        self.latin_other = {
            ch: representative[syllable]
            for syllable, ch in latin.items()
            if ch in exact_chars and syllable in representative
        }
        self.longest_syllable = max(map(len, latin))

    def key(self, text: str) -> str:
        """Return the phonetic key of ``text``: ``text.translate(self.table)``."""
        if _ASTRAL.search(text) is None:
            return text.translate(self.bmp_table)
        return text.translate(self.table)

    def initials(self, word: str) -> str:
        """Return the pinyin initials of ``word`` (不知道 → bzd), or "" when a character has no reading."""
        out = []
        for ch in word:
            syllable = self.syllable_of.get(ch)
            if not syllable:
                return ""
            out.append(syllable[0])
        return "".join(out)

    def segment(self, run: str) -> str | None:
        """Return the characters for a Latin run that is wholly pinyin syllables, else None."""
        out = []
        at = 0
        while at < len(run):
            for size in range(min(self.longest_syllable, len(run) - at), 0, -1):
                ch = self.latin.get(run[at : at + size])
                if ch is not None:
                    out.append(ch)
                    at += size
                    break
            else:
                return None
        return "".join(out)


# ───────────────────────────── spelling ─────────────────────────────


@dataclass(frozen=True, slots=True)
class Keyed:
    """A text in the rules' key space, with the index in the folded text of each key character."""

    text: str
    source: tuple[int, ...] | None  # None: same length as the folded text, index i ↔ i
    spelled: str = ""  # the text before the phonetic key (same length as ``text``)
    # ``text`` with its pinyin syllables read the other way (ji as 己 instead of 急), "" when none is
    # ambiguous; searched as well (see :meth:`Concepts.keyed`).
    other_reading: str = ""
    # The positions of ``text``'s clause boundaries that stand between two characters read from pinyin
    # (``wo bang nin``: the spaces between syllables): a rule's ``unless`` reads the text without them.
    pinyin_gaps: tuple[int, ...] = ()

    def folded_span(self, start: int, end: int) -> tuple[int, int]:
        """Return the folded ``[start, end)`` that produced key characters ``[start, end)``."""
        if self.source is None:
            return start, end
        if start >= len(self.source):
            last = self.source[-1] + 1 if self.source else 0
            return last, last
        end = max(start + 1, min(end, len(self.source)))
        return self.source[start], self.source[end - 1] + 1


class Spelling:
    """Rewrite dialect, slang, pinyin and initials into standard words, keeping the map back."""

    def __init__(
        self,
        specs: tuple[SpellingSpec, ...],
        initials: dict[str, str],
        phonetic: Phonetic,
        common: str = "",
        markers: str = "",
    ) -> None:
        from guards.normalize import fold

        replace: dict[str, str] = {}
        for spec in specs:
            for raw in spec.from_:
                key = fold(raw)
                if key:
                    replace[key] = fold(spec.to) + (key[1:] if spec.keep_tail else "")
        self.replace = replace
        self.initials = initials
        self.phonetic = phonetic
        pattern = _alternation(sorted(replace))
        self.pattern = re.compile(f"[a-z]+|{pattern}" if pattern else "[a-z]+")
        # A text with none of these characters has nothing to rewrite: each wording's rarest character
        # (by how often it occurs in ``common``, the concept words and lists, and in the wordings) and
        # the Latin letters.
        counts: dict[str, int] = {}
        for ch in common:
            counts[ch] = counts.get(ch, 0) + 1

        # A wording holding a marker character (one only dialect or slang writes: 唔, 冇, 咗) is anchored
        # on it.
        def anchor(word: str) -> str:
            marked = [ch for ch in word if ch in markers]
            return marked[0] if marked else min(word, key=lambda ch: (counts.get(ch, 0), ch))

        anchors = {anchor(word) for word in replace}
        self.anchors = frozenset(anchors | set("abcdefghijklmnopqrstuvwxyz"))
        self.any_anchor = char_class(self.anchors)  # one regex class: faster than a set for CJK text
        self.wordings = automaton(replace)  # ``pattern`` finds something iff a Latin letter or one of these

    def rewrite(self, folded: str, *, wordings: bool | None = None) -> tuple[str, tuple[int, ...] | None]:
        """Return ``folded`` with every known wording rewritten, and the source index of each character
        (None when nothing was rewritten: the text is ``folded`` itself).

        ``wordings``: whether one of the wordings may occur in ``folded`` (False: the caller's own search
        found none, so only Latin letters can be rewritten); None: look for them here.
        """
        pattern = self.pattern
        if wordings is None:
            if self.any_anchor.search(folded) is None:
                return folded, None
            if _LATIN_LETTER.search(folded) is None and not occurs(self.wordings, folded):
                return folded, None
        elif not wordings:
            if _LATIN_LETTER.search(folded) is None:
                return folded, None
            # No wording occurs, so the alternation's wording branch matches nothing: only Latin runs
            # (one class, not the wordings' prefix tree tried at every position).
            pattern = _LATIN_RUN
        pieces = self._rewritten(pattern, folded)
        if not pieces:  # the common case: Latin that is no pinyin (an order link, "ok"): no map built
            return folded, None
        out: list[str] = []
        source: list[int] = []
        last = 0
        for start, end, new in pieces:
            out.append(folded[last:start])
            source.extend(range(last, start))
            out.append(new)
            # every new character points into the replaced piece (the last ones to its last character)
            source.extend(min(start + i, end - 1) for i in range(len(new)))
            last = end
        out.append(folded[last:])
        source.extend(range(last, len(folded)))
        text = "".join(out)
        if text == folded:
            return folded, None
        return text, tuple(source)

    def _rewritten(self, pattern: re.Pattern[str], folded: str) -> list[tuple[int, int, str]]:
        """Return (start, end, new text) of each piece ``pattern`` finds in ``folded`` that has a rewriting:
        a wording, pinyin initials of a concept word, or pinyin syllables.
        """
        pieces = []
        for match in pattern.finditer(folded):
            piece = match.group()
            if piece in self.replace:
                new = self.replace[piece]
            elif piece in self.initials and len(piece) >= 3:
                new = self.initials[piece]
            else:
                new = self.phonetic.segment(piece) if len(piece) >= 2 else None
                if new is None:
                    continue
            pieces.append((*match.span(), new))
        return pieces


# ───────────────────────────── concepts ─────────────────────────────


@dataclass(frozen=True, slots=True)
class ConceptHit:
    """A concept found in the key text and the rule that made it a hit."""

    concept: str
    entry: str
    category: str
    rule: str
    level: str
    suggestion: str | None
    start: int  # key coordinates
    end: int


@dataclass(frozen=True, slots=True)
class _Exemption:
    """A compiled [[exemption]]: each condition a regex of its lists' folded words (None: no condition)."""

    id: str
    level: str
    before: re.Pattern[str] | None
    after: re.Pattern[str] | None
    next: re.Pattern[str] | None
    later_in_clause: re.Pattern[str] | None
    anywhere: tuple[re.Pattern[str], ...]
    not_in_clause: re.Pattern[str] | None
    then_more: re.Pattern[str] | None = None  # the tail words a ``next`` word must be followed by more than
    not_bare: re.Pattern[str] | None = None  # the lead words the clause before the hit must be more than
    previous_clause_ends: re.Pattern[str] | None = None  # words, anchored at the end ($)
    nowhere: re.Pattern[str] | None = None


@dataclass(frozen=True, slots=True)
class _Rule:
    id: str
    shape: str
    level: str
    reach: int
    unless: re.Pattern[str] | None
    not_before: frozenset[str]
    not_after: frozenset[str]
    before_lengths: tuple[int, ...] = ()  # the lengths of the not_before words, to slice once per length
    after_lengths: tuple[int, ...] = ()
    # What may follow the word to its clause's end (shape bare or end; None: shape any): at most ``reach``
    # characters, then tail words only (:func:`_ends_within`).
    ends: re.Pattern[str] | None = None


def _alternation(words: list[str], gap: str = "") -> str:
    """Return a regex matching any of ``words``, factored as a prefix tree (longest match first).

    ``gap`` is a regex allowed after each character (a clause boundary inside a word: 你问我，我问谁).
    """
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def render(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + gap + render(child) for ch, child in sorted(node.items()) if ch]
        optional = "" in node
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if optional:
            return f"(?:{body})?"
        return body

    return render(trie)


class WordTrie:
    """Words as a prefix tree, matched at a given position with one clause boundary allowed after each
    character: what ``re.compile(_alternation(words, BOUNDARY + "?")).match`` finds, without compiling a
    regex of the whole lexicon (84,451 sound words made one of 818,573 characters, ten seconds of start-up).

    The tree is one flat dict, prefix → whether a word ends there: strings and booleans only, so the
    garbage collector never walks it (nested dicts, one per node, made every full collection walk
    hundreds of thousands of them, which the bot paid per update).
    """

    __slots__ = ("prefixes",)

    def __init__(self, words: Iterable[str]) -> None:
        prefixes: dict[str, bool] = {}
        for word in words:
            for size in range(1, len(word)):
                prefixes.setdefault(word[:size], False)
            if word:
                prefixes[word] = True
        self.prefixes = prefixes

    def match(self, text: str, position: int) -> int | None:
        """Return the end of the longest word at ``position`` of ``text`` (with a boundary right after its
        last character counted in, as the gap regex takes it), or None when no word starts there.

        >>> WordTrie(["你问", "你问我问谁"]).match("丨你问丨我问谁", 1)
        7
        >>> WordTrie(["你问"]).match("你问丨我", 0)  # the boundary after the word is taken with it
        3
        >>> WordTrie(["你问我"]).match("你问谁", 0) is None
        True
        """
        prefixes = self.prefixes
        end = None
        size = len(text)
        i = position
        prefix = ""
        while i < size:
            prefix += text[i]
            ends = prefixes.get(prefix)
            if ends is None:
                break
            i += 1
            if i < size and text[i] == BOUNDARY:
                i += 1
            if ends:
                end = i
        return end


def _ends_within(tail: re.Pattern[str], reach: int) -> re.Pattern[str]:
    """Return a regex whose ``fullmatch`` of a clause's rest is: at most ``reach`` characters, then a run of
    ``tail`` (one regex call instead of a ``tail.fullmatch`` after each number of skipped characters).

    >>> _ends_within(_run_of(["呢", "啊"]), 1).fullmatch("了呢") is not None
    True
    """
    return re.compile(f"(?s:.){{0,{reach}}}(?:{tail.pattern})")


def _prefix_free(words: Iterable[str]) -> list[str]:
    """Return ``words`` sorted, without duplicates and without any word that starts with another of them.

    The positions where one of the words starts are the positions where one of these starts.

    >>> _prefix_free(["不知道", "不知", "知道", "不知道啊"])
    ['不知', '知道']
    """
    kept: list[str] = []
    for word in sorted(set(words)):
        if not kept or not word.startswith(kept[-1]):
            kept.append(word)
    return kept


def _run_of(words: list[str]) -> re.Pattern[str]:
    """Return a regex matching a run of zero or more of ``words``."""
    if not words:
        return re.compile("")
    return re.compile(f"(?:{_alternation(sorted(set(words)))})*")


class Concepts:
    """Compiled concept classes and rules; :meth:`find` returns the concept hits of a message."""

    def __init__(self, data: ConceptFile, name: str = "concepts.toml") -> None:
        from guards.normalize import fold

        self.data = data
        preferred = "".join(
            dict.fromkeys(
                ch
                for concept in data.concept
                for word in concept.words
                for spelled in expand(word)
                for ch in fold(spelled)
            )
        )
        self.phonetic = Phonetic(preferred, data.exact_chars)
        initials: dict[str, str] = {}
        for concept in data.concept:
            if concept.id not in data.initials_concepts:
                continue
            for word in concept.words:
                for spelled in expand(word):
                    folded = fold(spelled)
                    code = self.phonetic.initials(folded)
                    if len(code) >= 3:
                        initials.setdefault(code, folded)
        common = "".join(
            [w for c in data.concept for w in c.words] + [w for words in data.lists.values() for w in words]
        )
        markers = fold(data.marker_chars)
        self.spelling = Spelling(data.spelling, initials, self.phonetic, fold(common), markers)
        self.concepts = {concept.id: concept for concept in data.concept}
        self.lead = _run_of([self.key_of(word) for word in data.lists.get("lead", ())])
        self.tail = _run_of([self.key_of(word) for word in data.lists.get("tail", ())])
        rules_of: dict[str, list[_Rule]] = {}
        for spec in data.rule:
            for list_name in spec.unless:
                if list_name not in data.lists:
                    raise CatalogueError(f"{name}: rule {spec.id!r}: field 'unless': no list {list_name!r}")
            unless_words = [self.key_of(w) for n in spec.unless for w in data.lists[n]]
            before = [self.key_of(word) for word in spec.not_before]
            after = [self.key_of(word) for word in spec.not_after]
            for list_name in spec.unless:
                for word in data.lists[list_name]:
                    if len(self.key_of(word)) < 2:  # one character (试试 folds to 试) would be everywhere
                        message = f"{word!r} is one character once folded"
                        raise CatalogueError(f"{name}: lists.{list_name}: {message}")
            rule = _Rule(
                spec.id,
                spec.shape,
                spec.level,
                spec.reach,
                re.compile(_alternation(sorted(set(unless_words)))) if unless_words else None,
                frozenset(before),
                frozenset(after),
                tuple(sorted({len(word) for word in before})),
                tuple(sorted({len(word) for word in after})),
                None if spec.shape == "any" else _ends_within(self.tail, spec.reach),
            )
            for concept_id in spec.concepts:
                if concept_id not in self.concepts:
                    raise CatalogueError(
                        f"{name}: rule {spec.id!r}: field 'concepts': no concept {concept_id!r}"
                    )
                rules_of.setdefault(concept_id, []).append(rule)
        self.rules_of = rules_of
        self.exemptions_of = _compile_exemptions(data, name)
        self.bare_replies = {spec.id: (spec, re.compile(spec.pattern)) for spec in data.bare_reply}
        # Words of phonetic_min_length characters or more are looked for by sound (尼自己 = 你自己); shorter
        # ones by their letters only (墨迹 must not match 末级, 唉 not 爱).
        concepts_of: dict[str, list[str]] = {}
        literal_of: dict[str, list[str]] = {}
        searched: dict[str, set[str]] = {}  # both spellings of a word with a doubled character
        for concept in data.concept:
            for word in concept.words:
                for spelled in expand(word):
                    literal = self.spelled_of(spelled)
                    if len(literal) < 2 < len(spelled):  # 行行行 folds to 行, which is in every 银行 and 就行
                        message = f"{spelled!r} is one character once folded (repeats collapse)"
                        raise CatalogueError(f"{name}: concept {concept.id!r}: field 'words': {message}")
                    uncollapsed = self.spelled_of(spelled, collapse=False)
                    if len(literal) >= data.phonetic_min_length:
                        # key_of(spelled) and key_of(spelled, collapse=False), each folded and spelled once
                        table = self.phonetic.table
                        target, key = concepts_of, literal.translate(table)
                        forms = {key, uncollapsed.translate(table)}
                    else:
                        target, key = literal_of, literal
                        forms = {key, uncollapsed}
                    if key and concept.id not in target.setdefault(key, []):
                        target[key].append(concept.id)
                    searched.setdefault("key" if target is concepts_of else "literal", set()).update(forms)
        self.concepts_of = concepts_of
        self.literal_of = literal_of
        self.words = WordTrie(searched.get("key", ()))
        self.literal_words = WordTrie(searched.get("literal", ()))
        # The words without their gaps, in one automaton run on the key text less its boundaries: the sound
        # words, then the key of each literal word of two characters or more (a literal word in the spelled
        # text is its key in the key text). ``words`` and ``literal_words`` are tried only where one starts
        # (:func:`_word_starts`), and a literal word of one character where it stands (``literal_chars``).
        # A word that starts with another word of its kind starts where that one does: only the others are
        # looked for (84,451 sound words, 47,680 of them left, when this was written).
        sound = _prefix_free(word for word in searched.get("key", ()) if word)
        literal = searched.get("literal", set())
        self.sound_word_count = len(sound)
        self.words_anywhere = automaton(
            sound + _prefix_free(word.translate(self.phonetic.table) for word in literal if len(word) >= 2)
        )
        self.literal_chars = char_class(word for word in literal if len(word) == 1)
        # Every literal word as it is and with its repeats collapsed (as a text less its clause boundaries
        # reads it): a caller that searched a clause-folded text for all of them may tell :meth:`find` that
        # none is there.
        self.literal_forms = frozenset(
            form for word in literal for form in (word, _REPEAT_TAIL.sub("", word)) if form
        )

    def spelled_of(self, word: str, *, collapse: bool = True) -> str:
        """Return a data word folded and spelled, no phonetic key (``collapse=False``: repeats kept)."""
        from guards.normalize import _fold_parts, fold

        folded = fold(word) if collapse else _fold_parts(word)
        return self.spelling.rewrite(folded)[0].replace(BOUNDARY, "")

    def key_of(self, word: str, *, collapse: bool = True) -> str:
        """Return the key-space form of a data word (folded, spelled, phonetic)."""
        return self.spelled_of(word, collapse=collapse).translate(self.phonetic.table)

    def keyed(self, folded: str, *, wordings: bool | None = None) -> Keyed:
        """Return the key text of a folded text (boundaries kept) with its map back (``wordings``: see
        :meth:`Spelling.rewrite`).

        Pinyin written in Latin letters whose syllable is an exact character (ji: 急) and other characters
        (ji: 己) gets a second reading, ``other_reading``, with the other key: ``你自ji去看`` and ``你ji什么``
        are both found.
        """
        if wordings is False and _LATIN_OR_ASTRAL.search(folded) is None:
            # What rewrite and key would do with it, with one search instead of two.
            return Keyed(folded.translate(self.phonetic.bmp_table), None, folded, "")
        text, source = self.spelling.rewrite(folded, wordings=wordings)
        key = self.phonetic.key(text)
        other = ""
        gaps: tuple[int, ...] = ()
        if source is not None:
            other_of = self.phonetic.latin_other
            chars = list(key)
            for index, ch in enumerate(chars):
                if ch in other_of and folded[source[index]].isascii():
                    chars[index] = other_of[ch]
            swapped = "".join(chars)
            if swapped != key:
                other = swapped
            if BOUNDARY in key:
                gaps = _pinyin_gaps(key, folded, source)
        return Keyed(key, source, text, other, gaps)

    def hits_of(
        self, folded: str, *, wordings: bool | None = None, literal: bool | None = None
    ) -> tuple[Keyed | None, list[ConceptHit]]:
        """Return the keyed text of a folded text and its concept hits: ``keyed(folded, wordings=…)`` and
        :meth:`find` of it, the keyed text None when there is no hit (the guard needs it only for a hit).

        A text of plain characters and no hit, the common one, is keyed without building a :class:`Keyed`.
        """
        if wordings is False and _LATIN_OR_ASTRAL.search(folded) is None:
            key = folded.translate(self.phonetic.bmp_table)  # what keyed() does here
            hits = self._search(key, folded or key, literal)
            return (Keyed(key, None, folded, "") if hits else None), hits
        keyed = self.keyed(folded, wordings=wordings)
        hits = self.find(keyed, literal=literal)
        return (keyed if hits else None), hits

    def bare_reply(self, text: str) -> BareReplySpec | None:
        """Return the [[bare_reply]] whose pattern is the whole of ``text`` (spaces aside); None if none is.

        >>> load_concepts().bare_reply(" ？？").id
        'bare-question-mark'
        """
        if len(text) > 4 * BARE_REPLY_MAX:  # spaces aside it could not be short: skip the split
            return None
        stripped = "".join(text.split())
        if not stripped or len(stripped) > BARE_REPLY_MAX:
            return None
        for spec, pattern in self.bare_replies.values():
            if pattern.fullmatch(stripped):
                return spec
        return None

    def exemption(self, bfolded: str, start: int, end: int, category: str) -> tuple[str, str] | None:
        """Return (exemption id, "allow" | "review") for a hit at ``[start, end)`` of a clause-folded text.

        The [[exemption]] tables of the hit's category whose conditions all hold decide (an "allow" one
        before a "review" one, else the first in the file): ``before`` in the hit's clause before it,
        ``after`` anywhere after it, ``next`` right after it (or overlapping its end), ``later_in_clause``
        after it in its clause, every ``anywhere`` group in the message, no ``not_in_clause`` word in the
        hit's clause, with ``then_more`` more than tail words after the ``next`` word, with ``not_bare`` more
        than lead words before the hit in its clause, the clause before ending with a ``previous_clause_ends``
        word, no ``nowhere`` word in the message. None when no exemption holds.
        """
        exemptions = self.exemptions_of.get(category)
        if not exemptions:
            return None
        clause_start = bfolded.rfind(BOUNDARY, 0, start) + 1
        clause_end = bfolded.find(BOUNDARY, end)
        if clause_end < 0:
            clause_end = len(bfolded)
        decided: tuple[str, str] | None = None
        for item in exemptions:
            if item.before is not None and item.before.search(bfolded, clause_start, start) is None:
                continue
            if item.after is not None and item.after.search(bfolded, end) is None:
                continue
            if item.next is not None and not _goes_on_with(
                item.next, bfolded, start, end, item.then_more, clause_end
            ):
                continue
            bare = item.not_bare
            if bare is not None and bare.fullmatch(bfolded, clause_start, start) is not None:
                continue
            ends = item.previous_clause_ends
            if ends is not None and (
                clause_start == 0
                or ends.search(bfolded, bfolded.rfind(BOUNDARY, 0, clause_start - 1) + 1, clause_start - 1)
                is None
            ):
                continue
            if item.later_in_clause is not None and not _later_in(
                item.later_in_clause, bfolded, start, end, clause_end
            ):
                continue
            if any(pattern.search(bfolded) is None for pattern in item.anywhere):
                continue
            if item.nowhere is not None and item.nowhere.search(bfolded) is not None:
                continue
            if (
                item.not_in_clause is not None
                and item.not_in_clause.search(bfolded, clause_start, clause_end) is not None
            ):
                continue
            if item.level == "allow":
                return item.id, item.level
            decided = decided or (item.id, item.level)
        return decided

    def find(self, keyed: Keyed, *, literal: bool | None = None, waived: bool = False) -> list[ConceptHit]:
        """Return the concept hits in a keyed text (see the module docstring), in order of position.

        Concept words are found across clause boundaries (你问我，我问谁): the search allows a boundary
        after each character of a word. ``literal``: whether one of :attr:`literal_forms` occurs in the
        folded text less its boundaries (False: the caller's search found none, and no literal word is
        looked for unless the spelling rewrote the text); None: look for them. ``waived``: return instead
        the occurrences a rule would have held but for the help its ``unless`` found in the message
        (level ``"waived"``): the words the rules read and found answered.
        """
        if keyed.source is not None:
            literal = None
        gaps = keyed.pinyin_gaps
        hits = self._search(keyed.text, keyed.spelled or keyed.text, literal, waived, gaps)
        if keyed.other_reading:
            seen = {(hit.concept, hit.start) for hit in hits}
            for hit in self._search(keyed.other_reading, keyed.other_reading, None, waived, gaps):
                if (hit.concept, hit.start) not in seen:
                    hits.append(hit)
            hits.sort(key=lambda hit: hit.start)
        return hits

    def _search(
        self,
        key: str,
        spelled: str,
        literal: bool | None = None,
        waived: bool = False,
        pinyin_gaps: tuple[int, ...] = (),
    ) -> list[ConceptHit]:
        """Return the concept hits of one reading: ``key`` searched by sound, ``spelled`` by letters (unless
        ``literal`` is False); with ``waived``, the occurrences only an ``unless`` let through.
        ``pinyin_gaps``: see :attr:`Keyed.pinyin_gaps`.
        """
        # Both kinds of words are tried only where the Aho-Corasick pass (or, for a one-character literal
        # word, its character class) finds one starting.
        sound_starts, literal_starts = _word_starts(self.words_anywhere, key, self.sound_word_count)
        if literal is False:
            literal_starts = []
        elif self.literal_chars.search(spelled) is not None:  # most texts hold none (one search, no list)
            single = [match.start() for match in self.literal_chars.finditer(spelled)]
            literal_starts = sorted({*literal_starts, *single})
        if not sound_starts and not literal_starts:
            return []
        hits: list[ConceptHit] = []
        unless_cache: dict[tuple[int, int], bool] = {}
        joined = _Joined(key, pinyin_gaps) if pinyin_gaps else None
        passes = (
            (key, self.words, self.concepts_of, sound_starts),
            (spelled, self.literal_words, self.literal_of, literal_starts),
        )
        for text, words, table, starts in passes:
            for start in starts:
                end = words.match(text, start)
                if end is None:
                    continue
                word = text[start:end]
                if word.endswith(BOUNDARY):
                    end -= 1
                if end > start and not _split_off(text, start, end):
                    found = word.replace(BOUNDARY, "")
                    concepts = table.get(found) or table.get(_REPEATS.sub(r"\1", found), ())
                    for concept_id in concepts:
                        hit = self._judge(key, concept_id, start, end, unless_cache, waived, joined)
                        if hit is not None:
                            hits.append(hit)
                            break
        hits.sort(key=lambda hit: hit.start)
        return hits

    def _judge(
        self,
        key: str,
        concept_id: str,
        start: int,
        end: int,
        unless_cache: dict[tuple[int, int], bool],
        waived: bool = False,
        joined: _Joined | None = None,
    ) -> ConceptHit | None:
        """Return the hit the first satisfied rule of ``concept_id`` makes of this occurrence, or None.

        With ``waived``: the hit (level ``"waived"``) of the first rule whose shape holds but whose
        ``unless`` found help in the message, or None when a rule holds it outright or none applies.
        ``joined``: the key without the boundaries between pinyin syllables, where ``unless`` looks (帮您 is
        help in ``wo bang nin`` too).
        """
        clause_start = key.rfind(BOUNDARY, 0, start) + 1
        clause_end = key.find(BOUNDARY, end)
        if clause_end < 0:
            clause_end = len(key)
        for rule in self.rules_of.get(concept_id, ()):
            if rule.ends is not None and rule.ends.fullmatch(key, end, clause_end) is None:
                continue
            if rule.shape == "bare" and self.lead.fullmatch(key, clause_start, start) is None:
                continue
            not_before = rule.not_before
            if not_before and any(key[end : end + size] in not_before for size in rule.before_lengths):
                continue
            if rule.not_after and any(
                start - size >= clause_start and key[start - size : start] in rule.not_after
                for size in rule.after_lengths
            ):
                continue
            if rule.unless is not None:
                # A bare clause holds only lead and tail words besides the concept: its own 目前/暂时 are
                # subjects and softeners there, not a reason given, so a bare rule looks outside it.
                outside = rule.shape == "bare"
                cache_key = (id(rule), clause_start if outside else -1)
                found = unless_cache.get(cache_key)
                if found is None:
                    text, before, after = key, clause_start, clause_end
                    if joined is not None:
                        text, before, after = joined.text, joined.at[clause_start], joined.at[clause_end]
                    if outside:
                        look = rule.unless.search
                        found = look(text, 0, before) is not None or look(text, after) is not None
                    else:
                        found = rule.unless.search(text) is not None
                    unless_cache[cache_key] = found
                if found:
                    if waived:
                        return self._hit(concept_id, rule, "waived", start, end)
                    continue
            if waived:
                return None
            return self._hit(concept_id, rule, rule.level, start, end)
        return None

    def _hit(self, concept_id: str, rule: _Rule, level: str, start: int, end: int) -> ConceptHit:
        """Return the hit ``rule`` makes of an occurrence of ``concept_id`` at ``[start, end)``."""
        concept = self.concepts[concept_id]
        return ConceptHit(
            concept_id, concept.entry, concept.category, rule.id, level, concept.suggestion, start, end
        )


_REPEATS = re.compile(r"([^0-9])\1+")


def _pinyin_gaps(key: str, folded: str, source: tuple[int, ...]) -> tuple[int, ...]:
    """Return the positions of ``key``'s boundaries that stand between two characters read from Latin
    letters (the spaces of ``wo bang nin``), in order.

    ``source``: the index in ``folded`` of each key character (:meth:`Spelling.rewrite`).
    """
    gaps = []
    at = key.find(BOUNDARY, 1)
    while 0 < at < len(key) - 1:
        before, after = key[at - 1], key[at + 1]
        if (
            before != BOUNDARY
            and after != BOUNDARY
            and folded[source[at - 1]].isascii()
            and folded[source[at + 1]].isascii()
        ):
            gaps.append(at)
        at = key.find(BOUNDARY, at + 1)
    return tuple(gaps)


class _Joined:
    """A key text without the boundaries at ``gaps``, and where each position of the key falls in it."""

    __slots__ = ("at", "text")

    def __init__(self, key: str, gaps: tuple[int, ...]) -> None:
        skip = set(gaps)
        self.text = "".join(ch for index, ch in enumerate(key) if index not in skip)
        at = []
        removed = 0
        for index in range(len(key) + 1):
            at.append(index - removed)
            if index in skip:
                removed += 1
        self.at = at


def _goes_on_with(
    words: re.Pattern[str],
    bfolded: str,
    start: int,
    end: int,
    then_more: re.Pattern[str] | None = None,
    clause_end: int = 0,
) -> bool:
    """Return True when one of ``words`` starts at ``end`` or inside the hit and goes on past it.

    怎么搞定的 + 话 goes on with 的话 as well as 声音大点 + 的话 does. With ``then_more`` (a run of tail
    words), the word must also be followed in its clause by more than that run (烦人的 + 苍蝇, not + 呢).
    """
    for at in range(end, start, -1):
        match = words.match(bfolded, at)
        if match is not None and match.end() > end:
            if then_more is None or then_more.fullmatch(bfolded, match.end(), clause_end) is None:
                return True
    return False


def _later_in(words: re.Pattern[str], bfolded: str, start: int, end: int, clause_end: int) -> bool:
    """Return True when one of ``words`` ends after the hit within its clause (it may start inside the hit:
    a fuzzy hit 不能讲普通话也 takes the 也 of 也没关系).
    """
    at = start + 1
    while at < clause_end:
        match = words.search(bfolded, at, clause_end)
        if match is None:
            return False
        if match.end() > end:
            return True
        at = match.start() + 1
    return False


def _split_off(text: str, start: int, end: int) -> bool:
    """Return True when a word found at ``text[start:end]`` across a clause boundary borrows one character
    from a clause that goes on beyond it.

    A word is found across a boundary for 你问我，我问谁 and for text spelled out one character at a time
    (急 什 么); 听懂了，马上 is not 听懂了吗 (a particle read by sound from the first character of the next
    clause): a one-character side of an inner boundary must be a whole clause.
    """
    parts = text[start:end].split(BOUNDARY)
    if len(parts) < 2:
        return False
    if len(parts[-1]) == 1 and end < len(text) and text[end] != BOUNDARY:
        return True
    return len(parts[0]) == 1 and start > 0 and text[start - 1] != BOUNDARY


def _compile_exemptions(data: ConceptFile, name: str) -> dict[str, tuple[_Exemption, ...]]:
    """Return the [[exemption]] tables compiled, by category; raise CatalogueError for an unknown list."""
    from guards.normalize import fold

    def words_of(spec: ExemptionSpec, field: str, list_names: tuple[str, ...]) -> re.Pattern[str] | None:
        words: set[str] = set()
        for list_name in list_names:
            if list_name not in data.lists:
                raise CatalogueError(f"{name}: exemption {spec.id!r}: field {field!r}: no list {list_name!r}")
            words.update(folded for word in data.lists[list_name] if (folded := fold(word)))
        return re.compile(_alternation(sorted(words))) if words else None

    def at_end(words: re.Pattern[str] | None) -> re.Pattern[str] | None:
        return re.compile(f"(?:{words.pattern})$") if words is not None else None

    def run_of(list_name: str) -> re.Pattern[str]:
        return _run_of([folded for word in data.lists.get(list_name, ()) if (folded := fold(word))])

    by_category: dict[str, list[_Exemption]] = {}
    for spec in data.exemption:
        conditions = (spec.before, spec.after, spec.next, spec.later_in_clause, spec.anywhere)
        if not (any(conditions) or spec.previous_clause_ends):
            message = "needs before, after, next, later_in_clause, previous_clause_ends or anywhere"
            raise CatalogueError(f"{name}: exemption {spec.id!r}: {message}")
        anywhere = tuple(words_of(spec, "anywhere", group) for group in spec.anywhere)
        if spec.then_more and not spec.next:
            raise CatalogueError(f"{name}: exemption {spec.id!r}: field 'then_more': needs next")
        exemption = _Exemption(
            spec.id,
            spec.level,
            words_of(spec, "before", spec.before),
            words_of(spec, "after", spec.after),
            words_of(spec, "next", spec.next),
            words_of(spec, "later_in_clause", spec.later_in_clause),
            tuple(pattern for pattern in anywhere if pattern is not None),
            words_of(spec, "not_in_clause", spec.not_in_clause),
            run_of("tail") if spec.then_more else None,
            run_of("lead") if spec.not_bare else None,
            at_end(words_of(spec, "previous_clause_ends", spec.previous_clause_ends)),
            words_of(spec, "nowhere", spec.nowhere),
        )
        for category in spec.categories:
            by_category.setdefault(category, []).append(exemption)
    return {category: tuple(items) for category, items in by_category.items()}


def _word_starts(anywhere: Automaton | None, text: str, sound_words: int) -> tuple[list[int], list[int]]:
    """Return, each in order, the positions of ``text`` where one of the automaton's first ``sound_words``
    words may start, and where one of the others may.

    The automaton holds the words without the clause boundaries the regex allows inside them, so it runs
    on ``text`` less its boundaries; each start found there maps back to its position in ``text``. The
    word regexes are then tried at these positions only, not at every position (the lexicon's size costs
    the Aho-Corasick pass, not the regex).
    """
    if anywhere is None:
        return [], []
    compact = text.replace(BOUNDARY, "")
    found = anywhere.search.find_matches_as_indexes(compact, overlapping=True)
    if not found:
        return [], []
    sound = sorted({start for number, start, _ in found if number < sound_words})
    other = sorted({start for number, start, _ in found if number >= sound_words})
    if len(compact) == len(text):
        return sound, other
    # Only the starts found are mapped back (a message has one or two), not every boundary.
    return _kept_indexes(text, sound), _kept_indexes(text, other)


def _kept_indexes(text: str, numbers: list[int]) -> list[int]:
    """Return, for each of ``numbers`` (ascending), the index in ``text`` of its character of that number
    (counted from 0) that is not a boundary: where that character of ``text.replace(BOUNDARY, "")`` stands.

    >>> _kept_indexes("丨你丨丨问我", [0, 2])
    [1, 5]
    """
    out = []
    counted = 0  # the boundaries of text[:counted] are in ``cut``
    cut = 0
    for number in numbers:
        at = number + cut
        while True:
            # Below the answer, text[: at + 1] holds ``number`` or fewer kept characters, so the guess grows
            # by one at least, and never past the answer, where it stays. Each piece is counted once.
            cut += text.count(BOUNDARY, counted, at + 1)
            counted = at + 1
            moved = number + cut
            if moved == at:
                break
            at = moved
        out.append(at)
    return out


def load_concepts(path: str | Path | None = None) -> Concepts:
    """Return the compiled concepts read from ``path`` (default: the packaged ``guards/concepts.toml``).

    Raises :class:`~guards.catalogue.CatalogueError` naming the file, the table and the field.
    """
    data, name = load_toml_file(ConceptFile, "concepts.toml", path, ("concept", "rule", "bare_reply"))
    return Concepts(data, name)


# Desensitised emoticon codes of chat exports (#E-s[数字x]) end a clause like punctuation does.
_EMOTICON = re.compile(r"#E-[a-z]\[[^\]]*\]|#E-[a-z]\d*")


def with_boundaries(text: str) -> str:
    """Return ``text`` with emoticon codes of chat exports as boundaries (same length as ``text``).

    Punctuation and spaces become boundaries in :func:`guards.normalize.fold_clauses`.

    >>> with_boundaries("好的#E-s[数字x]谢谢")
    '好的丨丨丨丨丨丨丨丨丨谢谢'
    """
    if "#E-" not in text:
        return text
    return _EMOTICON.sub(lambda match: BOUNDARY * len(match.group()), text)


_REPEAT_RUN = re.compile(r"([^0-9])\1+")
_REPEAT_ACROSS = re.compile(f"([^0-9]){BOUNDARY}+\\1")
# The same test for a text whose boundaries stand alone (as fold_clauses leaves them): it starts with the
# boundary, which ``re`` finds by a fast scan, and looks behind it only there.
_REPEAT_ACROSS_ONE = re.compile(f"{BOUNDARY}(?<=([^0-9]){BOUNDARY})\\1")


def compact_of(bfolded: str) -> str:
    """Return a clause-folded text without its boundaries, a repeat across one collapsed (like ``fold``).

    >>> compact_of("你问我丨我问谁丨")
    '你问我问谁'
    """
    compact = bfolded.replace(BOUNDARY, "")
    across = _REPEAT_ACROSS if BOUNDARY * 2 in bfolded else _REPEAT_ACROSS_ONE
    if across.search(bfolded) is not None:
        compact = _REPEAT_TAIL.sub("", compact)  # = _REPEAT_RUN.sub(r"\1", compact), faster
    return compact
