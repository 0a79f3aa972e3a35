"""The `kefu` command: its subcommands, its errors, and the README's promises about them."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from bot.commands.cli import RunOptions, main

ROOT = Path(__file__).resolve().parent.parent
SUBCOMMANDS = ["run", "demo", "check", "classify", "train", "export-choices", "serve", "db", "health", "init"]


def test_help_lists_every_subcommand() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in SUBCOMMANDS:
        assert re.search(rf"^\s+{name}\s", result.output, re.MULTILINE), name
    assert set(main.commands) == set(SUBCOMMANDS)


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_every_subcommand_is_documented_in_the_readme(name: str) -> None:
    assert f"`kefu {name}" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)\n```", readme, re.DOTALL)
    assert len(blocks) >= 2, "the README opens with the main-job command and the test command"
    run_command, test_command = blocks[0], blocks[1]
    assert "kefu run" in run_command
    assert "pytest" in test_command
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test_command in ci_lines


@pytest.mark.parametrize("command", [["db"], ["demo"], ["run"], ["classify", "你好"]])
def test_a_wrong_setting_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch, command: list[str]) -> None:
    monkeypatch.setenv("KEFU_TIMEZONE", "Mars/Base")
    result = CliRunner().invoke(main, command, input="")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "kefu: KEFU_TIMEZONE: unknown time zone 'Mars/Base' (e.g. Asia/Shanghai)"
    ]


def test_db_before_the_database_exists(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["db", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 0
    assert f"database: {tmp_path / 'none.db'}" in result.output
    assert "not created yet" in result.output
    assert not (tmp_path / "none.db").exists()


def test_db_prints_table_counts(tmp_path: Path) -> None:
    from bot.store.sqlite import open_storage

    path = tmp_path / "k.db"
    open_storage(path).close()
    result = CliRunner().invoke(
        main, ["db", "--db", str(path)], env={"KEFU_BOT_TOKEN": "1234567:" + "x" * 35}
    )
    assert result.exit_code == 0, result.output
    for table in ["customers", "conversations", "tickets", "messages", "guard_events", "outbox"]:
        assert re.search(rf"^{table}\s+\d+$", result.output, re.MULTILINE), table
    assert "x" * 35 not in result.output


def test_db_on_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    result = CliRunner().invoke(main, ["db", "--db", str(path)])
    assert result.exit_code == 2
    assert "kefu:" in result.output and "Traceback" not in result.output


def test_run_without_a_token_on_a_terminal_starts_the_demo() -> None:
    on_a_terminal = RunOptions(stdin_is_terminal=lambda: True)
    result = CliRunner().invoke(main, ["run"], input="/quit\n", obj=on_a_terminal)
    assert "KEFU_BOT_TOKEN is not set: starting the offline console demo" in result.output
    assert result.exit_code == 0


def test_run_without_a_token_under_a_service_exits_2() -> None:
    result = CliRunner().invoke(main, ["run"], input="")  # stdin is not a terminal: systemd, a container
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == ["kefu: KEFU_BOT_TOKEN is not set"]


def test_stdin_is_terminal_asks_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.commands import cli

    monkeypatch.setattr("sys.stdin", open(os.devnull))  # what systemd gives a service
    assert cli.stdin_is_terminal() is False


def test_run_on_a_broken_database_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    env = {"KEFU_BOT_TOKEN": "1234567:" + "t" * 35, "KEFU_DB_PATH": str(path)}
    result = CliRunner().invoke(main, ["run"], env=env)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"kefu: {path}: ") and "t" * 35 not in result.output


def test_run_with_a_broken_catalogue_is_one_line() -> None:
    from bot.desk.cores import Cores
    from guards import CatalogueError

    def broken(text: str) -> None:
        raise CatalogueError("banned.toml: entry 'mingling-03': field 'category': '命令' is not a category")

    cores = replace(Cores.installed(), guard=SimpleNamespace(check=broken))
    env = {"KEFU_BOT_TOKEN": "1234567:" + "t" * 35}
    result = CliRunner().invoke(main, ["run"], env=env, obj=RunOptions(cores=cores))
    assert result.exit_code == 2
    assert result.output.strip() == (
        "kefu: banned.toml: entry 'mingling-03': field 'category': '命令' is not a category"
    )


def test_run_whose_database_file_was_lost_exits_1_for_a_restart(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.store.files import DatabaseLost

    async def lost(settings, **options) -> None:
        raise DatabaseLost(
            "the database file kefu.db was deleted; everything stored was written back to kefu.db"
        )

    monkeypatch.setattr("bot.ops.runner.run_bot", lost)
    result = CliRunner().invoke(main, ["run"], env={"KEFU_BOT_TOKEN": "1234567:" + "t" * 35})
    assert result.exit_code == 1  # systemd's Restart=on-failure starts it again
    assert result.output.strip() == (
        "kefu: the database file kefu.db was deleted; everything stored was written back to kefu.db"
    )
