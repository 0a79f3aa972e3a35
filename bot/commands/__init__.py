"""Subcommands of ``kefu`` that live beside their pure cores, and what they share."""

from __future__ import annotations

import json
from typing import Any

import click

from bot.ops.settings import ConfigError, Settings, load_settings

__all__ = ["read_numbered", "read_record", "settings_or_exit"]


def settings_or_exit(**overrides: object) -> Settings:
    """Return validated settings, or print the one-line reason and exit 2 (never a traceback)."""
    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except ConfigError as exc:
        click.echo(f"kefu: {exc}", err=True)
        raise SystemExit(2) from None


def read_record(line: str) -> tuple[dict[str, Any], str | None]:
    """Return ``(row, text)`` for one ``--jsonl`` input line, or ``(row with "error", None)`` if unusable.

    The row keeps every field of the input (``id`` and the like pass through to the output).

    >>> read_record('{"id": 7, "text": "您好"}')
    ({'id': 7, 'text': '您好'}, '您好')
    >>> read_record("[1]")
    ({'error': 'not a JSON object'}, None)
    """
    try:
        row = json.loads(line)
    except ValueError as exc:
        return {"error": f"not JSON: {exc}"}, None
    if not isinstance(row, dict):
        return {"error": "not a JSON object"}, None
    text = row.get("text")
    if not isinstance(text, str):
        return {**row, "error": "missing or non-string field 'text'"}, None
    return row, text


def read_numbered(line_no: int, line: str) -> tuple[dict[str, Any], str | None]:
    """Return :func:`read_record` of input line ``line_no`` (1-based); an error names the line number.

    A blank line is an error too, so that output line N always answers input line N.

    >>> read_numbered(3, "\\n")
    ({'line': 3, 'error': 'line 3: blank line'}, None)
    """
    row, text = read_record(line) if line.strip() else ({"error": "blank line"}, None)
    if text is None:
        fields = {key: value for key, value in row.items() if key != "error"}
        row = {**fields, "line": line_no, "error": f"line {line_no}: {row['error']}"}
    return row, text
