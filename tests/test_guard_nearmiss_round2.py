"""Who and what, second round (issue 16): helpful sentences written outside the team, by mechanism.

Each test names the mechanism that held a helpful sentence (a sigh word that describes a thing, the
agent's own talk, a product pitch naming the trouble it solves, 凭什么 asking for a measure, an order
shape that is a concession, an edited match that replaced the phrasing's key word) and pairs it with the
rude wording the same entry must still hold.
"""

from __future__ import annotations

import pytest
from guardcheck import assert_allowed, assert_held


@pytest.mark.parametrize(
    "text",
    [
        "这款灭蝇灯专门对付烦人的苍蝇，挂在门口就行",
        "这个理线器能解决讨厌的线缆缠绕问题",
        "夏天最怕烦人的蚊虫叮咬，这款驱蚊手环可以戴一整天",
    ],
)
def test_a_sigh_word_before_de_and_a_noun_describes_a_thing(text: str) -> None:
    # 003 第5篇 埋怨语 1-3 真讨厌/真烦人 are a sigh at the customer; 烦人的苍蝇 names a pest.
    assert_allowed(text)


@pytest.mark.parametrize("text", ["你这人真烦人的", "真讨厌的", "真罗嗦的呢"])
def test_a_sigh_that_ends_its_clause_stays_held(text: str) -> None:
    assert_held(text)


@pytest.mark.parametrize(
    "text",
    ["多啰嗦两句，洗的时候记得反面朝外哦", "再唠叨一下，第一次用前请先充满电", "啰嗦一句，开箱后先检查配件"],
)
def test_the_agent_speaking_of_its_own_words_is_no_sigh(text: str) -> None:
    # 003 第5篇 埋怨语 2 真罗嗦 calls the customer long-winded; 啰嗦一句 is the agent's own extra word.
    assert_allowed(text)


@pytest.mark.parametrize("text", ["你真啰嗦", "真唠叨", "罗嗦死了"])
def test_long_winded_said_of_the_customer_stays_held(text: str) -> None:
    assert_held(text)


@pytest.mark.parametrize(
    "text",
    [
        "夏天的苍蝇真讨厌，这款灭蝇灯挂在门口就行",
        "换季掉毛真烦人，可以试试我们家的除毛滚筒",
        "宝宝出牙期确实比较烦人，推荐这款硅胶牙胶",
    ],
)
def test_a_sigh_at_the_trouble_a_product_solves_is_a_pitch(text: str) -> None:
    # 003 第5篇 埋怨语 1-3 blame the customer; naming the trouble a product solves blames no one.
    assert_allowed(text)


@pytest.mark.parametrize("text", ["真讨厌，这款你自己看吧", "你真烦人，推荐什么推荐"])
def test_a_sigh_at_the_customer_before_a_product_stays_held(text: str) -> None:
    assert_held(text)


@pytest.mark.parametrize(
    "text", ["退款金额凭什么依据计算，我给您列一下明细", "保修凭什么凭证办理呢？发票或订单截图都可以"]
)
def test_ping_shenme_before_a_measure_asks_for_it(text: str) -> None:
    # 003 第5篇 责备语 6 你凭什么这么说 is a reproach; 凭什么依据 asks by which measure.
    assert_allowed(text)


@pytest.mark.parametrize("text", ["你凭什么这么说", "凭什么啊"])
def test_ping_shenme_as_a_retort_stays_held(text: str) -> None:
    assert_held(text)


@pytest.mark.parametrize(
    "text",
    ["操作步骤写得乱七八糟的，我帮您重新整理一份", "页面排版确实有点乱七八糟，我已经反馈给技术马上修改"],
)
def test_a_mess_said_of_a_thing_with_a_remedy_blames_no_one(text: str) -> None:
    # 003 第5篇 教训语 1 什么乱七八糟的 is said of the customer's question; here of a text the shop fixes.
    assert_allowed(text)


@pytest.mark.parametrize("text", ["你问的什么乱七八糟的，我帮您查就是了", "你真烦人，我帮您催一下"])
def test_a_mess_said_of_the_customer_or_a_sigh_with_help_is_still_held(text: str) -> None:
    assert_held(text)


def test_a_sigh_at_the_courier_with_help_is_sympathy() -> None:
    # Round 3 (issue 16 precision): said of a thing (物流), with the agent's remedy, the sigh blames no one
    # (sigh-at-a-thing-with-remedy); said of the customer it stays held (above).
    assert_allowed("物流一直不更新确实烦人，我帮您催一下")


@pytest.mark.parametrize("text", ["这款音箱声音大点也不会失真", "声音开大点也很清晰，放客厅正合适"])
def test_an_order_shape_followed_by_ye_is_a_concession(text: str) -> None:
    # 003 第5篇 命令语 1 声音大点。 is an order; 声音大点也不失真 says what the product does even then.
    assert_allowed(text)


@pytest.mark.parametrize("text", ["声音大点！", "声音大点，我听不到"])
def test_the_order_stays_blocked(text: str) -> None:
    assert_held(text)


@pytest.mark.parametrize(
    "text", ["这份说明书有点乱七八糟的，我给您整理了简单版", "包装盒里的配件放得有点乱七八糟的，我们会改进"]
)
def test_an_edited_match_that_replaced_the_key_word_is_another_phrase(text: str) -> None:
    # 003 第5篇 教训语 1 什么乱七八糟的 — the rhetorical 什么 carries it; 有点乱七八糟的 describes a thing.
    assert_allowed(text)


@pytest.mark.parametrize("text", ["什么乱七八糟的", "你说的什么乱七八糟的"])
def test_the_rhetorical_form_stays_held(text: str) -> None:
    assert_held(text)


def test_then_more_without_next_is_refused(tmp_path) -> None:
    from importlib import resources

    from guards.catalogue import CatalogueError
    from guards.meaning import load_concepts

    text = resources.files("guards").joinpath("concepts.toml").read_text(encoding="utf-8")
    text += '\n[[exemption]]\nid = "x"\ncategories = ["埋怨语"]\nafter = ["things"]\n'
    text += 'then_more = true\nexplain = "x"\n'
    path = tmp_path / "concepts.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"exemption 'x'.*then_more.*needs next"):
        load_concepts(path)


@pytest.mark.parametrize(
    "text",
    [
        "您刚才说“你们怎么搞的”，确实是我们的问题，实在抱歉",
        "您说的“不知道”是指不知道在哪里领券吗？",
        "您提到的“没办法退”，是页面上找不到退款按钮对吗",
    ],
)
def test_the_customer_quoted_is_no_verdict_on_the_agent(text: str) -> None:
    # 003 第6篇 澄清问题 (您是不是说…): the agent repeats the customer's words to understand them.
    assert_allowed(text)


@pytest.mark.parametrize("text", ["我说“不知道”，你听不懂吗", "“怎么搞的”，你说呢"])
def test_the_agent_quoting_itself_or_nobody_stays_held(text: str) -> None:
    assert_held(text)


@pytest.mark.parametrize(
    "text",
    ["这款凳子凭什么这么便宜？因为是工厂直发，没有中间商", "这款面膜凭什么卖这么好？因为成分很温和"],
)
def test_a_question_the_agent_answers_itself_is_a_pitch(text: str) -> None:
    # 003 第5篇 责备语 6 你凭什么这么说 questions the customer; a question about a product answered with
    # 因为 in the next breath is the agent's own explanation.
    assert_allowed(text)


@pytest.mark.parametrize("text", ["你凭什么这么说？因为你没看说明", "凭什么？因为规定"])
def test_a_retort_followed_by_a_reason_stays_held(text: str) -> None:
    assert_held(text)


@pytest.mark.parametrize(
    "text", ["这种产品质量确实不行的话，我们全额退款", "如果这款确实很差劲的话，您直接申请退货，运费我们出"]
)
def test_careless_agreement_words_as_a_condition_promise_a_remedy(text: str) -> None:
    # 003 第5篇 随意附和语 1 你是对的,这种产品很差劲 agrees with a complaint; 质量确实不行的话 is the
    # condition of the remedy that follows, as in the other categories (conditional-clause).
    assert_allowed(text)


@pytest.mark.parametrize("text", ["没错，我们公司确实很差", "你是对的，这种产品很差劲"])
def test_careless_agreement_stays_held(text: str) -> None:
    assert_held(text)


@pytest.mark.parametrize(
    "text",
    ["说实话这个我也不太清楚，我找技术同事来回答您", "这个我不清楚，我请教一下主管再给您解答"],
)
def test_not_knowing_followed_by_someone_who_will_answer_is_the_documented_answer(text: str) -> None:
    # 003 第5篇 推卸语 1 的规范说法: 我需要先咨询一下，然后再给您答复.
    assert_allowed(text)


@pytest.mark.parametrize("text", ["这个我也不太清楚，我找不到", "不清楚，你找别人回答你吧"])
def test_not_knowing_without_an_answer_promised_stays_held(text: str) -> None:
    assert_held(text)
