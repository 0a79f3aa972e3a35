"""Issue 16, real recall round 6: the "real recall round 6" concept classes.

Written for the categories the real tuning replies held few of (烦躁语, 教训语, 埋怨语, 责备语,
不可以说, and the bare 'just wait' of 推卸语), from the document line each class enforces, and checked
on every civil real tuning reply (``tests/data/real/agent_tuning*.jsonl``) and every hand-written near
miss. Each class is checked on rude replies it must hold by a concept rule (not the review model) under
the category of its document line, written in other words than the corpus ones, and on helpful
sentences built from the same words that must pass every round-6 rule and never be blocked (at least
two per class).
"""

from __future__ import annotations

import pytest
from guardcheck import concept_hits

from guards import check
from guards.train_review import rules_only_guard

_RULES = rules_only_guard()


def _round6_hits(text: str) -> set[tuple[str, str]]:
    """Return (rule id, category) of the real round-6 concept rules that hit ``text`` (rules only)."""
    return concept_hits(text, "-real6", _RULES)


@pytest.mark.parametrize(
    ("text", "rule", "category"),
    [
        ("刚刚已经跟您讲了呀", "told-already-real6", "埋怨语"),
        ("刚刚已经向您说明了呀", "told-already-real6", "埋怨语"),
        ("上面都给你说过了", "told-already-real6", "埋怨语"),
        ("之前回答过您了哦", "told-already-real6", "埋怨语"),
        ("这个不是刚发给您了嘛", "told-already-real6", "埋怨语"),
        ("运费的事您刚才问过了", "told-already-real6", "埋怨语"),
        ("您有没有认真找过呢", "look-harder-real6", "教训语"),
        ("麻烦您再好好翻一下", "look-harder-real6", "教训语"),
        ("以后填写的时候请看清楚哦", "mind-next-time-real6", "教训语"),
        ("下单前务必核对好收货信息", "mind-next-time-real6", "教训语"),
        ("您买的时候就该问清楚", "mind-next-time-real6", "教训语"),
        ("您本来就应该先搞清楚", "should-have-real6", "教训语"),
        ("这个规则您都知道的呀", "should-have-real6", "教训语"),
        ("您怎么总是改地址呀", "you-again-real6", "埋怨语"),
        ("你又来催了", "you-again-real6", "埋怨语"),
        ("您这样我们真的很难做", "hard-to-handle-real6", "埋怨语"),
        ("您的要求也太多了", "hard-to-handle-real6|mockery-round6", "埋怨语|讽刺语"),
        ("和我们讲再多也没用", "no-use-telling-real6", "推卸语"),
        ("如果不放心就过几天再来问", "no-use-telling-real6", "推卸语"),
        ("这都是您的责任", "your-fault-real6", "责备语"),
        ("您记错了吧", "your-fault-real6", "责备语"),
        ("这个可怪不得我们", "your-fault-real6", "责备语"),
        ("那您自己去处理一下", "do-it-yourself-real6", "推卸语"),
        ("麻烦你自行联系", "do-it-yourself-real6", "推卸语"),
        ("亲您耐心等就好", "just-wait-real6", "推卸语"),
        ("那边就耐心等待一下就行", "just-wait-real6", "推卸语"),
        ("听明白没有", "heard-me-real6", "教训语"),
        ("您看得懂不", "heard-me-real6", "教训语"),
        ("正在查呢正在查呢", "busy-checking-real6", "烦躁语"),
        ("不要催了不要催", "busy-checking-real6", "烦躁语"),
        ("谁让您不早点付款", "blame-you-real6", "责备语"),
        ("这只能怪您自己了", "blame-you-real6", "责备语"),
        ("您没看清楚就拍了", "blame-you-real6", "责备语"),
        ("你早些告诉我就好了", "blame-you-real6", "责备语"),
        ("您得自己多留意", "mind-yourself-real6", "教训语"),
        ("你必须先读一下规则", "mind-yourself-real6", "教训语"),
        ("怎么又要换", "again-bare-real6", "埋怨语"),
        ("你快说话呀", "say-something-real6", "不可以说"),
        ("再不回我就下线了", "say-something-real6|phone-hang-up-round6", "不可以说|不可以说"),
        ("您在讲啥呢", "say-something-real6", "不可以说"),
        ("您自己往上翻翻", "scroll-up-real6", "埋怨语"),
        ("请您翻下前面的消息", "scroll-up-real6", "埋怨语"),
        ("以后自己用的时候还得小心一些", "take-care-real6", "教训语"),
        ("亲这边就直接问卖家就行", "contact-directly-real6", "推卸语"),
        ("建议直接打给站长", "contact-directly-real6", "推卸语"),
    ],
)
def test_round6_class_holds_the_rude_reply(text: str, rule: str, category: str) -> None:
    """The rule holds the reply for review (every round-6 rule is review: labels go both ways on context)."""
    # "a|b": the written round 6 (rules ending -round6) reads the same words and may hold the reply first
    expected = set(zip(rule.split("|"), category.split("|"), strict=True))
    hits = _round6_hits(text) | concept_hits(text, "-round6", _RULES)
    assert expected & hits, _RULES.check(text)
    assert check(text).level in {"block", "review"}


@pytest.mark.parametrize(
    "text",
    [
        # told-already-real6
        "之前跟您讲过的优惠，今天已经生效了",
        "刚才已经跟您说了退款三到五天到账，一般不会超过一周",
        "您之前问过的那个颜色，明天到货",
        "不好意思，刚才已经回复您了，我再发一遍：是可以退的",
        # look-harder-real6
        "站点是否仔细查看了呢？我帮您再确认一下",
        "请您收货时认真检查外包装是否完好",
        "我这边仔细核对了一下，确实少发了一件",
        # mind-next-time-real6
        "我们以后一定注意核对，给您添麻烦了",
        "下次购物前可以先领券再下单",
        "下单的时候可以选择送货时间",
        # should-have-real6
        "您应该已经收到短信了",
        "如果您已经知道的话就不多说了",
        "您应该是明天能收到",
        # you-again-real6
        "您有问题随时问我",
        "您有取消订单吗",
        "您又下了一单，我帮您合并发货",
        # hard-to-handle-real6
        "您这样操作就可以了",
        "您这样描述我就明白了",
        "不是您的要求太多，是我们没做好",
        # no-use-telling-real6
        "跟我说就可以，我来帮您处理",
        "您不放心的话，我明天再帮您查一下物流",
        # your-fault-real6
        "这不是您的问题，是我们仓库发错了",
        "并不是您的责任，我们来承担运费",
        "是您的问题没描述清楚吗？我再问一下",
        # do-it-yourself-real6
        "您可以自行申请，路径是我的-客户服务",
        "您自己取消的订单吗",
        "是您自己提交的申请",
        # just-wait-real6
        "您耐心等待一下，预计明天送达",
        "我已经帮您催了，您耐心等待一下就可以了，有消息我第一时间告诉您",
        # heard-me-real6
        "我明白了",
        "您看明白了吗？不明白的我再给您讲一遍",
        "我这边清楚了",
        # busy-checking-real6
        "您别急别急，马上就好",
        "正在帮您查询，请稍等",
        # blame-you-real6
        "不能怪您，是我们的疏忽",
        "别怪您自己，这个按钮确实不好找",
        "您早点说也没关系，现在还能改",
        # mind-yourself-real6
        "您要注意查收短信哦",
        "天冷了您要多注意身体",
        "请您先看一下说明书第三页，我也给您截图",
        # again-bare-real6
        "又要麻烦您了",
        "又到货了",
        # say-something-real6
        "您说什么颜色呢",
        "您说的是哪个订单呢",
        "不好意思，您说什么？能再说一遍吗",
        # scroll-up-real6
        "我们会往上反映您的建议",
        "您往上翻的那条是旧订单，新订单我发您",
        "我看一下前面的聊天记录，马上帮您处理",
        # take-care-real6
        "我们以后要多注意一些",
        "使用时要注意一些事项，我把说明发您",
        # contact-directly-real6
        "我直接联系站点帮您问",
        "您也可以直接联系配送员，电话是13800000000",
        "您可以直接联系商家客服，我把入口发给您",
    ],
)
def test_round6_near_miss_stays_allowed(text: str) -> None:
    """Helpful sentences built from the round-6 words pass every round-6 rule and are never blocked."""
    assert not _round6_hits(text), _RULES.check(text)
    assert check(text).level != "block"
