"""The intent router: priorities, unclear and guesses, data validation, and the eval targets."""

from __future__ import annotations

from pathlib import Path

import pytest

from guards.normalize import fold
from replies import INTENT_KEYS, Intent, IntentError, classify, load_router
from replies.eval import (
    DEFAULT_CASES,
    DEFAULT_FRESH,
    DEFAULT_HOLDOUT,
    evaluate,
    format_report,
    load_cases,
    main,
)

INTENTS_FILE = Path(__file__).parent.parent / "replies" / "intents.toml"
RULES = load_router()


@pytest.fixture(scope="module")
def report():
    return evaluate(load_cases(DEFAULT_CASES))


@pytest.fixture(scope="module")
def holdout_report():
    return evaluate(load_cases(DEFAULT_HOLDOUT))


@pytest.mark.parametrize(("path", "least"), [(DEFAULT_CASES, 20), (DEFAULT_HOLDOUT, 25), (DEFAULT_FRESH, 10)])
def test_eval_sets_cover_every_intent(path, least):
    cases = load_cases(path)
    for key in INTENT_KEYS:
        if key in ("other", "unclear"):  # issue 12 split the old unclear: acknowledgements are other
            assert any(c.intent == key for c in cases), key
            continue
        assert sum(c.intent == key for c in cases) >= least, key


@pytest.mark.parametrize("path", [DEFAULT_CASES, DEFAULT_HOLDOUT, DEFAULT_FRESH])
def test_eval_set_is_not_copied_from_the_examples(path):
    router = load_router()
    examples = {e for rules in router._rules.values() for e in rules.examples}
    assert not [c.text for c in load_cases(path) if fold(c.text) and fold(c.text) in examples]


def test_holdout_shares_no_message_with_the_tuning_set():
    tuning = {fold(c.text) for c in load_cases(DEFAULT_CASES)}
    assert not [c.text for c in load_cases(DEFAULT_HOLDOUT) if fold(c.text) and fold(c.text) in tuning]


def test_fresh_set_shares_no_message_with_the_other_sets():
    seen = {fold(c.text) for path in (DEFAULT_CASES, DEFAULT_HOLDOUT) for c in load_cases(path)}
    assert not [c.text for c in load_cases(DEFAULT_FRESH) if fold(c.text) and fold(c.text) in seen]


def test_fresh_set_floor():
    # A regression floor on messages the rules were never tuned on, not a target to tune towards:
    # fix a drop by generalising the rules, never by adding this set's wording to intents.toml.
    fresh = evaluate(load_cases(DEFAULT_FRESH))
    assert fresh.accuracy >= 0.85, format_report(fresh)
    assert fresh.accuracy > fresh.baseline_accuracy


def test_accuracy_target(report):
    assert report.accuracy >= 0.95, format_report(report)
    assert report.accuracy > report.baseline_accuracy


@pytest.mark.parametrize("key", ["complaint", "security", "human_request", "uncivil"])
def test_recall_targets(report, key):
    assert report.recall[key] >= 0.90, format_report(report)


def test_holdout_accuracy_target(holdout_report):
    assert holdout_report.accuracy >= 0.88, format_report(holdout_report)
    assert holdout_report.accuracy > holdout_report.baseline_accuracy


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("傻逼，我要投诉，转人工", "uncivil"),
        ("我要投诉，给我转人工", "human_request"),
        ("上次投诉的还没处理，又坏了一个", "complaint_followup"),
        ("东西是坏的，你们网站付款安全吗", "complaint"),
        ("页面打不开，会不会是中病毒泄露信息了", "security"),
        ("你好，付款失败了", "site_problem"),
        ("你好，请问发票怎么开", "how_to"),
        ("谢谢，再见", "goodbye"),
        ("您好", "greeting"),
        ("亲在吗，我不是要找人工，就问问你们几点下班", "service_hours"),
        ("不是投诉哦，就是觉得赠品可以换个实用的", "suggestion"),
        ("登不上了，是不是有人盗了我的号", "security"),
        ("好的谢啦，拜拜", "goodbye"),
    ],
)
def test_priority(text, key):
    # The hand-written rules' priorities (the model decides most intents; see replies.classifier).
    assert RULES.classify(text).key == key


@pytest.mark.parametrize(
    "text", ["你好，我那个东西吧就是那个啥样子的", "亲在吗，关于那个事情我想了想还是那样"]
)
def test_greeting_only_when_nothing_else_is_said(text):
    assert RULES.classify(text).key == "unclear"
    assert classify(text).key != "greeting"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("滚烫的汤洒了，杯子裂开了", "complaint"),
        ("这个操作我不会，教我一下", "how_to"),
        ("详情页能放些真人实拍图吗，建议", "suggestion"),
        ("你是人工还是智能客服", "agent_identity"),
    ],
)
def test_lookalike_words_do_not_trigger(text, key):
    assert RULES.classify(text).key == key


@pytest.mark.parametrize("text", ["", "   ", "\u200b"])
def test_nothing_to_read_is_unclear(text):
    assert classify(text) == Intent("unclear", 0.0, None)


@pytest.mark.parametrize("text", ["？？", "😀😀", "。。。"])
def test_no_words_is_no_topic(text):
    assert classify(text).key in {"unclear", "other"}


@pytest.mark.parametrize(
    ("text", "guess"), [("退款", "申请退款"), ("发票??", "开发票"), ("那个快递", "查询订单物流")]
)
def test_unclear_guess(text, guess):
    assert load_router().guess(fold(text)) == guess


@pytest.mark.parametrize("text", ["退款", "发票", "嗯", "好的", "1"])
def test_topic_words_and_acknowledgements_are_other(text):
    # tests/data/real/README.md: a topic word, an acknowledgement or a number is for a person.
    assert classify(text).key == "other"


def test_unclear_without_topic_has_no_guess():
    assert load_router().guess(fold("嗯")) is None


@pytest.mark.parametrize(
    ("plain", "variant"),
    [
        ("我要投诉", "我要投訴"),
        ("转人工", "轉 人 工 ！！"),
        ("谢谢", "ＴＨＸ"),
        ("你们网站安全吗", "你們網站安全嗎？？"),
    ],
)
def test_normalised_forms_classify_alike(plain, variant):
    assert classify(plain).key == classify(variant).key


def test_negative_cue_rules_out():
    assert RULES.classify("我不是要投诉，就是问下怎么开发票").key == "how_to"
    assert classify("我不是要投诉，就是问下怎么开发票").key != "complaint"


def test_classify_returns_known_keys_and_bounded_scores():
    for case in load_cases(DEFAULT_CASES)[:60]:
        intent = classify(case.text)
        assert intent.key in INTENT_KEYS
        assert 0.0 <= intent.score <= 1.0


def _intents_with(tmp_path: Path, old: str, new: str) -> Path:
    text = INTENTS_FILE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "intents.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ('"投诉" = 1.0', '"投诉" = 3.0', "intents.complaint.keywords"),
        ("[intents.greeting]", "[intents.weather]", "intents.greeting"),
        ("threshold = 0.7", "threshold = 2", "router.threshold"),
        ('topic = "问候"', 'topic = ""', "intents.greeting.topic"),
        ("[intents.thanks]", "[intents.thanks]\ncolour = 1", "colour"),
        (
            "[intents.thanks.patterns]",
            "[intents.thanks.patterns]\n'(unclosed' = 0.5",
            "intents.thanks.patterns",
        ),
        ("[intents.thanks.patterns]", "[intents.thanks.patterns]\n'ok' = 1.5", "intents.thanks.patterns"),
    ],
)
def test_bad_intents_file(tmp_path, old, new, needle):
    with pytest.raises(IntentError) as info:
        load_router(_intents_with(tmp_path, old, new))
    assert "intents.toml" in str(info.value)
    assert needle in str(info.value)


def test_eval_main_prints_report(capsys):
    assert main([str(DEFAULT_CASES)]) == 0
    out = capsys.readouterr().out
    assert "accuracy:" in out and "keyword-only baseline" in out and "complaint" in out
    assert "wrong auto-replies per message" in out and "reliability" in out
    assert "summary:" not in out and "misses" not in out


def test_eval_lists_misses_only_when_asked(capsys):
    assert main([str(DEFAULT_CASES), "--misses"]) == 0
    assert "misses (" in capsys.readouterr().out


def test_eval_main_without_arguments_prints_every_set(capsys, monkeypatch):
    import replies.eval as eval_module

    sets = tuple((kind, path) for kind, path in eval_module.DEFAULT_SETS if path.name.startswith("intent_"))
    monkeypatch.setattr(eval_module, "DEFAULT_SETS", sets)
    assert main([]) == 0
    out = capsys.readouterr().out
    for path in (DEFAULT_CASES, DEFAULT_HOLDOUT, DEFAULT_FRESH):
        assert f"== {path.name}" in out
    assert "[unseen written]" in out and "summary:" in out


def test_eval_main_any_file(tmp_path, capsys):
    path = tmp_path / "mine.jsonl"
    path.write_text('{"text": "转人工", "intent": "human_request"}\n', encoding="utf-8")
    assert main([str(path)]) == 0
    assert "accuracy: 100.0% (1/1)" in capsys.readouterr().out


def test_eval_main_bad_file(tmp_path, capsys):
    path = tmp_path / "cases.jsonl"
    path.write_text('{"text": "x", "intent": "weather"}\n', encoding="utf-8")
    assert main([str(path)]) == 2
    assert "weather" in capsys.readouterr().err
