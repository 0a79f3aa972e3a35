"""Text normaliser shared by the guard and the intent classifier, with a map back to the original text.

The pipeline, applied identically to messages and to catalogue phrases:

1. per character: NFKC (full-width → half-width, compatibility forms), case-fold, NFKC again;
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
``offsets`` so that a match in the normalised text can be marked in the original one.
"""

from __future__ import annotations

import re
import unicodedata
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
_VARIANT_ANY = re.compile("[" + "".join(_VARIANT_CHARS) + "]|甚么")
# Two-character words where only the context tells the variant apart (same length both sides).
_VARIANT_PAIRS: tuple[tuple[str, str], ...] = (("甚么", "什么"),)

_DIGITS = frozenset("0123456789")
_KEEP_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Nd", "Nl", "No"})
# Digits are never collapsed: amounts and order numbers keep their value.
_REPEAT_RUN = re.compile(r"([^0-9])\1+", re.DOTALL)
_ANY_REPEAT = re.compile(r"(.)\1", re.DOTALL)

# Per-character cache: code point → folded string ("" when the character is dropped).
# Bounded so that hostile input cannot grow it without limit.
_CHAR_CACHE_LIMIT = 1 << 16


def _fold_char(ch: str) -> str:
    """Return the NFKC-casefolded form of one character, without dropped categories."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", ch).casefold())
    return "".join(c for c in folded if unicodedata.category(c) in _KEEP_CATEGORIES)


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


def _t2s(text: str) -> str:
    """Return ``text`` converted to simplified characters, guaranteed to have the same length."""
    if not text or _TRADITIONAL.isdisjoint(text):
        return text
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
    return _variants(_t2s(text.translate(_CHAR_MAP)))


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
    folded = _fold_parts(text)
    if _ANY_REPEAT.search(folded) is None:
        return folded
    return _REPEAT_RUN.sub(r"\1", folded)


def fold_clauses(text: str) -> str:
    """Return :func:`fold` of ``text`` with each run of punctuation and spaces kept as one :data:`BOUNDARY`.

    ``fold_clauses(text) == normalize(text, clauses=True).text``.

    >>> fold_clauses("好的，谢谢谢！")
    '好的丨谢丨'
    """
    folded = _variants(_t2s(text.translate(_CLAUSE_MAP)))
    if _ANY_REPEAT.search(folded) is None:
        return folded
    return _REPEAT_RUN.sub(r"\1", folded)
