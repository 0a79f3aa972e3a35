"""Recall round 5 (``guard_meaning_tuning7``): pinyin with tone marks and the documented phrasings typed in
pinyin, bare real-chat brush-offs (subject + a verb of ignorance or refusal + a particle) and rude sentences
in words no catalogue entry lists.

Every sentence here is new (not in the tuning set), to check that the rules generalise: rude replies must be
held under the category of the document line they break, and helpful sentences sharing their words must not
be blocked.
"""

from __future__ import annotations

import pytest
from guardcheck import concept_hits

from guards import check
from guards.normalize import fold


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("bù zhī dào", "buzhidao"),  # tone marks fold to the plain letter, as a combining mark is dropped
        ("nǚ", "nv"),  # ü is typed v in pinyin
        ("lǜ sè", "lvse"),
        ("Café", "cafe"),
    ],
)
def test_tone_marks_fold(raw: str, expected: str) -> None:
    assert fold(raw) == expected


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # tone-marked pinyin of the documented phrasings and of the bare brush-off
        ("nǐ zěn me hái bù míng bai", "责备语"),
        ("wǒ bù qīng chu", "推卸语"),
        ("zhè ge wǒ men méi bàn fǎ", "推卸语"),
        # documented phrasings typed in plain pinyin, held by the phrasing itself
        ("ni you qian ni zhao gui de chong a", "讽刺语"),
        ("kuai yi dian, wo hai yao jie qi ta ke hu dian hua", "命令语"),
        ("ni shi dui de, zhe zhong chan pin hen cha jin", "随意附和语"),
        ("gang cai bu shi gei ni cha guo le ma", "埋怨语"),
        ("you yi jian zhao ban zhang qu", "推卸语"),
        ("ni dou bu zhi dao wo zen me zhi dao", "推卸语"),
    ],
)
def test_pinyin_held(text: str, category: str) -> None:
    verdict = check(text)
    assert not verdict.allowed, text
    assert category in {hit.category for hit in verdict.hits}, (text, verdict.hits)


@pytest.mark.parametrize(
    "text",
    [
        "xie xie nin, qing shao deng",
        "hao de, ma shang wei nin cha xun",
        "nin hao, qing wen you shen me ke yi bang nin",
        "qin, yi jing gei nin fa huo le",
        "dui bu qi, rang nin jiu deng le",
        "xiè xie nín de nài xīn",
        "ok的亲 已经帮您改好了",
        "iPhone 15 pro max 有货哦",
    ],
)
def test_pinyin_helpful_not_blocked(text: str) -> None:
    assert check(text).level != "block", (text, check(text).hits)


@pytest.mark.parametrize(
    ("text", "rule", "category"),
    [
        ("少在这插嘴", "interrupt-round5", "命令语"),
        ("不许插话", "interrupt-round5", "命令语"),
        ("你等着", "wait-order-round5", "命令语"),
        ("刚才都回复你了", "told-you-round5", "埋怨语"),
        ("前面都回复您了", "told-you-round5", "埋怨语"),
        ("拍之前为啥不问清楚", "why-not-read-round5", "责备语"),
        ("您怎么不先看看详情页", "why-not-read-round5", "责备语"),
        ("准是你自己点错了", "your-mistake-round5", "责备语"),
        ("你看错了吧", "your-mistake-round5", "责备语"),
        ("这得怪快递员", "blame-elsewhere-round5", "推卸语"),
        ("晚点再来问", "come-back-later-round5", "不可以说"),
        ("早写在商品页上了", "written-there-round5", "埋怨语"),
        ("你是不是不识字啊", "insult-wits-round5", "责备语"),
        ("那么难缠", "insult-wits-round5", "责备语"),
        ("跟你说话简直对牛弹琴", "insult-wits-round5", "责备语"),
        ("胡扯什么呢", "dismissed-claim-round5", "责备语"),
        ("想碰瓷啊", "dismissed-claim-round5-in-message", "责备语"),
        ("算你厉害", "sarcastic-shrug-round5", "讽刺语"),
        ("你赢了呗", "sarcastic-shrug-round5", "讽刺语"),
        ("靠边待着去", "go-aside-round5", "烦躁语"),
        ("你还没完是吧", "go-away-round5", "烦躁语"),
        ("要你管啊", "go-away-round5", "烦躁语"),
        ("这家的货就是坑", "own-goods-bad-round5", "随意附和语"),
        ("物流出了名的慢", "notorious-round5", "随意附和语"),
        ("喂 人哪去了", "where-are-you-round5", "不可以说"),
        ("下一个问题吧", "next-please-round5", "烦躁语"),
        ("回去好好检讨一下自己", "lecture-round5", "教训语"),
        ("谁卖你的找谁去", "whoever-sold-round5", "推卸语"),
        ("随缘哦亲", "vague-bare-round5", "推卸语"),
        ("小妹都懵了呢", "vague-bare-round5", "推卸语"),
        ("记不清了哈", "vague-bare-round5", "推卸语"),
        ("这个不属于我们的服务范围", "not-served-round5", "不可以说"),
        ("不是咱们这边管的哦", "not-served-round5", "不可以说"),
        ("至于么", "made-light-round5", "教训语"),
        ("少见多怪", "made-light-round5", "教训语"),
        ("我又不是算命的", "not-omniscient-round5", "推卸语"),
        ("你以为我是百度啊", "not-omniscient-round5", "推卸语"),
        ("不想要就拉倒", "take-it-or-leave-round5", "烦躁语"),
        ("赶紧上图", "command-round5", "命令语"),
        ("把话说明白点", "command-round5", "命令语"),
        ("喂 在不在", "where-are-you-round5", "不可以说"),
    ],
)
def test_round5_rude_held(text: str, rule: str, category: str) -> None:
    assert (rule, category) in concept_hits(text, "round5"), (text, check(text).hits)
    assert not check(text).allowed


@pytest.mark.parametrize(
    "text",
    [
        "不好意思插一句，您的订单已经发货了",
        "抱歉打岔一下 您的地址是北京吗",
        "我们在等着仓库回复呢",
        "刚才已经告诉您了，退款3-5天到账",
        "下单前没看清楚也没关系 可以换的",
        "下单时没看清楚尺码的话 小妹帮您换",
        "是不是您填错了地址呀 我帮您看看",
        "我明天再联系您",
        "这不能怪快递 是我们仓库发晚了",
        "说明书写在盒子里了哦",
        "如果您觉得东西不值这个价，可以七天无理由退货",
        "我们售后以前出了名的慢 现在已经改进了 三天内处理",
        "收件人呢 写的是您吗",
        "我们一边核实一边给您补发",
        "谨防敲诈短信 我们不会让您转账",
        "我们会反省自己的服务",
        "亲 刷屏也没关系 小妹都看到啦",
        "这个问题您问我就对了",
        "下一个订单也帮您改好了",
        "看情况哦 一般两三天到",
        "我忘了给您备注 马上补上",
        "您别忘了确认收货哦",
        "不是我们这边的快递 是商家自己发的",
        "不用大惊小怪哦 这是正常的静电现象",
        "如果不想等的话 可以申请取消 我帮您操作",
        "麻烦您截个图发我 我帮您看看",
        "好的都听您的 马上给您改",
        "您好 请问您还在不在线呢",
        "不会用的话 我发视频教程给您",
    ],
)
def test_round5_helpful_not_held(text: str) -> None:
    assert not concept_hits(text, "round5"), (text, check(text).hits)
    assert check(text).level != "block", (text, check(text).hits)


def test_problem_you_is_not_for_you() -> None:
    """问题您 reads as 替您 on the phonetic key: 替 keeps its own key, so it is no follow-up."""
    assert check("这个问题您问我 我问谁去呀").level == "block"
