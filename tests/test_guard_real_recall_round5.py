"""Issue 16, real recall round 5: the "real recall round 5" concept classes.

Read from the rude-labelled real agent replies of ``tests/data/real/agent_tuning*.jsonl`` that the rules let
through, grouped by meaning. Each class is checked on rude replies it must hold by a concept rule (not the
review model) under the category of the document line it enforces, written in other words than the corpus
ones, and on helpful sentences built from the same words that must pass every round-5 rule and never be
blocked (at least two per class).
"""

from __future__ import annotations

import pytest
from guardcheck import concept_hits

from guards import check
from guards.train_review import rules_only_guard

_RULES = rules_only_guard()


@pytest.mark.parametrize(
    ("text", "rule", "category"),
    [
        ("先不要着急哦", "calm-down-round5", "教训语"),
        ("不要着急啦亲", "calm-down-round5", "教训语"),
        ("麻烦先别着急好吗", "calm-down-round5", "教训语"),
        ("您再多等两天吧", "put-off-round5", "推卸语"),
        ("那你就等一会儿吧", "put-off-round5", "推卸语"),
        ("只能让您等待了", "put-off-round5", "推卸语"),
        ("系统上查不到的哦", "system-excuse-round5", "推卸语"),
        ("后台是看不了的亲", "system-excuse-round5", "推卸语"),
        ("没查到呢", "system-excuse-round5", "推卸语"),
        ("你打给快递员吧", "elsewhere-bare-round5", "推卸语"),
        ("打给卖家", "elsewhere-bare-round5", "推卸语"),
        ("问站点就行了", "elsewhere-bare-round5", "推卸语"),
        ("这个得问一下站长哦", "elsewhere-bare-round5", "推卸语"),
        ("您去附近门店咨询吧", "elsewhere-people-round5", "推卸语"),
        ("问问你的家人吧", "elsewhere-people-round5", "推卸语"),
        ("上面发你的你都没看见吗", "not-seen-round5", "埋怨语"),
        ("您没看到吗", "not-seen-round5", "埋怨语"),
        ("你再仔细看看", "scrutinise-round5", "教训语"),
        ("建议您多体谅一下", "scrutinise-round5", "教训语"),
        ("这都几点了还问", "late-hour-round5", "烦躁语"),
        ("快递单上又不是写着今天到", "retort-round5", "推卸语"),
        ("我也没买过呢", "inexperience-round5", "推卸语"),
        ("小妹没有这方面的经验哦", "inexperience-round5", "推卸语"),
        ("只能厂家那边处理的", "third-party-only-round5", "推卸语"),
        ("只能是售后负责哦", "third-party-only-round5", "推卸语"),
        ("自己百度搜一下", "search-engine-round5", "推卸语"),
        ("复制到百度就能查", "search-engine-round5", "推卸语"),
        ("那你自己去拿吧", "fetch-yourself-round5", "推卸语"),
        ("您自提吧", "fetch-yourself-round5", "推卸语"),
        ("也只能这样了", "resigned-round5", "推卸语"),
        ("只能这样处理", "resigned-round5", "推卸语"),
        ("发货时间小妹也不清楚呢", "time-unknown-round5", "推卸语"),
        ("不清楚具体到货时间哦", "time-unknown-round5", "推卸语"),
        ("那行吧", "reluctant-yes-round5", "随意附和语"),
        ("那好吧", "reluctant-yes-round5", "随意附和语"),
    ],
)
def test_round5_class_holds_the_rude_reply(text: str, rule: str, category: str) -> None:
    """The rule holds the reply for review (every round-5 rule is review: labels go both ways on context)."""
    assert (rule, category) in concept_hits(text, "-round5", _RULES), _RULES.check(text)
    assert check(text).level in {"block", "review"}


@pytest.mark.parametrize(
    "text",
    [
        # calm-down-round5
        "请您先不要着急，我先帮您核实一下",
        "您先不要着急哈",
        "不要着急哦，已经在派送了",
        "别着急，我马上帮您催一下站点",
        "先别着急，这个问题我们来解决",
        # put-off-round5
        "您再等一下吧，我马上帮您催站点",
        "麻烦您再等一天吧，实在抱歉",
        "我们只能等待站点的反馈，我会第一时间告诉您",
        # system-excuse-round5
        "系统看不到的话，您截图发我看看",
        "没有查询到哦，麻烦您核对一下单号",
        "您那边系统看不到吗",
        "系统显示已经签收了",
        # elsewhere-bare-round5
        "我联系站长",
        "这边联系厂家",
        "这个是联系卖家的哦",
        "您打给站点吧，电话是95311",
        "已经联系快递了",
        # elsewhere-people-round5
        "我去问问身边的同事",
        "我帮您到门店咨询一下",
        "您可以到当地专柜问下呢",
        # not-seen-round5
        "您没看到吗？我再发一遍给您",
        "您看到我发的链接了吗",
        "没看到的话我再发一次",
        # scrutinise-round5
        "还请您谅解",
        "您再仔细看一下包装盒夹层，说明书一般在里面",
        "我仔细查一下",
        # late-hour-round5
        "您那边现在几点了呢",
        "都几点了还没到，实在抱歉，我马上帮您催",
        # retort-round5
        "这又不是您的错",
        "又不是什么大问题，我帮您换一个",
        # inexperience-round5
        "您是没有用过这个功能吗",
        "我也没用过，不过买过的客户都说很好用",
        "如果没有用过可以七天无理由退",
        "我没用过，好多买家反馈很好用",
        # third-party-only-round5
        "只能快递那边处理，我帮您联系他们",
        "这个只能售后处理，电话是400-606-5500",
        # search-engine-round5
        "您可以用百度地图搜一下自提点",
        "这款在百度上评价也很好",
        # fetch-yourself-round5
        "您自取吧，自提点电话是95311",
        "如果着急的话可以自取哦",
        # resigned-round5
        "目前只能这样处理，我先帮您登记",
        "只能这样了吗？我再帮您问问",
        # time-unknown-round5
        "具体时间不清楚的，我帮您问一下站点",
        "具体送达时间不清楚，一般三天左右",
        "您不知道发货时间吗",
        "不知道具体送达时间的话，可以看物流详情",
        # reluctant-yes-round5
        "好吧，那我给您反馈一下",
        "好吧，那您的收货地址对吗",
        "嗯嗯好吧",
        "好吧亲，我马上给您处理",
    ],
)
def test_round5_near_miss_stays_allowed(text: str) -> None:
    """Helpful sentences built from the round-5 words pass every round-5 rule and are never blocked."""
    assert not concept_hits(text, "-round5", _RULES), _RULES.check(text)
    assert check(text).level != "block"
