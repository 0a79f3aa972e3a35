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


def test_a_verdict_memo_asks_for_the_context_only_when_the_text_alone_passes() -> None:
    from bot.desk.verdicts import VerdictMemo
    from guards import default_guard

    guard = default_guard()
    asked: list[tuple[str, str | None]] = []

    class Counting:
        def check(self, text: str, context: str | None = None):
            asked.append((text, context))
            return guard.check(text, context)

    memo = VerdictMemo(Counting())
    flat, rude, plea = "这个地址改不了的", "你自己去查吧", "我等了好久了，能不能快点处理啊"
    assert memo.check(flat, plea) == guard.check(flat, plea) and memo.check(flat, plea).level == "review"
    assert memo.check(flat) == guard.check(flat) and memo.check(flat, "  ") == guard.check(flat)
    assert memo.check(rude, plea) == guard.check(rude)  # held on its own words: its own verdict
    # each text alone once (the outbound guard then finds it), the flat one with its context once
    assert asked == [(flat, None), (flat, plea), (rude, None)]
