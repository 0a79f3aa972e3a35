"""The learned review-level model: light, packaged, raises only review, names a documented phrasing."""

from __future__ import annotations

import json

import pytest

from guards import Guard, check, load_catalogue
from guards.review import MODEL_PATH, load_review_model, model_text

RULES_ONLY = Guard.from_catalogue(load_catalogue(), review_model=None)


@pytest.mark.parametrize("text", ["我这边真没空管这些事情", "你这个人怎么回事啊", "少在这里跟我讲道理"])
def test_rude_wording_no_rule_names_is_held_for_review(text: str) -> None:
    assert RULES_ONLY.check(text).allowed
    verdict = check(text)
    assert (verdict.allowed, verdict.level) == (False, "review")
    hit = verdict.hits[0]
    assert hit.method == "model" and hit.rule == "review-model"
    assert hit.entry_id in {entry.id for entry in load_catalogue().entries} and hit.category
    assert verdict.suggestion


@pytest.mark.parametrize("text", ["好的", "这样", "知道了", "您好，您的订单已经发货了，请注意查收。"])
def test_short_replies_and_ordinary_text_are_left_alone(text: str) -> None:
    assert check(text).allowed


def test_model_is_light_and_packaged() -> None:
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert set(data) == {"about", "threshold", "min_chars", "bias", "weights"}
    assert all(len(gram) <= 3 for gram in data["weights"])  # character n-grams only, no text
    assert MODEL_PATH.stat().st_size < 512 * 1024
    model = load_review_model()
    assert model is not None and 0.5 < model.threshold < 1.0


def test_model_reads_what_the_guard_reads() -> None:
    assert model_text("你问我，我问谁？#E-s[数字x]") == "你问我问谁"


def test_the_unlabelled_civil_examples_are_the_corpus_answers_the_rules_let_through(tmp_path, monkeypatch):
    from guards.train_review import TUNING_CORPUS, unlabelled_civil_answers

    corpus = tmp_path / TUNING_CORPUS
    corpus.parent.mkdir(parents=True)
    lines = ["好的亲，马上为您处理", "不清楚", "已经标注过的回复", "", "好的亲，马上为您处理"]
    lines.append("您稍等，我帮您查一下")
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setenv("KEFU_REAL_DIR", str(tmp_path))
    civil = unlabelled_civil_answers({"已经标注过的回复"})
    # the rules' block (不清楚), the labelled reply, the blank line and the repeat are left out
    assert civil == ["好的亲，马上为您处理", "您稍等，我帮您查一下"]


def test_the_model_holds_no_ordinary_question_asked_in_chat_particles() -> None:
    """Rude tuning sentences end in 的呢/亲 too; the civil real answers teach that those are not rudeness."""
    for text in ("快递怎么说的呢亲", "这个怎么说的呢亲", "运费是怎么算的呢", "您是怎么付的款呢？"):
        assert check(text).allowed, text


def test_a_longer_answer_holding_a_reply_labelled_rude_is_not_a_civil_example(tmp_path, monkeypatch):
    """A rude reply the rules miss, sent inside a longer answer (turns joined by commas), stays out too."""
    from guards.train_review import TUNING_CORPUS, unlabelled_civil_answers

    corpus = tmp_path / TUNING_CORPUS
    corpus.parent.mkdir(parents=True)
    lines = ["好的亲，马上为您处理", "这个改不了的,您看看别的吧", "您稍等,这个改不了的"]
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setenv("KEFU_REAL_DIR", str(tmp_path))
    assert unlabelled_civil_answers(set()) == lines
    # "这个改不了的" labelled rude: both answers that send it are left out, wherever it stands
    assert unlabelled_civil_answers(set(), {"这个改不了的"}) == ["好的亲，马上为您处理"]


def test_the_labelled_real_replies_of_every_tuning_file_are_read(tmp_path, monkeypatch):
    import json

    from guards import train_review
    from replies.realtext import sha

    corpus = tmp_path / "corpus"
    (corpus / "jddc").mkdir(parents=True)
    (corpus / "jddc" / "train.dec").write_text("不可以的,好的亲\n您稍等\n", encoding="utf-8")
    monkeypatch.setenv("KEFU_REAL_DIR", str(corpus))
    labels = tmp_path / "labels"
    labels.mkdir()

    def write(name: str, *rows: tuple[int, int, str, dict]) -> None:
        with (labels / name).open("w", encoding="utf-8") as handle:
            for line, turn, text, label in rows:
                ref = {"file": "jddc/train.dec", "line": line, "turn": turn, "sha": sha(text)}
                handle.write(json.dumps(ref | label, ensure_ascii=False) + "\n")

    write("first.jsonl", (1, 1, "好的亲", {"label": "allowed"}))
    write(
        "second.jsonl",
        (1, 0, "不可以的", {"label": "review", "category": "不可以说"}),
        (2, 0, "您稍等", {"skip": "fragment"}),
    )
    monkeypatch.setattr(train_review, "REAL_TUNING", ("first.jsonl", "second.jsonl", "absent.jsonl"))
    rude, civil, labelled = train_review.labelled_real_replies(labels)
    assert (rude, civil) == (["不可以的"], ["好的亲"])
    assert labelled == {"不可以的", "好的亲", "您稍等"}  # a skipped piece is labelled, in neither list


def test_the_review_model_trains_on_the_real_files_the_eval_calls_tuning() -> None:
    from guards.realeval import REAL_LABELS
    from guards.train_review import REAL_TUNING

    assert REAL_TUNING == tuple(f"agent_tuning{n}.jsonl" for n in ("", "2", "3", "4"))
    tuning = [path.name for name, path in REAL_LABELS if "report only" not in name]
    assert tuning == list(REAL_TUNING)


def test_the_model_learns_no_real_reply_the_rules_block(monkeypatch) -> None:
    """A rude reply the rules block needs no model; as an example it teaches its words are rude anywhere."""
    from guards import train_review

    def labelled(folder):
        rude = ["这个不清楚的呢", "请您联系厂家处理吧"]
        civil = ["好的亲，马上为您处理"]
        return rude, civil, set(rude) | set(civil)

    monkeypatch.setattr(train_review, "labelled_real_replies", labelled)
    monkeypatch.setattr(train_review, "unlabelled_civil_answers", lambda labelled, rude=(): [])
    rude, civil = train_review.training_texts()
    assert "请您联系厂家处理吧" in rude and "好的亲，马上为您处理" in civil
    assert "这个不清楚的呢" not in rude and "这个不清楚的呢" not in civil  # the rules block it


def test_the_folds_keep_identical_texts_together_and_are_repeatable() -> None:
    from guards.review_folds import fold_of

    texts = ["不行", "好的亲", "不行", "您稍等", "没法的", "好的亲", "查询不到"]
    folds = fold_of(texts, 3, seed=1)
    assert set(folds) == set(texts) and set(folds.values()) <= {0, 1, 2}
    assert folds == fold_of(list(reversed(texts)), 3, seed=1)  # by text, not by position


def test_a_held_out_rude_reply_is_not_taught_as_a_civil_answer(tmp_path, monkeypatch) -> None:
    """guards.review_folds holds replies out: a held-out rude reply stays out of the civil answers, even
    inside a longer answer, without being taught as rude."""
    from guards import train_review

    corpus = tmp_path / train_review.TUNING_CORPUS
    corpus.parent.mkdir(parents=True)
    corpus.write_text("好的亲，马上为您处理\n您稍等,快递明天到的\n", encoding="utf-8")
    monkeypatch.setenv("KEFU_REAL_DIR", str(tmp_path))
    hand = (["你懂不懂"], ["您好"])
    held = {"快递明天到的"}
    rude, civil = train_review.combined_texts(hand, [], [], held, held_rude=held)
    assert rude == ["你懂不懂"] and "您稍等,快递明天到的" not in civil
    _, civil = train_review.combined_texts(hand, [], [], held)
    assert "您稍等,快递明天到的" in civil  # not held out as rude: the longer answer is a civil example


def test_the_model_written_is_the_mean_of_the_last_epochs() -> None:
    # Averaged SGD: with a constant rate and the rude class weighted up, the last epoch alone swings with
    # the last examples seen (it once gave the shipped model a constant term of +3.6 against +0.2).
    from guards.train_review import AVERAGED_EPOCHS, EPOCHS, sgd_epochs, train

    rude = ["你自己去问快递吧", "我也没办法啊", "急什么急", "说了多少遍了"]
    civil = ["好的，马上为您查询", "请问有什么可以帮您", "已经为您催促快递了", "我帮您核实一下"]
    trajectory = list(sgd_epochs(rude, civil))
    assert len(trajectory) == EPOCHS
    last = trajectory[EPOCHS - AVERAGED_EPOCHS :]
    model = train(rude, civil)
    assert model["bias"] == round(sum(bias for _, bias in last) / AVERAGED_EPOCHS, 4)
    assert model["bias"] != round(trajectory[-1][1], 4)  # not simply the last epoch
    for gram, weight in model["weights"].items():
        assert weight == round(sum(weights.get(gram, 0.0) for weights, _ in last) / AVERAGED_EPOCHS, 2)
