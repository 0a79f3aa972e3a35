"""Prefilters: cheap tests, built from the data at load, that tell which slow matching can be skipped.

An Aho-Corasick automaton (``ahocorasick_rs``, Rust) finds every occurrence of thousands of words in
one pass over a message; ``re`` tries a large alternation branch by branch at every position, which
costs several times more. The guard uses one automaton for the catalogue's bigrams (which patterns are
worth scoring) and one for the concept words (whether the concept search can find anything at all).

>>> words = automaton(["不知道", "没办法"])
>>> occurs(words, "这个我不知道呢"), occurs(words, "我知道了")
(True, False)
>>> sorted(found_values(words, "没办法，不知道"))
[0, 1]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from operator import itemgetter

import ahocorasick_rs

__all__ = ["Automaton", "automaton", "found_values", "occurs"]

_PATTERN = itemgetter(0)


@dataclass(frozen=True, slots=True)
class Automaton:
    """A compiled word list: the automaton and, for each of its words, the word's position in the list."""

    search: ahocorasick_rs.AhoCorasick
    positions: tuple[int, ...] | None  # None: the list had no empty word, positions are the automaton's


def automaton(words: Iterable[str], *, dfa: bool = False) -> Automaton | None:
    """Return an automaton finding ``words`` (each reported by its position in ``words``), or None when
    there is no non-empty word (nothing can be found).

    ``dfa``: build a deterministic automaton, faster to run for a few thousand short words (its table
    stays in the processor's cache), larger and slower to build; else a contiguous NFA, compact for a large
    lexicon.
    """
    listed = list(words)
    kept = [number for number, word in enumerate(listed) if word]
    if not kept:
        return None
    implementation = ahocorasick_rs.Implementation.DFA if dfa else ahocorasick_rs.Implementation.ContiguousNFA
    search = ahocorasick_rs.AhoCorasick([listed[number] for number in kept], implementation=implementation)
    return Automaton(search, None if len(kept) == len(listed) else tuple(kept))


def found_values(words: Automaton | None, text: str) -> set[int]:
    """Return the positions (in the list the automaton was built from) of the words that occur in ``text``."""
    if words is None:
        return set()
    found = set(map(_PATTERN, words.search.find_matches_as_indexes(text, overlapping=True)))
    if words.positions is None:
        return found
    return {words.positions[number] for number in found}


def occurs(words: Automaton | None, text: str) -> bool:
    """Return True when one of the automaton's words occurs in ``text``."""
    return words is not None and bool(words.search.find_matches_as_indexes(text))
