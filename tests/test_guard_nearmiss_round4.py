"""Round 4 of who-and-what (precision round 4, guard_nearmiss_tuning6 and the real agent tuning labels):
helpful sentences that share words with banned phrasings pass, and their rude twins stay held. Each case
names the [[exemption]] of the "precision round 4" block of ``guards/concepts.toml`` it exercises."""

from __future__ import annotations

import pytest
from guardcheck import assert_allowed, assert_blocked, assert_held

from guards import check
from guards.catalogue import load_catalogue
from guards.matcher import Guard
from guards.review import ReviewModel


def _not_blocked(text: str) -> None:
    verdict = check(text)
    assert verdict.level != "block", (text, [(hit.rule or hit.entry_id, hit.level) for hit in verdict.hits])


@pytest.mark.parametrize(
    "text",
    [
        "这个小妹不太了解呢  具体地址是这个哦",  # ignorance-answered-in-the-message
        "不清楚的呢 您这边下单后显示已发货就是有货的呢",
        "这个我不知道呢，一般是三天左右到",
    ],
)
def test_an_ignorance_word_answered_in_the_same_message_is_not_blocked(text: str) -> None:
    _not_blocked(text)


@pytest.mark.parametrize("text", ["不了解。", "不知道", "这个小妹不清楚呢"])
def test_a_bare_ignorance_stays_blocked(text: str) -> None:
    assert_blocked(text)


@pytest.mark.parametrize("text", ["不知道，你问别人去", "不清楚，你自己去问快递吧"])
def test_ignorance_then_sending_the_customer_away_stays_blocked(text: str) -> None:
    assert_blocked(text)


@pytest.mark.parametrize(
    "text",
    [
        "实在抱歉，也不知道怎么搞的让您收到了坏的，我们马上给您换",  # puzzled-at-our-own-mishap
        "不好意思，不知道怎么搞的系统没给您发货，我马上给您补发",
    ],
)
def test_the_agent_puzzled_at_its_own_mishap_passes(text: str) -> None:
    assert_allowed(text)


@pytest.mark.parametrize("text", ["怎么搞的，半天才讲话", "真不知道你怎么搞的"])
def test_how_did_you_manage_at_the_customer_stays_held(text: str) -> None:
    assert_held(text)


@pytest.mark.parametrize(
    "text",
    [
        "不好意思信号不太好，我听不清楚，您方便打字吗？",  # cannot-hear-with-apology-and-request
        "对不起，您的语音杂音太大，听不清楚，麻烦您打字发给我好吗",
    ],
)
def test_not_hearing_with_an_apology_and_a_polite_request_passes(text: str) -> None:
    assert_allowed(text)


@pytest.mark.parametrize("text", ["大点声，我听不清楚", "你在讲什么，我听不清楚"])
def test_not_hearing_as_an_order_stays_held(text: str) -> None:
    assert_held(text)


@pytest.mark.parametrize(
    "text",
    ["好啦好啦，已经给您退了，您查收一下哦", "好了好了，已经帮您改好地址了"],  # done-reported
)
def test_done_reported_after_okay_okay_passes(text: str) -> None:
    assert_allowed(text)


@pytest.mark.parametrize("text", ["好了好了，不是正在给你查吗", "知道了知道了，别再说了"])
def test_okay_okay_as_impatience_stays_held(text: str) -> None:
    assert_held(text)


@pytest.mark.parametrize(
    "text",
    [
        "可以的，不可以跨区哦",  # yes-with-its-limit
        "能的亲，不能改成其他省的地址哦",
        "不可以的呢，发票金额是按照实际支付金额开具的呢",  # refusal-with-its-reason
        "这个不行的哦 拆封了会影响二次销售的",
    ],
)
def test_a_refusal_with_a_yes_or_its_reason_passes(text: str) -> None:
    assert_allowed(text)


@pytest.mark.parametrize("text", ["不可以的", "这个不能修改的", "不行", "不可以，按规定就是这样的"])
def test_a_flat_refusal_stays_held(text: str) -> None:
    assert_held(text)


@pytest.mark.parametrize(
    "text",
    ["您联系厂家问过了吗", "这个是厂家发货的，您联系厂家了吗？"],  # asked-what-was-tried
)
def test_asking_whether_the_customer_already_asked_passes(text: str) -> None:
    assert_allowed(text)


@pytest.mark.parametrize("text", ["联系厂家", "联系一下快递", "您联系厂家吧"])
def test_sending_the_customer_to_the_maker_stays_held(text: str) -> None:
    assert_held(text)


# inability-as-a-condition
@pytest.mark.parametrize("text", ["如您操作不了", "若您这边修改不了的话也可以联系我"])
def test_an_inability_in_an_if_clause_passes(text: str) -> None:
    assert_allowed(text)


@pytest.mark.parametrize("text", ["操作不了", "这边操作不了的"])
def test_a_bare_inability_stays_held(text: str) -> None:
    assert_held(text)


# specifics-after-a-general-answer
@pytest.mark.parametrize(
    "text", ["一般可以保存两年，具体时间确实不太清楚的", "正常是三到五天，准确时间小妹不太清楚呢"]
)
def test_not_knowing_the_exact_figure_after_a_general_answer_passes(text: str) -> None:
    assert_allowed(text)


@pytest.mark.parametrize("text", ["具体时间妹子不清楚的哈", "亲，具体的时间不清楚的"])
def test_not_knowing_the_figure_with_no_answer_stays_held(text: str) -> None:
    assert_held(text)


# uncertainty-about-a-time, not-daring-to-promise
@pytest.mark.parametrize("text", ["具体时间还不确定的", "到货时间暂时还不确定哦", "妹子不敢保证的呢"])
def test_plain_uncertainty_about_an_outcome_passes(text: str) -> None:
    assert_allowed(text)


@pytest.mark.parametrize(
    "text", ["不好说", "说不准", "不清楚", "这个不确定呀", "具体时间不清楚的", "谁敢保证啊", "没人能保证的"]
)
def test_a_vague_non_answer_stays_held(text: str) -> None:
    assert_held(text)


def _guard_with_a_model_that_flags_everything() -> Guard:
    """Return the packaged rules beside a review model that flags every text (the rules alone decide)."""
    model = ReviewModel(bias=30.0, weights={}, threshold=0.5)
    return Guard.from_catalogue(load_catalogue(), review_model=model)


@pytest.mark.parametrize(
    "text",
    ["不清楚诶 我这就去查", "我也不知道为啥物流不动，帮您催了", "这个我不了解，我去问一下同事，马上回复您"],
)
def test_the_model_gets_no_say_when_the_rules_found_the_ignorance_answered(text: str) -> None:
    # an ignorance word whose rule the help in the message waived, and an exemption (help-follows) allows
    assert _guard_with_a_model_that_flags_everything().check(text).allowed, text


@pytest.mark.parametrize(
    "text",
    [
        "亲，具体的时间不清楚的，我们会联系你的",
        "售后问题妹子也是不清楚的 建议您和商家协商的",
        "这款衣服有点显胖",
    ],
)
def test_the_model_still_reviews_what_no_exemption_answers(text: str) -> None:
    # the help words waived the rule, but no exemption allows the clause (or there is no banned word at all)
    assert _guard_with_a_model_that_flags_everything().check(text).level == "review", text


@pytest.mark.parametrize("text", ["不清楚", "不知道，你问别人去"])
def test_the_rules_still_block_under_a_model_that_flags_everything(text: str) -> None:
    assert _guard_with_a_model_that_flags_everything().check(text).level == "block", text


@pytest.mark.parametrize(
    "text", ["亲别着急，已经在处理了", "不要急哦亲，明天一定到", "您别急，包裹已经在派送中了"]
)  # calmed-with-progress
def test_do_not_worry_with_the_progress_told_passes(text: str) -> None:
    assert_allowed(text)


@pytest.mark.parametrize("text", ["别急", "别急，等着吧", "急什么，已经在处理了", "先不要着急哦~"])
def test_a_bare_do_not_worry_or_a_rhetorical_one_stays_held(text: str) -> None:
    assert_held(text)


@pytest.mark.parametrize(
    "text",
    ["您那边声音有点小，方便的话大点声说，或者打字也行", "可以的话您大点声再发一条语音，我这边听不太清"],
)  # asked-if-convenient
def test_an_order_shape_asked_if_convenient_passes(text: str) -> None:
    assert_allowed(text)


@pytest.mark.parametrize("text", ["大点声，听不见", "方便什么，大点声"])
def test_speak_up_as_an_order_stays_held(text: str) -> None:
    assert_held(text)


@pytest.mark.parametrize(
    "text", ["这个说明写得真罗嗦，我给您简单讲", "说明书写得有点啰嗦，我给您总结一下"]
)  # wordy-text-explained
def test_a_wordy_text_the_agent_then_explains_passes(text: str) -> None:
    assert_allowed(text)


@pytest.mark.parametrize("text", ["真罗嗦", "你真罗嗦，我给您简单讲"])
def test_calling_the_customer_wordy_stays_held(text: str) -> None:
    assert_held(text)


@pytest.mark.parametrize(
    "text", ["您怎么不早说呀，没关系，现在还能改", "刚才不是我接待的，但我已经看了聊天记录"]
)  # reproach-taken-back-bare, disowned-then-taken-up
def test_a_reproach_taken_back_or_a_disowning_taken_up_is_not_blocked(text: str) -> None:
    verdict = check(text)
    assert verdict.level == "review", (text, verdict.level)


@pytest.mark.parametrize("text", ["你怎么不早说", "刚才不是我接的电话，我不知道"])
def test_the_bare_reproach_and_disowning_stay_blocked(text: str) -> None:
    assert_blocked(text)


@pytest.mark.parametrize(
    "text",
    [
        "说明书上写着呢，第三页，我拍给您",  # pointer-with-the-page-sent
        "上面说过了哦，是明天到，您放心",  # said-before-and-answered-again
        "已经跟您说过了哦，明天到，还有其他问题吗",
        "这个刚才说了哈，我再说一遍，可以退的",
    ],
)
def test_pointing_back_with_the_answer_given_again_passes(text: str) -> None:
    assert_allowed(text)


@pytest.mark.parametrize(
    "text", ["说明书上写着呢", "我都说过了，您放心吧", "不是说过了吗，明天到", "刚才说了"]
)
def test_pointing_back_without_the_answer_stays_held(text: str) -> None:
    assert_held(text)


@pytest.mark.parametrize(
    "text",
    [
        "亲，这个要问下快递哦，电话是95311",  # referral-with-a-way-to-reach
        "这个我们这边看不到呢，您把页面截图发我看看",  # inability-then-asks-for-what-it-needs
        "什么意思呢亲？是想换颜色吗",  # question-back-with-a-guess
        "您买来干嘛用呀",  # asked-what-for
        "在忙吗亲？方便的时候回复我就行",  # busy-asked-with-courtesy
    ],
)
def test_a_referral_with_its_way_a_request_for_what_is_needed_or_a_guess_passes(text: str) -> None:
    assert_allowed(text)


@pytest.mark.parametrize(
    "text", ["你自己去问快递吧，电话自己查", "看不到", "什么意思", "你取消干嘛", "在忙", "问下快递"]
)
def test_their_bare_or_rude_twins_stay_held(text: str) -> None:
    assert_held(text)


@pytest.mark.parametrize("text", ["换不了了，只能按照您买的商品发货了", "不可以，只能按订单地址送"])
def test_a_refusal_with_only_the_way_it_must_be_stays_held(text: str) -> None:
    # 只能按照 is no reason the refusal follows from (refusal-with-its-reason wants 是按照 / 会影响 …)
    assert_held(text)
