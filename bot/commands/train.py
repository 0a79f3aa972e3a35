"""``kefu train``: rebuild the intent model file from labelled messages, reproducibly.

Needs the ``[train]`` extra (``pip install 'kefu[train]'``). By default it reads the project's
labelled sets (see :func:`replies.train.default_sources`) and writes the packaged model file; a shop
adds its own labelled messages (``--shop FILE.jsonl``, ``{"text", "intent"}`` a line) and the
agents' choices on suggested scripts, from a JSONL export (``--choices FILE.jsonl``) or straight from
the bot's database (``--choices-db kefu.db``): a sent suggestion counts as its intent, an ignored
one as ``other`` (the agent answered in their own words). The same inputs and options write the
same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from bot.store.records import SuggestionChoice
from replies.model import DEFAULT_MODEL

__all__ = ["choice_examples", "export_choices_command", "train_command"]


def choice_examples(rows: list[SuggestionChoice]) -> list[dict[str, str]]:
    """Return ``{"text", "intent"}`` rows for the agents' choices: sent → its intent, ignored → other."""
    out = []
    for row in rows:
        text = (row.text or "").strip()
        if not text:
            continue
        out.append({"text": text, "intent": row.intent if row.status == "sent" else "other"})
    return out


def _db_choices(path: Path) -> list[dict[str, str]]:
    from bot.store.sqlite import open_storage

    storage = open_storage(path)
    try:
        return choice_examples(storage.suggestion_choices())
    finally:
        storage.close()


@click.command("train")
@click.option("--out", type=click.Path(path_type=Path), default=DEFAULT_MODEL, show_default=True)
@click.option(
    "--shop",
    "shop_files",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="A shop's own labelled messages, JSONL {text, intent} (repeatable).",
)
@click.option(
    "--choices",
    "choice_files",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Exported agent choices on suggestions, JSONL {text, intent} (repeatable).",
)
@click.option(
    "--choices-db",
    type=click.Path(exists=True, path_type=Path),
    help="Read the agents' choices on suggestions from this kefu database.",
)
@click.option("--no-defaults", is_flag=True, help="Leave out the project's own labelled sets.")
@click.option("--seed", type=int, default=None, help="Random seed (default: the recorded one).")
@click.option("--folds", type=int, default=None, help="Calibration folds (default 5).")
def train_command(
    out: Path,
    shop_files: tuple[Path, ...],
    choice_files: tuple[Path, ...],
    choices_db: Path | None,
    no_defaults: bool,
    seed: int | None,
    folds: int | None,
) -> None:
    """Train the intent model and write it (the bot reads it at start-up)."""
    try:
        from replies.train import TrainingError, default_sources, read_examples, rule_precision, train
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise click.ClickException(f"training needs the [train] extra: {exc}") from None
    from replies.router import load_router

    router = load_router()
    written, real = ([], []) if no_defaults else default_sources()
    written = [*written, *shop_files, *choice_files]
    try:
        examples = read_examples(written, real)
        if choices_db is not None:
            from replies.train import Example

            examples += [Example(r["text"], r["intent"]) for r in _db_choices(choices_db)]
        options = {k: v for k, v in {"seed": seed, "folds": folds}.items() if v is not None}
        model = train(examples, router=router, **options)
    except (TrainingError, OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    model.meta["rule_precision"] = rule_precision(examples, router, router.config.rule_intents)
    model.meta["sources"] = [p.name for p in [*written, *real]] + (["choices-db"] if choices_db else [])
    model.save(out)
    click.echo(
        f"trained on {len(examples)} messages; "
        f"out-of-fold accuracy {model.meta['out_of_fold_accuracy']:.1%}; "
        f"{len(model.rows)} weighted buckets; {out.stat().st_size // 1024} KiB → {out}"
    )


@click.command("export-choices")
@click.option(
    "--db",
    "db_path",
    type=click.Path(exists=True, path_type=Path),
    default=Path("kefu.db"),
    show_default=True,
)
def export_choices_command(db_path: Path) -> None:
    """Print the agents' choices on suggested scripts as JSONL {text, intent} (for `kefu train --choices`)."""
    for row in _db_choices(db_path):
        click.echo(json.dumps(row, ensure_ascii=False))
