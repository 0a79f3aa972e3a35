"""The hand-written rules' lexicon: words match as words, numbers as numbers, negation and platforms.

Each case was a misfire on real customer text (issue 12); the rules must read a class of meaning,
never a special case of the sentence that failed.
"""

from __future__ import annotations

import pytest

from replies import classify, load_router

RULES = load_router()


@pytest.mark.parametrize("text", ["USB接口松了", "我买的usb线不能充电", "这个 USB-C 的头有吗"])
def test_latin_keywords_match_whole_words_only(text):
    assert RULES.classify(text).key != "uncivil"
    assert classify(text).key != "uncivil"


@pytest.mark.parametrize("text", ["你是sb吗", "SB客服"])
def test_a_latin_insult_alone_still_counts(text):
    assert RULES.classify(text).key == "uncivil"


@pytest.mark.parametrize("text", ["你是不是人工", "你们是不是人工客服啊", "请问是不是人在回复"])
def test_an_a_not_a_question_is_not_a_negation(text):
    assert RULES.classify(text).key != "uncivil"
    assert classify(text).key != "uncivil"


@pytest.mark.parametrize("text", ["订单号 8812", "电话13888888888", "价格是188元吗", "订单 5208813 到哪了"])
def test_digits_inside_numbers_never_match_a_keyword(text):
    assert RULES.classify(text).key != "goodbye"
    assert classify(text).key not in {"goodbye", "praise"}


def test_a_number_keyword_alone_still_counts():
    assert RULES.classify("88").key == "goodbye"


@pytest.mark.parametrize(
    "text", ["https://item.jd.com/100012043978.html", "http://m.tb.cn/h.abc123?sm=1", "www.example.com/p/1"]
)
def test_a_link_alone_is_not_a_security_worry(text):
    assert RULES.classify(text).key != "security"
    assert classify(text).key != "security"


def test_a_link_with_a_worry_is_one():
    assert RULES.classify("这个链接安全吗 https://x.cn/a").key == "security"


@pytest.mark.parametrize("text", ["不靠谱", "你们一点都不靠谱", "服务不太好", "态度不好"])
def test_negated_praise_is_not_praise(text):
    assert RULES.classify(text).key != "praise"
    assert classify(text).key != "praise"


@pytest.mark.parametrize(
    "text", ["京东上的价格怎么不一样", "淘宝下单可以吗", "我是在天猫买的", "抖音直播间买的能退吗"]
)
def test_the_shops_platforms_are_never_out_of_scope(text):
    assert RULES.classify(text).key != "out_of_scope"
    assert classify(text).key != "out_of_scope"


def test_platforms_are_a_setting():
    assert RULES.classify("我是在京东买的", platforms=()).key == "out_of_scope"
    assert RULES.classify("我是在京东买的").key != "out_of_scope"
    assert load_router(platforms=("京东",)).classify("我是在拼多多买的").key == "out_of_scope"
