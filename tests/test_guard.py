"""The matcher: documented pitfalls, offsets into the original text, the verdict shape, thread safety."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from guards import CHUNK_CHARS, Guard, Verdict, check, default_guard, load_catalogue
from guards.matcher import default_max_edits


@pytest.mark.parametrize(
    ("text", "entry_id"),
    [
        ("我不知道。", "tuixie-01"),
        ("我不知到", "tuixie-14"),  # the typo is read by sound (到 = 道): the ignorance concept
        ("喂，大聲一點兒！", "bukeyi-04"),  # traditional characters
        ("你 自 己 去 问 问 吧", "tuixie-08"),
        ("这\u200b与\u200b我\u200b无\u200b关", "tuixie-13"),
        ("不清楚啊", "tuixie-15"),  # a whole answer of only 不清楚
        ("快一点，我还要接其他客户电话。", "mingling-03"),
        ("您的问题系统有故障，我能有什么办法", "tuixie-04b"),
        ("我们公司确实很差", "fuhe-02"),
    ],
)
def test_banned_phrasings_are_blocked(text: str, entry_id: str) -> None:
    verdict = check(text)
    assert not verdict.allowed
    assert entry_id in {hit.entry_id for hit in verdict.hits}
    assert verdict.suggestion


@pytest.mark.parametrize(
    "text",
    [
        "我知道您很着急",  # scores exactly what "我不知到" scores: the core word 不 decides
        "知道了",  # partial_ratio gives 80 against 我不知道
        "客户电话",  # partial_ratio gives 100 against 快一点,我还要接其他客户电话
        "不知道您是否方便告诉我您的问题呢？",
        "我也不知道该怎么感谢您",
        "对不起，请您大声一点儿，好吗？",  # the documented script where 喂,大声一点儿! is banned
        "如有不清楚的地方，请随时联系我们。",
        "您好，您的快递明天到。",
        "",
        "！？。。。",
    ],
)
def test_polite_and_ordinary_text_passes(text: str) -> None:
    verdict = check(text)
    assert verdict.allowed, verdict.hits
    assert verdict.hits == ()
    assert verdict.suggestion is None


@pytest.mark.parametrize(
    ("text", "marked"),
    [
        ("好的，我不知道。", "我不知道"),
        ("喂，大聲一點兒！", "喂，大聲一點兒"),
        ("亲～这\u200b与我无关哦", "这\u200b与我无关"),
        ("ＯＫ。你自己去问问吧😤", "你自己去问问吧"),
    ],
)
def test_hit_offsets_index_the_original_text(text: str, marked: str) -> None:
    verdict = check(text)
    spans = {text[hit.start : hit.end] for hit in verdict.hits}
    assert marked in spans


def test_suggestion_is_the_documented_wording_of_the_best_hit() -> None:
    catalogue = load_catalogue()
    verdict = Guard.from_catalogue(catalogue, concepts=None).check("喂，大声一点儿！")
    best = max(verdict.hits, key=lambda hit: hit.score)
    assert verdict.suggestion == catalogue.by_id(best.entry_id).suggestion


def test_verdict_to_dict_is_json_ready() -> None:
    verdict = check("这与我无关")
    data = json.loads(json.dumps(verdict.to_dict(), ensure_ascii=False))
    assert data["allowed"] is False
    assert data["suggestion"] == verdict.suggestion
    first = data["hits"][0]
    expected = {"category", "phrase", "entry_id", "score", "start", "end", "method", "level", "rule"}
    assert expected <= set(first)
    assert first["method"] in {"exact", "fuzzy", "concept"}
    assert data["level"] == "block"
    assert 0 <= first["score"] <= 100


def test_exact_and_fuzzy_methods() -> None:
    exact = check("我不知道").hits[0]
    fuzzy = check("你有钱就找贵的充啊").hits[0]
    assert (exact.method, exact.score) == ("exact", 100.0)
    assert fuzzy.method == "fuzzy"
    assert fuzzy.score < 100.0


@pytest.mark.parametrize("position", [10, CHUNK_CHARS - 2, CHUNK_CHARS + 1, 3 * CHUNK_CHARS + 7, 9000])
def test_the_whole_text_is_checked_however_long(position: int) -> None:
    padding = "您好，您的订单已发货。" * (10 * CHUNK_CHARS // 11)
    text = padding[:position] + "。我不知道。" + padding[position:]
    verdict = check(text)
    assert verdict.allowed is False
    assert any(text[hit.start : hit.end] == "我不知道" for hit in verdict.hits)


@pytest.mark.parametrize(("length", "edits"), [(2, 0), (3, 0), (4, 1), (6, 1), (7, 2), (10, 2), (11, 3)])
def test_default_edit_allowance_grows_with_length(length: int, edits: int) -> None:
    assert default_max_edits(length) == edits


def test_guard_from_custom_catalogue(tmp_path: Path) -> None:
    path = tmp_path / "banned.toml"
    path.write_text(
        '[[entry]]\nid = "x-1"\ncategory = "埋怨语"\nphrase = "烦死人了"\n'
        'source = "test"\nsuggestion = "请问还有什么可以帮您?"\n',
        encoding="utf-8",
    )
    guard = Guard.from_catalogue(load_catalogue(path), concepts=None, review_model=None)
    assert [hit.entry_id for hit in guard.check("哎，烦死人了！").hits] == ["x-1"]
    assert guard.check("我不知道").allowed  # the packaged catalogue is not involved


def test_default_guard_is_built_once() -> None:
    assert default_guard() is default_guard()


def test_thread_safe_results_match_sequential() -> None:
    texts = ["我不知道", "您好，已发货", "喂，大声一点儿！", "你自己去问问吧", "谢谢您"] * 40
    expected = [check(text) for text in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(check, texts))
    assert results == expected
    assert all(isinstance(result, Verdict) for result in results)


def test_check_never_raises_on_odd_text() -> None:
    for text in ["\ud800", "\x00\x01", "🙂" * 5000, "a" * 10000, "\u202e不知道\u202c"]:
        assert isinstance(check(text), Verdict)
