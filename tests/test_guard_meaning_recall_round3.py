"""Issue 16, third round of recall (``guard_meaning_tuning5``): the round-3 classes of ``concepts.toml``.

Each class is checked on rude replies it must hold by a concept rule (not the review model), and on
helpful sentences that share its words and must pass the rules.
"""

from __future__ import annotations

import pytest

from guards import check


def _concept_rules(text: str) -> set[str]:
    """Return the ids of the concept rules that hit ``text``."""
    return {hit.rule for hit in check(text).hits if hit.method == "concept"}


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("这是快递那边的问题", "third-party-blamed"),
        ("那是仓库的事情哦", "third-party-blamed"),
        ("亲，问售后哦", "ask-them-bare"),
        ("您联系一下快递", "ask-them-bare"),
        ("你自己打给客服中心", "ask-them-bare"),
        ("您自己看一下哦", "look-yourself-bare"),
        ("亲自己看下物流", "look-yourself-bare"),
        ("页面有写的", "pointer-written-bare"),
        ("商品说明都有写", "pointer-written-bare"),
        ("看上面", "pointer-written-bare"),
        ("催有用吗", "impatience-useless"),
        ("您急也没有用的哦", "impatience-useless"),
        ("等就对了", "impatience-useless"),
        ("可以不要一直问吗", "impatience-useless"),
        ("又问", "annoyance-short-bare"),
        ("随你吧", "annoyance-short-bare"),
        ("我下班了，明天再说", "annoyance-short-bare"),
        ("你是没看到喔", "reproach-round3"),
        ("你是第一次网购吗", "reproach-round3"),
        ("想得美", "reproach-round3"),
        ("就跟你说没有了", "reproach-round3"),
        ("没货就没货啊", "reproach-round3"),
        ("嫌贵可以不要买", "reproach-round3"),
        ("差评随便给", "reproach-round3"),
        ("我们发货了就不管了", "not-responsible-after"),
        ("我也是打工的", "not-responsible-after"),
        ("是的，质量是不怎么样", "careless-agreement-round3"),
        ("看运气吧", "ignorance-luck-bare"),
        ("谁敢保证啊", "ignorance-luck-bare"),
        ("售出概不退换", "refusal-policy"),
        ("这个我们也不知道，请您耐心等待", "bare-ignorance-no-commitment"),
        ("不知道呢亲，您看一下物流信息吧", "bare-ignorance-no-commitment"),
        ("没办法呢亲，请您耐心等待哦", "bare-inability-no-commitment"),
        ("亲 这个需要您自己联系快递的哦", "ask-them-needed-end"),
        ("这边是无法查询的呢", "ignorance-luck-bare"),
        ("这个得看快递的", "ignorance-luck-bare"),
        ("就您的有问题", "blame-only-you"),
        ("别人都没问题", "blame-only-you"),
        ("你能不能仔细点", "lecture-care"),
        ("谁叫你不看", "lecture-care"),
        ("你自己填错地址还来找我", "lecture-care"),
        ("急着投胎啊", "impatience-useless"),
        ("知道了，别发了", "stop-sending"),
        ("同一个问题问几遍", "reproach-round3"),
        ("跟你讲不通", "reproach-round3"),
        ("亲爱的，不是我们的事亲", "third-party-blamed"),
        ("说真的我们负责不了的哦", "ignorance-luck-bare"),
        ("是啊，这东西确实不好", "careless-agreement-round3"),
        ("嗯嗯，确实很差", "careless-agreement-round3"),
        ("不是我发的货", "not-ours-more"),
        ("小妹哪知道呀", "ignorance-rhetoric-more"),
        ("跟店铺无关", "not-ours-more"),
        ("不是我们这边的问题", "not-ours-more"),
        ("光问不买", "sarcasm-price"),
        ("你不买有的是人买", "sarcasm-price"),
        ("嗯嗯，你说啥就是啥", "sarcasm-price"),
        ("你先等着", "command-round3"),
        ("先付款再说", "command-round3"),
        ("不想聊了", "leaving-bare"),
    ],
)
def test_round3_class_holds_the_rude_reply(text: str, rule: str) -> None:
    assert rule in _concept_rules(text), check(text)


@pytest.mark.parametrize(
    "text",
    [
        "不是快递的问题，是我们仓库发错了，马上给您补发",
        "我帮您问一下售后",
        "我这边联系一下快递，稍后回复您",
        "您可以自己看一下物流，我也帮您盯着",
        "详情页有尺码表，我帮您推荐一下",
        "您不用催，已经在加急处理了",
        "随你喜欢的颜色挑",
        "您没看到的话，我再发一次链接",
        "没货的话到货第一时间通知您",
        "如果质量不行，我们包退包换",
        "发货后有问题我们负责到底",
        "没办法按时发货真的很抱歉，我们给您补偿一张优惠券",
        "这个我暂时不清楚，马上帮您核实",
        "这个没办法呢，可以的话我就安排了",
        "没办法修的话，您可以申请换新",
        "您不用担心，不是您的问题，是快递的原因。",
        "亲，跟您没关系呢，是我们系统的问题哦",
        "我是客服小美，很高兴为您服务",
        "您方便的话截图发我哦",
        "便宜没好货这种说法不一定对，我们这款性价比很高",
        "贵有贵的道理，这款是纯棉的",
        "先付款再发货，您放心",
        "我下班了，明天同事会继续跟进您的问题",
        "您先等着也可以，我这边马上帮您查",
        "您联系一下厂家售后，电话是4008123456",
        "不需要您自己联系快递，我们来处理",
        "要看物流的话，点订单详情就可以",
        "别人都没问题的话，可能是网络原因，我帮您看看",
        "目前无法确定到货时间，到货后通知您",
        "您要学会看物流的话，我教您",
        "我们会认真点，下次不会了",
        "如果您填错了地址，我们可以帮您改",
        "您不用再发了，我已经收到了",
        "图片发一次就可以了，我这边能看到",
        "这个问题不在我们这边，我帮您转给物流",
        "是啊，这东西确实不好找，我帮您找到了",
        "是的，确实不好意思，让您久等了",
        "那个退款链接不是我发的，是诈骗信息",
    ],
)
def test_round3_classes_let_the_helpful_sentence_pass(text: str) -> None:
    assert check(text).level != "block", check(text)
    round3 = {rule for rule in _concept_rules(text) if "round3" in rule or rule in ROUND3_RULES}
    assert not round3, check(text)


ROUND3_RULES = {
    "third-party-blamed", "ask-them-bare", "look-yourself-bare", "pointer-written-bare", "impatience-useless",
    "impatience-useless-with-help", "annoyance-short-bare", "not-responsible-after", "ignorance-luck-bare",
    "refusal-policy", "bare-ignorance-no-commitment", "bare-inability-no-commitment",
    "ignorance-rhetoric-more",
    "ignorance-rhetoric-more-with-help", "not-ours-more", "sarcasm-price", "sarcasm-price-with-help",
    "command-round3", "command-round3-with-help", "leaving-bare", "ask-them-needed-end", "blame-only-you",
    "lecture-care", "lecture-care-with-help", "stop-sending", "stop-sending-with-help",
}
