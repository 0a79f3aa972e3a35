"""Written round 6 (``guard_meaning_tuning8`` / ``guard_nearmiss_tuning7``): the classes of the
"written round 6" block of ``guards/concepts.toml``, its slang and dialect spellings, and the three named
precision gaps.

Each class is shown with rude sentences (most of them not in the tuning set: the class, not the sentence,
holds them) and with helpful sentences sharing its words. A property test checks that what folding removes
(zero-width characters, full-width letters, traditional characters) never turns an allowed near miss into a
block.
"""

from __future__ import annotations

import json
from pathlib import Path

import opencc
import pytest
from guardcheck import assert_allowed, assert_held
from hypothesis import given, settings
from hypothesis import strategies as st

from guards import check
from guards.matcher import default_concepts
from guards.normalize import fold

DATA = Path(__file__).parent / "data"


def _rule(text: str) -> str | None:
    verdict = check(text)
    return verdict.hits[0].rule if verdict.hits else None


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        # internet names for a fool or a trouble-maker
        ("你是猴子请来的逗比吗", "insult-slang-round6"),
        ("杠精吧你", "insult-slang-round6"),
        ("你是來亂的嗎", "insult-slang-round6"),
        ("你是来找事的吧", None),
        ("你到底有没有在听", "insult-slang-round6"),
        ("你四不四傻", "insult-slang-round6"),
        # the blame sent back to the customer
        ("这能怪我们吗？你自己选的", "your-own-doing-round6"),
        ("那也能赖商家？", "your-own-doing-round6"),
        ("自己粗心还怪客服", "your-own-doing-round6"),
        ("就知道差评", "your-own-doing-round6"),
        # mockery of the price, the demands, the customer's newness
        ("您是第一天网购吗", "mockery-round6-with-help"),
        ("你咋不上天呢", "mockery-round6"),
        ("您这要求比皇上还多", "mockery-round6"),
        ("这点钱还想要啥包邮", "mockery-round6"),
        ("嫌贵就别买", None),
        # lectures on schooling
        ("没文化真可怕", "lecture-schooling-round6"),
        ("买东西要带脑子", "lecture-schooling-round6"),
        # orders
        ("麻溜的发订单号", "order-about-round6"),
        ("照我说的操作", "order-about-round6"),
        ("别瞎填", "order-about-round6"),
        # sent off
        ("谁承诺你的你找谁去", "whoever-promised-round6"),
        ("这类问题不要来问客服", "whoever-promised-round6"),
        ("轮不到小妹做主", "whoever-promised-round6"),
        # a sigh as a whole clause
        ("唉，真麻烦", None),
        ("頭都痕", "sigh-bare-round6"),
        # pointless asking
        ("催来催去有用吗", None),
        ("你爱咋样就咋样", "pointless-asking-round6"),
        # agreeing the goods are bad
        ("我们也觉得很垃圾", "agree-bad-round6"),
        ("咱家物流向来都很慢", "agree-bad-round6"),
        ("做工就这水平", "goods-so-so-round6"),
        # 表 = 不要 as words
        ("表刷屏了", "dont-slang-round6"),
        ("表烦偶", None),
        ("表再问了", None),
        # second pass: memes, absurd doings, the agent's exasperation, out of reach, bought at a loss
        ("你礼貌吗", "meme-retort-round6"),
        ("你品，你细品", "meme-retort-round6"),
        ("太离谱了", "meme-bare-round6"),
        ("你这想法也太奇葩", "your-doing-absurd-round6"),
        ("这么简单的问题还用问", "your-doing-absurd-round6"),
        ("小妹都要抓狂了", "agent-venting-round6"),
        ("我们管不了物流", "cannot-control-round6"),
        ("忙完再回你", "cannot-control-round6"),
        ("买的确实不值", "bought-at-loss-round6"),
        ("你个憨批", "insult-slang-round6"),
    ],
)
def test_round6_classes_hold_rude_forms(text: str, rule: str | None) -> None:
    # rule: the round-6 rule that must be the first hit (None: an earlier class holds it as well)
    assert_held(text)
    if rule is not None:
        assert _rule(text) == rule, check(text).hits


@pytest.mark.parametrize(
    "text",
    [
        # slang and dialect spellings read before the rules
        # (鬼造 = 鬼知道, p = 屁, 唔得閒 = 没空, 都話咗 = 都说了)
        "鬼造啊",
        "关偶p事",
        "我唔得閒呀",
        "我都話咗俾你聽喇",
        "唔到我話事",
        "真係麻煩",
        "乜你咁多嘢問㗎",
        "偶忙着捏",
        # a bare hurry and a hang-up: review
        "把地址再发一遍，快点",
        "没事我挂了",
        "喂，听得到不",
        "人家很忙的好伐",
        # Sichuan 爪子嘛
        "爪子嘛，一直问",
    ],
)
def test_round6_spellings_and_reviews_hold(text: str) -> None:
    assert_held(text)


@pytest.mark.parametrize(
    "text",
    [
        # 不识字 said of the users a product suits
        # (the named gap: 这款适合不识字的老人 was blocked as a reproach)
        "这款适合不识字的老人",
        "这款手机字大声音大，不识字的老人也会用",
        "这款老人机适合不识字的长辈，一键拨号",
        # 够了 of an amount, a welcome back, a shopping tip
        "够了够了，这个数量够用一年啦",
        "又来啦亲，上次的鞋子穿着还合适吗",
        "这个小技巧记住了下次就方便啦",
        # the customer's words asked about or thanked for
        "不知道您说的是哪个订单呢？麻烦把订单号发我一下",
        "您说的“不知道”是指不知道在哪里领券吗？",
        "您说的情况我还不太了解，能详细说一下吗？",
        "您说的情况我们之前不清楚，谢谢您告诉我们",
        # the slang characters as ordinary words, and slang said politely
        "表带可以换，送您一条备用的",
        "造型很百搭，您放心入",
        "木有问题，马上给您改地址",
        "这锅我们背，马上给您补发",
        "麻溜给您安排上了，今天就发",
        "唔好意思，我哋搞錯咗，即刻幫你補發",
        "不想等的话可以先申请退款，到货后再拍也行",
        "签收后 快递3天左右完成订单",
        "请不要乱点陌生链接，小心诈骗",
        "您不用管这个提示，直接付款就行",
        "您真是行家，这款就是最新款",
        "就这款吗？好的，马上给您下单",
        "离谱的是快递居然送错了，实在抱歉，马上给您补发",
        "崩溃的话先别着急，我一步步教您设置",
        "爪子形状的猫抓板很受欢迎",
        "买了不亏，这款性价比很高",
        "仓库那边我来催，您不用管",
        # words of the round-6 classes inside everyday text (a place name, a price, an item chosen, a time)
        "包裹会放到北七家镇的驿站，您方便去取吗",
        "这款二百五十元包邮",
        "西瓜皮可以放厨余垃圾袋，这款分类垃圾桶很方便",
        "就这个颜色对吧，马上给您备注",
        "快3个小时没更新是因为在转运中心分拣",
        "您大可不必担心，我们有运费险",
        # third pass: a product's attribute, the agent's own slip named after 说了好几次
        "这款吸尘器吸力大，声音大一点，但是很干净",
        "您说了好几次了，是我们没处理好，这次我亲自跟",
    ],
)
def test_round6_near_misses_pass(text: str) -> None:
    assert_allowed(text)


@pytest.mark.parametrize(
    "text",
    [
        # held for a person, never blocked: a sigh taken up together, a new agent promising care
        "这个事确实烦人，我们一起想办法",
        "您好，我是新手客服，有不周到的地方请多包涵，我会认真处理",
    ],
)
def test_round6_reviews_not_blocks(text: str) -> None:
    assert check(text).level == "review", check(text).hits


@pytest.mark.parametrize(
    "text",
    [
        "这个颜色暂时没办法调换了，还有什么可以帮助您的吗？",
        "不知道哦，还有什么可以帮到您",
        "这个型号已经停产了，请问还有其他可以帮助您的吗？",
    ],
)
def test_the_closing_offer_counts_as_help(text: str) -> None:
    # 003 第5篇 结束语 请问还有其它可以帮您的吗, in its other verbs: never a block
    assert check(text).level != "block", check(text).hits


@pytest.mark.parametrize(
    "text",
    ["您说的我不知道", "您说的那个问题我们管不了", "您说得对，这东西就是不行", "不知道您说的啥，自己去查吧"],
)
def test_quoting_the_customer_is_no_follow_up(text: str) -> None:
    # 您说的 left the follow_up list: a rude reply that quotes the customer is held
    assert_held(text)


@pytest.mark.parametrize(
    "text",
    ["四天内发货哦", "[数字x]分钟后回复您", "手表的表盘是蓝宝石的", "这个数量够用吗", "七夕礼盒还有货"],
)
def test_round6_spellings_leave_ordinary_mandarin_alone(text: str) -> None:
    # the round-6 wordings are anchored on slang or dialect characters (咗, 唔, 偶, p …):
    # 表, 四, 数, 话 and 钟 stayed out of the spelling table, so these texts do not wake the spelling pass
    spelling = default_concepts().spelling
    folded = fold(text)
    assert spelling.rewrite(folded) == (folded, None)


_ROWS = (DATA / "guard_nearmiss_tuning7.jsonl").read_text(encoding="utf-8").splitlines()
_NEAR_MISSES = [row["text"] for row in map(json.loads, _ROWS) if check(row["text"]).level != "block"]
_S2T = opencc.OpenCC("s2t")
_ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]


def _full_width(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


@settings(max_examples=150, deadline=None)
@given(
    index=st.integers(min_value=0, max_value=len(_NEAR_MISSES) - 1),
    traditional=st.booleans(),
    wide=st.booleans(),
    marks=st.lists(
        st.tuples(st.integers(min_value=0, max_value=60), st.sampled_from(_ZERO_WIDTH)), max_size=4
    ),
)
def test_folding_never_turns_a_near_miss_into_a_block(
    index: int, traditional: bool, wide: bool, marks: list[tuple[int, str]]
) -> None:
    text = _NEAR_MISSES[index]
    if traditional:
        text = _S2T.convert(text)
    if wide:
        text = _full_width(text)
    for at, mark in marks:
        at = min(at, len(text))
        text = text[:at] + mark + text[at:]
    assert check(text).level != "block", (text, check(text).hits)


@pytest.mark.parametrize(
    ("pinyin", "chinese"),
    [
        ("bu qing chu, wo bang nin wen yi xia", "不清楚，我帮您问一下"),
        ("mei ban fa, wo bang nin shen qing tui kuan", "没办法，我帮您申请退款"),
        ("bu zhi dao ne, wo ma shang bang nin cha", "不知道呢，我马上帮您查"),
        ("bie ji, wo ma shang bang nin cha", "别急，我马上帮您查"),
    ],
)
def test_help_typed_in_spaced_pinyin_counts_as_help(pinyin: str, chinese: str) -> None:
    # a rule's unless reads pinyin syllables without the spaces between them (帮您 in ``wo bang nin``)
    assert check(pinyin).level == check(chinese).level, check(pinyin).hits


@pytest.mark.parametrize(
    "text", ["bu zhi dao a, ni wen bie ren ba", "wo ye bu zhi dao", "bu qing chu", "ni zi ji qu cha ba"]
)
def test_spaced_pinyin_brush_offs_are_still_held(text: str) -> None:
    assert_held(text)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("早就和您讲过要等通知的", "asked-before-round6"),
        ("您之前问过了哦", "told-already-real6"),  # the same document line, one class for the words
        ("您应该事先确认的呢", "should-have-round6"),
        ("收货时为什么不验货呢", "should-have-round6"),
        ("说明书上写得很清楚的", "should-have-round6"),
        ("便宜没好货哦亲", "price-jab-round6"),
        ("这批就是容易掉色", "agree-defect-round6"),
        ("截个图过来", "curt-order-round6"),
        ("再不回复我就结束了", "close-threat-round6|say-something-real6"),  # real round 6 reads it too
        ("系统上这样显示的哦", "system-says-round6"),
    ],
)
def test_round6_soft_brush_offs_are_reviewed(text: str, rule: str) -> None:
    # the fourth pass: soft real-style brush-offs are held for a person (review), never blocked
    verdict = check(text)
    assert verdict.level == "review", verdict.hits
    # a|b: a class of the real round-6 block may hold it first
    assert _rule(text) in rule.split("|"), verdict.hits


@pytest.mark.parametrize(
    "text",
    [
        "之前跟您说过的赠品已经放进去了",
        "您说的对，快递确实慢了，我们下次会换更快的快递",
        "我们这边不会挂您电话的，您慢慢说",
        "一分钱一分货，这款用料确实好，您放心",
        "先付款的话今天就能发出哦",
        "系统就是这么计算的：满减之后再用券，我给您算一遍",
    ],
)
def test_round6_soft_near_misses_pass(text: str) -> None:
    assert_allowed(text)
