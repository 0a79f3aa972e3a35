"""The dashboard: today's figures, /stats text, and the pinned board edited in place."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fakeapi import FakeTelegram

from bot.desk.agents import AgentDesk, AgentRef
from bot.desk.board import Board, board_text, collect, stats_text, wait_text
from bot.desk.customers import CustomerRef, SupportDesk
from bot.store.sqlite import open_storage
from bot.telegram.sender import Sender
from guards import check

TZ = ZoneInfo("Asia/Shanghai")
RUDE = "这个问题我不知道，你自己去查吧"
CLEAN = "您好，已为您查询，订单明天发货。"


def at(hour: int, minute: int = 0, day: int = 23) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ)  # 2026-11-23 is a Monday


@pytest.fixture
def desk(settings):
    storage = open_storage(settings.db_path)
    desk = SupportDesk(storage, settings)
    yield desk
    storage.close()


def day_of_work(desk: SupportDesk) -> None:
    """Customer 42 greets and gets an agent (one rude try held back); customer 43 complains, unanswered."""
    desk.on_customer_message(CustomerRef(42, 42, "张三"), "你好", at=at(10, 0), telegram_message_id=1)
    desk.on_customer_message(CustomerRef(43, 43, "李四"), "我要投诉", at=at(10, 0), telegram_message_id=1)
    agents = AgentDesk(desk)
    agents.answer(AgentRef(7, "小王"), 42, 15, RUDE, at(10, 1))
    agents.answer(AgentRef(7, "小王"), 42, 16, CLEAN, at(10, 2))


def test_collect_today(desk):
    day_of_work(desk)
    stats = collect(desk.storage, desk.schedule, at(10, 5))
    number = desk.storage.agent_by_id(7).number
    assert (stats.day, stats.conversations, stats.auto_answered) == ("2026-11-23", 2, 1)
    assert stats.auto_share == pytest.approx(0.5)
    assert stats.held_by_category == ((check(RUDE).hits[0].category, 1),) and stats.held == 1
    assert stats.held_by_agent == ((number, 1),)
    assert (stats.tickets_open, stats.tickets_overdue, stats.waiting) == (1, 0, 1)
    assert stats.oldest_customer == "李四" and stats.oldest_wait_s == 5 * 60


@pytest.mark.parametrize(
    ("when", "waited"),
    [
        (at(10, 5), 5 * 60),
        (at(13, 30), 2 * 3600),  # 10:00-12:00; the lunch break does not count
        (at(8, 30, day=24), 2 * 3600 + 4 * 3600 + 30 * 60),  # nor does the night: 10-12, 14-18, 8:00-8:30
    ],
)
def test_oldest_wait_is_business_time(desk, when, waited):
    day_of_work(desk)
    assert collect(desk.storage, desk.schedule, when).oldest_wait_s == waited


def test_overdue_ticket_and_next_day(desk):
    day_of_work(desk)
    later = collect(desk.storage, desk.schedule, at(11, 0, day=25))
    assert (later.tickets_open, later.tickets_overdue) == (1, 1)
    assert later.conversations == 0  # a new day: no conversation today yet


def test_stats_text_names_every_figure(desk):
    day_of_work(desk)
    text = stats_text(collect(desk.storage, desk.schedule, at(10, 5)))
    for part in (
        "今日统计",
        "会话：2",
        "50%",
        check(RUDE).hits[0].category,
        "未关闭 1",
        "已超时 0",
        "5分00秒",
    ):
        assert part in text


@pytest.mark.parametrize(
    ("seconds", "text"), [(None, "—"), (0, "0分00秒"), (200, "3分20秒"), (3725, "1小时02分")]
)
def test_wait_text(seconds, text):
    assert wait_text(seconds) == text


async def test_board_sent_pinned_then_edited_in_place(desk, settings):
    async with FakeTelegram() as fake:
        sender = Sender(fake.bot(), desk.storage, settings)
        board = Board(desk.storage, settings.staff_chat_id, sender.call, desk.schedule, every_s=60)
        day_of_work(desk)
        assert await board.refresh(at(10, 5)) == "sent"
        (sent,) = fake.calls("sendMessage")
        (pin,) = fake.calls("pinChatMessage")
        board_id = pin.params["message_id"]
        assert "message_thread_id" not in sent.params  # the General topic
        assert "李四" in sent.params["text"] and "5分00秒" in sent.params["text"]
        assert await board.refresh(at(10, 5) + timedelta(seconds=10)) == "skipped"
        assert await board.refresh(at(10, 5) + timedelta(seconds=61)) == "edited"  # waited a minute more
        assert await board.refresh(at(10, 6) + timedelta(seconds=30)) == "skipped"
        desk.on_customer_message(CustomerRef(44, 44, "王五"), "在吗", at=at(10, 7), telegram_message_id=1)
        assert await board.refresh(at(10, 7), force=True) == "edited"
        edits = fake.calls("editMessageText")
        assert {e.params["message_id"] for e in edits} == {board_id}
        assert "等待回复：2" in edits[-1].params["text"]
        assert len(fake.calls("sendMessage")) == 1  # never re-sent while it exists


async def test_board_unchanged_makes_no_call_and_lost_board_is_replaced(desk, settings):
    async with FakeTelegram() as fake:
        sender = Sender(fake.bot(), desk.storage, settings)
        board = Board(desk.storage, settings.staff_chat_id, sender.call, desk.schedule, every_s=0)
        assert await board.refresh(at(10, 0)) == "sent"
        assert "没有等待回复的客户" in fake.calls("sendMessage")[0].params["text"]
        assert await board.refresh(at(10, 1)) == "same"
        assert fake.calls("editMessageText") == []
        day_of_work(desk)
        fake.fail_next("editMessageText", 400, description="Bad Request: message to edit not found")
        assert await board.refresh(at(10, 5)) == "sent"
        assert len(fake.calls("sendMessage")) == 2 and len(fake.calls("pinChatMessage")) == 2
        # a new process over the same database keeps editing the same pinned message
        again = Board(desk.storage, settings.staff_chat_id, sender.call, desk.schedule, every_s=0)
        desk.on_customer_message(CustomerRef(44, 44, "王五"), "在吗", at=at(10, 7), telegram_message_id=1)
        assert await again.refresh(at(10, 8)) == "edited"


def test_board_text_has_no_clock(desk):
    day_of_work(desk)
    first = board_text(collect(desk.storage, desk.schedule, at(10, 5)))
    assert first == board_text(collect(desk.storage, desk.schedule, at(10, 5)))


async def test_a_board_edit_is_put_off_while_its_group_is_short_and_kept_at_most_stale_s_behind(
    desk, settings
):
    async with FakeTelegram() as fake:
        sender = Sender(fake.bot(), desk.storage, settings, group_per_min=4)
        later = functools.partial(sender.call, wait=False, cosmetic=True)
        board = Board(
            desk.storage, settings.staff_chat_id, sender.call, desk.schedule, every_s=0, put_off=later
        )
        sender.clock = lambda: at(10, 0)
        assert await board.refresh(at(10, 0)) == "sent"  # the board and its pin: half the group's minute
        day_of_work(desk)
        assert await board.refresh(at(10, 1)) == "put off"  # relays first: no call made
        assert fake.calls("editMessageText") == []
        sender.clock = lambda: at(10, 5)  # the group's minute is free again: the edit goes
        assert await board.refresh(at(10, 5)) == "edited"
        for _ in range(2):  # the group short again
            sender.budget.take(settings.staff_chat_id, at(10, 5).timestamp())
        desk.on_customer_message(CustomerRef(44, 44, "王五"), "在吗", at=at(10, 6), telegram_message_id=1)
        assert await board.refresh(at(10, 6)) == "put off"
        assert await board.refresh(at(10, 10)) == "edited"  # five minutes behind: it takes a full slot
        assert len(fake.calls("editMessageText")) == 2
