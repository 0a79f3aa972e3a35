"""The desk's memo of a pure function (bot.desk.memo): same answers, newest keys kept, errors not kept."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.desk.memo import Memo


@given(st.lists(st.integers(0, 9), max_size=40), st.integers(1, 4))
def test_a_memo_answers_as_the_function_and_computes_only_what_it_dropped(keys: list[int], size: int) -> None:
    computed: list[int] = []

    def square(n: int) -> int:
        computed.append(n)
        return n * n

    memo = Memo(square, size)
    newest: list[int] = []  # the model: keys by last use, at most ``size``
    for key in keys:
        expected_compute = key not in newest
        before = len(computed)
        assert memo(key) == key * key
        assert (len(computed) > before) == expected_compute
        if key in newest:
            newest.remove(key)
        newest = [*newest, key][-size:]


def test_a_function_that_raises_remembers_nothing() -> None:
    calls: list[str] = []

    def flaky(text: str) -> str:
        calls.append(text)
        if len(calls) == 1:
            raise OSError("unreadable")
        return text.upper()

    memo = Memo(flaky, 8)
    try:
        memo("a")
    except OSError:
        pass
    assert memo("a") == memo("a") == "A"
    assert calls == ["a", "a"]
