"""Text normaliser shared by the guard and the intent classifier, with a map back to the original text.

The pipeline, applied identically to messages and to catalogue phrases:

1. per character: NFKC (full-width → half-width, compatibility forms), case-fold, NFKC again; a Latin
   letter with an accent or tone mark becomes its plain letter (ǎ → a, as a combining mark is dropped in
   step 2), ü with v (the pinyin keyboards' spelling: lǜ → lv);
2. drop everything that is not a letter or a number: format/control characters (zero-width
   U+200B-U+200F, U+2060, U+FEFF, soft hyphen, bidi controls), whitespace, punctuation, symbols,
   emoji, combining marks (strike-through and other overlay tricks), private-use and unassigned;
3. traditional → simplified with OpenCC's ``t2s`` over the whole string (phrase-aware), keeping a
   character-for-character alignment (a conversion that changes the length falls back to
   character-by-character conversion);
4. a small variant table for what ``t2s`` leaves alone (妳→你, 著→着, 甚么→什么 …);
5. a run of one repeated character collapses to one character (谢谢 → 谢, 快快快 → 快), except
   digits (amounts and order numbers keep their value).

``fold(text)`` is the fast path that returns only the string; ``normalize(text)`` also returns
``offsets`` so that a match in the normalised text can be marked in the original one. ``fold`` and
:func:`fold_clauses` map a text of common characters (CJK, ASCII, punctuation) by one regex
substitution instead of ``str.translate`` and test for traditional characters with one character
class: same result, several times faster on CJK text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import opencc

__all__ = ["BOUNDARY", "Normalized", "fold", "fold_clauses", "normalize"]

_T2S = opencc.OpenCC("t2s")

# What t2s leaves as it is but people write for the same word. Only single characters
# (length-preserving); two-character forms are in _VARIANT_PAIRS.
_VARIANT_CHARS: dict[str, str] = {
    "妳": "你",
    "祢": "你",
    "伱": "你",
    "沵": "你",
    "著": "着",
    "麽": "么",
    "裡": "里",
    "衹": "只",
    "祗": "只",
    "綫": "线",
    "甯": "宁",
    "啰": "罗",  # 啰嗦 / 罗嗦 / 罗唆 are one word
    "唆": "嗦",
}
_VARIANT_TABLE = str.maketrans(_VARIANT_CHARS)
# Two-character words where only the context tells the variant apart (same length both sides).
_VARIANT_PAIRS: tuple[tuple[str, str], ...] = (("甚么", "什么"),)
# Any character of the table or first character of a pair: one class, fast to search (a text with 甚
# alone goes through the table and the pairs for nothing, which changes nothing).
_VARIANT_ANY_CHARS = frozenset("".join(_VARIANT_CHARS) + "".join(old[0] for old, _ in _VARIANT_PAIRS))
_VARIANT_ANY = re.compile("[" + "".join(sorted(_VARIANT_ANY_CHARS)) + "]")

_DIGITS = frozenset("0123456789")
_KEEP_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Nd", "Nl", "No"})
# Digits are never collapsed: amounts and order numbers keep their value.
_REPEAT_RUN = re.compile(r"([^0-9])\1+", re.DOTALL)
_ANY_REPEAT = re.compile(r"(.)\1", re.DOTALL)

# Per-character cache: code point → folded string ("" when the character is dropped).
# Bounded so that hostile input cannot grow it without limit.
_CHAR_CACHE_LIMIT = 1 << 16


def _plain_latin(ch: str) -> str:
    """Return a Latin letter without its accent or tone mark (ǎ → a, ü and ǜ → v), else ``ch``.

    A tone-marked letter written precomposed reads as the same letter with a combining mark, which step 2
    drops: pinyin typed with tones (bù zhī dào) is read as pinyin typed without them.
    """
    if ch.isascii():
        return ch
    parts = unicodedata.normalize("NFD", ch)
    base = parts[0]
    if len(parts) == 1 or not ("a" <= base <= "z"):
        return ch
    return "v" if base == "u" and "\u0308" in parts else base


def _fold_char(ch: str) -> str:
    """Return the NFKC-casefolded form of one character, without dropped categories."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", ch).casefold())
    return "".join(_plain_latin(c) for c in folded if unicodedata.category(c) in _KEEP_CATEGORIES)


class _CharMap(dict):
    """A ``str.translate`` table that computes and caches each character's folded form on first use."""

    def __missing__(self, code: int) -> str:
        value = _fold_char(chr(code))
        if len(self) < _CHAR_CACHE_LIMIT:
            self[code] = value
        return value


_CHAR_MAP = _CharMap()
for _code in range(0x80):
    _CHAR_MAP[_code]  # warm the cache for ASCII

#: What punctuation, spaces and line breaks become in :func:`fold_clauses` (a CJK letter, so it is kept).
BOUNDARY = "丨"


class _ClauseMap(dict):
    """Like :class:`_CharMap`, but punctuation, spaces and control characters become :data:`BOUNDARY`."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        if ch == BOUNDARY or unicodedata.category(ch)[0] in "PZ" or unicodedata.category(ch) == "Cc":
            value = BOUNDARY
        else:
            value = _fold_char(ch)
        if len(self) < _CHAR_CACHE_LIMIT:
            self[code] = value
        return value


_CLAUSE_MAP = _ClauseMap()
for _code in range(0x80):
    _CLAUSE_MAP[_code]


def _traditional_chars() -> frozenset[str]:
    """Return every character that ``t2s`` converts on its own (computed once at import)."""
    ranges = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2A6DF), (0x2F800, 0x2FA1F))
    chars = [chr(code) for low, high in ranges for code in range(low, high + 1)]
    converted = _T2S.convert("\n".join(chars)).split("\n")
    if len(converted) != len(chars):  # pragma: no cover - a build that merges characters
        converted = [_T2S.convert(ch) for ch in chars]
    return frozenset(ch for ch, out in zip(chars, converted, strict=True) if out != ch)


# Text without any of these characters is left alone by t2s, which saves converting it.
_TRADITIONAL = _traditional_chars()


def char_class(chars: Iterable[str], *, negate: bool = False) -> re.Pattern[str]:
    """Return a regex matching any one of ``chars`` (``negate``: any other character); consecutive code
    points are written as ranges.

    Python's ``re`` tests a class of Basic Multilingual Plane characters with a bitmap, whatever its
    size: searching a message for one of thousands of characters costs about as much as reading it.

    >>> char_class("abcx丨").pattern
    '[a-cx丨]'
    """
    codes = sorted(set(map(ord, chars)))
    parts = []
    at = 0
    while at < len(codes):
        last = at
        while last + 1 < len(codes) and codes[last + 1] == codes[last] + 1:
            last += 1
        low, high = re.escape(chr(codes[at])), re.escape(chr(codes[last]))
        parts.append(low if last == at else f"{low}-{high}" if last > at + 1 else low + high)
        at = last + 1
    if not parts:
        return re.compile("(?s:.)" if negate else "(?!)")
    return re.compile(f"[{'^' if negate else ''}{''.join(parts)}]")


_BMP_END = "\uffff"
# The traditional characters of the Basic Multilingual Plane as one class (a bitmap: fast); the rare
# characters beyond it are looked for only in a text that holds such a character.
_TRADITIONAL_BMP = char_class(ch for ch in _TRADITIONAL if ch <= _BMP_END)
_TRADITIONAL_ASTRAL = frozenset(ch for ch in _TRADITIONAL if ch > _BMP_END)
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _has_traditional(text: str) -> bool:
    """Return True when ``text`` holds a character that ``t2s`` converts on its own."""
    if _TRADITIONAL_BMP.search(text) is not None:
        return True
    return _ASTRAL.search(text) is not None and not _TRADITIONAL_ASTRAL.isdisjoint(text)


def _t2s(text: str) -> str:
    """Return ``text`` converted to simplified characters, guaranteed to have the same length.

    t2s is not idempotent for a few characters (薴 → 苧, and only a second pass 苧 → 苎), so a result
    that still holds a character t2s converts is converted again (at most twice more).
    """
    for _ in range(3):
        if not text or not _has_traditional(text):
            return text
        text = _t2s_once(text)
    return text


def _t2s_once(text: str) -> str:
    converted = _T2S.convert(text)
    if len(converted) == len(text):
        return converted
    out = []
    for ch in text:
        one = _T2S.convert(ch)
        out.append(one if len(one) == 1 else ch)
    return "".join(out)


def _variants(text: str) -> str:
    """Return ``text`` with the variant table applied (length-preserving)."""
    if _VARIANT_ANY.search(text) is None:
        return text
    text = text.translate(_VARIANT_TABLE)
    for old, new in _VARIANT_PAIRS:
        if old in text:
            text = text.replace(old, new)
    return text


def _fold_parts(text: str) -> str:
    """Return the text after steps 1-4 (everything but the collapse of repeated characters)."""
    return _fast_chars.converted(text)


@dataclass(frozen=True, slots=True)
class Normalized:
    """A normalised string and, for each of its characters, the index of its source in the original."""

    text: str
    offsets: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Return the original ``[start, end)`` covering normalised characters ``[start, end)``.

        The end is one past the last original character that produced normalised character ``end - 1``;
        an empty range maps to an empty range at the original position of ``start``.

        >>> normalize("不 知 道!").span(0, 3)
        (0, 5)
        """
        size = len(self.offsets)
        start = max(0, min(start, size))
        end = max(start, min(end, size))
        if start == end:
            if start < size:
                return self.offsets[start], self.offsets[start]
            pos = self.offsets[-1] + 1 if size else 0
            return pos, pos
        return self.offsets[start], self.offsets[end - 1] + 1


def normalize(text: str, *, clauses: bool = False) -> Normalized:
    """Return the normalised form of ``text`` with the offset of each character in the original.

    Never raises for any ``str``; ``normalize(text).text == fold(text)``.

    >>> n = normalize("妳 在 講 什麼??")
    >>> n.text, n.offsets
    ('你在讲什么', (0, 2, 4, 6, 7))
    """
    chars: list[str] = []
    offsets: list[int] = []
    char_map = _CLAUSE_MAP if clauses else _CHAR_MAP
    for index, ch in enumerate(text):
        folded = char_map[ord(ch)]
        if folded:
            chars.append(folded)
            offsets.extend([index] * len(folded))
    converted = _variants(_t2s("".join(chars)))
    if not converted:
        return Normalized("", ())
    out = [converted[0]]
    kept = [offsets[0]]
    previous = converted[0]
    for ch, offset in zip(converted[1:], offsets[1:], strict=True):
        if ch != previous or ch in _DIGITS:
            out.append(ch)
            kept.append(offset)
            previous = ch
    return Normalized("".join(out), tuple(kept))


def fold(text: str) -> str:
    """Return the normalised string of ``text`` (``normalize(text).text``, faster: no offsets).

    >>> fold("ＯＫ，谢谢谢！")
    'ok谢'
    """
    return _collapse(_fold_parts(text))


# Full-width comma, full stop, exclamation and question marks, the enumeration comma, and the space.
_FREQUENT_PUNCTUATION = "，。！？、 "


class _FastMap:
    """``text.translate(char_map)`` for a per-character map, by regex when the text allows it.

    Over the blocks agents write in (ASCII, general and CJK punctuation, the common ideographs,
    full-width forms), most characters map to themselves and the rest to one same string (``""``:
    dropped, or :data:`BOUNDARY`). A text of only such characters is mapped by one regex substitution,
    several times faster than ``str.translate`` with a dict for CJK text; any other text is translated.
    The result is the same either way.
    """

    __slots__ = ("_char_map", "_frequent", "_not_plain", "_other", "_replaced", "_replacement")

    def __init__(self, char_map: dict[int, str], replacement: str) -> None:
        kept: list[str] = []
        replaced: list[str] = []
        # The ideographs are checked as one string (folding a string of ideographs folds each one alone).
        ideographs = "".join(map(chr, range(0x4E00, 0xA000)))
        blocks = [(0x0, 0x7F), (0x2000, 0x206F), (0x3000, 0x303F), (0xFF00, 0xFFEF)]
        if unicodedata.normalize(
            "NFKC", unicodedata.normalize("NFKC", ideographs).casefold()
        ) == ideographs and {unicodedata.category(ch) for ch in ideographs} == {"Lo"}:
            kept.extend(ideographs)
        else:  # pragma: no cover - a Unicode version with unassigned or compatibility ideographs there
            blocks.append((0x4E00, 0x9FFF))
        for low, high in blocks:
            for code in range(low, high + 1):
                ch = chr(code)
                value = char_map[code]
                if value == ch:
                    kept.append(ch)
                elif value == replacement:
                    replaced.append(ch)
        self._char_map = char_map
        self._other = char_class(kept + replaced, negate=True)
        # A text of the fast blocks with no character that t2s or the variant table converts (the
        # replacement is neither): after mapping, steps 3 and 4 of the pipeline leave it as it is.
        changed = _TRADITIONAL | _VARIANT_ANY_CHARS
        assert replacement not in changed
        self._not_plain = char_class([ch for ch in kept + replaced if ch not in changed], negate=True)
        self._replaced = char_class(replaced)
        self._replacement = replacement
        # The punctuation of most Chinese messages: replaced by ``str.replace`` first (a substring test and
        # a C loop each), which leaves the regex few matches to replace one by one.
        self._frequent = tuple(ch for ch in _FREQUENT_PUNCTUATION if ch in replaced)

    def __call__(self, text: str) -> str:
        """Return ``text.translate(char_map)``."""
        if self._other.search(text) is None:
            return self._replaced.sub(self._replacement, text)
        return text.translate(self._char_map)

    def converted(self, text: str) -> str:
        """Return ``_variants(_t2s(text.translate(char_map)))`` (steps 1-4), with one search of ``text``
        deciding for the common text that t2s and the variant table have nothing to do.
        """
        if self._not_plain.search(text) is None:
            replacement = self._replacement
            for ch in self._frequent:
                if ch in text:
                    text = text.replace(ch, replacement)
            return self._replaced.sub(replacement, text)
        return _variants(_t2s(self(text)))


_fast_chars = _FastMap(_CHAR_MAP, "")
_fast_clause_chars = _FastMap(_CLAUSE_MAP, BOUNDARY)
# A run of one repeated character less its first character (``谢谢谢`` → the last two), digits excepted:
# replacing it with nothing is ``_REPEAT_RUN.sub(r"\1", …)`` without a Python call for each run.
_REPEAT_TAIL = re.compile(r"(?<=([^0-9]))\1+")


def _collapse(folded: str) -> str:
    """Return ``folded`` with each run of one repeated character (digits excepted) as one character."""
    first = _ANY_REPEAT.search(folded)
    if first is None:
        return folded
    at = first.start()  # nothing repeats before the first repeat: only the rest is rewritten
    return folded[:at] + _REPEAT_TAIL.sub("", folded[at:])


def fold_clauses(text: str) -> str:
    """Return :func:`fold` of ``text`` with each run of punctuation and spaces kept as one :data:`BOUNDARY`.

    ``fold_clauses(text) == normalize(text, clauses=True).text``.

    >>> fold_clauses("好的，谢谢谢！")
    '好的丨谢丨'
    """
    return _collapse(_fast_clause_chars.converted(text))
