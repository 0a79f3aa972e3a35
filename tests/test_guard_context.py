"""The customer's last message as context of a draft (guards/context.toml, issue 16): it only ever raises an
allowed draft to a review, never to a block, never lower; no context is today's verdict.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guards.catalogue import CatalogueError
from guards.context import RULE_PREFIX, load_context_rules
from guards.matcher import check, default_concepts, default_guard

PLEA = "求求你了能不能快点，我等了好久了"
COMPLAINT = "怎么还没发货，太慢了，我要投诉"
PLAIN = "可以改地址吗"

FLAT = ["地址不能改了哦", "这个不支持的哦", "目前没法查到的", "价格是不能改的", "发票不能开的哦"]
HELPED = [
    "抱歉，地址不能改了哦",  # an apology
    "地址不能改了哦，我帮您联系快递拦截",  # a next step
    "这个不支持的哦，您可以选择其他的款式",  # an alternative
    "因为已经出库了，地址不能改了哦",  # an explanation
]


@pytest.mark.parametrize("text", FLAT)
def test_a_flat_reply_is_allowed_alone_and_after_a_plain_question(text: str) -> None:
    assert check(text).allowed
    assert check(text, PLAIN).allowed


@pytest.mark.parametrize("context", [PLEA, COMPLAINT])
@pytest.mark.parametrize("text", FLAT)
def test_a_flat_reply_after_a_plea_or_complaint_is_a_review(text: str, context: str) -> None:
    verdict = check(text, context)
    assert not verdict.allowed and verdict.level == "review"
    (hit,) = verdict.hits
    assert hit.method == "context" and hit.level == "review"
    assert hit.rule is not None and hit.rule.startswith(RULE_PREFIX)
    entry = next(entry for entry in default_guard().entries if entry.id == hit.entry_id)
    assert hit.phrase == entry.phrase and hit.category == entry.category  # it names a documented phrasing
    assert verdict.suggestion


@pytest.mark.parametrize("context", [PLEA, COMPLAINT])
@pytest.mark.parametrize("text", HELPED)
def test_help_in_the_reply_is_never_raised(text: str, context: str) -> None:
    assert check(text).allowed
    assert check(text, context).allowed


# Context round 2 (agent_context_check2.jsonl, design half): the customer advised to wait, or told it is
# another party's to handle, after a complaint or a plea; the same with a reason, an estimate or a step under
# way; a why-can't question about an option is no complaint.
PUSHED_OFF = ["建议您耐心等待一下呢", "亲，建议您先等待下哦", "这个具体等待配送处理哟", "明天到达不了呢"]
PUSHED_OFF_HELPED = [
    "目前年底货物较多，建议您耐心等待一下",  # a reason
    "预计明天送达，建议您耐心等待一下",  # an estimate
    "财务正在审核退款，建议您耐心等待",  # a step under way
    "订单已经是发货了，明天到达不了呢",  # the state that explains it
]


@pytest.mark.parametrize("context", [PLEA, COMPLAINT])
@pytest.mark.parametrize("text", PUSHED_OFF)
def test_advised_to_wait_after_a_plea_or_complaint_is_a_review(text: str, context: str) -> None:
    assert check(text).allowed and check(text, PLAIN).allowed
    assert check(text, context).level == "review"


@pytest.mark.parametrize("context", [PLEA, COMPLAINT])
@pytest.mark.parametrize("text", PUSHED_OFF_HELPED)
def test_advised_to_wait_with_a_reason_an_estimate_or_a_step_is_allowed(text: str, context: str) -> None:
    assert check(text, context).allowed


def test_a_why_cant_question_about_an_option_is_no_complaint() -> None:
    assert check("延保是无法单独购买的哦", "为什么不能单独购买延保").allowed
    assert check("延保是无法单独购买的哦", "为什么不发货，太慢了").level == "review"


def test_words_that_unsay_a_plea_are_no_plea() -> None:
    assert check("地址不能改了哦", "不急的，可以改地址吗").allowed


@pytest.mark.parametrize("context", [None, ""])
def test_no_context_is_the_text_alone(context: str | None) -> None:
    for text in [*FLAT, *HELPED, "我不知道", "你自己去问问吧", "您好"]:
        assert check(text, context) == check(text) == default_guard().check(text)


def test_context_never_lowers_a_block_nor_a_review() -> None:
    assert check("我不知道", PLEA).level == "block"
    assert check("我不知道", PLAIN) == check("我不知道")
    review = check("这个不能提前的")
    assert review.level == "review"
    assert check("这个不能提前的", PLEA) == review


texts = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from([*FLAT, *HELPED, "我不知道", "亲", "，", "呢", "抱歉", "快递"]), max_size=4).map(
        "".join
    ),
)
contexts = st.one_of(
    st.none(), st.text(max_size=30), st.sampled_from([PLEA, COMPLAINT, PLAIN, "急", "投诉", "不急"])
)


@settings(max_examples=150, deadline=None)
@given(text=texts, context=contexts)
def test_context_only_raises_to_review(text: str, context: str | None) -> None:
    alone = check(text)
    assert check(text, None) == check(text, "") == alone
    verdict = check(text, context)
    if alone.allowed:
        assert verdict.allowed or (
            verdict.level == "review" and all(h.level == "review" for h in verdict.hits)
        )
    else:
        assert verdict == alone


def test_a_guard_without_context_rules_ignores_the_context() -> None:
    from guards.catalogue import load_catalogue
    from guards.matcher import Guard

    guard = Guard.from_catalogue(load_catalogue(), review_model=None, context_rules=None)
    assert guard.check("地址不能改了哦", PLEA).allowed


BROKEN = [
    ('[[cue]]\nid = "plea"\nsource = "s"\nexplain = "e"\nwords = []\n', "cue 'plea': field 'words'"),
    (
        '[[cue]]\nid = "p"\nsource = "s"\nexplain = "e"\nwords = ["急"]\n'
        '[[reply]]\nid = "r"\nsource = "s"\nexplain = "e"\nwords = ["不能"]\n'
        '[[rule]]\nid = "x"\nreplies = ["r"]\ncues = ["p"]\nentry = "tuixie-11"\ncategory = "粗话"\n'
        'source = "s"\nexplain = "e"\n',
        "rule 'x': field 'category'",
    ),
    (
        '[[cue]]\nid = "p"\nsource = "s"\nexplain = "e"\nwords = ["急"]\n'
        '[[reply]]\nid = "r"\nsource = "s"\nexplain = "e"\nconcepts = ["no-such-concept"]\n'
        '[[rule]]\nid = "x"\nreplies = ["r"]\ncues = ["p"]\nentry = "tuixie-11"\ncategory = "推卸语"\n'
        'source = "s"\nexplain = "e"\n',
        "reply 'r': field 'concepts'",
    ),
    (
        '[[cue]]\nid = "p"\nsource = "s"\nexplain = "e"\nwords = ["急"]\n'
        '[[reply]]\nid = "r"\nsource = "s"\nexplain = "e"\nwords = ["不能"]\n'
        '[[rule]]\nid = "x"\nreplies = ["r"]\ncues = ["q"]\nentry = "tuixie-11"\ncategory = "推卸语"\n'
        'source = "s"\nexplain = "e"\nunless_lists = ["apology"]\n',
        "rule 'x': field 'cues'",
    ),
    (
        '[[cue]]\nid = "p"\nsource = "s"\nexplain = "e"\nwords = ["急"]\n'
        '[[reply]]\nid = "r"\nsource = "s"\nexplain = "e"\nwords = ["不能"]\n'
        '[[rule]]\nid = "x"\nreplies = ["r"]\ncues = ["p"]\nentry = "tuixie-11"\ncategory = "推卸语"\n'
        'explain = "e"\n',
        "rule 'x': field 'source'",
    ),
]


@pytest.mark.parametrize(("toml", "names"), BROKEN)
def test_a_broken_context_file_names_file_entry_and_field(tmp_path: Path, toml: str, names: str) -> None:
    path = tmp_path / "context.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(CatalogueError) as caught:
        load_context_rules(path, default_concepts())
    assert str(caught.value).startswith("context.toml: ")
    assert names in str(caught.value)


def test_the_packaged_rules_name_sources_and_known_entries() -> None:
    rules = load_context_rules(concepts=default_concepts())
    ids = {entry.id for entry in default_guard().entries}
    for rule in rules.rules:
        assert rule.entry in ids
        assert rule.source.split()[0].endswith(".txt")
    for spec in (*rules.data.cue, *rules.data.reply):
        assert spec.source.split()[0].endswith(".txt")


_LISTS = default_concepts().data.lists
HELP_WORDS = sorted({*_LISTS["apology"], *_LISTS["next_step"], *_LISTS["commitment"], *_LISTS["reassurance"]})


@settings(max_examples=150, deadline=None)
@given(
    flat=st.sampled_from(FLAT),
    help_word=st.sampled_from(HELP_WORDS),
    before=st.booleans(),
    context=st.sampled_from([PLEA, COMPLAINT, "??", "到底什么时候发货", "麻烦你帮我联系一下快递"]),
)
def test_help_in_the_draft_is_never_raised(flat: str, help_word: str, before: bool, context: str) -> None:
    """An apology, a next step, a commitment or reassurance in the draft: the context changes nothing."""
    text = f"{help_word}，{flat}" if before else f"{flat}，{help_word}"
    assert check(text, context) == check(text)
