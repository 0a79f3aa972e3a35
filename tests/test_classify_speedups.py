"""The classifier's speed-ups (issue 15) change no reading: each fast path against its plain reference.

Checked on the training sentences of the intent model. The model file is not touched; these tests pin
what ``logits``, ``prepare`` and the router's kept results compute, not how fast they are.
"""

from __future__ import annotations

import json
import math
import re
from bisect import bisect_left
from pathlib import Path

import pytest

from guards.normalize import fold
from replies.classifier import default_classifier
from replies.model import _LATIN, _PLACEHOLDERS, _mark, features, hashed, prepare
from replies.router import _LINK, _PLATFORM_MASK, load_router

DATA = Path(__file__).parent / "data"
SHOP_PLATFORMS = ("淘宝", "天猫", "京东", "拼多多", "抖音")


def _training_texts() -> list[str]:
    texts = []
    for name in ("intent_train.jsonl", "intent_train_real_style.jsonl", "intent_cases.jsonl"):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["text"])
    return [*texts, "", " ", "👍👍", "訂單 123456 到了嗎？？ https://x.cn 👍", "淘宝上买的 拼多多 京東"]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return _training_texts()


def _reference_logits(model, text: str, cues: list[str]) -> list[float]:
    """The model's scores as the model file defines them: a bisection into its rows, one weight at a time."""
    buckets = hashed(features(text, cues), model.bits)
    width = len(model.classes)
    sums = [0] * width
    for bucket in buckets:
        index = bisect_left(model.rows, bucket)
        if index < len(model.rows) and model.rows[index] == bucket:
            for k in range(width):
                sums[k] += model.weights[index * width + k]
    norm = model.scale / math.sqrt(len(buckets)) if buckets else 0.0
    return [b + s * norm for b, s in zip(model.bias, sums, strict=True)]


def _reference_prepare(text: str) -> str:
    """``prepare`` without its kept results: every character folded on its own, as written first."""
    for pattern, symbol in _PLACEHOLDERS:
        text = pattern.sub(symbol, text)
    out: list[str] = []
    run: list[str] = []
    for ch in text:
        if ch in "ⓁⓃⓄⒶⒹⓅⒺ":
            if run:
                out.append(fold("".join(run)))
                run.clear()
            out.append(ch)
            continue
        symbol = "" if fold(ch) else _mark(ch)
        if symbol:
            if run:
                out.append(fold("".join(run)))
                run.clear()
            if not out or not out[-1].endswith(symbol):
                out.append(symbol)
        else:
            run.append(ch)
    out.append(fold("".join(run)))
    return _LATIN.sub(lambda m: f" {m.group()} ", "".join(out)).replace("  ", " ").strip()


def test_logits_equal_the_bisection_over_the_model_file_on_every_training_sentence(texts):
    model = default_classifier().model
    cues = ["#rule:complaint:hi", "#rule:greeting:lo"]
    for text in texts:
        assert model.logits(text, cues) == _reference_logits(model, text, cues), text


def test_prepare_equals_folding_each_character_on_every_training_sentence(texts):
    for text in texts:
        assert prepare(text) == _reference_prepare(text), text
        assert prepare(text) == prepare(text)  # the kept result is the same string


def test_the_routers_kept_folding_and_keyword_scan_equal_a_fresh_routers(texts):
    kept, fresh = load_router(), load_router()
    for platforms in (None, SHOP_PLATFORMS, ("京東",)):
        for text in texts[::5]:
            kept.read(text, platforms=platforms)  # fills the kept results, then they are read again
            fresh._fold_recent.cache_clear()
            fresh._found_recent.cache_clear()
            assert kept.read(text, platforms=platforms) == fresh.read(text, platforms=platforms), text
            fresh._fold_recent.cache_clear()
            fresh._found_recent.cache_clear()
            assert kept.negated(text, platforms=platforms) == fresh.negated(text, platforms=platforms)


def test_the_shops_platforms_are_masked_as_folded_in_their_order():
    router = load_router()
    text = "我在拼多多和京東都买了"
    expected = fold(_LINK.sub(" ", text))
    for platform in (fold(p) for p in ("拼多多", "京東")):
        expected = expected.replace(platform, _PLATFORM_MASK)
    assert router.fold(text, platforms=("拼多多", "京東")) == expected
    assert re.search(_PLATFORM_MASK, expected)


def test_one_search_for_an_intents_negative_cues_agrees_with_testing_each_cue(texts):
    router = load_router()
    for text in texts[::3]:
        folded = router.fold(text)
        for key, rules in router._rules.items():
            has = router._has_negative[key]
            found = has is not None and has(folded) is not None
            assert found is any(cue in folded for cue in rules.negative), (key, text)
