"""``kefu classify``: which intent a customer message is and the documented reply the bot would send.

``kefu classify "TEXT"`` prints intent, score, guess and reply. ``kefu classify --jsonl`` reads JSON
objects with ``text`` from stdin (other fields passed through) and writes each back with ``intent``
and ``reply`` added; a bad or blank line gets ``line`` and an ``error`` naming it, the batch goes on,
and the exit status is 2. Values only known at
run time (ticket number, agent number, reopening time) are shown as markers like ``〈工单号〉``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from bot.commands import read_numbered, settings_or_exit
from bot.settings import Settings
from replies import Intent, classify, render, script_for

__all__ = ["RUNTIME_MARKERS", "classify_command", "reply_for"]

# Values the bot fills in at run time; the CLI shows these markers instead.
RUNTIME_MARKERS: dict[str, str] = {
    "ticket": "〈工单号〉",
    "agent_no": "〈工号〉",
    "reopen_at": "〈开门时间〉",
}


def reply_for(intent: Intent, settings: Settings) -> str:
    """Return the script text the bot would send for ``intent`` (run-time values as markers)."""
    values: dict[str, Any] = {
        **RUNTIME_MARKERS,
        "shop": settings.shop_name,
        "hours": settings.business_hours_text,
        "guess": intent.guess,
    }
    variant = "guess" if intent.key == "unclear" and intent.guess else None
    return render(script_for(intent.key), variant, **values)


def _line_result(line: str, settings: Settings, line_no: int) -> dict[str, Any]:
    row, text = read_numbered(line_no, line)
    if text is None:
        return row
    intent = classify(text)
    return {**row, "intent": intent.key, "reply": reply_for(intent, settings)}


@click.command("classify")
@click.argument("text", required=False)
@click.option(
    "--jsonl",
    is_flag=True,
    help="Read JSON lines with 'text' from stdin; write them back with intent and reply.",
)
def classify_command(text: str | None, jsonl: bool) -> None:
    """Classify a customer message and show the documented reply the bot would send.

    With --jsonl the exit status is 2 when any input line was an error (its output line names it).
    """
    if jsonl == (text is not None):
        raise click.UsageError("give either TEXT or --jsonl")
    settings = settings_or_exit()
    if text is not None:
        intent = classify(text)
        click.echo(f"intent: {intent.key}")
        click.echo(f"score: {intent.score:.2f}")
        click.echo(f"guess: {intent.guess or '-'}")
        click.echo(f"reply: {reply_for(intent, settings)}")
        return
    errors = 0
    for line_no, line in enumerate(sys.stdin, start=1):  # a blank line gets an error line: output N = input N
        result = _line_result(line, settings, line_no)
        errors += "error" in result
        click.echo(json.dumps(result, ensure_ascii=False))
    if errors:
        sys.exit(2)
