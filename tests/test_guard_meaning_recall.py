"""Issue 16, recall of rudeness the tuning sentences never held: whole concept classes, not sentences.

Each class below is widened in ``guards/concepts.toml`` (lexicon, subjects, softeners, dialect or slang
table); the cases are sentences of that class that the rules (not the review model) must hold, each
with the category its concept enforces. The near misses share the words but help, and must not be
blocked.
"""

from __future__ import annotations

import pytest

from guards import check


def _concept_hit(text: str):
    """Return the first hit a concept rule made on ``text``, or None."""
    hits = [hit for hit in check(text).hits if hit.method == "concept"]
    return hits[0] if hits else None


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # ignorance: synonyms of 不清楚 with subjects and softeners (002 1.6-3)
        ("这个客服也搞不清哦", "推卸语"),
        ("小妹这边也说不准的呢", "推卸语"),
        ("这个真说不好哈亲", "推卸语"),
        ("我们这边是一点头绪都没有", "推卸语"),
        ("人家也拿不准嘛", "推卸语"),
        # inability: 无法处理 / 超出范围 / 给不了答复 (003 推卸语 4)
        ("这边实在无法处理呢", "推卸语"),
        ("这个已经超出小妹的能力范围了", "推卸语"),
        ("这个我给不了您答复哦", "推卸语"),
        ("客服这边查不了的哦", "推卸语"),
        # not my business, with any subject (002 1.6-2)
        ("跟客服没关系哦", "推卸语"),
        ("这个不归小妹管的呢", "推卸语"),
        ("那个我们是不负责的哈", "推卸语"),
        ("那是物流的问题，我们不管", "推卸语"),
        # sending the customer elsewhere (003 推卸语 8, 11, 12)
        ("您去问问别的客服吧", "推卸语"),
        ("这个您得自己跟物流沟通哦", "推卸语"),
        ("您自己查下吧", "推卸语"),
        ("你另请高明吧", "推卸语"),
        # impatience (003 烦燥语 3)
        ("慌啥呀", "烦躁语"),
        ("有那么急吗", "烦躁语"),
        # annoyance (003 埋怨语 1-3)
        ("真是麻烦啊", "埋怨语"),
        ("超级烦的", "埋怨语"),
        ("一遍又一遍地问", "埋怨语"),
        ("灰常烦", "埋怨语"),
        # said already (003 埋怨语 5-7)
        ("详情页不是写了吗", "埋怨语"),
        ("翻一下聊天记录好吧", "埋怨语"),
        # reproach and lecturing (003 责备语 4-5, 教训语 1-2, 4)
        ("能不能好好说话", "责备语"),
        ("先想明白了再来问", "责备语"),
        ("是你自己不会操作吧", "责备语"),
        ("你这理解能力也是没谁了", "责备语"),
        # sarcasm (003 讽刺语 1-2)
        ("您可真难伺候", "讽刺语"),
        ("要求也太高了吧", "讽刺语"),
        ("您这么有钱还在乎这几块", "讽刺语"),
        ("那你去买别家的呗", "讽刺语"),
        ("都怪我行了吧", "讽刺语"),
        # perfunctory agreement (003 随意附和语 1-2)
        ("没错，我们的东西就是很烂", "随意附和语"),
        ("是啊，真的挺差劲的", "随意附和语"),
        # commands (003 命令语 2, 5)
        ("说话呀", "命令语"),
        ("讲重点", "命令语"),
        ("发一下订单号", "命令语"),
        # Taiwanese and Cantonese wording tables
        ("母湯啦", "不可以说"),
        ("好啦好啦知道了啦", "烦躁语"),
        ("我幫唔到你喎", "不可以说"),
        ("我邊知呀", "推卸语"),
        ("係囉，我哋啲嘢好差", "随意附和语"),
        ("講大聲啲", "命令语"),
        # 不可以说 (000 第四篇 五 五.9: 沒事了吧,您掛電話吧)
        ("没事我就先下了", "不可以说"),
        # the second round: reproach, pointing at the page, tone, sarcasm, brush-off in other words
        ("不会自己看详情页吗", "责备语"),
        ("说明书上都写着呢", "埋怨语"),
        ("下单的时候咋不问", "埋怨语"),
        ("吼什么吼", "烦躁语"),
        ("不就是迟了两天嘛", "讽刺语"),
        ("我没那么多闲工夫", "烦躁语"),
        # bare statements after an intensifier ending in 的 or 在 (真的, 实在)
        ("这边真的不了解呐", "推卸语"),
        ("亲亲，实在烦死了", "埋怨语"),
        # 我们也没办法 after a reason (003 推卸语 4), the customer sent to the carrier (推卸语 8)
        ("系统的问题，我们这边也无能为力", "推卸语"),
        ("这个得去问一下物流", "推卸语"),
        # Taiwanese wording of 教训语 2 and 烦燥语 1
        ("你講話客氣一點", "责备语"),
        ("不要再傳了啦", "烦躁语"),
    ],
)
def test_a_rude_sentence_of_a_widened_class_is_held_by_a_rule(text: str, category: str) -> None:
    hit = _concept_hit(text)
    assert hit is not None, text
    assert hit.category == category, (text, hit.category, hit.rule)


@pytest.mark.parametrize(
    "text",
    [
        "这个我也说不准，我帮您问一下仓库再回复您",
        "这个超出我们的服务范围，很抱歉，我帮您转给售后同事跟进",
        "跟您没关系，是我们发错了",
        "您想好了再告诉我就行，不着急",
        "麻烦您发一下订单号，我帮您查",
        "您真会挑，这款是卖得最好的",
        "您要是不方便，我帮您操作",
        "是的，这款确实偏小，建议拍大一码",
        "好的好的，马上帮您改",
        "真是不好意思，让您久等了",
        "没事的，不麻烦，这是我们应该做的",
        "不麻烦的，您放心",
        "请您说话客气一点好吗",
        "我们这边也没办法给您保证是整箱的",
        "您需要咨询售后的话，我帮您转接",
        "您不要再发了，已经收到了",
    ],
)
def test_helpful_sentences_sharing_the_widened_words_are_not_blocked(text: str) -> None:
    assert check(text).level != "block", text


@pytest.mark.parametrize(
    "text",
    [
        "好的。嗯，亲，这个我不知道呢",
        "你问我，我问谁？",
        "不清楚，不清楚。。没办法",
        "您好，请问有什么可以帮您",
        "  ",
    ],
)
def test_the_word_regex_is_tried_at_every_position_where_a_word_can_start(text: str) -> None:
    """The Aho-Corasick starts (mapped back across clause boundaries) hold every start the regex finds."""
    from guards.matcher import default_concepts, fold_clauses
    from guards.meaning import _word_starts, with_boundaries

    concepts = default_concepts()
    key = concepts.keyed(fold_clauses(with_boundaries(text))).text
    everywhere = [at for at in range(len(key)) if concepts.words.match(key, at)]
    starts, _ = _word_starts(concepts.words_anywhere, key, concepts.sound_word_count)
    assert set(everywhere) <= set(starts), (key, everywhere, starts)
    assert starts == sorted(starts)
