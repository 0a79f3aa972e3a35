"""Issue 16, recall without new false blocks: dialect and slang tables, follow-up commitments, levels.

Cantonese and Taiwanese wordings, internet slang and pinyin are rewritten to the standard words the
concept classes know; a bare clause is judged by what stands outside it; a follow-up commitment or a
hand-over turns a block into an allowed message or, for a reproach, into ``review``.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guards import check, default_concepts, fold_clauses


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("我都唔知㗎", "推卸语"),  # Cantonese 唔知 + particle 㗎
        ("唔知喎", "推卸语"),
        ("我點會知呀", "推卸语"),  # 我點會知 = 我怎么会知道
        ("邊個知呀", "推卸语"),  # 邊個知 = 谁知道
        ("我哋都冇辦法", "推卸语"),  # 我哋 = 我们, 冇辦法 = 没办法
        ("講咗幾多次啦", "埋怨语"),  # 講咗幾多次 = 讲了多少次
        ("咪煩我", "烦躁语"),  # 咪 = 别
        ("收聲啦", "烦躁语"),  # 收聲 = 闭嘴
        ("唔買就算啦", "讽刺语"),
        ("你很盧欸", "埋怨语"),  # Taiwanese 盧 = to pester
        ("不曉得耶", "推卸语"),
        ("沒辦法啦齁", "推卸语"),
        ("表催了", "烦躁语"),  # slang 表 = 不要
        ("偶不造", "推卸语"),  # slang 造 = 知道
        ("酱紫的话偶也木办法", "推卸语"),  # 木 = 没
        ("介个不归偶管", "推卸语"),
        ("尼玛烦不烦", "埋怨语"),
        ("咪嘈啦", "埋怨语"),  # 咪嘈 = 别吵
        ("我冇空", "埋怨语"),
        ("唔理你", "烦躁语"),
    ],
)
def test_dialect_and_slang_wordings_are_held_naming_the_category(text: str, category: str) -> None:
    verdict = check(text)
    assert not verdict.allowed, text
    assert category in {hit.category for hit in verdict.hits}, verdict.hits
    assert all(hit.entry_id and hit.phrase for hit in verdict.hits)


@pytest.mark.parametrize("text", ["你ji什么", "ji shen me", "你自ji去看", "fan si le"])
def test_pinyin_of_an_exact_character_is_read_both_ways(text: str) -> None:
    assert not check(text).allowed, text


def test_only_latin_letters_get_a_second_reading() -> None:
    concepts = default_concepts()
    assert concepts.keyed(fold_clauses("你急什么")).other_reading == ""
    assert concepts.keyed(fold_clauses("你ji什么")).other_reading != ""


@pytest.mark.parametrize(
    "text",
    [
        "这个不归我们仓库管，我马上转给售后并跟进",
        "呢個唔歸我哋管，我幫你轉去售後跟進",
        "怕您不清楚，我再说明一下退款流程",
        "您还不知道吧，现在有优惠",
        "具体原因我这边还不清楚，查到了第一时间告诉您",
        "不要嫌我啰嗦，再提醒您一下保修卡要留好",
        "不用您自己去问快递，我这边联系",
        "唔好意思，我哋即刻幫你跟進",
        "唔使急，今日一定寄出",
        "没办法准时送到真的很抱歉，运费我们退给您",
        "偶尔会有延迟，我帮您催一下",
        "表带可以单独买",
        "对不起，你的要求不在我们的服务范围内，请您挂机。",
    ],
)
def test_near_misses_with_a_commitment_or_another_subject_pass(text: str) -> None:
    verdict = check(text)
    assert verdict.level != "block", verdict.hits


@pytest.mark.parametrize(
    "text",
    ["目前没办法呢亲亲", "暂时不知道呢"],
)
def test_a_bare_clause_is_held_although_its_lead_is_also_an_explanation_word(text: str) -> None:
    assert not check(text).allowed


def test_a_bare_clause_with_a_commitment_in_another_clause_passes() -> None:
    assert check("目前没办法呢，我帮您申请补偿").allowed


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        # said of nothing named (a sigh at a thing with help is allowed: sigh-at-a-thing-with-remedy)
        ("确实烦人，我帮您催一下", "annoyance-with-help"),
        ("你自己去问快递，我也帮你催一下", "rhetoric-with-help"),
        ("你是不是没长脑子，我帮你查", "annoyance-with-help"),
    ],
)
def test_rudeness_with_help_offered_is_held_for_review_not_blocked(text: str, rule: str) -> None:
    verdict = check(text)
    assert (verdict.level, verdict.hits[0].rule) == ("review", rule)


_DATA = default_concepts().data
_LEADS = [word for word in _DATA.lists["lead"] if len(word) <= 4]
_TAILS = [word for word in _DATA.lists["tail"] if word not in ("亲", "亲亲", "亲爱的")]
_IGNORANCE = ["不知道", "不清楚", "不晓得", "不太清楚", "不了解"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lead=st.lists(st.sampled_from(_LEADS), max_size=2),
    word=st.sampled_from(_IGNORANCE),
    tail=st.lists(st.sampled_from(_TAILS), max_size=2),
)
def test_any_bare_ignorance_clause_is_held_and_a_follow_up_clears_the_rules(
    lead: list[str], word: str, tail: list[str]
) -> None:
    clause = "".join(lead) + word + "".join(tail)
    assert not check(clause).allowed, clause
    helped = check(clause + "，我马上帮您核实一下")
    assert helped.level != "block", clause  # the review model may still ask a person
    assert not [hit for hit in helped.hits if hit.method == "concept"], clause


def test_a_concept_word_that_folds_to_one_character_is_refused(tmp_path) -> None:
    from guards.catalogue import CatalogueError
    from guards.meaning import load_concepts

    text = resources_text().replace('words = ["我不管", ', 'words = ["行行行", "我不管", ', 1)
    path = tmp_path / "concepts.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError, match="concept 'not-my-business-short': field 'words'"):
        load_concepts(path)


def resources_text() -> str:
    """Return the packaged concepts.toml."""
    from importlib import resources

    return resources.files("guards").joinpath("concepts.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize("text", ["不知道什么时候到呢", "这个不清楚为什么呢", "我们也不清楚怎么回事"])
def test_ignorance_of_when_or_why_with_nothing_offered_is_held_for_review(text: str) -> None:
    verdict = check(text)
    assert (verdict.allowed, verdict.level) == (False, "review"), verdict.hits
    assert verdict.hits[0].rule == "ignorance-of-what"


@pytest.mark.parametrize(
    "text",
    ["不知道您什么时候方便收货呢", "不清楚具体时间的话，我帮您问一下快递", "不知道什么时候到，我帮您催一下"],
)
def test_asking_the_customer_or_offering_to_find_out_passes(text: str) -> None:
    assert check(text).allowed, text


@pytest.mark.parametrize(
    ("text", "allowed"),
    [
        ("说清楚点", False),
        ("你说清楚点啊", False),
        ("没有为什么", False),
        ("这个问题说清楚一点就是运费险只赔首重", True),
        ("没有为什么不能开发票的，都可以开", True),
    ],
)
def test_orders_and_retorts_count_only_at_the_end_of_a_clause(text: str, allowed: bool) -> None:
    assert check(text).allowed is allowed, check(text).hits


@pytest.mark.parametrize(
    "text", ["您好，请问有什么可以帮您？", "手表的表带可以单独买", "介绍一下这款的功能", "这个颜色卖得最好呢"]
)
def test_ordinary_mandarin_does_not_wake_the_spelling_pass(text: str) -> None:
    from guards.normalize import fold

    spelling = default_concepts().spelling
    assert spelling.anchors.isdisjoint(fold(text))
    assert spelling.rewrite(fold(text)) == (fold(text), None)


def test_every_dialect_marker_anchors_its_wordings() -> None:
    concepts = default_concepts()
    markers = set(concepts.data.marker_chars)
    for wording in concepts.spelling.replace:
        marked = [ch for ch in wording if ch in markers]
        if marked:
            assert marked[0] in concepts.spelling.anchors, wording


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("不好意思，这个不清楚呢", "review"),  # 不清楚 with only an apology: a person decides
        ("抱歉，这个我们也不知道", "review"),
        ("不好意思，不清楚，我帮您问一下", None),  # with a commitment it is an answer
    ],
)
def test_an_apology_alone_does_not_make_ignorance_an_answer(text: str, level: str | None) -> None:
    assert check(text).level == level, check(text).hits


@pytest.mark.parametrize(
    "text",
    [
        "快点的话，今天下午就到",
        "说重点的话，就是明天到",
        "大声点说也没关系，我听得到",
        "您真烦心的话我们给您换新",
    ],
)
def test_a_conditional_or_a_worry_is_not_an_order_or_annoyance(text: str) -> None:
    assert check(text).level != "block", check(text).hits
