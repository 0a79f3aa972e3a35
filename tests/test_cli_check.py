"""``kefu check``: exit codes, marked output, the JSON-lines contract, broken catalogues."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.commands.check import _stream, check_command
from guards import default_guard


def run(*args: str, stdin: str | None = None):
    return CliRunner().invoke(check_command, list(args), input=stdin)


@pytest.mark.parametrize(
    ("text", "code"),
    [("您好，您的订单已发货。", 0), ("我不知道。", 1), ("喂，大聲一點兒！", 1), ("", 0)],
)
def test_exit_code_follows_the_verdict(text: str, code: int) -> None:
    assert run(text).exit_code == code


def test_blocked_output_marks_words_and_shows_category_and_suggestion() -> None:
    result = run("好的，我不知道。")
    assert result.exit_code == 1
    assert "【我不知道】" in result.output
    assert "推卸语" in result.output
    assert "很抱歉，这个问题我需要先咨询一下" in result.output


def test_dash_reads_stdin() -> None:
    assert run("-", stdin="这与我无关\n").exit_code == 1
    assert run("-", stdin="好的，收到\n").exit_code == 0


@pytest.mark.parametrize("args", [(), ("TEXT", "--jsonl")])
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    assert run(*args).exit_code == 2


def test_jsonl_contract() -> None:
    lines = [
        json.dumps({"id": 1, "text": "你自己去问问吧"}, ensure_ascii=False),
        "not json",
        json.dumps({"id": 3}),
        json.dumps([1, 2]),
        "",
        json.dumps({"id": 5, "text": "好的，马上为您处理", "agent": "a7"}, ensure_ascii=False),
    ]
    result = run("--jsonl", stdin="\n".join(lines) + "\n")
    assert result.exit_code == 2  # some lines were errors
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert len(rows) == 6  # one output line per input line, the blank one included
    blocked, bad_json, no_text, not_object, blank, clean = rows
    assert bad_json["line"] == 2 and bad_json["error"].startswith("line 2: not JSON")
    assert no_text == {"id": 3, "line": 3, "error": "line 3: missing or non-string field 'text'"}
    assert not_object == {"line": 4, "error": "line 4: not a JSON object"}
    assert blank == {"line": 5, "error": "line 5: blank line"}
    assert "line" not in blocked and "line" not in clean
    assert blocked["id"] == 1 and blocked["allowed"] is False and blocked["level"] == "block"
    hit = blocked["hits"][0]
    assert {"category", "phrase", "score", "start", "end"} <= set(hit)
    assert "你自己去问问吧"[hit["start"] : hit["end"]] == "你自己去问问吧"
    assert blocked["suggestion"]
    assert "error" in bad_json and "error" in not_object
    assert no_text["id"] == 3 and "error" in no_text
    assert clean == {
        "id": 5,
        "text": "好的，马上为您处理",
        "agent": "a7",
        "allowed": True,
        "level": None,
        "hits": [],
        "suggestion": None,
    }


def test_jsonl_streams_line_by_line() -> None:
    """Output for a line is written before the next line is read (constant memory)."""

    class Source:
        def __init__(self) -> None:
            self.out = io.StringIO()
            self.seen_before: list[int] = []

        def __iter__(self):
            for number in range(3):
                self.seen_before.append(self.out.getvalue().count("\n"))
                yield json.dumps({"n": number, "text": "我不知道"}) + "\n"

    source = Source()
    assert _stream(default_guard(), source, source.out, None) == (3, 0)
    assert source.seen_before == [0, 1, 2]


def test_broken_catalogue_is_one_line_and_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "banned.toml"
    broken.write_text('[[entry]]\nid = "x"\ncategory = "命令"\n', encoding="utf-8")
    result = CliRunner().invoke(check_command, ["--catalogue", str(broken), "我不知道"])
    assert result.exit_code == 2
    message = result.output.strip()  # CliRunner mixes stderr into output
    assert len(message.splitlines()) == 1
    assert "banned.toml" in message and "'x'" in message


def test_jsonl_without_an_error_exits_0() -> None:
    result = run("--jsonl", stdin=json.dumps({"text": "好的，收到"}, ensure_ascii=False) + "\n")
    assert result.exit_code == 0
    assert json.loads(result.output)["allowed"] is True


def test_jsonl_blank_lines_keep_output_aligned_with_input() -> None:
    texts = ["好的", "", "我不知道", "   ", "谢谢"]
    lines = [json.dumps({"text": t}, ensure_ascii=False) if t.strip() else t for t in texts]
    result = run("--jsonl", stdin="\n".join(lines) + "\n")
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [row.get("text") for row in rows] == ["好的", None, "我不知道", None, "谢谢"]
    assert [row.get("line") for row in rows] == [None, 2, None, 4, None]
    assert result.exit_code == 2


def test_a_long_text_is_checked_to_its_end() -> None:
    text = "您好，您的订单已经发货了，请注意查收。" * 600 + "你自己去查吧。"
    assert run("-", stdin=text + "\n").exit_code == 1
    row = json.loads(run("--jsonl", stdin=json.dumps({"text": text}, ensure_ascii=False) + "\n").output)
    assert row["allowed"] is False and row["level"] == "block"


def test_review_level_is_held_with_exit_1() -> None:
    result = run("这个没办法修改的呢")
    assert result.exit_code == 1
    assert result.output.startswith("review")


PLEA = "求求你了能不能快点"


def test_context_raises_a_flat_refusal_after_a_plea_to_review() -> None:
    assert run("地址不能改了哦").exit_code == 0
    assert run("地址不能改了哦", "--context", "可以改地址吗").exit_code == 0
    result = run("地址不能改了哦", "--context", PLEA)
    assert result.exit_code == 1
    assert result.output.startswith("review: ") and "context:" in result.output
    assert run("地址不能改了哦", "--context", "").exit_code == 0  # empty: unknown


def test_context_goes_with_text_not_jsonl() -> None:
    assert run("--jsonl", "--context", PLEA, stdin="").exit_code == 2


def test_jsonl_context_field_is_used_and_passed_through() -> None:
    lines = [
        json.dumps({"id": 1, "text": "地址不能改了哦", "context": PLEA}, ensure_ascii=False),
        json.dumps({"id": 2, "text": "地址不能改了哦", "context": "可以改地址吗"}, ensure_ascii=False),
        json.dumps({"id": 3, "text": "地址不能改了哦"}, ensure_ascii=False),
        json.dumps({"id": 4, "text": "地址不能改了哦", "context": 7}, ensure_ascii=False),
        json.dumps({"id": 5, "text": "地址不能改了哦", "context": None}, ensure_ascii=False),
    ]
    result = run("--jsonl", stdin="\n".join(lines) + "\n")
    assert result.exit_code == 2  # lines 4 and 5 carry a non-string context
    raised, plain, unknown, number, null = (json.loads(line) for line in result.output.splitlines())
    assert raised["context"] == PLEA and raised["allowed"] is False and raised["level"] == "review"
    assert raised["hits"][0]["method"] == "context" and raised["hits"][0]["rule"].startswith("context:")
    assert plain["context"] == "可以改地址吗" and plain["allowed"] is True
    assert unknown["allowed"] is True and "context" not in unknown
    assert number == {
        "id": 4,
        "text": "地址不能改了哦",
        "context": 7,
        "line": 4,
        "error": "line 4: non-string field 'context'",
    }
    assert null["error"] == "line 5: non-string field 'context'"
