"""README.zh-CN.md carries the same content as README.md, in Chinese, and each links the other."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGLISH = (ROOT / "README.md").read_text(encoding="utf-8")
CHINESE = (ROOT / "README.zh-CN.md").read_text(encoding="utf-8")


def test_each_readme_links_the_other_at_the_top() -> None:
    assert "](README.zh-CN.md)" in ENGLISH.split("\n\n")[1]
    assert "](README.md)" in CHINESE.split("\n\n")[1]


def test_the_same_commands_in_the_same_order() -> None:
    blocks = re.compile(r"```sh\n(.*?)\n```", re.DOTALL)
    assert blocks.findall(CHINESE) == blocks.findall(ENGLISH)


def test_the_same_sections_and_table_rows() -> None:
    assert len(re.findall(r"^## ", CHINESE, re.MULTILINE)) == len(re.findall(r"^## ", ENGLISH, re.MULTILINE))
    rows = re.compile(r"^\| `([^`]+)`", re.MULTILINE)
    english_rows = rows.findall(ENGLISH)
    chinese_rows = [r.replace("文字", "TEXT") for r in rows.findall(CHINESE)]
    assert chinese_rows == english_rows


def test_every_setting_command_and_file_named_in_english_is_named_in_chinese() -> None:
    code = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
    fence = re.compile(r"```.*?```", re.DOTALL)
    english, chinese = (set(code.findall(fence.sub("", text))) for text in (ENGLISH, CHINESE))
    missing = {c for c in english if not re.search(r"TEXT|KEY", c)} - chinese
    assert missing == set(), missing
    assert set(re.findall(r"KEFU_[A-Z_]+", ENGLISH)) == set(re.findall(r"KEFU_[A-Z_]+", CHINESE))
