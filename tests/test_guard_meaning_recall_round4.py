"""Issue 16, fourth round of recall (``guard_meaning_tuning6``): the "recall round 4" concept classes.

Each class is checked on rude replies it must hold by a concept rule (not the review model) under the category
of the document line it enforces, and on helpful sentences that share its words and must pass every round-4
rule (and never be blocked).
"""

from __future__ import annotations

import pytest
from guardcheck import concept_hits

from guards import check


@pytest.mark.parametrize(
    ("text", "rule", "category"),
    [
        ("不换的亲", "refusal-remedy-round4", "不可以说"),
        ("补不了哦", "refusal-remedy-round4", "不可以说"),
        ("这个不能赔的", "refusal-remedy-round4", "不可以说"),
        ("重发不了", "refusal-remedy-round4", "不可以说"),
        ("不清楚什么原因呢", "ignorance-of-what-round4", "推卸语"),
        ("小妹也不知道几时到哦", "ignorance-of-what-round4", "推卸语"),
        ("这个你问卖家", "elsewhere-round4", "推卸语"),
        ("亲 要找别的部门哦", "elsewhere-round4", "推卸语"),
        ("你们自己联系快递", "elsewhere-round4", "推卸语"),
        ("你找谁都一样", "elsewhere-round4", "推卸语"),
        ("这是快递的事哈", "third-party-matter-round4", "推卸语"),
        ("那是仓库那边的事", "third-party-matter-round4", "推卸语"),
        ("这事跟我们扯不上关系", "not-mine-round4", "推卸语"),
        ("这锅我们不背", "not-mine-round4", "推卸语"),
        ("售后的事我不沾手", "not-mine-round4", "推卸语"),
        ("别来找我们", "not-mine-round4", "推卸语"),
        ("没人能帮你", "not-mine-round4", "推卸语"),
        ("我这边很忙的哦", "busy-round4", "推卸语"),
        ("我还有好多别的客户呢", "busy-round4", "推卸语"),
        ("说了在处理了", "impatience-round4", "烦躁语"),
        ("不是正在给你查吗", "impatience-round4", "烦躁语"),
        ("你能不能消停会", "impatience-round4", "烦躁语"),
        ("再催也快不了", "impatience-round4", "烦躁语"),
        ("我都回你八百遍了", "impatience-round4", "烦躁语"),
        ("我就这个态度", "defiance-round4", "烦躁语"),
        ("要投诉你就去", "defiance-round4", "烦躁语"),
        ("爱给啥评给啥评", "defiance-round4", "烦躁语"),
        ("你下单的时候不看吗", "reproach-round4", "责备语"),
        ("你自己地址填错了", "reproach-round4", "责备语"),
        ("你怎么现在才说", "reproach-round4", "责备语"),
        ("你到底想问啥", "reproach-round4", "责备语"),
        ("你眼睛看哪里去了", "reproach-round4", "责备语"),
        ("你说话能不能过过脑子", "reproach-round4", "责备语"),
        ("下回自己注意点", "lecture-round4", "教训语"),
        ("这么简单还要问", "lecture-round4", "教训语"),
        ("不懂就别瞎说", "lecture-round4", "教训语"),
        ("提问之前先想想", "lecture-round4", "教训语"),
        ("成年人了自己负责", "lecture-round4", "教训语"),
        ("一天到晚净是这种事", "annoyance-round4", "埋怨语"),
        ("早知道不接你的了", "annoyance-round4", "埋怨语"),
        ("磨磨唧唧的", "annoyance-round4", "埋怨语"),
        ("咋不早说", "annoyance-round4", "埋怨语"),
        ("上面回复过了哦", "said-above-round4", "埋怨语"),
        ("长话短说", "command-round4", "命令语"),
        ("别打断我", "command-round4", "命令语"),
        ("按我说的填", "command-round4", "命令语"),
        ("退个几毛钱也好意思", "sarcasm-round4", "讽刺语"),
        ("想白嫖是吧", "sarcasm-round4", "讽刺语"),
        ("土豪也要退款啊", "sarcasm-round4", "讽刺语"),
        ("这都能弄坏", "sarcasm-round4", "讽刺语"),
        ("说实话 我自己都不用", "careless-agreement-round4", "随意附和语"),
        ("同意 这牌子质量拉胯", "careless-agreement-round4", "随意附和语"),
        ("这个款踩雷很多人了", "careless-agreement-round4", "随意附和语"),
        ("哈哈 是挺烂的", "careless-agreement-round4", "随意附和语"),
        ("人呢 出个声", "phone-manners-round4", "不可以说"),
        ("嘴放干净点", "phone-manners-round4", "不可以说"),
        ("门儿都没有", "phone-manners-round4", "不可以说"),
        ("没别的事我就下线", "phone-manners-round4", "不可以说"),
        ("不说话我就关了", "phone-manners-bare-round4", "不可以说"),
        ("我是新来的", "phone-manners-bare-round4", "不可以说"),
        ("过几天再来问", "phone-manners-bare-round4", "不可以说"),
        ("找京东客服吧", "elsewhere-round4", "推卸语"),
        ("那你想怎样", "retort-round4", "责备语"),
        ("看你自己吧", "shrug-round4", "埋怨语"),
    ],
)
def test_round4_class_holds_the_rude_reply(text: str, rule: str, category: str) -> None:
    """The rule (or its -with-help twin, when the reply holds a follow-up word like 帮你) holds the reply."""
    hits = concept_hits(text, "round4")
    assert (rule, category) in hits or (f"{rule}-with-help", category) in hits, check(text)
    assert check(text).level in {"block", "review"}


@pytest.mark.parametrize(
    "text",
    [
        "这款是不退不换的 因为是定制商品",
        "不能退的 已经超过七天了",
        "不换的话可以退款哦",
        "无法换的话给您退款",
        "支付有礼是随机减的金额，是不退的呢",
        "这个是联系卖家的哦 电话在订单详情里",
        "您可以找商家客服 他们会处理",
        "第三方的是找商家的呢",
        "是问咱们还是问商家呢",
        "快递的事我这边帮您跟进",
        "上面同事说过了 我再给您解释一下哈",
        "不关您的事 是我们这边的失误",
        "不是我们的锅 但我们会负责到底",
        "自己想办法太麻烦了 我来帮您",
        "对不起，你的要求不在我们的服务范围内，请您挂机。",
        "不好意思 今天咨询的人比较多 回复慢了",
        "小妹刚才有点忙 让您久等了",
        "您不放心的话可以随时来问我",
        "您要投诉的话我这边帮您登记",
        "说明书写得很清楚 您可以参考一下",
        "您下单时候看到的价格就是最终价",
        "划痕这都不明显的",
        "安装没那么费劲的 很简单",
        "使用前要先看说明书哦",
        "不要急着下单哦 等活动更便宜",
        "年轻人都喜欢这款",
        "成年人尺码偏大一码哦",
        "这些基础问题都可以在帮助中心找到哦",
        "放心 也不会买到假货的",
        "烦请您下次看清楚再下单，我这次先帮您改好",
        "很高兴遇到你",
        "这个天气快递没法干活了 会晚一点",
        "我给您报一下价格",
        "这里不许发外链哦",
        "土豪金颜色还有货哦",
        "运费几块钱也是我们出",
        "您真会挑 这款卖得最好",
        "我们家就是这样包装的",
        "我们比别家好很多哦",
        "性价比很高哦",
        "踩雷的话可以七天无理由退哦",
        "您放心 不会被坑的",
        "我是新来的客服小李 很高兴为您服务",
        "过两天再看看物流哦",
        "我们这边不会挂您电话的，您慢慢说",
        "我们没门店哦",
        "没事就关注一下店铺哦",
        "帽子头大了可以换大一号",
        "便宜没好货这种说法不一定对，我们这款性价比很高",
        "您可以联系京东客服 电话是950618",
        "颜色你自己决定吧 两款都好看",
        "看你自己喜欢哪个",
    ],
)
def test_round4_classes_let_the_helpful_sentence_pass(text: str) -> None:
    """A helpful sentence built from the same words is never blocked and wakes no round-4 rule."""
    assert check(text).level != "block", check(text)
    assert not concept_hits(text, "round4"), check(text)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("亲 不换的", "refusal-remedy-round4"),
        ("这是快递的事哈", "third-party-matter-round4"),
        ("我是新来的", "phone-manners-bare-round4"),
    ],
)
def test_round4_words_a_factual_answer_can_be_are_only_reviewed(text: str, rule: str) -> None:
    """Bare words that can also answer a question (不换 to 能换颜色吗?) are held for a person, not blocked."""
    verdict = check(text)
    assert rule in {hit.rule for hit in verdict.hits}
    assert verdict.level == "review"


def test_round4_help_offered_lifts_the_block() -> None:
    """The same rude words with a commitment in the message are never blocked (held or let pass)."""
    assert check("这锅我们不背").level == "block"
    assert check("这锅我们不背，不过我帮您联系快递").level != "block"
    assert check("要投诉你就去").level == "block"
    assert check("要投诉你就去，我这边也马上帮您登记处理").level != "block"
