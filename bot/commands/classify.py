"""``kefu classify``: which intent a customer message is and the documented reply the bot would send.

``kefu classify "TEXT"`` prints intent, confidence, guess and reply. ``kefu classify --jsonl`` reads
JSON objects with ``text`` from stdin (other fields passed through) and writes each back with
``intent``, ``confidence`` (0..1) and ``reply`` added (and ``faq``, the id, when a shop FAQ answers
it); a bad or blank line gets ``line`` and an
``error`` naming it, the batch goes on, and the exit status is 2. ``reply`` is what the bot would
send to this message as the first message of a conversation in business hours with no agent
engaged — decided by the same policy table (``replies/policy.toml``) and function as the bot — or
null when it would send nothing (``other``, an acknowledgement, or an intent below its confidence
threshold: then the script is only suggested to the agent). Values only known at run time (ticket
number, agent number, reopening time) are shown as markers like ``〈工单号〉``. The reply is written in
the script ``KEFU_REPLY_SCRIPT`` chooses (a traditional message gets a traditional reply under ``auto``).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

import click

from bot.commands import read_numbered, settings_or_exit
from bot.desk import texts
from bot.desk.cores import Cores
from bot.ops.settings import Settings
from bot.ops.shop import use_shop_folder
from replies import Intent
from replies.faq import with_faq
from replies.hanzi import reply_script_for, to_script
from replies.policy import first_reply
from replies.schedule import Schedule

__all__ = ["RUNTIME_MARKERS", "classify_command", "intent_of", "reply_for"]

# Values the bot fills in at run time; the CLI shows these markers instead.
RUNTIME_MARKERS: dict[str, str] = {
    "ticket": texts.TICKET_MARKER,
    "agent_no": texts.AGENT_NO_MARKER,
    "reopen_at": texts.REOPEN_MARKER,
}


def reply_for(
    text: str, intent: Intent, settings: Settings, at: datetime | None = None, *, cores: Cores | None = None
) -> str | None:
    """Return the text the bot would send to ``text`` opening a conversation (run-time values as markers).

    None when it would send nothing. The reply is in the script ``KEFU_REPLY_SCRIPT`` picks for ``text``
    (traditional for a traditional message under ``auto``). ``cores``: the scripts and policy the bot
    answers with (default: the installed ones, as the bot's).
    """
    cores = cores or Cores.installed()
    schedule = Schedule.from_settings(settings)
    when = at or datetime.now(UTC)
    send = first_reply(text, intent, schedule, when, shop_name=settings.shop_name, policy=cores.policy)
    if send is None:
        return None
    values: dict[str, Any] = {**send.values, **{k: v for k, v in RUNTIME_MARKERS.items() if k in send.values}}
    script = reply_script_for(settings.reply_script, text)
    return to_script(cores.render(send.key, send.variant, **{**RUNTIME_MARKERS, **values}), script)


def intent_of(text: str, settings: Settings, cores: Cores | None = None) -> Intent:
    """Return the intent the bot reads in ``text``: the classifier's, or a shop FAQ that matches better."""
    cores = cores or Cores.installed()
    return with_faq(text, cores.classify(text, platforms=settings.shop_platforms), cores.faq)


def _line_result(line: str, settings: Settings, line_no: int) -> dict[str, Any]:
    row, text = read_numbered(line_no, line)
    if text is None:
        return row
    intent = intent_of(text, settings)
    result = {
        **row,
        "intent": intent.key,
        "confidence": intent.score,
        "reply": reply_for(text, intent, settings),
    }
    if intent.key == "faq":
        result["faq"] = intent.guess
    return result


def _use_shop_or_exit(settings: Settings) -> None:
    """Install the shop folder's catalogues (KEFU_SHOP_DIR); a broken file is one line and exit 2."""
    from guards import CatalogueError
    from replies import ScriptError
    from replies.faq import FaqError

    try:
        use_shop_folder(settings.shop_dir)
    except (CatalogueError, ScriptError, FaqError) as exc:
        click.echo(f"kefu: {exc}", err=True)
        raise SystemExit(2) from None


@click.command("classify")
@click.argument("text", required=False)
@click.option(
    "--jsonl",
    is_flag=True,
    help="Read JSON lines with 'text' from stdin; write them back with intent, confidence and reply.",
)
def classify_command(text: str | None, jsonl: bool) -> None:
    """Classify a customer message and show the documented reply the bot would send.

    With --jsonl the exit status is 2 when any input line was an error (its output line names it).
    """
    if jsonl == (text is not None):
        raise click.UsageError("give either TEXT or --jsonl")
    settings = settings_or_exit()
    _use_shop_or_exit(settings)
    if text is not None:
        intent = intent_of(text, settings)
        reply = reply_for(text, intent, settings)
        click.echo(f"intent: {intent.key}")
        if intent.key == "faq":
            click.echo(f"faq: {intent.guess}")
        click.echo(f"confidence: {intent.score:.2f}")
        click.echo(f"guess: {intent.guess or '-'}")
        click.echo(f"reply: {reply if reply is not None else '- (relayed to the agents)'}")
        return
    errors = 0
    for line_no, line in enumerate(sys.stdin, start=1):  # a blank line gets an error line: output N = input N
        result = _line_result(line, settings, line_no)
        errors += "error" in result
        click.echo(json.dumps(result, ensure_ascii=False))
    if errors:
        sys.exit(2)
