"""Meaning-level matching: concept classes and composition rules, who and what, phonetic forms, levels."""

from __future__ import annotations

import pytest

from guards import check


@pytest.mark.parametrize(
    "text",
    [
        "运费是怎么算的呢",
        "您是怎么付的款呢？",
        "快递怎么说的呢亲",
        "你要什么颜色呀？",
        "您急什么时候用呢？",
        "这款吹风机声音大吗？",
        "这与您无关，是我们仓库的失误",
        "那个退款链接不是我发的，是诈骗信息",
        "非常抱歉，刚才系统出故障了…现在已经恢复",
        "不清楚的话，我帮您查一下物流",
        "这个我不太清楚，我马上帮您核实一下",
        "我知道您很着急，我马上为您处理",
    ],
)
def test_helpful_sentences_sharing_words_with_banned_phrasings_pass(text: str) -> None:
    verdict = check(text)
    assert verdict.allowed, verdict.hits
    assert verdict.level is None


@pytest.mark.parametrize(
    "text",
    [
        "亲这个我们也不知道呢",
        "这个小妹不清楚呢",
        "不知道诶",
        "我也不晓得",
        "我怎么会知道",
        "急啥",
        "真烦",
        "跟我没关系",
        "不归我管",
        "你烦不烦",
        "都说了八百遍了",
    ],
)
def test_bare_rude_replies_are_blocked_naming_entry_and_category(text: str) -> None:
    verdict = check(text)
    assert not verdict.allowed
    assert verdict.level == "block"
    hit = verdict.hits[0]
    assert hit.entry_id and hit.category and hit.phrase


@pytest.mark.parametrize(
    "text", ["没办法呢", "这个没办法修改的呢", "不可以的哦", "别急", "具体多大这个不清楚的呢"]
)
def test_curt_refusals_are_held_for_review(text: str) -> None:
    verdict = check(text)
    assert (verdict.allowed, verdict.level) == (False, "review")


@pytest.mark.parametrize(
    "text",
    [
        "这个没办法修改的呢，建议您取消后重新下单",
        "您别着急，我马上帮您催一下",
        "不可以的呢，因为订单已经出库了",
    ],
)
def test_a_refusal_with_a_reason_or_a_next_step_passes(text: str) -> None:
    assert check(text).allowed


@pytest.mark.parametrize(
    "text",
    [
        "bzd",
        "你zi己去查吧",
        "你怎么还不ming白",
        "尼自己去查吧",
        "偶不知道",
        "急神马",
        "真烦银",
        "我唔知呀",
        "唔關我事",
        "你問我，我問邊個？",
    ],
)
def test_pinyin_homophone_and_cantonese_forms_are_caught(text: str) -> None:
    verdict = check(text)
    assert not verdict.allowed, text


def test_take_it_or_leave_it_is_sarcasm() -> None:
    assert check("爱买不买").allowed is False
