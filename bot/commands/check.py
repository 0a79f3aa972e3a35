"""``kefu check``: run the outbound guard on a draft, or on a batch of JSON lines for QA.

``kefu check "TEXT"`` (``-`` reads the text from stdin) prints the verdict with the matched words
marked (【…】, or highlighted on a terminal), the category and the documented better wording; the
exit status is 0 when allowed, 1 when held (block or review), 2 on a usage or input error
(including a broken catalogue). ``kefu check --jsonl`` streams JSON objects with ``text`` from stdin
to stdout, each written back with ``allowed``, ``level``, ``hits`` and ``suggestion`` added (other
fields passed through; an optional string ``context``, the customer's last message before the draft, is
used for the verdict, see :meth:`guards.matcher.Guard.check`); a
bad or blank line gets ``line`` and an ``error`` naming it, the batch goes on, and the exit status is
2. Memory stays constant whatever the number of lines; progress goes to stderr only on a terminal.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO

import click

from bot.commands import read_numbered
from bot.desk import texts
from guards import CatalogueError, Guard, Verdict, load_catalogue, mark_spans, use_shop

__all__ = ["check_command", "mark", "render_verdict", "result_for_line"]

PROGRESS_EVERY = 1000


def mark(text: str, verdict: Verdict, *, color: bool = False) -> str:
    """Return ``text`` with every hit span marked: 【…】, or bold red when ``color`` is set.

    >>> from guards import check
    >>> mark("好的，我不知道。", check("好的，我不知道。"))
    '好的，【我不知道】。'
    """
    spans = [(hit.start, hit.end) for hit in verdict.hits]
    if color:
        return mark_spans(text, spans, lambda piece: click.style(piece, fg="red", bold=True))
    return mark_spans(text, spans)


def render_verdict(text: str, verdict: Verdict, *, color: bool = False) -> list[str]:
    """Return the lines that show a verdict on a terminal: status, marked text, hits, suggestion."""
    if verdict.allowed:
        status = click.style("allowed", fg="green", bold=True) if color else "allowed"
        return [f"{status}: {text}"]
    word = "blocked" if verdict.level == "block" else "review"
    status = click.style(word, fg="red" if word == "blocked" else "yellow", bold=True) if color else word
    lines = [f"{status}: {mark(text, verdict, color=color)}"]
    for hit in verdict.hits:
        lines.append(
            f"  {hit.category} [{hit.entry_id}{'/' + hit.rule if hit.rule else ''}] {hit.level} {hit.method} "
            f"{hit.score:g}: "
            f"“{text[hit.start : hit.end]}” ~ “{hit.phrase}”"
        )
    lines.append(texts.LABEL_CLI_SUGGESTION + str(verdict.suggestion))
    return lines


def result_for_line(line: str, guard: Guard, line_no: int = 1) -> dict[str, Any]:
    """Return the output object for input line ``line_no`` (with ``error`` naming it when unusable).

    An optional ``context`` (the customer's last message before the draft) must be a string; it is used
    for the verdict and passed through.
    """
    row, text = read_numbered(line_no, line)
    if text is None:
        return row
    context = row.get("context")
    if "context" in row and not isinstance(context, str):
        return {**row, "line": line_no, "error": f"line {line_no}: non-string field 'context'"}
    return {**row, **guard.check(text, context).to_dict()}


def _stream(guard: Guard, stdin: TextIO, stdout: TextIO, progress: TextIO | None) -> tuple[int, int]:
    """Check every line of ``stdin`` onto ``stdout``, one output line each; return (lines, errors)."""
    count = errors = 0
    for count, line in enumerate(stdin, start=1):
        result = result_for_line(line, guard, count)
        errors += "error" in result
        stdout.write(json.dumps(result, ensure_ascii=False))
        stdout.write("\n")
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress.write(f"\rchecked {count} lines")
            progress.flush()
    stdout.flush()
    if progress is not None:
        progress.write(f"\rchecked {count} lines\n")
    return count, errors


def _shop_dir() -> Path | None:
    """Return KEFU_SHOP_DIR (environment or .env), or None."""
    from pydantic_settings import BaseSettings, SettingsConfigDict

    class _Shop(BaseSettings):
        model_config = SettingsConfigDict(env_prefix="KEFU_", env_file=".env", extra="ignore")
        shop_dir: Path | None = None

    return _Shop().shop_dir


def _guard_or_exit(catalogue: Path | None) -> Guard:
    """Return the guard for ``catalogue`` (default: packaged), or print one line and exit 2."""
    try:
        if catalogue is None:
            return use_shop(_shop_dir())
        return Guard.from_catalogue(load_catalogue(catalogue))
    except CatalogueError as exc:
        click.echo(f"kefu check: broken catalogue: {exc}", err=True)
        sys.exit(2)


@click.command("check")
@click.argument("text", required=False)
@click.option(
    "--jsonl", is_flag=True, help="Read JSON lines with 'text' from stdin; write them back with the verdict."
)
@click.option(
    "--catalogue",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Banned-phrasing catalogue to use instead of the packaged guards/banned.toml.",
)
@click.option(
    "--context",
    default=None,
    help="The customer's last message before the draft (a flat refusal after a plea is a review).",
)
def check_command(text: str | None, jsonl: bool, catalogue: Path | None, context: str | None) -> None:
    """Check an agent's draft against the banned phrasings (TEXT, or - for stdin).

    --context gives the customer's last message before the draft (with --jsonl, each line's "context").

    Exit status: 0 allowed, 1 held (block or review), 2 usage or input error. With --jsonl: 0, or 2
    when any input line was an error (its output line says which line, e.g. {"line": 3, "error": "line
    3: blank line"}). The packaged catalogue plus KEFU_SHOP_DIR/banned.toml when that is set.
    """
    if jsonl == (text is not None):
        raise click.UsageError("give either TEXT (or - for stdin) or --jsonl")
    if jsonl and context is not None:
        raise click.UsageError("--context goes with TEXT; with --jsonl each line carries its own 'context'")
    guard = _guard_or_exit(catalogue)
    stdin = sys.stdin
    if jsonl:
        progress = sys.stderr if sys.stderr.isatty() else None
        _, errors = _stream(guard, stdin, sys.stdout, progress)
        sys.exit(2 if errors else 0)
    assert text is not None
    if text == "-":
        try:
            text = stdin.read()
        except UnicodeDecodeError as exc:
            click.echo(f"kefu check: stdin is not valid UTF-8: {exc}", err=True)
            sys.exit(2)
        text = text.rstrip("\r\n")
    verdict = guard.check(text, context)
    color = sys.stdout.isatty()
    for line in render_verdict(text, verdict, color=color):
        click.echo(line)
    sys.exit(0 if verdict.allowed else 1)
