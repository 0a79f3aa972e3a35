"""Subcommands of ``kefu`` that live beside their pure cores, and what they share."""

from __future__ import annotations

import click

from bot.settings import ConfigError, Settings, load_settings

__all__ = ["settings_or_exit"]


def settings_or_exit(**overrides: object) -> Settings:
    """Return validated settings, or print the one-line reason and exit 2 (never a traceback)."""
    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except ConfigError as exc:
        click.echo(f"kefu: {exc}", err=True)
        raise SystemExit(2) from None
