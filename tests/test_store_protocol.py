"""The one storage seam: the SQLite store satisfies :class:`Store`, and the desk sees only that protocol."""

from __future__ import annotations

import ast
import inspect
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.desk import texts
from bot.desk.board import collect
from bot.store.protocol import Store
from bot.store.records import DayConversation, HeldCheck, TicketFigures, WaitingCustomer, to_iso
from bot.store.sqlite import Storage, open_storage
from replies.schedule import Schedule

DESK = Path(__file__).parent.parent / "bot" / "desk"
PROTOCOL_METHODS = sorted(n for n, value in vars(Store).items() if callable(value) and not n.startswith("_"))


def test_the_sqlite_store_is_a_store(db_path):
    storage = open_storage(db_path)
    try:
        assert isinstance(storage, Store)
    finally:
        storage.close()


@pytest.mark.parametrize("name", PROTOCOL_METHODS)
def test_the_sqlite_store_has_each_method_of_the_protocol_as_written(name):
    wanted, implemented = getattr(Store, name), getattr(Storage, name)
    params = [(p.name, p.kind, p.default) for p in inspect.signature(wanted).parameters.values()]
    assert [(p.name, p.kind, p.default) for p in inspect.signature(implemented).parameters.values()] == params
    assert inspect.iscoroutinefunction(implemented) == inspect.iscoroutinefunction(wanted)
    if name != "transaction":  # a @contextmanager generator; the protocol says what it yields
        assert inspect.signature(implemented).return_annotation == inspect.signature(wanted).return_annotation


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    names |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    return names


@pytest.mark.parametrize("path", sorted(DESK.glob("*.py")), ids=lambda p: p.name)
def test_the_desk_imports_no_database(path):
    imported = _imported_modules(path)
    assert not {m for m in imported if m in ("bot.store.sqlite", "sqlite3") or m.startswith("sqlite_utils")}


class BoardFigures:
    """Only the figures the board reads, held in memory: ``collect`` needs no database behind the seam."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def day_conversations(self, start: datetime, end: datetime) -> list[DayConversation]:
        return [DayConversation(1, by_agent=0, by_bot=1), DayConversation(2, by_agent=1, by_bot=1)]

    def held_checks(self, start: datetime, end: datetime) -> list[HeldCheck]:
        return [HeldCheck('[{"category": "rude"}]', "002"), HeldCheck(None, "?")]

    def ticket_figures(self, at: datetime) -> TicketFigures:
        return TicketFigures(open=3, overdue=1)

    def waiting_customers(self) -> list[WaitingCustomer]:
        return [WaitingCustomer(to_iso(self.now - timedelta(minutes=4)), None, "li", 43)]

    def waiting_by_group(self, primary: int) -> dict[int, int]:
        return {primary: 1}

    def staff_load(self, staff_chat_id: int) -> int:
        return 2 if staff_chat_id == -100 else 0


def test_the_board_counts_from_any_store_that_answers_its_questions(settings):
    now = datetime(2026, 11, 23, 10, 5, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Monday, open hours
    stats = collect(BoardFigures(now), Schedule.from_settings(settings), now, groups=(-100, -200))
    assert (stats.conversations, stats.auto_answered) == (2, 1)
    assert stats.held_by_category == (("rude", 1), (texts.GUARD_ERROR_CATEGORY, 1))
    assert stats.held_by_agent == (("002", 1), ("?", 1))
    assert (stats.tickets_open, stats.tickets_overdue, stats.waiting) == (3, 1, 1)
    assert stats.oldest_customer == "@li" and stats.oldest_wait_s == 4 * 60
    assert stats.groups == ((-100, 1, 2), (-200, 0, 0))
