"""Round 3 of who-and-what (issue 16, precision): helpful sentences that share words with banned phrasings
pass, and the rude controls beside them stay held. Each case names the [[exemption]] or rule it exercises."""

from __future__ import annotations

import pytest
from guardcheck import assert_allowed, assert_held


@pytest.mark.parametrize(
    "text",
    [
        "我们客服绝对不会说“这不关我的事”，您放心",  # phrasing-quoted-as-never-said
        "我们从来不会说“不可能帮你”这种话，您的需求我一定尽力",
        "之前的客服说“我也没办法”，真的很抱歉，这次我来帮您处理",  # phrasing-quoted-from-someone-else
    ],
)
def test_a_phrasing_quoted_as_never_said_or_as_someone_elses_passes(text: str) -> None:
    assert_allowed(text)


@pytest.mark.parametrize("text", ["他说“不知道”", "我说了，不知道"])
def test_a_quoted_phrasing_without_negation_or_remedy_stays_held(text: str) -> None:
    assert_held(text)


@pytest.mark.parametrize(
    "text",
    ["小妹没办法保证明天一定到哦，不过会帮您备注加急", "这个没法确定的呢，要看快递那边", "不能保证的呢"],
)
def test_uncertainty_about_an_outcome_is_no_refusal(text: str) -> None:
    # uncertainty-not-refusal: the agent labels call 没办法保证 / 无法确定 allowed
    assert_allowed(text)


@pytest.mark.parametrize("text", ["我也没办法", "不知道", "没办法呢亲"])
def test_a_bare_inability_stays_held(text: str) -> None:
    assert_held(text)


@pytest.mark.parametrize(
    "text",
    [
        "快递真烦人，又延误了，抱歉，我马上帮您催",  # sigh-at-a-thing-with-remedy
        "天气真糟糕，航班停了，快递可能晚两天，抱歉哈",
        "我给您写错地址了，真糟糕，马上帮您改",  # own-slip-with-remedy
        "亲，不好意思我刚才讲得有点罗嗦，重点是：可以退",
        "怎么搞的，包裹居然破成这样，真对不起，马上给您补发",  # fault-word-with-apology-and-remedy
    ],
)
def test_a_sigh_at_a_thing_or_at_ones_own_slip_with_a_remedy_passes(text: str) -> None:
    assert_allowed(text)


@pytest.mark.parametrize("text", ["真讨厌", "你真烦人", "怎么搞的，你地址都写错了，不好意思，马上给您改"])
def test_a_sigh_or_reproach_at_the_customer_stays_held(text: str) -> None:
    assert_held(text)


@pytest.mark.parametrize(
    "text",
    [
        "上次那个客服已经跟您讲过了吧？没关系，我再跟您确认一次",  # said-before-and-said-again
        "说多少遍都没关系的，我再给您讲一遍",  # repeat-permitted
        "您自己去营业厅办理也可以，我也可以帮您线上办",  # elsewhere-permitted-with-help
        "打错电话了也没关系，有什么需要也可以问我",  # permission (不可以说)
    ],
)
def test_repetition_or_another_way_offered_gladly_passes(text: str) -> None:
    assert_allowed(text)


@pytest.mark.parametrize("text", ["都说过了，我再说最后一遍", "你自己去问快递吧，也可以", "都说了好几遍了亲"])
def test_repetition_refused_or_the_customer_sent_away_stays_held(text: str) -> None:
    assert_held(text)


@pytest.mark.parametrize(
    "text",
    [
        "您讲吧亲，我听着呢，有什么需要帮忙的尽管说",  # invitation-to-speak
        "请先听我说明一下退款流程哦，一共三步，很简单的",  # 请先 before (先|)听我说
        "真讨厌这种下雨天，快递都晚了",  # sigh-with-an-object
        "不是我的错觉吧，这个价格真的很划算",  # part-of-a-longer-word
        "这个急不来的，定制需要七天，我们尽量提前",  # cannot-rush with a reason
    ],
)
def test_words_that_only_look_like_an_order_a_sigh_or_a_disowning_pass(text: str) -> None:
    assert_allowed(text)


@pytest.mark.parametrize("text", ["您讲啊，我听着呢", "你先听我说", "急不来的", "那不是我的错"])
def test_the_order_the_lecture_and_the_disowning_stay_held(text: str) -> None:
    assert_held(text)


@pytest.mark.parametrize(
    "text",
    [
        "什么意思？你再说一遍",  # ask_again needs a request (能再说一下吗), not an order
        "说过了，没关系，反正我也不会再说了",
        "怎么搞的，包裹破了，不好意思，你自己去找快递吧",  # nowhere: the customer sent away after all
        "我们不会说不知道，但这个我真不知道",
        "真讨厌你这种人",
    ],
)
def test_rude_replies_that_borrow_the_words_of_an_exemption_stay_held(text: str) -> None:
    assert_held(text)


def test_people_in_general_not_knowing_is_not_the_agents_answer() -> None:
    assert_allowed("您问的问题很好，很多人都不知道呢")


def test_a_link_is_not_read_by_the_review_model() -> None:
    # The review model reads only texts with enough Chinese characters.
    assert_allowed("http://help.example.com/main/Main_listRecovery.action")


# Real agent replies (agent_tuning2.jsonl) showed a prediction read as an order: 会快点 says what will happen.
@pytest.mark.parametrize("text", ["那如果是这样就会快点的呢", "改成顺丰的话能快点的哦"])
def test_a_prediction_of_speed_is_no_order(text: str) -> None:
    assert_allowed(text)


@pytest.mark.parametrize("text", ["快点的", "你快点吧", "你赶紧的"])
def test_an_order_to_hurry_stays_held(text: str) -> None:
    assert_held(text)


# A copula before the word makes it a description (这个是随便的: any one; 这个是真是的: 真实的 mistyped).
@pytest.mark.parametrize("text", ["这个是真是的呢", "颜色这个是随便的哦", "那个是随便的"])
def test_a_description_after_a_copula_is_no_sigh(text: str) -> None:
    assert_allowed(text)


@pytest.mark.parametrize("text", ["真是的", "随便", "我也是醉了", "你也真是的"])
def test_a_bare_sigh_stays_held(text: str) -> None:
    assert_held(text)
