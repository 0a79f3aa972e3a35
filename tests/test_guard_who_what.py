"""Who and what (issue 16): the [[exemption]] rules of concepts.toml, each with the rude form it must keep.

A hit is not a verdict when the words around it say the agent blames itself, hands the matter on, speaks
of a hypothetical, negates the word, or describes the customer's trouble with an apology or a remedy.
Each test pairs helpful sentences with the bare rude wording the same catalogue entry still holds.
"""

from __future__ import annotations

import pytest
from guardcheck import assert_allowed, assert_blocked

from guards import check
from guards.catalogue import CatalogueError
from guards.meaning import load_concepts


@pytest.mark.parametrize(
    "text",
    [
        "之前不是我处理的，但我已经看过记录，马上跟进",
        "这单不是我处理的，我帮您问问当时的同事",
        "刚才的电话不是我接的，不过我已经了解情况，马上帮您处理",
    ],
)
def test_a_commitment_after_a_disowning_clause_makes_it_help(text: str) -> None:
    # 003 第5篇 推卸语 5 的规范说法: 会尽快交给相关同事受理，稍后回复您 — the agent takes it on.
    assert_allowed(text)


@pytest.mark.parametrize("text", ["这个问题不是我处理的，我能有什么办法", "喂，刚才的电话不是我接的呀！"])
def test_a_disowning_clause_without_a_commitment_stays_blocked(text: str) -> None:
    assert_blocked(text)


@pytest.mark.parametrize("text", ["不关我的事，我去忙了", "这不是我的工作，你找别人去，我会记一下"])
def test_a_first_person_verb_that_promises_nothing_is_no_commitment(text: str) -> None:
    assert_blocked(text)


def test_a_commitment_before_the_disowning_clause_does_not_excuse_it() -> None:
    # what FOLLOWS counts: 帮您查过了 first, then 不关我的事, is still the brush-off.
    assert_blocked("帮您查过了，这是其它部门的问题，不关我的事")


@pytest.mark.parametrize(
    "text",
    [
        "这是我们怎么搞错的，我去查一下，给您一个说法",
        "是我们仓库发得乱七八糟的，非常抱歉，马上给您重新发",
    ],
)
def test_a_reproach_word_on_our_own_doing_with_help_passes(text: str) -> None:
    # 003 第5篇 责备语: the reproach is of the customer; the agent naming its own fault is an apology.
    assert_allowed(text)


@pytest.mark.parametrize("text", ["怎么搞的", "你怎么搞的，地址都填错了", "什么乱七八糟的"])
def test_a_reproach_of_the_customer_stays_blocked(text: str) -> None:
    assert_blocked(text)


@pytest.mark.parametrize(
    "text",
    [
        "真糟糕，让您遇到这种事，我们全力补救",
        "怎么搞的呢，让您收到了破损的，真是对不起，马上补发",
    ],
)
def test_the_customers_trouble_described_with_a_remedy_passes(text: str) -> None:
    # 003 第6篇 安抚用语: 让您… with an apology or a remedy is empathy, not 埋怨.
    assert_allowed(text)


@pytest.mark.parametrize("text", ["真糟糕", "真糟糕，你自己看着办吧"])
def test_a_sigh_without_empathy_stays_blocked(text: str) -> None:
    assert_blocked(text)


@pytest.mark.parametrize(
    "text",
    [
        "如果还有不清楚的，可以随时找我",
        "要是还有哪里不清楚的，您随时问我",
        "万一有不知道怎么用的，直接问我哦",
    ],
)
def test_ignorance_under_a_hypothetical_is_an_offer(text: str) -> None:
    # 002 1.6-3 bans 不知道/不清楚 as the ANSWER; 如果…不清楚 speaks of the customer's possible doubt.
    assert_allowed(text)


def test_ignorance_as_the_answer_stays_blocked() -> None:
    assert_blocked("还是不清楚")


@pytest.mark.parametrize("text", ["这款不会有烦人的噪音，静音设计", "换了新滤网就没有讨厌的异味了"])
def test_a_negated_annoyance_word_describes_the_product(text: str) -> None:
    assert_allowed(text)


def test_annoyance_stays_blocked() -> None:
    assert_blocked("真烦人")


def test_a_question_particle_is_not_read_from_the_next_clause() -> None:
    # 听懂了，马上 is not 听懂了吗: a clause boundary inside a concept word leaves a word on each side.
    verdict = check("您说的我都听懂了，马上帮您安排")
    assert verdict.allowed, [h.to_dict() for h in verdict.hits]
    assert not check("你问我，我问谁？").allowed
    assert not check("听懂了吗").allowed


@pytest.mark.parametrize("text", ["唉，是我们的失误，真对不起", "晕，是我看错了，抱歉，您的订单已经发了"])
def test_a_sigh_at_our_own_mistake_with_an_apology_passes(text: str) -> None:
    # 003 第6篇 道歉: the sigh is at the agent's own mistake, and the agent apologises.
    assert_allowed(text)


@pytest.mark.parametrize("text", ["唉", "晕，你自己看错了还怪我们"])
def test_a_sigh_at_the_customer_stays_held(text: str) -> None:
    assert not check(text).allowed


@pytest.mark.parametrize("text", ["这个声音大点的话可以调成静音模式", "这个怎么搞定的话，我发您一个教程"])
def test_a_phrasing_inside_a_conditional_clause_is_not_said_to_the_customer(text: str) -> None:
    assert_allowed(text)


@pytest.mark.parametrize("text", ["声音大点", "你不懂的话就别买"])
def test_the_same_words_said_to_the_customer_stay_held(text: str) -> None:
    assert not check(text).allowed


def test_a_remedy_by_us_after_a_disowning_clause_passes() -> None:
    assert_allowed("那不是我们的工作失误，是快递丢件，但我们负责赔")


@pytest.mark.parametrize("text", ["急什么都可以跟我说", "您催什么订单都可以直接发我单号"])
def test_what_followed_by_dou_is_whatever_not_a_rhetorical_question(text: str) -> None:
    # 003 教训语 3 急什么? is rhetorical; 什么…都可以 is "whatever … you may".
    assert_allowed(text)


@pytest.mark.parametrize("text", ["急什么？", "你催什么催，我也没办法"])
def test_a_rhetorical_what_stays_blocked(text: str) -> None:
    assert_blocked(text)


@pytest.mark.parametrize("text", ["这不能怪您，是页面提示不清楚", "是我们的说明写得不清楚，给您添麻烦了"])
def test_unclear_said_of_a_thing_is_not_ignorance(text: str) -> None:
    # 002 1.6-3 bans “不清楚” as the agent's answer; 提示不清楚 says a text is unclear.
    assert_allowed(text)


def test_the_agent_not_knowing_stays_blocked() -> None:
    assert_blocked("这个我们也不清楚")


def test_a_sigh_then_help_is_held_for_review_not_blocked() -> None:
    # as the concept rules' -with-help pairs: 唉 before the agent's help may be sympathy; a person decides.
    verdict = check("唉，这个快递真不靠谱，我帮您投诉")
    assert verdict.level == "review"
    assert_blocked("唉")


@pytest.mark.parametrize("text", ["大声点说没关系，我听得到", "不能讲普通话也没关系，打字就行"])
def test_a_phrasing_given_as_a_permission_is_not_an_order(text: str) -> None:
    # 003 命令语 / 责备语 2 你不能讲普通话吗? order or reproach; …也没关系 tells the customer it is fine.
    assert_allowed(text)


@pytest.mark.parametrize("text", ["大声点！", "你不能讲普通话吗？"])
def test_the_order_or_reproach_stays_blocked(text: str) -> None:
    assert_blocked(text)


@pytest.mark.parametrize(
    "text", ["这个是凭什么计算的呢？我给您列一下明细", "运费是凭什么定的呢，我帮您查一下规则"]
)
def test_a_cleft_question_about_a_thing_asks_for_information(text: str) -> None:
    # 003 责备语 6 你凭什么这么说 reproaches the customer; 这个是凭什么计算的呢 asks how a fee is reckoned.
    assert_allowed(text)


@pytest.mark.parametrize("text", ["你是凭什么这么说的呢", "凭什么啊"])
def test_a_why_on_earth_at_the_customer_stays_held(text: str) -> None:
    assert not check(text).allowed


def test_an_apology_for_our_own_wording_passes() -> None:
    assert_allowed("抱歉刚才表述得乱七八糟的，我再说一遍")


@pytest.mark.parametrize(
    "text", ["什么乱七八糟的广告短信，不是我们发的，您别理", "那种乱七八糟的链接都是骗子发的，千万别点"]
)
def test_an_anti_fraud_warning_passes(text: str) -> None:
    # the words describe a scam, not the customer (003 第4篇 安全保障: the shop reassures and warns).
    assert_allowed(text)


def test_a_reproach_at_the_customer_beside_a_fraud_word_stays_blocked() -> None:
    assert_blocked("你是不是傻，这都看不出是诈骗")


@pytest.mark.parametrize("text", ["怎么搞的嘛，这么久还没到，我帮您问问", "听懂了吗亲？不懂我再讲"])
def test_a_reproach_word_followed_by_help_is_held_for_review(text: str) -> None:
    assert check(text).level == "review"


@pytest.mark.parametrize("text", ["您不能讲普通话的话，打字也可以", "您自己去查的话比较麻烦，我来帮您查"])
def test_a_polite_conditional_to_the_customer_passes(text: str) -> None:
    # 您自己去查的话 (tuning2, a near miss labelled allowed) was held for review before the conditional rule.
    assert_allowed(text)


@pytest.mark.parametrize(
    "text",
    [
        "这款音箱声音大点，适合大客厅",
        "声音大一点的那款是X3",
        "您要声音大点的还是小点的",
        "这个不行的话，可以试试另一个型号",
    ],
)
def test_a_product_described_or_a_condition_is_not_an_order(text: str) -> None:
    # 003 命令语 1 声音大点。 is said to the customer; 这款音箱声音大点 / 声音大一点的那款 describe a product.
    assert_allowed(text)


@pytest.mark.parametrize("text", ["声音大点！", "你声音大点，我听不到", "大点声的"])
def test_an_order_about_the_customers_voice_stays_blocked(text: str) -> None:
    assert_blocked(text)


@pytest.mark.parametrize("text", ["亲，这个我们真的不知道呢", "这个小的不晓得哦", "亲爱的亲爱的不清楚"])
def test_de_before_ignorance_is_not_the_complement_de(text: str) -> None:
    # 的 and 得 share a phonetic key: 真的不知道 is ignorance; 写得不清楚 is the unclear-thing exemption.
    assert_blocked(text)


def test_a_picture_seen_unclearly_is_not_ignorance() -> None:
    assert_allowed("图片我这边看得不太清楚，麻烦您再发一张")


def test_an_exemption_naming_an_unknown_list_is_reported(tmp_path) -> None:
    from importlib import resources

    text = resources.files("guards").joinpath("concepts.toml").read_text(encoding="utf-8")
    text += '\n[[exemption]]\nid = "x"\ncategories = ["推卸语"]\nafter = ["nope"]\nexplain = "x"\n'
    path = tmp_path / "concepts.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"exemption 'x'.*after.*nope"):
        load_concepts(path)
