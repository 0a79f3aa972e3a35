"""Prefilters: cheap tests, built from the data at load, that tell which slow matching can be skipped.

An Aho-Corasick automaton (pyahocorasick, C) finds every occurrence of thousands of words in one pass
over a message; ``re`` tries a large alternation branch by branch at every position, which costs
several times more. The guard uses one automaton for the catalogue's bigrams (which patterns are worth
scoring) and one for the concept words (whether the concept search can find anything at all).

>>> words = automaton(["不知道", "没办法"])
>>> occurs(words, "这个我不知道呢"), occurs(words, "我知道了")
(True, False)
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import itemgetter

import ahocorasick

__all__ = ["automaton", "found_values", "occurs"]

_VALUE = itemgetter(1)


def automaton(words: Iterable[str]) -> ahocorasick.Automaton | None:
    """Return an automaton finding ``words`` (the value of each is its position), or None when there is
    no word (nothing can be found).
    """
    built = ahocorasick.Automaton(ahocorasick.STORE_INTS)
    for number, word in enumerate(words):
        if word:
            built.add_word(word, number)
    if len(built) == 0:
        return None
    built.make_automaton()
    return built


def found_values(words: ahocorasick.Automaton | None, text: str) -> set[int]:
    """Return the positions (in the list the automaton was built from) of the words that occur in ``text``."""
    if words is None:
        return set()
    return set(map(_VALUE, words.iter(text)))


def occurs(words: ahocorasick.Automaton | None, text: str) -> bool:
    """Return True when one of the automaton's words occurs in ``text``."""
    return words is not None and next(words.iter(text), None) is not None
