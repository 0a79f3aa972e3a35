"""Written round 7 (``guard_meaning_tuning9`` / ``guard_nearmiss_tuning8``): the classes of the
"written round 7" block of ``guards/concepts.toml``.

Each class is shown with a rude sentence that is not in the tuning set (the class, not the sentence, holds
it), which must be held by one of the class's rules, and with a helpful sentence sharing its words, which
must pass.
"""

from __future__ import annotations

import pytest
from guardcheck import assert_allowed, assert_held, concept_hits

from guards import check

ROUND = "round7"

CLASSES = [
    # (class, rude sentence held by it, helpful near miss sharing its words)
    ("cannot-decide-round7", "这个我们也没办法判断的哦", "我们没办法直接判断，我帮您申请检测"),
    ("cannot-decide-round7", "这个我们根本没办法确认的呢", "我们这边没办法直接确认，我马上联系仓库核实"),
    ("system-says-so-round7", "物流显示妥投了就是妥投了哈", "物流显示已妥投，我马上帮您联系快递员"),
    ("system-says-so-round7", "您自己好好查查吧亲", "您可以重新看一下页面，不清楚的地方我来解释"),
    ("nagging-futile-round7", "您老是催我们也快不了的呀", "您不用一直催，有进展我第一时间通知您"),
    ("nagging-futile-round7", "别老刷屏了亲", "您好，请问您能再等我两分钟吗？我正在查"),
    ("asked-again-round7", "这都问第四遍了亲", "这个问题您问得很仔细，我再给您核对一遍"),
    ("asked-again-round7", "一样的问题客服早就回复过了", "这个问题之前的同事可能没说清楚，我重新为您解答"),
    ("should-have-round7", "付款前就应该先确认好尺码的呢", "付款前可以先确认一下尺码，不确定的话我帮您推荐"),
    ("should-have-round7", "都拆封了才来说，这个不好处理", "拆封了也可以申请售后，我帮您看一下怎么处理"),
    ("should-have-round7", "是您自己颜色选错了哦", "不是您选错了，是我们发错了颜色，马上给您换"),
    ("lecture-round7", "等快递也要有点耐心的嘛", "等快递确实着急，我帮您催一下，有消息马上告诉您"),
    ("lecture-round7", "这些都是最基本的常识呢", "这些小常识记住了，下次就更方便啦"),
    ("mockery-round7", "您说什么就是什么咯", "您说的没错，是我们的失误，马上为您处理"),
    ("mockery-round7", "不喜欢就退掉呗", "不喜欢的话可以七天无理由退货，运费险会赔付运费"),
    ("mockery-round7", "咱们再这么掰扯下去也没意义", "我们一起看看怎么处理最合适，好吗？"),
    ("what-then-round7", "那你说怎么办吧", "您看这样处理可以吗？先给您补发一件"),
    ("order-round7", "有事就直接说，别绕", "您有什么需要可以直接跟我说，我马上帮您处理"),
    ("order-round7", "别老发语音了", "语音我这边听不了，麻烦您打字说一下，好吗？"),
    ("agree-bad-round7", "这款做工确实挺烂的", "这款做工确实很好，很多回头客"),
    ("agree-bad-round7", "好多顾客都退货了呢", "好多顾客都回购了呢，您可以放心"),
    ("not-say-round7", "这件不可能给你换的", "这件可以给您换，我马上帮您提交换货申请"),
    ("not-say-round7", "您找错家了吧", "这个不是我们家的商品，我教您怎么找到购买的店铺"),
    ("not-say-round7", "拒签了的话后果自负哦", "如果拒签了，包裹会退回仓库，我们收到后给您退款"),
    ("not-blame-us-round7", "这可赖不着我们小妹呀", "是我们的疏忽，给您添麻烦了，马上给您补发"),
    # second pass (batch 4)
    ("cannot-decide-round7", "后台不允许的哦亲", "后台不允许直接修改，我帮您提交申请"),
    ("nagging-futile-round7", "客服每天都要回复那么多", "客服每天都会在9点前回复留言，请您放心"),
    ("asked-again-round7", "上面早就解释过了", "您之前已经说过了，抱歉让您重复，我记下了"),
    ("should-have-round7", "这是您自己同意的呀", "这是您自己的订单吗？我帮您查一下"),
    ("off-to-others-round7", "没别的问题的话我就接待下一位了", "我先帮您处理完这个，再接待其他顾客"),
    ("what-then-round7", "亲，您说呢", "您觉得这个颜色怎么样呢？"),
    # third pass (batch 5)
    ("nagging-futile-round7", "客服这会儿忙得很", "客服这会儿咨询的人比较多，请您稍等，我马上回复"),
    ("asked-again-round7", "我解释过您两遍了", "我再跟您说一遍，怕刚才没说清楚"),
    ("should-have-round7", "当初你又没说", "当初您下单时的备注我看到了，马上帮您改"),
    ("mockery-round7", "那你还想怎样", "您说了算，我们按您的意思办"),
    ("not-blame-us-round7", "退款慢跟商家没啥关系", "退款慢是银行处理的时间，我帮您查一下进度"),
]


@pytest.mark.parametrize(("concept", "rude", "helpful"), CLASSES)
def test_round7_class_holds_and_spares(concept: str, rude: str, helpful: str) -> None:
    assert_held(rude)
    assert any(rule.startswith(concept) for rule, _ in concept_hits(rude, ROUND)), (rude, check(rude).hits)
    assert_allowed(helpful)


@pytest.mark.parametrize(
    "text",
    [
        # the with-help pairs: the words said at the customer beside help are held for a person, never blocked
        "您老是催我们也快不了的，我再帮您催一下",
        "是您自己地址填错了，我帮您改一下",
    ],
)
def test_round7_with_help_is_review(text: str) -> None:
    assert check(text).level == "review", check(text).hits


@pytest.mark.parametrize(
    "text",
    [
        # precision fixes of the round: 您先把 asks by name; 不太明白 with a request to say more;
        # a step already taken
        "您先把照片发过来，我来跟快递沟通",
        "您说的这个我还不太明白，能再具体一点吗",
        "这个要问一下厂家的技术人员，我已经发消息给他们了",
        # 然后呢 asks the customer to go on in real chats: not a class word
        "然后呢",
    ],
)
def test_round7_precision_fixes(text: str) -> None:
    assert_allowed(text)


def test_round7_slang_spelling() -> None:
    # 鸡道 = 知道: 知道了知道了 (003 第5篇 烦躁语 1)
    assert_held("鸡道了鸡道了，别说了")
