"""The client-session middleware: every call addressed to a customer is checked before it leaves."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from aiogram import methods
from aiogram.types import InputMediaPhoto
from fakeapi import FakeTelegram

from bot.desk.cores import Cores
from bot.desk.texts import NOTICE_GUARD_BLOCKED
from bot.store.sqlite import open_storage
from bot.telegram import outbound_guard
from bot.telegram.outbound_guard import OutboundBlocked, OutboundGuard, outgoing_texts
from bot.telegram.sender import Sender
from guards import check

CUSTOMER = 42
RUDE = "你问我，我问谁？"
CLEAN = "您好，请问有什么可以帮您？"
AT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture
def storage(settings):
    storage = open_storage(settings.db_path)
    storage.upsert_customer(CUSTOMER, CUSTOMER, "张三", "zhangsan", AT)
    yield storage
    storage.close()


@pytest.fixture
def guarded(fake, storage, settings):
    bot = fake.bot()
    guard = outbound_guard.install(bot, storage, settings)
    return bot, guard


def _customer_calls(fake: FakeTelegram) -> list:
    return [c for c in fake.calls() if c.params.get("chat_id") == CUSTOMER]


def _calls(text: str) -> list[methods.TelegramMethod]:
    return [
        methods.SendMessage(chat_id=CUSTOMER, text=text),
        methods.SendPhoto(chat_id=CUSTOMER, photo="photo-id", caption=text),
        methods.EditMessageText(chat_id=CUSTOMER, message_id=5, text=text),
        methods.EditMessageCaption(chat_id=CUSTOMER, message_id=5, caption=text),
        methods.CopyMessage(chat_id=CUSTOMER, from_chat_id=-100, message_id=3, caption=text),
        methods.SendMediaGroup(chat_id=CUSTOMER, media=[InputMediaPhoto(media="p", caption=text)]),
    ]


@pytest.mark.parametrize("index", range(len(_calls(RUDE))))
async def test_rude_words_to_a_customer_are_refused_by_every_method(guarded, fake, storage, index):
    bot, guard = guarded
    method = _calls(RUDE)[index]
    assert guard.refused == 0
    with pytest.raises(OutboundBlocked) as caught:
        await bot(method)
    assert caught.value.verdict.hits[0].category == check(RUDE).hits[0].category
    assert caught.value.reason == check(RUDE).hits[0].category
    assert caught.value.text == RUDE
    assert _customer_calls(fake) == [] and guard.refused == 1  # nothing reached Telegram
    storage.finish()  # the refusal is recorded on the storage thread, without holding the call back
    (event,) = storage.rows("SELECT source, allowed, customer_id, suggestion FROM guard_events")
    assert event == {
        "source": "gate",
        "allowed": 0,
        "customer_id": CUSTOMER,
        "suggestion": check(RUDE).suggestion,
    }


@pytest.mark.parametrize("method", ["sendMessage", "sendPhoto", "editMessageText"])
async def test_clean_words_pass(guarded, fake, method):
    bot, _ = guarded
    call = {"sendMessage": 0, "sendPhoto": 1, "editMessageText": 2}[method]
    await bot(_calls(CLEAN)[call])
    assert [c.method for c in _customer_calls(fake)] == [method]


async def test_staff_chat_is_not_checked(guarded, fake, settings):
    bot, guard = guarded
    await bot.send_message(settings.staff_chat_id, f"⛔ 已拦截:{RUDE}")
    assert fake.calls("sendMessage", ok=True) and guard.refused == 0


@pytest.mark.parametrize(
    ("stored", "kind", "allowed"),
    [
        (None, None, False),  # unknown source
        (CLEAN, "text", False),  # its words may have changed since the check: sent as sendMessage instead
        (RUDE, "text", False),
        ("", "photo", False),  # a copy without a caption keeps whatever caption the photo has now
        ("", "sticker", True),  # no words, cannot be edited
    ],
)
async def test_copies_are_judged_by_their_stored_source(
    guarded, fake, storage, settings, stored, kind, allowed
):
    bot, _ = guarded
    if stored is not None:
        storage.save_staff_message(
            staff_chat_id=settings.staff_chat_id,
            staff_message_id=15,
            customer_id=CUSTOMER,
            agent_id=None,
            text=stored,
            content_kind=kind,
            status="sent",
            at=AT,
        )
    copy = methods.CopyMessage(chat_id=CUSTOMER, from_chat_id=settings.staff_chat_id, message_id=15)
    if allowed:
        await bot(copy)
        assert [c.method for c in _customer_calls(fake)] == ["copyMessage"]
    else:
        with pytest.raises(OutboundBlocked):
            await bot(copy)
        assert _customer_calls(fake) == []


async def test_guard_failure_fails_closed(fake):
    def broken(text: str):
        raise RuntimeError("catalogue gone")

    bot = fake.bot()
    bot.session.middleware(OutboundGuard(-100, checker=broken))
    with pytest.raises(OutboundBlocked) as caught:
        await bot.send_message(CUSTOMER, CLEAN)
    assert "守卫检查失败" in caught.value.reason and _customer_calls(fake) == []


async def test_verdicts_are_cached_by_text(fake):
    seen: list[str] = []

    def counting(text: str):
        seen.append(text)
        return check(text)

    bot = fake.bot()
    bot.session.middleware(OutboundGuard(-100, checker=counting))
    for _ in range(3):
        await bot.send_message(CUSTOMER, CLEAN)
    assert seen == [CLEAN] and len(_customer_calls(fake)) == 3


async def test_sender_marks_refused_row_failed_and_tells_topic(guarded, fake, storage, settings):
    bot, _ = guarded
    sender = Sender(bot, storage, settings, clock=lambda: AT)
    storage.enqueue(CUSTOMER, "sendMessage", {"chat_id": CUSTOMER, "text": RUDE}, AT, customer_id=CUSTOMER)
    await sender.flush()
    await sender.flush()
    assert [r.status for r in storage.outbox() if r.chat_id == CUSTOMER] == ["failed"]
    assert _customer_calls(fake) == []
    notices = [c.params["text"] for c in fake.calls("sendMessage", ok=True)]
    assert any(NOTICE_GUARD_BLOCKED in n and check(RUDE).hits[0].category in n for n in notices)


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        (methods.SendMessage(chat_id=1, text="甲"), ["甲"]),
        (methods.SendPhoto(chat_id=1, photo="p"), []),
        (methods.SendPoll(chat_id=1, question="乙", options=["a", "b"]), ["乙"]),
        (methods.AnswerCallbackQuery(callback_query_id="1", text="丙"), ["丙"]),
    ],
)
def test_outgoing_texts(method, expected):
    assert outgoing_texts(method) == expected


def test_a_text_the_desk_checked_is_not_checked_again_at_the_gate():
    from guards import default_guard

    calls = []

    class CountingGuard:
        def check(self, text):
            calls.append(text)
            return default_guard().check(text)

    cores = replace(Cores.installed(), guard=CountingGuard())  # one Cores: the desk's and the gate's
    text = "您好,订单T20261123-0042已为您登记"
    assert cores.check(text).allowed  # the desk, before queuing the script
    assert cores.check(text).allowed  # the outbound guard, before it leaves
    assert calls == [text]


def test_a_new_shop_guard_starts_a_new_memo():
    from guards import default_guard

    calls = []

    class CountingGuard:
        def check(self, text):
            calls.append(text)
            return default_guard().check(text)

    cores = replace(Cores.installed(), guard=CountingGuard())
    text = "您好,订单T20261123-0042已为您登记"
    cores.check(text)
    cores = replace(cores, guard=CountingGuard())  # KEFU_SHOP_DIR reloaded: another catalogue
    cores.check(text)
    assert calls == [text, text]


async def test_review_level_words_pass_the_gate_the_desk_holds_them(guarded, fake):
    bot, _ = guarded
    curt = "这个没办法修改的呢"
    assert check(curt).level == "review"
    await bot(_calls(curt)[0])
    assert [c.method for c in _customer_calls(fake)] == ["sendMessage"]
