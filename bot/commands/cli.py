"""The ``kefu`` command: run the bot, the offline demo, draft checks, intent classification, the HTTP
check endpoint and a look at the database."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.commands import settings_or_exit
from bot.ops.settings import Settings

if TYPE_CHECKING:
    from bot.desk.cores import Cores

__all__ = ["RunOptions", "main", "stdin_is_terminal"]


def _configure_logging(verbose: bool, settings: Settings) -> None:
    from bot.ops.logs import configure_logging

    secrets = (settings.bot_token, settings.webhook_secret, settings.api_token)
    proxy_password = settings.bot_api_proxy.password if settings.bot_api_proxy else None
    configure_logging(
        logging.DEBUG if verbose else logging.INFO,
        *(s.get_secret_value() for s in secrets if s is not None),
        *([proxy_password] if proxy_password else []),
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kefu")
def main() -> None:
    """kefu: a Telegram customer-support bot for Chinese-speaking online shops.

    With KEFU_BOT_TOKEN set, `kefu run` serves customers and agents on Telegram;
    without it, `kefu run` starts the offline console demo.
    """


def stdin_is_terminal() -> bool:
    """Return whether someone can type into ``kefu run`` (stdin is a terminal, not /dev/null or a pipe)."""
    return sys.stdin.isatty()


@dataclass(frozen=True)
class RunOptions:
    """What ``kefu run`` takes from its caller rather than from the environment (click's ``obj``).

    ``stdin_is_terminal`` decides whether a missing token starts the demo; ``cores`` are the guard,
    classifier, scripts, FAQ and policy the bot runs with (None: the package plus ``KEFU_SHOP_DIR``).
    Example: ``CliRunner().invoke(main, ["run"], obj=RunOptions(stdin_is_terminal=lambda: True))``.
    """

    stdin_is_terminal: Callable[[], bool] = stdin_is_terminal
    cores: Cores | None = None


@main.command()
@click.option("-v", "--verbose", is_flag=True, help="Log debug details.")
@click.pass_context
def run(ctx: click.Context, verbose: bool) -> None:
    """Run the bot (polling, or webhook when KEFU_WEBHOOK_URL is set).

    Without KEFU_BOT_TOKEN this starts the offline console demo instead, on a terminal only: under
    systemd or in a container (stdin not a terminal) it exits 2, so the missing token shows.
    """
    options = ctx.find_object(RunOptions) or RunOptions()
    settings = settings_or_exit()
    if settings.bot_token is None:
        if not options.stdin_is_terminal():
            click.echo("kefu: KEFU_BOT_TOKEN is not set", err=True)
            raise SystemExit(2)
        click.echo(
            "kefu: KEFU_BOT_TOKEN is not set: starting the offline console demo (kefu demo).", err=True
        )
        _demo(settings)
        return
    _configure_logging(verbose, settings)
    from bot.ops.runner import run_bot
    from bot.store.files import DatabaseLost

    try:
        asyncio.run(run_bot(settings, cores=options.cores))
    except KeyboardInterrupt:
        pass
    except DatabaseLost as exc:  # exit 1: a supervisor (systemd Restart=on-failure) starts it again
        click.echo(f"kefu: {exc}", err=True)
        raise SystemExit(1) from None
    except _startup_errors() as exc:
        click.echo(f"kefu: {exc}", err=True)
        raise SystemExit(2) from None


@main.command()
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), help="Database file.")
def demo(db_path: Path | None) -> None:
    """Offline console chat: type as the customer, /agent TEXT as an agent, /time 13:00 to move the clock."""
    _demo(settings_or_exit(db_path=db_path))


def _demo(settings: Settings) -> None:
    from bot.commands.demo import run_demo
    from bot.ops.runner import load_catalogues

    try:
        load_catalogues(settings)
        code = run_demo(settings, sys.stdin, sys.stdout)
    except _startup_errors() as exc:
        click.echo(f"kefu: {exc}", err=True)
        raise SystemExit(2) from None
    raise SystemExit(code)


def _startup_errors() -> tuple[type[Exception], ...]:
    """Return the errors that stop start-up with one line: a bad database, a broken catalogue, a second
    instance, a token, Bot API server or proxy that does not answer."""
    from bot.ops.proxy import ProxyUnreachable
    from bot.store.sqlite import StorageError
    from bot.telegram.startup import StartupError
    from guards import CatalogueError
    from replies import ScriptError
    from replies.faq import FaqError
    from replies.router import IntentError

    return (StorageError, CatalogueError, ScriptError, FaqError, IntentError, StartupError, ProxyUnreachable)


@main.command()
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), help="Database file.")
def db(db_path: Path | None) -> None:
    """Print where the database is and how many rows each table holds."""
    settings = settings_or_exit(db_path=db_path)
    from bot.store.sqlite import StorageError, table_counts

    path = settings.db_path.resolve()
    click.echo(f"database: {path}")
    if not path.exists():
        click.echo("(not created yet: it is made on the first `kefu run` or `kefu demo`)")
        return
    try:
        counts = table_counts(path)
    except StorageError as exc:
        click.echo(f"kefu: {exc}", err=True)
        raise SystemExit(2) from None
    width = max((len(name) for name in counts), default=0)
    for name, count in counts.items():
        click.echo(f"{name:<{width}}  {count}")


@main.command()
@click.option(
    "--max-age", default=90, show_default=True, type=click.IntRange(1), help="Seconds a heartbeat is fresh."
)
def health(max_age: int) -> None:
    """Exit 0 when the running bot's heartbeat is fresh, 1 otherwise (a container healthcheck).

    `kefu run` touches KEFU_DB_PATH.heartbeat after every getUpdates answer (polling) or every 20 s
    while its webhook listener accepts connections; a clean stop removes it.
    """
    import time

    from bot.ops.heartbeat import heartbeat_age, heartbeat_path

    path = heartbeat_path(settings_or_exit().db_path).resolve()
    age = heartbeat_age(path, time.time())
    if age is None:
        why = "kefu run is not running (or uses another KEFU_DB_PATH)"
        click.echo(f"kefu: no heartbeat at {path}: {why}", err=True)
        raise SystemExit(1)
    if age > max_age:
        click.echo(
            f"kefu: the last heartbeat at {path} is {age:.0f} s old (over {max_age} s): the bot is not "
            "receiving updates (Telegram or the proxy unreachable, or the process hangs)",
            err=True,
        )
        raise SystemExit(1)
    click.echo(f"alive: last heartbeat {age:.0f} s ago ({path})")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535), help="Port.")
def serve(host: str, port: int) -> None:
    """Serve the HTTP check endpoint: POST /v1/check {"text": …}, GET /healthz.

    Set KEFU_API_TOKEN to require `Authorization: Bearer <token>`.
    """
    from bot.commands.serve import run_server
    from guards import CatalogueError, use_shop

    settings = settings_or_exit()
    _configure_logging(False, settings)
    try:
        use_shop(settings.shop_dir)
    except CatalogueError as exc:
        click.echo(f"kefu: {exc}", err=True)
        raise SystemExit(2) from None
    run_server(settings, host=host, port=port)


def _register_optional() -> None:
    """Attach the commands that live beside their pure cores."""
    from bot.commands.check import check_command
    from bot.commands.classify import classify_command
    from bot.commands.init import init_command
    from bot.commands.train import export_choices_command, train_command

    main.add_command(check_command, "check")
    main.add_command(classify_command, "classify")
    main.add_command(init_command, "init")
    main.add_command(train_command, "train")
    main.add_command(export_choices_command, "export-choices")


_register_optional()
