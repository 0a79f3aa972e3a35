"""The guard's speed-ups give what the plain code they stand for gives, for every text.

Each fast path (issue 16, speed) is compared with its definition: the per-character maps with
``str.translate``, the bigram prefilter with counting every shared bigram, the gates with the regex
search they let the guard skip. tests/test_guard_verdicts.py checks the whole guard on every labelled
text; these check the pieces on texts made to hit their edges.
"""

from __future__ import annotations

import re
import sys
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guards import BOUNDARY, Guard, default_concepts, fold_clauses, load_catalogue, normalize
from guards.catalogue import Entry, pattern_text
from guards.matcher import EQUIVALENT_CHARS, equivalent
from guards.meaning import WordTrie, expand
from guards.prefilter import automaton, found_values, occurs

normalize_module = sys.modules["guards.normalize"]
meaning_module = sys.modules["guards.meaning"]

_CONCEPTS = default_concepts()
# Characters that make the fast paths branch: concept and catalogue characters and their homophones,
# traditional and variant forms, punctuation of both widths, Latin letters, astral ideographs, emoji.
_WORD_CHARS = sorted(
    {ch for concept in _CONCEPTS.data.concept for word in concept.words for ch in word if ch not in "(|)"}
    | {ch for entry in load_catalogue().entries for ch in entry.phrase}
)
_ALPHABET = st.one_of(
    st.sampled_from(_WORD_CHARS),
    st.sampled_from(list("尼到倒知指烦饭你您妳著麽甚麼聽講這與無關吶呀吧了谢谢亲亲丨")),
    st.sampled_from(list("，。！？、 ,.!?~…【】\n\t")),
    st.characters(min_codepoint=0x61, max_codepoint=0x7A),
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
    st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E),
    st.characters(min_codepoint=0x20000, max_codepoint=0x2A6DF),
    st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF),
)
texts = st.one_of(st.text(alphabet=_ALPHABET, max_size=60), st.text(max_size=40))
_WORDS = sorted(
    {spelled for concept in _CONCEPTS.data.concept for word in concept.words for spelled in expand(word)}
    | {word for words in _CONCEPTS.data.lists.values() for word in words}
    | {pattern_text(entry.phrase) for entry in load_catalogue().entries}
)
# Messages made of concept words, list words and catalogue phrasings, with punctuation between.
_PIECES = st.one_of(
    st.sampled_from(_WORDS), st.sampled_from(list("，。！ 亲呢哦您我你不")), st.text(_ALPHABET, max_size=3)
)
word_texts = st.lists(_PIECES, max_size=8).map("".join)
any_text = st.one_of(texts, word_texts)


@settings(max_examples=400, deadline=None)
@given(any_text)
def test_fold_clauses_is_normalize_with_clauses(text: str) -> None:
    assert fold_clauses(text) == normalize(text, clauses=True).text


@settings(max_examples=400, deadline=None)
@given(any_text)
def test_the_fast_character_maps_are_translate(text: str) -> None:
    assert normalize_module._fast_chars(text) == text.translate(normalize_module._CHAR_MAP)
    assert normalize_module._fast_clause_chars(text) == text.translate(normalize_module._CLAUSE_MAP)


@settings(max_examples=400, deadline=None)
@given(any_text)
def test_the_traditional_check_is_the_set_of_traditional_characters(text: str) -> None:
    expected = not normalize_module._TRADITIONAL.isdisjoint(text)
    assert normalize_module._has_traditional(text) is expected


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_equivalent_is_translate(text: str) -> None:
    assert equivalent(text) == text.translate(EQUIVALENT_CHARS)


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_the_phonetic_key_is_translate_with_the_table(text: str) -> None:
    phonetic = _CONCEPTS.phonetic
    assert phonetic.key(text) == text.translate(phonetic.table)


@settings(max_examples=400, deadline=None)
@given(any_text)
def test_the_spelling_gate_opens_exactly_when_there_is_something_to_rewrite(text: str) -> None:
    spelling = _CONCEPTS.spelling
    folded = fold_clauses(text)
    by_regex = spelling.pattern.search(folded) is not None
    by_gate = meaning_module._LATIN_LETTER.search(folded) is not None or occurs(spelling.wordings, folded)
    assert by_gate is by_regex


@settings(max_examples=500, deadline=None)
@given(any_text)
def test_the_concept_word_gate_never_hides_a_concept_word(text: str) -> None:
    keyed = _CONCEPTS.keyed(fold_clauses(text))
    if _positions(_CONCEPTS.words, keyed.text, None):
        assert occurs(_CONCEPTS.words_anywhere, keyed.text.replace(BOUNDARY, ""))


def test_concept_words_across_a_clause_boundary_pass_the_gate() -> None:
    keyed = _CONCEPTS.keyed(fold_clauses("我不，知道呢"))
    assert _positions(_CONCEPTS.words, keyed.text, None)
    assert occurs(_CONCEPTS.words_anywhere, keyed.text.replace(BOUNDARY, ""))


def _bigrams(text: str) -> set[str]:
    return {a + b for a, b in pairwise(text)}


def _counted_candidates(guard: Guard, folded: str) -> set[str]:
    """The definition: every indexed pattern sharing at least ``min_shared`` bigrams, and the short ones."""
    shared = _bigrams(folded)
    out = {p.text for p in guard._patterns if len(_bigrams(p.text) & shared) >= p.min_shared}
    return out | {p.text for p in guard._short}


_GUARD = Guard.from_catalogue(load_catalogue(), concepts=None, review_model=None)


@settings(max_examples=500, deadline=None)
@given(any_text)
def test_the_seeded_prefilter_keeps_every_pattern_with_enough_shared_bigrams(text: str) -> None:
    folded = equivalent(normalize(text).text)
    assert {p.text for p in _GUARD._candidates(folded)} == _counted_candidates(_GUARD, folded)


@pytest.mark.parametrize("entry", load_catalogue().entries, ids=lambda entry: entry.id)
def test_each_phrasing_is_its_own_candidate(entry: Entry) -> None:
    folded = equivalent(normalize(entry.phrase).text)
    candidates = {p.text for p in _GUARD._candidates(folded)}
    assert candidates == _counted_candidates(_GUARD, folded)
    assert any(p.entry == _GUARD.entries.index(entry) for p in _GUARD._candidates(folded)) or entry.whole


@pytest.mark.parametrize(
    ("words", "text", "found"),
    [
        (["不知道", "没办法"], "这个我不知道呢", {0}),
        (["不知道", "没办法"], "没办法，不知道", {0, 1}),
        (["不知道", "没办法"], "我知道了", set()),
        ([], "不知道", set()),
        (["", "知道"], "知道", {1}),
    ],
)
def test_automaton_finds_the_words_that_occur(words: list[str], text: str, found: set[int]) -> None:
    built = automaton(words)
    assert found_values(built, text) == found
    assert occurs(built, text) is bool(found)


def test_char_class_matches_exactly_its_characters() -> None:
    chars = "abcx丨" + "".join(map(chr, range(0x4E00, 0x4E10))) + "\U00020000"
    pattern = normalize_module.char_class(chars)
    others = normalize_module.char_class(chars, negate=True)
    for code in [*range(0x60, 0x7B), *range(0x4DF0, 0x4E20), 0x20000, 0x20001, 0x4E28]:
        ch = chr(code)
        assert (pattern.fullmatch(ch) is not None) is (ch in chars)
        assert (others.fullmatch(ch) is not None) is (ch not in chars)
    assert re.fullmatch(normalize_module.char_class("").pattern, "a") is None


def _positions(words: WordTrie, text: str, starts: list[int] | None) -> list[tuple[int, int]]:
    """The (start, end) of the word at each of ``starts`` where one is (None: at every position)."""
    tried = range(len(text)) if starts is None else starts
    return [(start, end) for start in tried if (end := words.match(text, start)) is not None]


_TRIE_WORDS = ["你问", "你问我问谁", "问谁", "不知道", "不知", "知道了", "烦", "关我", "关我屁事"]


@settings(max_examples=500, deadline=None)
@given(
    st.text(alphabet=[*"你问我谁不知道了烦关屁事好", BOUNDARY], max_size=14),
    st.lists(st.sampled_from(_TRIE_WORDS), min_size=1, unique=True),
)
def test_the_word_trie_matches_as_the_gap_regex_it_replaced(text: str, words: list[str]) -> None:
    """WordTrie.match is the match of the prefix-tree regex with a boundary allowed after each character."""
    regex = re.compile(meaning_module._alternation(sorted(words), BOUNDARY + "?"))
    trie = WordTrie(words)
    for start in range(len(text)):
        match = regex.match(text, start)
        expected = match.end() if match is not None and match.end() > start else None
        assert trie.match(text, start) == expected


def _gated_starts(key: str, spelled: str) -> tuple[list[int], list[int]]:
    """The starts ``Concepts._search`` tries the sound words and the literal words at."""
    sound, literal = meaning_module._word_starts(_CONCEPTS.words_anywhere, key, _CONCEPTS.sound_word_count)
    single = [match.start() for match in _CONCEPTS.literal_chars.finditer(spelled)]
    return sound, sorted({*literal, *single})


@settings(max_examples=500, deadline=None)
@given(any_text)
def test_the_word_regexes_tried_at_the_gated_starts_find_what_a_full_search_finds(text: str) -> None:
    keyed = _CONCEPTS.keyed(fold_clauses(text))
    for key in (keyed.text, keyed.other_reading):
        spelled = keyed.spelled or key if key == keyed.text else key
        sound, literal = _gated_starts(key, spelled)
        assert _positions(_CONCEPTS.words, key, sound) == _positions(_CONCEPTS.words, key, None)
        assert _positions(_CONCEPTS.literal_words, spelled, literal) == _positions(
            _CONCEPTS.literal_words, spelled, None
        )


@pytest.mark.parametrize("text", ["别催了，唉", "烦", "滚！", "你牛，切", "说话啊", "傻x", "不，行"])
def test_literal_words_are_found_where_the_gate_says(text: str) -> None:
    keyed = _CONCEPTS.keyed(fold_clauses(text))
    spelled = keyed.spelled or keyed.text
    _, literal = _gated_starts(keyed.text, spelled)
    full = _positions(_CONCEPTS.literal_words, spelled, None)
    assert full, "each example holds a literal word"
    assert _positions(_CONCEPTS.literal_words, spelled, literal) == full


_FULL_GUARD = Guard.from_catalogue(load_catalogue(), review_model=None)


def _tally(bfolded: str) -> int:
    return _FULL_GUARD._tally(equivalent(meaning_module.compact_of(bfolded)))


def _wordings_seen(bfolded: str) -> bool:
    """What ``Guard._hits`` tells the spelling: its pass found a wording."""
    return bool((_tally(bfolded) >> _FULL_GUARD._wordings_shift) & _FULL_GUARD._wordings_mask)


def _literals_seen(bfolded: str) -> bool:
    """What ``Guard._hits`` tells the concept search: its pass found a literal word."""
    return bool(_tally(bfolded) >> _FULL_GUARD._literals_shift)


@pytest.mark.parametrize("text", ["唔知道呀", "我木有办法", "系咪你嘅", "唔，该", "偶不知", "肿么了？"])
def test_a_spelling_wording_is_seen_by_the_catalogue_pass(text: str) -> None:
    bfolded = fold_clauses(text)
    assert _CONCEPTS.spelling.rewrite(bfolded)[1] is not None, "each example holds a wording"
    assert _wordings_seen(bfolded)


@settings(max_examples=500, deadline=None)
@given(any_text)
def test_the_catalogue_pass_tells_the_spelling_whether_a_wording_may_be_there(text: str) -> None:
    """The guard's one pass over the folded text finds the spelling wordings: rewriting with its answer is
    rewriting with the spelling's own gate.
    """
    bfolded = fold_clauses(text)
    wordings = _wordings_seen(bfolded)
    spelling = _CONCEPTS.spelling
    assert spelling.rewrite(bfolded, wordings=wordings) == spelling.rewrite(bfolded)
    assert _CONCEPTS.keyed(bfolded, wordings=wordings) == _CONCEPTS.keyed(bfolded)
    if spelling.pattern.search(bfolded) is not None and meaning_module._LATIN_LETTER.search(bfolded) is None:
        assert wordings


@settings(max_examples=500, deadline=None)
@given(any_text)
def test_the_catalogue_pass_tells_the_concept_search_whether_a_literal_word_may_be_there(text: str) -> None:
    bfolded = fold_clauses(text)
    keyed = _CONCEPTS.keyed(bfolded)
    assert _CONCEPTS.find(keyed, literal=_literals_seen(bfolded)) == _CONCEPTS.find(keyed)
    spelled = keyed.spelled or keyed.text
    if keyed.source is None and _positions(_CONCEPTS.literal_words, spelled, None):
        assert _literals_seen(bfolded)


@pytest.mark.parametrize("text", ["别催了，唉", "烦", "滚！", "你牛，切", "呵，呵", "墨迹", "说，话"])
def test_a_literal_word_is_seen_by_the_catalogue_pass(text: str) -> None:
    assert _literals_seen(fold_clauses(text))


def _ends_clause_by_steps(key: str, end: int, clause_end: int, reach: int) -> bool:
    """The definition: after at most ``reach`` skipped characters, only tail words to the clause's end."""
    tail = _CONCEPTS.tail
    return any(
        tail.fullmatch(key, end + skip, clause_end) is not None
        for skip in range(min(reach, clause_end - end) + 1)
    )


_REACHES = sorted({rule.reach for rules in _CONCEPTS.rules_of.values() for rule in rules} | {0, 1, 3})
_TAIL_WORDS = sorted({_CONCEPTS.key_of(word) for word in _CONCEPTS.data.lists.get("tail", ())} - {""})
# Clause rests made of tail words and other characters, keyed as the rules read them.
clause_rests = st.lists(
    st.one_of(st.sampled_from(_TAIL_WORDS), st.text(_ALPHABET, max_size=2)), max_size=6
).map(lambda parts: _CONCEPTS.phonetic.key("".join(parts)).replace(BOUNDARY, ""))


@settings(max_examples=500, deadline=None)
@given(clause_rests, st.sampled_from(_REACHES), st.text(_ALPHABET, max_size=3))
def test_a_rules_clause_end_regex_is_the_tail_tried_after_each_skip(
    rest: str, reach: int, before: str
) -> None:
    key = before + rest + BOUNDARY + "你"
    end, clause_end = len(before), len(before) + len(rest)
    ends = meaning_module._ends_within(_CONCEPTS.tail, reach)
    assert (ends.fullmatch(key, end, clause_end) is not None) is _ends_clause_by_steps(
        key, end, clause_end, reach
    )


@settings(max_examples=500, deadline=None)
@given(st.text(st.sampled_from("丨你a"), max_size=30))
def test_kept_indexes_are_the_positions_of_those_characters_less_the_boundaries(text: str) -> None:
    kept = [index for index, ch in enumerate(text) if ch != BOUNDARY]
    assert meaning_module._kept_indexes(text, list(range(len(kept)))) == kept
    assert meaning_module._kept_indexes(text, list(range(0, len(kept), 3))) == kept[::3]
    assert meaning_module._kept_indexes(text, list(range(len(kept)))[-2:]) == kept[-2:]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.text(st.sampled_from("不知道啊你"), min_size=1, max_size=4), max_size=12),
    st.text(st.sampled_from("不知道啊你我"), max_size=20),
)
def test_prefix_free_words_start_where_all_the_words_start(words: list[str], text: str) -> None:
    def starts(listed: list[str]) -> set[int]:
        return {at for at in range(len(text)) for word in listed if text.startswith(word, at)}

    kept = meaning_module._prefix_free(words)
    assert set(kept) <= set(words)
    assert starts(kept) == starts(words)


def test_the_concept_gate_finds_every_sound_word_of_the_lexicon_where_it_starts() -> None:
    """The gate holds only the words no other word is a beginning of: each word is still found starting."""
    sound = _CONCEPTS.sound_word_count
    search = _CONCEPTS.words_anywhere.search
    missed = [
        word
        for word in _CONCEPTS.concepts_of
        if not any(
            number < sound and start == 0
            for number, start, _ in search.find_matches_as_indexes(word, overlapping=True)
        )
    ]
    assert len(_CONCEPTS.concepts_of) > 100
    assert not missed


@settings(max_examples=500, deadline=None)
@given(any_text, st.sampled_from([None, True, False]))
def test_hits_of_is_find_of_keyed(text: str, literal: bool | None) -> None:
    bfolded = fold_clauses(text)
    wordings = _wordings_seen(bfolded)
    if literal is False:
        literal = _literals_seen(bfolded)  # False only where the catalogue pass would say so
    keyed = _CONCEPTS.keyed(bfolded, wordings=wordings)
    hits = _CONCEPTS.find(keyed, literal=literal)
    assert _CONCEPTS.hits_of(bfolded, wordings=wordings, literal=literal) == ((keyed if hits else None), hits)


def _one_insertion_by_cuts(text: str, folded: str) -> list[int]:
    """The definition: every place where ``text`` stands with one character inserted, cut by cut, in order."""
    out = []
    for cut in range(1, len(text)):
        head, tail = text[:cut], text[cut:]
        at = folded.find(head)
        while at >= 0:
            if folded.startswith(tail, at + cut + 1):
                out.append(at)
            at = folded.find(head, at + 1)
    return out


_SHORT_PATTERNS = sorted({p.text for p in _GUARD._patterns if len(p.text) <= 6})
# Texts made of a short pattern's characters: its pieces and one inserted character turn up often.
insertion_texts = st.sampled_from(_SHORT_PATTERNS).flatmap(
    lambda text: st.tuples(st.just(text), st.text(st.sampled_from(text + "你x"), max_size=16))
)


@settings(max_examples=500, deadline=None)
@given(insertion_texts)
def test_split_occurrences_are_the_one_insertion_places_cut_by_cut(case: tuple[str, str]) -> None:
    text, folded = case
    matcher_module = sys.modules["guards.matcher"]
    found = [
        at
        for cut in range(1, len(text))
        for at in matcher_module._split_occurrences(folded, text[:cut], text[cut:], cut + 1)
    ]
    assert found == _one_insertion_by_cuts(text, folded)
