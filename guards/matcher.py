"""The matcher: decide whether a message sounds like a banned phrasing, and where.

How a message is checked (both message and catalogue go through :func:`guards.normalize.fold`):

1. candidates: only patterns that share enough character bigrams with the message to be within their
   edit allowance are scored, so the cost follows the message, not the size of the catalogue. One
   Aho-Corasick pass (:mod:`guards.prefilter`) finds the catalogue bigrams of the message, and every
   pattern's shared bigrams are counted at once, each pattern a bit field of one integer;
2. exact: the pattern occurs in the message (score 100);
3. fuzzy: ``rapidfuzz.fuzz.partial_ratio_alignment`` finds where the pattern best aligns, then
   windows around that place are scored with the Levenshtein distance (so that inserted or dropped
   characters are handled); a window is a hit when the distance is within the pattern's allowance
   and the window still contains the pattern's core words (the negation or pronoun that carries the
   rudeness: "我知道您很着急" is not "我不知道");
4. softening and allow-list: a command preceded by the entry's softening words ("请您大声一点儿") is
   dropped, and so is a hit when a documented polite script or polite phrase covers one of its core
   words and at least half of it ("不知道您是否方便…", "我也不知道该怎么感谢您").

A message that holds pinyin (Latin letters that read wholly as pinyin syllables) is also read on the
concepts' phonetic key against the phrasings keyed the same way (``ni you qian zhao gui de chong a`` is
讽刺语 1): such a hit is a review (rule :data:`PINYIN_RULE`), as a person reads the pinyin better than a key.

Offsets in hits are character offsets into the original message.
"""

from __future__ import annotations

import operator
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from guards.catalogue import Catalogue, Entry, load_catalogue, load_shop_catalogue, pattern_text
from guards.context import ContextRule, ContextRules, load_context_rules
from guards.meaning import ConceptHit, Concepts, Keyed, compact_of, load_concepts, with_boundaries
from guards.normalize import BOUNDARY, char_class, fold, fold_clauses, normalize
from guards.prefilter import automaton
from guards.review import ReviewModel, load_review_model

__all__ = ["CHUNK_CHARS", "Guard", "Hit", "Verdict", "check", "default_concepts", "default_guard", "use_shop"]

# Text longer than this is checked in overlapping pieces of this size (the whole text is checked).
CHUNK_CHARS = 4096
# How far consecutive pieces overlap, so that a phrasing across a piece border is still seen whole.
CHUNK_OVERLAP = 200
# Words that carry the rudeness when an entry does not name its core words itself.
DEFAULT_CORE_MARKERS: tuple[str, ...] = ("不", "没", "别", "你", "谁", "自己")
# Sentence-final particles ignored at the end of a message compared as a whole ("不清楚啊" = "不清楚").
SENTENCE_PARTICLES = "啊呀呢吧嘛啦哦噢哟呗"
# Characters that say the same thing in a banned phrasing: sentence particles (讲啊 / 讲呀, 听懂了吗 /
# 听懂了吧, 关机了 / 关机啦), 讲 / 说. 您 stays apart from 你 (请问您叫什么名字 is the polite form).
# Message and patterns are both read through this table (one to one).
EQUIVALENT_CHARS = str.maketrans({**dict.fromkeys("呀吧呗哪呢啦嘛吗么哇了", "啊"), "讲": "说"})


def _equivalence_subs() -> tuple[tuple[tuple[re.Pattern[str], str], ...], tuple[tuple[str, str], ...]]:
    """Return :data:`EQUIVALENT_CHARS` as (character class, replacement) for each replacement of several
    characters, and (character, replacement) for each replacement of one.
    """
    by_target: dict[str, list[str]] = {}
    for code, target in EQUIVALENT_CHARS.items():
        by_target.setdefault(target, []).append(chr(code))
    # Replacing one class after another is the same as translating at once while no target is a source.
    assert not set(by_target) & {chr(code) for code in EQUIVALENT_CHARS}
    groups = by_target.items()
    classes = tuple((char_class(sources), target) for target, sources in groups if len(sources) > 1)
    singles = tuple((sources[0], target) for target, sources in groups if len(sources) == 1)
    return classes, singles


_EQUIVALENCE_SUBS, _EQUIVALENCE_SINGLES = _equivalence_subs()


def equivalent(text: str) -> str:
    """Return ``text.translate(EQUIVALENT_CHARS)``, by regex substitution (faster for CJK text).

    >>> equivalent("你讲呀")
    '你说啊'
    """
    for sources, target in _EQUIVALENCE_SUBS:
        text = sources.sub(target, text)
    for source, target in _EQUIVALENCE_SINGLES:  # one character: a substring test costs less than a regex
        if source in text:
            text = text.replace(source, target)
    return text


_FIRST = operator.itemgetter(0)

# The rule name a review-model hit carries (hits and guard_events say which layer held a message).
MODEL_RULE = "review-model"
# The rule name a documented phrasing typed in pinyin carries (matched on the phonetic key; a review).
PINYIN_RULE = "pinyin-phrasing"
# Pinyin syllables a message needs before its phrasings are read on the phonetic key.
PINYIN_MIN_SYLLABLES = 2
_LATIN_RUN = re.compile("[a-z]+")
# Patterns up to this many characters may not have a character changed, only one inserted.
SUBSTITUTION_MIN_LENGTH = 6
# How far before a hit a softening word ("请", "麻烦") may stand and still soften it.
SOFTENING_REACH = 4


def default_max_edits(length: int) -> int:
    """Return the Levenshtein edits allowed for a normalised pattern of ``length`` characters."""
    if length <= 3:
        return 0
    if length <= 6:
        return 1
    if length <= 10:
        return 2
    return 3


@dataclass(frozen=True, slots=True)
class Hit:
    """One banned phrasing found in a message; ``start``/``end`` index the original text."""

    category: str
    phrase: str
    entry_id: str
    score: float
    start: int
    end: int
    method: str  # "exact" | "fuzzy" | "concept" | "model" | "context"
    level: str = "block"  # "block" | "review"
    rule: str | None = None  # the concept rule (concepts.toml) that made a concept hit
    concept: str | None = None

    def to_dict(self) -> dict:
        """Return the hit as a JSON-ready dict."""
        return {
            "category": self.category,
            "phrase": self.phrase,
            "entry_id": self.entry_id,
            "score": self.score,
            "start": self.start,
            "end": self.end,
            "method": self.method,
            "level": self.level,
            "rule": self.rule,
            "concept": self.concept,
        }

    def shifted(self, by: int) -> Hit:
        """Return this hit with its offsets moved by ``by`` characters."""
        return Hit(
            self.category,
            self.phrase,
            self.entry_id,
            self.score,
            self.start + by,
            self.end + by,
            self.method,
            self.level,
            self.rule,
            self.concept,
        )


@dataclass(frozen=True, slots=True)
class Verdict:
    """The guard's decision on one message: allowed or not, the hits, the documented better wording."""

    allowed: bool
    hits: tuple[Hit, ...]
    suggestion: str | None
    level: str | None = None  # "block" (confident, held) | "review" (likely rude, may be sent) | None

    def to_dict(self) -> dict:
        """Return the verdict as a JSON-ready dict: allowed, level, hits (each as :meth:`Hit.to_dict`),
        suggestion. Ready for ``json.dumps``.
        """
        return {
            "allowed": self.allowed,
            "level": self.level,
            "hits": [hit.to_dict() for hit in self.hits],
            "suggestion": self.suggestion,
        }


ALLOWED = Verdict(allowed=True, hits=(), suggestion=None)


@dataclass(frozen=True, slots=True)
class _Pattern:
    """One compiled pattern: the normalised phrase or one of its clauses."""

    entry: int  # index into Guard._entries
    text: str
    core: tuple[tuple[str, ...], ...]  # each core word as its alternatives
    max_edits: int
    whole: bool
    partial_cutoff: float
    min_shared: int  # bigrams a message must share with the pattern to be within its allowance
    # Where one character may be inserted: (cut, text[:cut], text[cut:]) (:func:`_match_one_insertion`).
    cuts: tuple[tuple[int, str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class _Found:
    """A hit in normalised coordinates, before the allow-list and the offset mapping."""

    pattern: _Pattern
    start: int
    end: int
    distance: int
    core_spans: tuple[tuple[int, int], ...]


def _bigrams(text: str) -> set[str]:
    """Return the set of character bigrams of ``text``."""
    return set(map(operator.add, text, text[1:]))


def _core_spans(
    window: str, offset: int, core: tuple[tuple[str, ...], ...]
) -> tuple[tuple[int, int], ...] | None:
    """Return the span of one alternative of each core word in ``window`` (shifted by ``offset``).

    Returns None when a core word has none of its alternatives in the window.
    """
    spans = []
    for alternatives in core:
        for word in alternatives:
            at = window.find(word)
            if at >= 0:
                spans.append((offset + at, offset + at + len(word)))
                break
        else:
            return None
    return tuple(spans)


def _strip_particles(text: str) -> str:
    """Return ``text`` without trailing sentence-final particles (啊, 呢, 吧 …), unless that empties it."""
    stripped = text.rstrip(SENTENCE_PARTICLES)
    return stripped or text


def _compile_entry(index: int, entry: Entry) -> list[_Pattern]:
    """Return the patterns of one entry: its phrase and each clause, without duplicates."""
    texts: list[str] = []
    for raw in (entry.phrase, *entry.clauses):
        text = pattern_text(raw).translate(EQUIVALENT_CHARS)
        if text and text not in texts:
            texts.append(text)
    if entry.core is None:
        core_words: tuple[tuple[str, ...], ...] = tuple(
            (marker.translate(EQUIVALENT_CHARS),) for marker in DEFAULT_CORE_MARKERS
        )
    else:
        core_words = tuple(
            tuple(alt for alt in (fold(part).translate(EQUIVALENT_CHARS) for part in word.split("|")) if alt)
            for word in entry.core
        )
    patterns = []
    for text in texts:
        length = len(text)
        edits = default_max_edits(length) if entry.max_edits is None else entry.max_edits
        edits = min(edits, max(0, length - 2))
        # A core word binds a pattern only when the pattern itself contains one of its alternatives.
        core = tuple(alts for alts in core_words if alts and any(alt in text for alt in alts))
        if entry.whole:
            text = _strip_particles(text)
            length = len(text)
        cutoff = max(0.0, 100.0 * (1.0 - (edits + 1.0) / length) - 1.0)
        # One edit destroys at most two bigrams; short exact patterns may take one inserted character.
        lost = 2 * edits if edits else (1 if length <= 3 else 0)
        min_shared = max(1, (length - 1) - lost)
        if edits and length <= SUBSTITUTION_MIN_LENGTH:
            # A short pattern is matched as it is or with one character inserted (:func:`_match`), which
            # destroys at most one of its bigrams.
            min_shared = max(min_shared, len(_bigrams(text)) - 1)
        patterns.append(
            _Pattern(
                index,
                text,
                core,
                edits,
                entry.whole,
                cutoff,
                min_shared,
                tuple((cut, text[:cut], text[cut:]) for cut in range(1, length)),
            ),
        )
    return patterns


class Guard:
    """A compiled catalogue; immutable and safe to share between threads.

    >>> guard = Guard.from_catalogue(load_catalogue())
    >>> guard.check("我不知道。").allowed, guard.check("我知道您很着急").allowed
    (False, True)
    """

    __slots__ = (
        "_allow",
        "_bigram_automaton",
        "_bigram_counts",
        "_by_id",
        "_concepts",
        "_context",
        "_count_field",
        "_count_offset",
        "_count_reached",
        "_entries",
        "_entry_bigrams",
        "_index",
        "_literals_shift",
        "_patterns",
        "_pinyin",
        "_review",
        "_short",
        "_whole",
        "_whole_max",
        "_wordings_mask",
        "_wordings_shift",
    )

    def __init__(
        self,
        entries: Iterable[Entry],
        allow: Iterable[str],
        concepts: Concepts | bool | None = True,
        review_model: ReviewModel | bool | None = True,
        context_rules: ContextRules | bool | None = True,
    ) -> None:
        self._entries: tuple[Entry, ...] = tuple(entries)
        if review_model is True:
            review_model = default_review_model()
        self._review: ReviewModel | None = review_model or None
        self._entry_bigrams: tuple[frozenset[str], ...] = tuple(
            frozenset(_bigrams(pattern_text(entry.phrase))) for entry in self._entries
        )
        self._by_id: dict[str, Entry] = {entry.id: entry for entry in self._entries}
        if concepts is True:
            concepts = default_concepts()
        self._concepts: Concepts | None = concepts or None
        if context_rules is True:
            context_rules = default_context_rules() if self._concepts is not None else None
        self._context: ContextRules | None = context_rules or None
        patterns: list[_Pattern] = []
        whole: list[_Pattern] = []
        for number, entry in enumerate(self._entries):
            for pattern in _compile_entry(number, entry):
                (whole if pattern.whole else patterns).append(pattern)
        # Bigram index: bigram -> positions of the patterns that contain it. Patterns shorter than two
        # characters have no bigram and are always scored.
        index: dict[str, list[int]] = {}
        short: list[_Pattern] = []
        indexed: list[_Pattern] = []
        for pattern in patterns:
            if len(pattern.text) < 2:
                short.append(pattern)
                continue
            for bigram in _bigrams(pattern.text):
                index.setdefault(bigram, []).append(len(indexed))
            indexed.append(pattern)
        # Patterns are referred to by position: hashing small ints is what the hot loop does.
        self._patterns: tuple[_Pattern, ...] = tuple(indexed)
        self._index: dict[str, tuple[int, ...]] = {key: tuple(value) for key, value in index.items()}
        # Every indexed bigram of a message in one C pass: an Aho-Corasick automaton of the bigrams, each
        # bigram's value its number (its position in ``_index``).
        # The same pass finds the concepts' spelling wordings (唔知, 木有 …) and literal words (墨迹, 滚 …),
        # with the particle equivalences and the repeats collapsed as in the text it runs on: a wording or
        # literal word of the clause-folded text is in the catalogue's folded text, so when none is found,
        # the concept layer need not look for one (:meth:`~guards.meaning.Spelling.rewrite`,
        # :meth:`~guards.meaning.Concepts.find`).
        wordings: list[str] = []
        literals: list[str] = []
        if self._concepts is not None:
            wordings = sorted({equivalent(word) for word in self._concepts.spelling.replace})
            literals = sorted({equivalent(form) for form in self._concepts.literal_forms})
        self._bigram_automaton = automaton([*self._index, *wordings, *literals], dfa=True)
        assert self._bigram_automaton is None or self._bigram_automaton.positions is None  # no empty word
        self._count_field, counts, self._count_offset, self._count_reached = _counters(
            self._index, tuple(pattern.min_shared for pattern in indexed)
        )
        # Above the patterns' fields of a message's tally (:meth:`_tally`), one field counts the wordings
        # found and one the literal words, each wide enough never to carry into the next.
        self._wordings_shift = self._count_field * len(indexed)
        self._wordings_mask = (1 << (len(wordings).bit_length() + 1)) - 1
        self._literals_shift = self._wordings_shift + len(wordings).bit_length() + 1
        self._bigram_counts: tuple[int, ...] = (
            counts
            + (1 << self._wordings_shift,) * len(wordings)
            + (1 << self._literals_shift,) * len(literals)
        )
        self._short: tuple[_Pattern, ...] = tuple(short)
        self._whole: tuple[_Pattern, ...] = tuple(whole)
        self._whole_max = max((len(p.text) + p.max_edits for p in whole), default=-1)
        self._allow: tuple[str, ...] = tuple(
            dict.fromkeys(t for t in (pattern_text(a).translate(EQUIVALENT_CHARS) for a in allow) if t)
        )
        # The same phrasings on the concepts' phonetic key, for a message typed in pinyin.
        self._pinyin: Guard | None = None
        if self._concepts is not None:
            self._pinyin = Guard(
                (self._keyed_entry(entry) for entry in self._entries),
                (self._phonetic_key(pattern_text(phrase)) for phrase in allow),
                concepts=None,
                review_model=None,
                context_rules=None,
            )

    def _phonetic_key(self, folded: str) -> str:
        """Return a folded phrase on the concepts' phonetic key (讲 read as 说 first, as in the phrasings)."""
        assert self._concepts is not None
        return self._concepts.phonetic.key(equivalent(folded))

    def _keyed_entry(self, entry: Entry) -> Entry:
        """Return ``entry`` with its phrasing and words on the phonetic key (the pinyin reading)."""
        key = self._phonetic_key

        def words(values: Iterable[str]) -> tuple[str, ...]:
            return tuple("|".join(key(fold(part)) for part in word.split("|")) for word in values)

        return entry.model_copy(
            update={
                "phrase": key(pattern_text(entry.phrase)),
                "clauses": tuple(key(pattern_text(clause)) for clause in entry.clauses),
                "core": words(entry.core if entry.core is not None else DEFAULT_CORE_MARKERS),
                "softened_by": words(entry.softened_by),
                "not_before": words(entry.not_before),
                "unless": words(entry.unless),
            }
        )

    def _pinyin_hits(self, text: str, bfolded: str, seen: set[str]) -> list[Hit]:
        """Return a review hit for each documented phrasing that ``bfolded`` says in pinyin (and that the
        characters alone did not already hit: ``seen`` holds those entry ids).

        Each Latin run that reads wholly as pinyin syllables becomes their characters; the message is then
        read on the phonetic key, and a hit counts only when part of it was typed in pinyin.
        """
        assert self._concepts is not None and self._pinyin is not None
        phonetic = self._concepts.phonetic
        chars: list[str] = []
        typed: list[bool] = []
        syllables = 0
        at = 0
        for run in _LATIN_RUN.finditer(bfolded):
            for ch in bfolded[at : run.start()]:
                if ch != BOUNDARY:
                    chars.append(ch)
                    typed.append(False)
            read = phonetic.segment(run.group())
            if read is None:
                chars.append(run.group())
                typed.extend([False] * len(run.group()))
            else:
                chars.append(read)
                typed.extend([True] * len(read))
                syllables += len(read)
            at = run.end()
        if syllables < PINYIN_MIN_SYLLABLES:
            return []
        chars.extend(ch for ch in bfolded[at:] if ch != BOUNDARY)
        typed.extend(False for ch in bfolded[at:] if ch != BOUNDARY)
        spelled = "".join(chars)
        # A syllable read as a character that keeps its own key (gao: 搞) is read a second time as its
        # other characters (告): pinyin has no tones to tell them apart.
        other_of = phonetic.latin_other
        other = "".join(other_of.get(ch, ch) if mark else ch for ch, mark in zip(spelled, typed, strict=True))
        pinyin = self._pinyin
        hits = []
        for reading in dict.fromkeys((spelled, other)):
            keyed = normalize(phonetic.key(equivalent(reading)))
            folded = equivalent(keyed.text)
            marks = [typed[offset] for offset in keyed.offsets]
            for item in pinyin._apply_allow_list(folded, pinyin._find(folded)):
                entry = self._entries[item.pattern.entry]
                if entry.id in seen or not any(marks[item.start : item.end]):
                    continue
                seen.add(entry.id)
                score = round(100.0 * (1.0 - item.distance / len(item.pattern.text)), 1)
                hit = Hit(
                    entry.category,
                    entry.phrase,
                    entry.id,
                    score,
                    0,
                    len(text),
                    "fuzzy",
                    "review",
                    PINYIN_RULE,
                )
                hits.append(hit)
        return hits

    @classmethod
    def from_catalogue(
        cls,
        catalogue: Catalogue,
        concepts: Concepts | bool | None = True,
        review_model: ReviewModel | bool | None = True,
        context_rules: ContextRules | bool | None = True,
    ) -> Guard:
        """Return a guard compiled from a loaded :class:`~guards.catalogue.Catalogue`.

        ``concepts``: the concept classes and rules (default: the packaged ``concepts.toml``; False or
        None: the catalogue phrasings only). ``review_model``: the learned review-level model (default:
        the packaged ``review_model.json``; False or None: none). ``context_rules``: the rules that read
        the customer's last message (default: the packaged ``context.toml`` when there are concepts; False
        or None: none, the context is then ignored).
        """
        return cls(
            catalogue.entries,
            (item.phrase for item in catalogue.allow),
            concepts,
            review_model,
            context_rules,
        )

    @property
    def entries(self) -> tuple[Entry, ...]:
        """Return the catalogue entries this guard was compiled from."""
        return self._entries

    def check(self, text: str, context: str | None = None) -> Verdict:
        """Return the verdict on ``text``: allowed or not, its level, every hit, the best hit's suggestion.

        The whole text is checked, however long (in overlapping pieces of ``CHUNK_CHARS``). Empty
        text is allowed. A verdict is ``block`` when any hit is, else ``review``.

        ``context`` is the customer's last message before the draft ``text`` (None or empty: unknown, and
        the verdict is the text's alone). A flat refusal, referral or statement of ignorance after a plea
        or a complaint (``guards/context.toml``) is raised from allowed to ``review``, with a hit of method
        ``"context"`` naming the rule (``context:<id>``) and the documented phrasing it enforces. The
        context never makes a block and never lowers a verdict.

        >>> default_guard().check("喂，大聲一點兒！").hits[0].entry_id
        'bukeyi-04'
        >>> guard = default_guard()
        >>> guard.check("地址不能改了哦").allowed, guard.check("地址不能改了哦", "求求你了能不能快点").level
        (True, 'review')
        """
        verdict = self._check_text(text)
        if context and verdict.allowed and self._context is not None:
            rule = self._context.match(text, context)
            if rule is not None:
                return self._context_verdict(text, rule)
        return verdict

    def _context_verdict(self, text: str, rule: ContextRule) -> Verdict:
        """Return the review verdict of a context rule: one hit naming its catalogue entry and category."""
        entry = self._by_id.get(rule.entry)
        phrase = entry.phrase if entry is not None else rule.id
        hit = Hit(rule.category, phrase, rule.entry, 100.0, 0, len(text), "context", "review", rule.rule)
        suggestion = entry.suggestion if entry is not None else None
        return Verdict(allowed=False, hits=(hit,), suggestion=suggestion, level="review")

    def _check_text(self, text: str) -> Verdict:
        """Return the verdict on ``text`` alone (see :meth:`check`)."""
        compacts: list[str] | None = [] if self._review is not None else None  # for the review model only
        if len(text) <= CHUNK_CHARS:
            hits = self._hits(text, compacts)
        else:
            seen: set[tuple[str, str | None, int]] = set()
            hits = []
            for at in range(0, len(text), CHUNK_CHARS):
                for hit in self._hits(text[at : at + CHUNK_CHARS + CHUNK_OVERLAP], compacts):
                    moved = hit.shifted(at)
                    key = (moved.entry_id, moved.rule, moved.start)
                    if key not in seen:
                        seen.add(key)
                        hits.append(moved)
                if at + CHUNK_CHARS + CHUNK_OVERLAP >= len(text):
                    break
        if not hits and self._concepts is not None:
            hits = self._bare_hits(text)
        if not hits and compacts is not None:
            hits = self._model_hits(text, compacts)
        if not hits:
            return ALLOWED
        hits.sort(key=lambda hit: (hit.start, -hit.score, hit.entry_id))
        level = "block" if any(hit.level == "block" for hit in hits) else "review"
        best = max(
            hits,
            key=lambda hit: (
                hit.level == level,
                hit.method == "exact",  # the documented phrasing itself: its documented better wording
                hit.method == "concept",
                hit.score,
                hit.end - hit.start,
                -hit.start,
            ),
        )
        return Verdict(allowed=False, hits=tuple(hits), suggestion=self._suggestion(best), level=level)

    def _suggestion(self, hit: Hit) -> str | None:
        """Return the better wording for ``hit``: its concept's, else its catalogue entry's."""
        if hit.concept is not None and self._concepts is not None:
            wording = self._concepts.concepts[hit.concept].suggestion
            if wording:
                return wording
        if hit.concept is None and hit.rule is not None and self._concepts is not None:
            bare = self._concepts.bare_replies.get(hit.rule)  # a [[bare_reply]] names itself as the rule
            if bare is not None:
                return bare[0].suggestion
        entry = self._by_id.get(hit.entry_id)
        return entry.suggestion if entry is not None else None

    def _bare_hits(self, text: str) -> list[Hit]:
        """Return the review hit of a reply that is marks only (a bare ?), naming its documented phrasing."""
        assert self._concepts is not None
        spec = self._concepts.bare_reply(text)
        if spec is None:
            return []
        entry = self._by_id.get(spec.entry)
        phrase = entry.phrase if entry is not None else spec.id
        return [Hit(spec.category, phrase, spec.entry, 100.0, 0, len(text), "concept", "review", spec.id)]

    def _model_hits(self, text: str, compacts: list[str]) -> list[Hit]:
        """Return the review-level hit of the learned model, naming the closest documented phrasing."""
        model = self._review
        assert model is not None
        for compact in compacts:
            if not model.flags(compact) or self._mostly_allowed(compact.translate(EQUIVALENT_CHARS)):
                continue
            if self._answered_by_rules(text):
                return []
            shared = _bigrams(compact)
            nearest = max(range(len(self._entries)), key=lambda i: len(shared & self._entry_bigrams[i]))
            entry = self._entries[nearest]
            score = round(100.0 * model.probability(compact), 1)
            span = (0, len(text))
            return [Hit(entry.category, entry.phrase, entry.id, score, *span, "model", "review", MODEL_RULE)]
        return []

    def _answered_by_rules(self, text: str) -> bool:
        """Return True when the rules read ``text``'s banned words and found them answered: every concept
        word a rule would have held but for the help in the message (``unless``) is one an exemption allows
        (不清楚诶 我这就去查: help-follows). The model then gets no second say, as when an exemption drops a
        hit (:meth:`_hits`). False when there is no such word, or the text is longer than one piece.
        """
        concepts = self._concepts
        if concepts is None or not concepts.exemptions_of or len(text) > CHUNK_CHARS:
            return False
        bfolded = fold_clauses(with_boundaries(text))
        keyed = concepts.keyed(bfolded)
        waived = concepts.find(keyed, waived=True)
        if not waived:
            return False
        for hit in waived:
            start, end = keyed.folded_span(hit.start, hit.end)
            decided = concepts.exemption(bfolded, start, end, hit.category)
            if decided is None or decided[1] != "allow":
                return False
        return True

    def _mostly_allowed(self, folded: str) -> bool:
        """Return True when allowed phrases (documented polite scripts) cover half of ``folded`` or more."""
        covered = [False] * len(folded)
        for phrase in self._allow:
            at = folded.find(phrase)
            while at >= 0:
                covered[at : at + len(phrase)] = [True] * len(phrase)
                at = folded.find(phrase, at + 1)
        return sum(covered) * 2 >= len(folded) > 0

    def _hits(self, text: str, compacts: list[str] | None = None) -> list[Hit]:
        """Return every hit in ``text`` (at most a piece of ``CHUNK_CHARS``), offsets into ``text``.

        ``compacts`` collects the folded text (no boundaries) for the review model; a piece whose every
        hit an exemption dropped is not collected.
        """
        bounded = with_boundaries(text)
        bfolded = fold_clauses(bounded)
        # The catalogue phrasings are matched across clause boundaries (喂,大声一点儿!): without them.
        folded = compact_of(bfolded)  # 你问我，我问谁 reads as 你问我问谁, as fold() reads it
        if not folded:
            return []
        pinyin: list[Hit] = []
        if self._pinyin is not None and _LATIN_RUN.search(bfolded) is not None:
            pinyin = self._pinyin_hits(text, bfolded, set())
        if compacts is not None:
            compacts.append(folded)
        folded = equivalent(folded)
        tally = self._tally(folded)
        found = self._find(folded, tally)
        if found:
            found = self._apply_allow_list(folded, found)
        concept_hits: list[ConceptHit] = []
        keyed = None
        if self._concepts is not None:
            wordings = (tally >> self._wordings_shift) & self._wordings_mask
            keyed, concept_hits = self._concepts.hits_of(
                bfolded, wordings=bool(wordings), literal=bool(tally >> self._literals_shift)
            )
        if concept_hits:
            concept_hits = self._outside_allowed(folded, bfolded, keyed, concept_hits)
        if not found and not concept_hits:
            return pinyin
        # Who and what ([[exemption]] in concepts.toml), judged on the clause-folded text: a hit is
        # dropped, or made a review, when its words are not meant at the customer.
        where = _compact_positions(bfolded) if found else []
        levels: dict[int, str] = {}
        if self._concepts is not None and self._concepts.exemptions_of:
            found, levels = self._exempt_found(bfolded, where, found)
            if concept_hits:
                assert keyed is not None
                concept_hits = self._exempt_concepts(bfolded, keyed, concept_hits)
            if not found and not concept_hits:
                # The rules read this piece and found its words helpful: the model gets no second say.
                if compacts:
                    compacts.pop()
                return pinyin
        norm = normalize(bounded, clauses=True)
        hits: list[Hit] = []
        if found:
            for number, item in enumerate(found):
                entry = self._entries[item.pattern.entry]
                start, end = norm.span(where[item.start], where[item.end - 1] + 1)
                score = round(100.0 * (1.0 - item.distance / len(item.pattern.text)), 1)
                method = "exact" if item.distance == 0 else "fuzzy"
                level = levels.get(number, "block")
                hits.append(Hit(entry.category, entry.phrase, entry.id, score, start, end, method, level))
        for concept_hit in concept_hits:
            assert keyed is not None
            start, end = norm.span(*keyed.folded_span(concept_hit.start, concept_hit.end))
            entry = self._by_id.get(concept_hit.entry)
            phrase = entry.phrase if entry is not None else concept_hit.concept
            hits.append(
                Hit(
                    concept_hit.category,
                    phrase,
                    concept_hit.entry,
                    100.0,
                    start,
                    end,
                    "concept",
                    concept_hit.level,
                    concept_hit.rule,
                    concept_hit.concept,
                )
            )
        seen = {hit.entry_id for hit in hits}
        hits.extend(hit for hit in pinyin if hit.entry_id not in seen)
        return hits

    def _exempt_found(
        self, bfolded: str, where: list[int], found: list[_Found]
    ) -> tuple[list[_Found], dict[int, str]]:
        """Return the catalogue hits no exemption drops, and the review level of the others, by index."""
        assert self._concepts is not None
        kept: list[_Found] = []
        levels: dict[int, str] = {}
        for item in found:
            category = self._entries[item.pattern.entry].category
            decided = self._concepts.exemption(bfolded, where[item.start], where[item.end - 1] + 1, category)
            if decided is not None and decided[1] == "allow":
                continue
            if decided is not None:
                levels[len(kept)] = decided[1]
            kept.append(item)
        return kept, levels

    def _exempt_concepts(self, bfolded: str, keyed: Keyed, hits: list[ConceptHit]) -> list[ConceptHit]:
        """Return the concept hits no exemption drops, those it makes a review at level review."""
        assert self._concepts is not None
        kept = []
        for hit in hits:
            start, end = keyed.folded_span(hit.start, hit.end)
            decided = self._concepts.exemption(bfolded, start, end, hit.category)
            if decided is None:
                kept.append(hit)
            elif decided[1] != "allow":
                kept.append(replace(hit, level=decided[1]))
        return kept

    def _softened(self, folded: str, item: _Found) -> bool:
        """Return True when the entry's softening words ("请", "麻烦") make this hit a polite request."""
        entry = self._entries[item.pattern.entry]
        return _softened_by(
            folded, item, tuple(fold(word).translate(EQUIVALENT_CHARS) for word in entry.softened_by)
        )

    def _outside_allowed(
        self, folded: str, bfolded: str, keyed: Keyed | None, hits: list[ConceptHit]
    ) -> list[ConceptHit]:
        """Return the concept hits that no allowed phrase (a documented polite script) covers."""
        spans = []
        for phrase in self._allow:
            at = folded.find(phrase)
            while at >= 0:
                spans.append((at, at + len(phrase)))
                at = folded.find(phrase, at + 1)
        if not spans or keyed is None:
            return hits
        where = _compact_positions(bfolded)
        allowed = [(where[start], where[end - 1] + 1) for start, end in spans]
        kept = []
        for hit in hits:
            start, end = keyed.folded_span(hit.start, hit.end)
            if not any(a <= start and end <= b for a, b in allowed):
                kept.append(hit)
        return kept

    def _other_sense(self, folded: str, item: _Found) -> bool:
        """Return True when the words after the hit (not_before) or in the message (unless) change it."""
        entry = self._entries[item.pattern.entry]
        if any(
            folded.startswith(fold(word).translate(EQUIVALENT_CHARS), item.end) for word in entry.not_before
        ):
            return True
        return any(fold(word).translate(EQUIVALENT_CHARS) in folded for word in entry.unless)

    def _tally(self, folded: str) -> int:
        """Return what one pass of the bigram automaton over ``folded`` finds, as one int: in the field of
        each indexed pattern, the bigrams it shares with ``folded`` (see :func:`_counters`); above them, the
        count of spelling wordings and of literal concept words found.
        """
        search = self._bigram_automaton
        if search is None:
            return 0
        # The automaton's words are none empty: a match's first item is the word's number.
        matches = search.search.find_matches_as_indexes(folded, overlapping=True)
        return sum(map(self._bigram_counts.__getitem__, set(map(_FIRST, matches)))) if matches else 0

    def _candidates(self, folded: str, tally: int | None = None) -> list[_Pattern]:
        """Return the patterns sharing enough bigrams with ``folded`` to be worth scoring (``tally``: its
        :meth:`_tally`, when already made).
        """
        out = []
        if tally is None:
            tally = self._tally(folded)
        if tally:
            # The fields of the patterns that reach their ``min_shared`` get their top bit set.
            reached = (tally + self._count_offset) & self._count_reached
            field = self._count_field
            patterns = self._patterns
            while reached:
                lowest = reached & -reached
                out.append(patterns[(lowest.bit_length() - 1) // field])
                reached ^= lowest
        out.extend(self._short)
        return out

    def _find(self, folded: str, tally: int | None = None) -> list[_Found]:
        """Return the best hit of every entry found in ``folded`` (normalised coordinates; ``tally``: its
        :meth:`_tally`, when already made).
        """
        found: list[_Found] = []
        if len(folded) <= self._whole_max:
            for pattern in self._whole:
                item = _match_whole(pattern, folded)
                if item is not None:
                    found.append(item)
        for pattern in self._candidates(folded, tally):
            item = _match(pattern, folded)
            if item is not None:
                found.append(item)
        if not found:
            return []
        best: dict[int, _Found] = {}
        for item in found:  # the first of the closest, earliest hits of each entry
            old = best.get(item.pattern.entry)
            if old is None or (item.distance, item.start) < (old.distance, old.start):
                best[item.pattern.entry] = item
        return sorted(best.values(), key=lambda item: (item.start, item.pattern.entry))

    def _apply_allow_list(self, folded: str, found: list[_Found]) -> list[_Found]:
        """Return the hits that no allowed span covers and no softening word ("请您…") turns polite."""
        found = [
            item for item in found if not self._softened(folded, item) and not self._other_sense(folded, item)
        ]
        spans: list[tuple[int, int]] = []
        for phrase in self._allow:
            at = folded.find(phrase)
            while at >= 0:
                spans.append((at, at + len(phrase)))
                at = folded.find(phrase, at + 1)
        if not spans:
            return found
        return [item for item in found if not any(_covers(span, item) for span in spans)]


def _counters(
    index: dict[str, tuple[int, ...]], min_shared: tuple[int, ...]
) -> tuple[int, tuple[int, ...], int, int]:
    """Return (field width, for each bigram number its counts, offset, reached): the pattern bigram counter
    of the prefilter, every pattern's count in one field of one int.

    Field p (bits ``p * width`` up) of a bigram's counts is 1 when pattern p holds the bigram, so the sum
    of the counts of a message's distinct bigrams holds in field p the bigrams the message shares with
    pattern p. A field is wide enough for its pattern's bigrams and one bit more: adding ``offset``
    (``2 ** (width - 1) - min_shared`` in field p) sets the field's top bit exactly when the count reaches
    ``min_shared``, and never carries into the next field. ``reached`` is the top bit of every field (of
    every pattern that can be reached: one that needs more bigrams than it has never is).
    """
    holds: list[int] = [0] * len(min_shared)
    for patterns in index.values():
        for pattern in patterns:
            holds[pattern] += 1
    top = max(holds, default=0).bit_length()  # 2 ** top > the most bigrams a pattern has
    width = top + 1
    counts = tuple(sum(1 << (pattern * width) for pattern in patterns) for patterns in index.values())
    offset = 0
    reached = 0
    for pattern, need in enumerate(min_shared):
        if need <= holds[pattern]:
            offset |= ((1 << top) - need) << (pattern * width)
            reached |= 1 << (pattern * width + top)
    return width, counts, offset, reached


def _softened_by(folded: str, item: _Found, words: tuple[str, ...]) -> bool:
    """Return True when one of ``words`` stands inside the hit or just before it."""
    if not words:
        return False
    around = folded[max(0, item.start - SOFTENING_REACH) : item.end]
    return any(word in around for word in words)


def _covers(span: tuple[int, int], item: _Found) -> bool:
    """Return True when the allowed ``span`` contains a core word of the hit and at least half of the hit."""
    start, end = span
    overlap = min(end, item.end) - max(start, item.start)
    if overlap * 2 < item.end - item.start:
        return False
    if not item.core_spans:
        return start <= item.start and item.end <= end
    return any(start <= a and b <= end for a, b in item.core_spans)


def _match_whole(pattern: _Pattern, folded: str) -> _Found | None:
    """Return a hit when the whole message (less final particles) is the pattern within its allowance."""
    message = _strip_particles(folded)
    distance = Levenshtein.distance(pattern.text, message, score_cutoff=pattern.max_edits)
    if distance > pattern.max_edits:
        return None
    spans = _core_spans(message, 0, pattern.core)
    if spans is None:
        return None
    return _Found(pattern, 0, len(folded), distance, spans)


def _match(pattern: _Pattern, folded: str) -> _Found | None:
    """Return the best hit of ``pattern`` in ``folded``, or None."""
    text = pattern.text
    length = len(text)
    at = folded.find(text)
    if at >= 0:
        spans = _core_spans(text, at, pattern.core)
        return _Found(pattern, at, at + length, 0, spans or ())
    # Cheap rejection before any alignment: a core word absent from the whole message.
    for alternatives in pattern.core:
        if not any(word in folded for word in alternatives):
            return None
    edits = pattern.max_edits
    size = len(folded)
    if edits == 0 or length <= SUBSTITUTION_MIN_LENGTH:
        # A short phrase with one character changed is another phrase (怎么搞的 / 怎么算的, 这与我无关 /
        # 这与您无关): short patterns only tolerate one inserted character ("急什么" / "急个什么").
        return _match_one_insertion(pattern, folded) if edits or length <= 3 else None
    if size < length - edits:
        return None
    if size <= length + edits:
        first, last = 0, size
    else:
        alignment = fuzz.partial_ratio_alignment(text, folded, score_cutoff=pattern.partial_cutoff)
        if alignment is None:
            return None
        first, last = alignment.dest_start, alignment.dest_end
    windows: list[tuple[int, int, int, int]] = []
    for start in range(max(0, first - edits), min(size, first + edits) + 1):
        for end in range(max(start + length - edits, last - edits), min(size, last + edits) + 1):
            if end - start > length + edits:
                break
            distance = Levenshtein.distance(text, folded[start:end], score_cutoff=edits)
            if distance <= edits:
                windows.append((distance, abs(end - start - length), start, end))
    windows.sort()
    for distance, _, start, end in windows:
        spans = _core_spans(folded[start:end], start, pattern.core)
        if spans is not None:
            return _Found(pattern, start, end, distance, spans)
    return None


def _match_one_insertion(pattern: _Pattern, folded: str) -> _Found | None:
    """Return a hit when a short pattern occurs with exactly one character inserted inside it."""
    length = len(pattern.text)
    if length < 3:
        return None
    for cut, head, tail in pattern.cuts:
        for at in _split_occurrences(folded, head, tail, cut + 1):
            end = at + length + 1
            spans = _core_spans(folded[at:end], at, pattern.core)
            if spans is not None:
                return _Found(pattern, at, end, 1, spans)
    return None


def _split_occurrences(folded: str, head: str, tail: str, gap: int) -> Iterator[int]:
    """Yield, in order, each position where ``head`` stands in ``folded`` with ``tail`` ``gap`` characters
    after its start (one character between them when ``gap`` is ``len(head) + 1``).

    The longer of the two is searched for and the other checked, so a one-character head common in the
    message (你, 不) does not cost a test at each of its places.

    >>> list(_split_occurrences("你不知你x道", "你", "道", 2))
    [3]
    """
    if len(head) >= len(tail):
        at = folded.find(head)
        while at >= 0:
            if folded.startswith(tail, at + gap):
                yield at
            at = folded.find(head, at + 1)
        return
    after = folded.find(tail, gap)
    while after >= 0:
        if folded.startswith(head, after - gap):
            yield after - gap
        after = folded.find(tail, after + 1)


_REPEATS = re.compile(r"([^0-9])\1+")
_REPEAT_ACROSS = re.compile(f"([^0-9]){BOUNDARY}+\\1")


def _compact_positions(bfolded: str) -> list[int]:
    """Return, for each character of the folded text without boundaries (repeats collapsed), its index."""
    if _REPEAT_ACROSS.search(bfolded) is None:
        return [index for index, ch in enumerate(bfolded) if ch != BOUNDARY]
    out: list[int] = []
    previous = ""
    for index, ch in enumerate(bfolded):
        if ch == BOUNDARY or (ch == previous and ch not in "0123456789"):
            continue
        out.append(index)
        previous = ch
    return out


_default: Guard | None = None
_default_concepts: Concepts | None = None
_default_review: list[ReviewModel | None] = []
_default_context: ContextRules | None = None
_default_lock = threading.RLock()


def default_review_model() -> ReviewModel | None:
    """Return the packaged review-level model, read once on first use (None when there is none)."""
    with _default_lock:
        if not _default_review:
            _default_review.append(load_review_model())
        return _default_review[0]


def default_concepts() -> Concepts:
    """Return the packaged concept classes and rules, compiled once on first use (thread-safe)."""
    global _default_concepts
    with _default_lock:
        if _default_concepts is None:
            _default_concepts = load_concepts()
        return _default_concepts


def default_context_rules() -> ContextRules:
    """Return the packaged context rules (``context.toml``) on the packaged concepts, compiled once."""
    global _default_context
    with _default_lock:
        if _default_context is None:
            _default_context = load_context_rules(concepts=default_concepts())
        return _default_context


def default_guard() -> Guard:
    """Return the guard compiled from the packaged catalogue, built once on first use (thread-safe)."""
    global _default
    guard = _default
    if guard is None:
        with _default_lock:
            if _default is None:
                _default = Guard.from_catalogue(load_catalogue())
            guard = _default
    return guard


def use_shop(shop_dir: str | Path | None) -> Guard:
    """Make the guard of the packaged catalogue plus the shop's ``banned.toml`` the default one; return it.

    Called once at start-up by every surface (the bot, ``kefu check``, ``kefu serve``) with
    ``KEFU_SHOP_DIR``; raises :class:`~guards.catalogue.CatalogueError` for a broken shop file.
    """
    global _default
    guard = Guard.from_catalogue(load_shop_catalogue(shop_dir))
    with _default_lock:
        _default = guard
    return guard


def check(text: str, context: str | None = None) -> Verdict:
    """Return the default guard's verdict on ``text`` after the customer's last message ``context`` (None or
    empty: unknown; see :meth:`Guard.check`).

    >>> check("这与我无关").allowed
    False
    """
    return default_guard().check(text, context)
