"""The real-corpus reader: labels refer to (file, line, turn) and the text is read from the corpus."""

import json

import pytest

from replies.realtext import LabelError, Ref, read_labels, resolve, sha, turns


@pytest.fixture
def corpus(tmp_path):
    (tmp_path / "jddc").mkdir()
    (tmp_path / "jddc" / "x.enc").write_text("你好,在的亲,订单号[数字x]\n第二行,b\n", encoding="utf-8")
    return tmp_path


def test_turns_split_on_ascii_commas_only():
    assert turns("在吗,亲，您好,  好的 \n") == ["在吗", "亲，您好", "好的"]


def test_resolve_reads_the_turn(corpus):
    assert resolve(Ref("jddc/x.enc", 1, 2), root=corpus) == "订单号[数字x]"
    assert resolve(Ref("jddc/x.enc", 2, 0), root=corpus, expected_sha=sha("第二行")) == "第二行"


@pytest.mark.parametrize("ref", [Ref("jddc/x.enc", 3, 0), Ref("jddc/x.enc", 0, 0), Ref("jddc/x.enc", 1, 3)])
def test_resolve_refuses_out_of_range(corpus, ref):
    with pytest.raises(LabelError, match="out of range"):
        resolve(ref, root=corpus)


def test_a_changed_corpus_is_detected(corpus):
    with pytest.raises(LabelError, match="changed"):
        resolve(Ref("jddc/x.enc", 1, 0), root=corpus, expected_sha="00000000")


def test_read_labels_yields_text_and_label(corpus, tmp_path):
    labels = tmp_path / "l.jsonl"
    labels.write_text(json.dumps({"file": "jddc/x.enc", "line": 1, "turn": 0, "intent": "greeting"}) + "\n\n")
    [(ref, text, label)] = list(read_labels(labels, root=corpus))
    assert (ref.key, text, label["intent"]) == ("jddc/x.enc:1:0", "你好", "greeting")


def test_a_broken_label_line_names_the_file_and_line(corpus, tmp_path):
    labels = tmp_path / "l.jsonl"
    labels.write_text('{"file": "jddc/x.enc"}\n')
    with pytest.raises(LabelError, match=r"l\.jsonl line 1"):
        list(read_labels(labels, root=corpus))
