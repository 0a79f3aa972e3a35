"""Training the intent model: reproducible bytes, a usable model, shop data and agent choices."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

pytest.importorskip("sklearn")

from bot.commands.train import choice_examples, train_command
from bot.store.records import SuggestionChoice
from replies.classifier import Classifier
from replies.eval import DEFAULT_CASES
from replies.model import load_model
from replies.router import load_router
from replies.train import Example, TrainingError, read_examples, train

SMALL = read_examples([DEFAULT_CASES])[::2]


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "a.json.gz"
    return train(SMALL, folds=2).save(path)


def test_training_is_reproducible(small_model, tmp_path):
    again = train(SMALL, folds=2).save(tmp_path / "b.json.gz")
    assert small_model.read_bytes() == again.read_bytes()


def test_a_trained_model_classifies_and_is_calibrated(small_model):
    model = load_model(small_model)
    assert set(model.classes) <= {e.intent for e in SMALL}
    prediction = model.predict("我要投诉，东西是坏的")
    assert prediction.key == "complaint"
    assert 0.0 < prediction.confidence <= 1.0
    assert abs(sum(prediction.probabilities.values()) - 1.0) < 1e-6
    assert model.temperature > 0 and model.meta["examples"] == len(SMALL)
    assert Classifier(model, load_router()).classify("转人工").key == "human_request"


def test_the_model_file_holds_no_sentence(small_model):
    raw = small_model.read_bytes()
    import gzip

    text = gzip.decompress(raw).decode("utf-8")
    assert not [e.text for e in SMALL if len(e.text) >= 4 and e.text in text]


def test_unknown_intent_is_refused(tmp_path):
    path = tmp_path / "shop.jsonl"
    path.write_text('{"text": "下雨了", "intent": "weather"}\n', encoding="utf-8")
    with pytest.raises(TrainingError, match="weather"):
        read_examples([path])
    with pytest.raises(TrainingError):
        train([Example("你好", "greeting")])


def test_agent_choices_become_examples():
    rows = [
        SuggestionChoice(text="东西坏了", intent="complaint", status="sent", confidence=None),
        SuggestionChoice(text="在吗 订单号123", intent="greeting", status="ignored", confidence=None),
        SuggestionChoice(text=" ", intent="thanks", status="sent", confidence=None),
    ]
    assert choice_examples(rows) == [
        {"text": "东西坏了", "intent": "complaint"},
        {"text": "在吗 订单号123", "intent": "other"},
    ]


def test_kefu_train_with_a_shops_own_messages(tmp_path):
    shop = tmp_path / "shop.jsonl"
    rows = [{"text": e.text, "intent": e.intent} for e in SMALL]
    shop.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    out = tmp_path / "model.json.gz"
    result = CliRunner().invoke(
        train_command, ["--no-defaults", "--shop", str(shop), "--out", str(out), "--folds", "2"]
    )
    assert result.exit_code == 0, result.output
    model = load_model(out)
    assert model.meta["examples"] == len(SMALL) and "rule_precision" in model.meta
    assert model.uses_rule_cues  # the rules' verdicts are features, as at run time
    assert Classifier(model, load_router()).classify("我要投诉，东西是坏的").key == "complaint"
