"""Every Chinese string in bot/ (staff notices, buttons, command help, CLI labels) uses full-width
punctuation: ，：；（）！？ next to Chinese text, never the ASCII , : ; ( ) ! ?."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "bot"
CJK = "\u3400-\u9fff\u3000-\u303f\uff00-\uffef"
HAS_CJK = re.compile(f"[{CJK}]")
# ASCII punctuation that touches Chinese text (a placeholder of an f-string counts as Chinese here).
HALF_WIDTH = re.compile(f"[,;!?](?=.)|(?<=[{CJK}])[:()!?,;]|[()](?=[{CJK}])")


def chinese_literals(path: Path) -> list[tuple[int, str]]:
    """Return ``(line, text)`` of every string literal in ``path`` with Chinese in it (docstrings aside).

    An f-string's ``{…}`` parts become 字, so that punctuation around a value is judged too.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    inside_fstring = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            if not any(isinstance(v, ast.Constant) and HAS_CJK.search(v.value) for v in node.values):
                continue  # English around values: not a Chinese string
            text = "".join(v.value if isinstance(v, ast.Constant) else "字" for v in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) in docstrings or id(node) in inside_fstring:
                continue
            text = node.value
        else:
            continue
        if HAS_CJK.search(text):
            found.append((node.lineno, re.sub(r"\{[^{}]*\}", "字", text)))  # str.format fields too
    return found


def half_width_in(text: str) -> list[str]:
    """Return the ASCII punctuation marks in ``text`` that touch Chinese text."""
    if not HAS_CJK.search(text):
        return []
    marks = HALF_WIDTH.finditer(text)
    return [m.group() for m in marks if HAS_CJK.search(text[max(0, m.start() - 3) : m.end() + 3])]


@pytest.mark.parametrize("path", sorted(BOT.rglob("*.py")), ids=lambda p: str(p.relative_to(BOT)))
def test_chinese_strings_use_full_width_punctuation(path: Path) -> None:
    wrong = [(line, text) for line, text in chinese_literals(path) if half_width_in(text)]
    assert wrong == [], "\n".join(f"{path.name}:{line}: {text!r}" for line, text in wrong)


@pytest.mark.parametrize(
    ("text", "marks"),
    [
        ("用法:/check 要检查的文字", [":"]),
        ("用法：/check 要检查的文字", []),
        ("会话已关闭;/reopen 可重新打开", [";"]),
        ("工单 字(字,催办 字 次)", ["(", ",", ")"]),
        ("时钟 字 · 数据库 字", []),
        ("/字 — 字", []),
        ("done: 3 lines", []),
    ],
)
def test_the_scanner_finds_half_width_marks(text: str, marks: list[str]) -> None:
    assert half_width_in(text) == marks
