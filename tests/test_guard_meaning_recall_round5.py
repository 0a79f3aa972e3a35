"""Recall round 5 (``guard_meaning_tuning7``): pinyin with tone marks and the documented phrasings typed in
pinyin, bare real-chat brush-offs (subject + a verb of ignorance or refusal + a particle) and rude sentences
in words no catalogue entry lists.

Every sentence here is new (not in the tuning set), to check that the rules generalise: rude replies must be
held under the category of the document line they break, and helpful sentences sharing their words must not
be blocked.
"""

from __future__ import annotations

import pytest

from guards import check
from guards.normalize import fold


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("bù zhī dào", "buzhidao"),  # tone marks fold to the plain letter, as a combining mark is dropped
        ("nǚ", "nv"),  # ü is typed v in pinyin
        ("lǜ sè", "lvse"),
        ("Café", "cafe"),
    ],
)
def test_tone_marks_fold(raw: str, expected: str) -> None:
    assert fold(raw) == expected


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # tone-marked pinyin of the documented phrasings and of the bare brush-off
        ("nǐ zěn me hái bù míng bai", "责备语"),
        ("wǒ bù qīng chu", "推卸语"),
        ("zhè ge wǒ men méi bàn fǎ", "推卸语"),
        # documented phrasings typed in plain pinyin, held by the phrasing itself
        ("ni you qian ni zhao gui de chong a", "讽刺语"),
        ("kuai yi dian, wo hai yao jie qi ta ke hu dian hua", "命令语"),
        ("ni shi dui de, zhe zhong chan pin hen cha jin", "随意附和语"),
        ("gang cai bu shi gei ni cha guo le ma", "埋怨语"),
        ("you yi jian zhao ban zhang qu", "推卸语"),
        ("ni dou bu zhi dao wo zen me zhi dao", "推卸语"),
    ],
)
def test_pinyin_held(text: str, category: str) -> None:
    verdict = check(text)
    assert not verdict.allowed, text
    assert category in {hit.category for hit in verdict.hits}, (text, verdict.hits)


@pytest.mark.parametrize(
    "text",
    [
        "xie xie nin, qing shao deng",
        "hao de, ma shang wei nin cha xun",
        "nin hao, qing wen you shen me ke yi bang nin",
        "qin, yi jing gei nin fa huo le",
        "dui bu qi, rang nin jiu deng le",
        "xiè xie nín de nài xīn",
        "ok的亲 已经帮您改好了",
        "iPhone 15 pro max 有货哦",
    ],
)
def test_pinyin_helpful_not_blocked(text: str) -> None:
    assert check(text).level != "block", (text, check(text).hits)
