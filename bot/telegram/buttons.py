"""The callback data of kefu's inline buttons: ``kefu:<action>:<row id>``, made and parsed in one place.

The desk (suggested scripts) and the agent desk (held messages) both put buttons under staff notices;
the agents router parses every press with :func:`parse_callback`.

>>> parse_callback(callback_data(CALLBACK_PICK, 12))
('p', 12)
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CALLBACK_EDIT",
    "CALLBACK_PICK",
    "CALLBACK_PREFIX",
    "CALLBACK_SEND_ANYWAY",
    "CALLBACK_SUGGEST",
    "MAX_CALLBACK_BYTES",
    "MAX_ROW_ID",
    "callback_data",
    "parse_callback",
    "without_button",
]

CALLBACK_PREFIX = "kefu"
CALLBACK_SUGGEST = "s"
CALLBACK_EDIT = "e"
CALLBACK_SEND_ANYWAY = "a"
CALLBACK_PICK = "p"  # a script the desk suggested under a customer's message: send it
MAX_CALLBACK_BYTES = 64  # Telegram's limit: longer data was not made by a button
MAX_ROW_ID = 2**63 - 1  # SQLite's largest INTEGER


def callback_data(action: str, row_id: int) -> str:
    """Return the callback data of a button on a held message, e.g. ``kefu:s:12`` (well under 64 bytes)."""
    return f"{CALLBACK_PREFIX}:{action}:{row_id}"


def parse_callback(data: str | None) -> tuple[str, int] | None:
    """Return ``(action, staff message row id)`` for data made by :func:`callback_data`, else None.

    Anything a button of ours cannot carry (over 64 bytes, a row id that is not plain ASCII digits or
    past SQLite's range) is None.
    """
    if not data or len(data.encode()) > MAX_CALLBACK_BYTES:
        return None
    parts = data.split(":")
    if len(parts) != 3 or parts[0] != CALLBACK_PREFIX or not (parts[2].isascii() and parts[2].isdigit()):
        return None
    row_id = int(parts[2])
    return (parts[1], row_id) if row_id <= MAX_ROW_ID else None


def without_button(rows: list[list[dict[str, Any]]], data: str | None) -> list[list[dict[str, Any]]]:
    """Return an inline keyboard's rows without the buttons carrying ``data`` (rows left empty dropped).

    A merged relay can carry several suggestions' buttons: once one was used only it goes away.

    >>> without_button([[{"text": "① 发送", "callback_data": "kefu:p:1"}], [{"text": "② 发送",
    ...     "callback_data": "kefu:p:2"}]], "kefu:p:1")
    [[{'text': '② 发送', 'callback_data': 'kefu:p:2'}]]
    """
    kept = [[b for b in row if b.get("callback_data") != data] for row in rows]
    return [row for row in kept if row]
