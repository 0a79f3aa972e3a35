"""The desk's memo of intents: a message text classified once is not classified again (issue 15, CPU)."""

from __future__ import annotations

import dataclasses

from bot.desk.cores import Cores
from replies import classify
from replies.router import Intent


def counting(answers: dict[str, Intent]):
    """Return a classify function answering from ``answers`` and the list of texts it was asked about."""
    asked: list[tuple[str, tuple[str, ...] | None]] = []

    def fake_classify(text: str, *, platforms: tuple[str, ...] | None = None) -> Intent:
        asked.append((text, platforms))
        return answers[text]

    return fake_classify, asked


def test_a_text_is_classified_once_and_the_same_intent_comes_back() -> None:
    fake, asked = counting({"你好": Intent("greeting", 0.9), "谢谢": Intent("thanks", 0.8)})
    cores = dataclasses.replace(Cores.packaged(), classify=fake)
    first = cores.intent("你好", platforms=("京东",))
    again = cores.intent("你好", platforms=("京东",))
    other = cores.intent("谢谢", platforms=("京东",))
    assert first == again == Intent("greeting", 0.9)
    assert other == Intent("thanks", 0.8)
    assert asked == [("你好", ("京东",)), ("谢谢", ("京东",))]


def test_other_platforms_are_another_question() -> None:
    fake, asked = counting({"淘宝上买的": Intent("order_status", 0.5)})
    cores = dataclasses.replace(Cores.packaged(), classify=fake)
    cores.intent("淘宝上买的", platforms=("京东",))
    cores.intent("淘宝上买的", platforms=("淘宝",))
    assert asked == [("淘宝上买的", ("京东",)), ("淘宝上买的", ("淘宝",))]


def test_another_classifier_comes_with_a_fresh_memo() -> None:
    old, _ = counting({"你好": Intent("greeting", 0.9)})
    new, asked = counting({"你好": Intent("unclear", 0.1)})
    cores = dataclasses.replace(Cores.packaged(), classify=old)
    cores.intent("你好")
    swapped = dataclasses.replace(cores, classify=new)
    assert swapped.intent("你好") == Intent("unclear", 0.1)
    assert asked == [("你好", None)]


def test_a_classifier_that_raises_remembers_nothing() -> None:
    calls = []

    def flaky(text: str, *, platforms: tuple[str, ...] | None = None) -> Intent:
        calls.append(text)
        if len(calls) == 1:
            raise RuntimeError("model file unreadable")
        return Intent("greeting", 0.9)

    cores = dataclasses.replace(Cores.packaged(), classify=flaky)
    try:
        cores.intent("你好")
    except RuntimeError:
        pass
    assert cores.intent("你好") == Intent("greeting", 0.9)
    assert calls == ["你好", "你好"]


def test_the_memo_keeps_the_newest_texts_only(monkeypatch) -> None:
    import bot.desk.cores as cores_module

    monkeypatch.setattr(cores_module, "INTENT_MEMO_SIZE", 2)
    fake, asked = counting({t: Intent("unclear", 0.0) for t in ("一", "二", "三")})
    cores = dataclasses.replace(Cores.packaged(), classify=fake)
    for text in ("一", "二", "三", "一"):
        cores.intent(text)
    assert [text for text, _ in asked] == ["一", "二", "三", "一"]


def test_the_installed_classifier_answers_as_without_the_memo() -> None:
    cores = Cores.packaged()
    for text in ("我要投诉，收到的杯子是碎的", "转人工", "谢谢", "我要投诉，收到的杯子是碎的"):
        assert cores.intent(text, platforms=("京东",)) == classify(text, platforms=("京东",))
