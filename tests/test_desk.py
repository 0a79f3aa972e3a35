"""The support desk's rules at exact times (Asia/Shanghai, 08:00-12:00 and 14:00-18:00)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from bot.desk.agents import AgentDesk
from bot.desk.cores import Cores
from bot.desk.customers import CustomerRef, SupportDesk
from bot.desk.texts import NOTICE_DESK_FAILED, NOTICE_HUMAN, NOTICE_UNCIVIL_CLOSED
from bot.ops.settings import load_settings
from bot.store.sqlite import from_iso, open_storage
from guards import Verdict, check
from replies import classify, render
from replies.calendar import festival

TZ = ZoneInfo("Asia/Shanghai")


def classify_as(key: str, score: float):
    from replies import Intent

    return Intent(key, score)


ALICE = CustomerRef(42, 42, "张三", "zhangsan")
BOB = CustomerRef(43, 43, "李四", None)
AGENT = 7
HOURS = "每天 08:00-12:00、14:00-18:00"


def at(hour: int, minute: int = 0, second: int = 0, day: int = 23, month: int = 11) -> datetime:
    """2026-11-23 is a Monday."""
    return datetime(2026, month, day, hour, minute, second, tzinfo=TZ)


@pytest.fixture
def desk(settings):
    storage = open_storage(settings.db_path)
    yield SupportDesk(storage, settings)
    storage.close()


def keys(outcome) -> list[str]:
    return [r.key for r in outcome.replies]


def say(desk, text, when, who=ALICE, kind="text"):
    return desk.on_customer_message(who, text, kind, at=when)


@pytest.mark.parametrize(
    "steps",
    [
        # (time, expected off-hours script or None)
        [(at(11, 59), None), (at(12, 0), "off_hours_lunch"), (at(13, 59), None), (at(14, 0), None)],
        [
            (at(18, 0), "off_hours_closed"),
            (at(23, 30), None),
            (at(7, 59, day=24), None),
            (at(8, 0, day=24), None),
        ],
        [
            (at(12, 0), "off_hours_lunch"),
            (at(18, 0), "off_hours_closed"),
            (at(12, 30, day=24), "off_hours_lunch"),
        ],
        [(at(7, 0), "off_hours_closed"), (at(7, 59, 59), None), (at(12, 0), "off_hours_lunch")],
    ],
)
def test_off_hours_reply_once_per_stretch(desk, steps):
    for when, expected in steps:
        outcome = say(desk, "在吗", when)
        off = [k for k in keys(outcome) if k.startswith("off_hours")]
        assert off == ([expected] if expected else []), when
        assert outcome.off_hours == (not desk.schedule.is_open(when))


@pytest.mark.parametrize(
    ("when", "key", "values"),
    [
        (at(12, 30), "off_hours_lunch", {"reopen_at": "14:00"}),
        (at(18, 0), "off_hours_closed", {"reopen_at": "明天08:00", "hours": HOURS}),
        (at(3, 0), "off_hours_closed", {"reopen_at": "08:00", "hours": HOURS}),
    ],
)
def test_off_hours_wording_names_the_reopening(desk, when, key, values):
    outcome = say(desk, "你好", when)
    assert outcome.replies[0].text == render(key, **values)


def test_off_hours_per_customer(desk):
    assert keys(say(desk, "在吗", at(12, 5)))[0] == "off_hours_lunch"
    assert keys(say(desk, "在吗", at(12, 6), who=BOB))[0] == "off_hours_lunch"


def test_no_off_hours_reply_right_after_an_agent_answer(desk):
    say(desk, "你好", at(11, 50))
    assert AgentDesk(desk).on_agent_message(
        AGENT, "小王", ALICE.user_id, "您好，请问有什么可以帮您？", at=at(11, 58)
    ).allowed
    assert not any(k.startswith("off_hours") for k in keys(say(desk, "好的", at(12, 2))))
    assert keys(say(desk, "在吗", at(12, 4)))[0] == "off_hours_lunch"


@pytest.mark.parametrize("day", [date(2026, 11, 23), date(2026, 10, 1), date(2026, 1, 1), date(2026, 2, 17)])
def test_greeting_with_festival_variant_and_shop_name(desk, settings, day):
    outcome = say(desk, "你好", datetime(day.year, day.month, day.day, 10, 0, tzinfo=TZ))
    assert outcome.intent == "greeting"
    assert [r.text for r in outcome.replies] == [
        render("greeting", variant=festival(day), shop=settings.shop_name)
    ]
    assert settings.shop_name in outcome.replies[0].text


def test_start_command_greets_once_then_asks_more(desk):
    assert keys(say(desk, "/start", at(10, 0))) == ["greeting"]
    assert keys(say(desk, "你好", at(10, 1))) == ["ask_more"]


@pytest.mark.parametrize(
    ("text", "key", "values"),
    [
        ("你们客服几点上班", "service_hours", {"hours": HOURS}),
        ("你们网站付款安全吗", "security", {}),
        ("怎么修改收货地址", "how_to", {}),
        ("网页打不开", "site_problem", {}),
        ("帮我查一下天气", "out_of_scope", {}),
        ("建议你们以后多放点实拍图", "suggestion", {}),
        ("谢谢", "thanks", {}),
        ("你们服务真好", "praise", {}),
        ("再见", "closing", {}),
        ("你的工号是多少", "agent_identity", {"variant": "shop", "shop": "小米粒旗舰店"}),
    ],
)
def test_immediate_answers(desk, text, key, values):
    outcome = say(desk, text, at(10, 0))
    assert outcome.intent == classify(text).key
    assert [r.text for r in outcome.replies] == [render(key, **values)]


def test_agent_identity_names_the_handling_agent(desk):
    say(desk, "你好", at(10, 0))
    agents = AgentDesk(desk)
    answer = agents.on_agent_message(AGENT, "小王", ALICE.user_id, "您好，请问有什么可以帮您？", at=at(10, 1))
    engaged = say(desk, "你的工号是多少", at(10, 2))
    assert engaged.replies == ()  # the agent is answering: no script, the agent decides
    outcome = say(desk, "你的工号是多少", at(10, 20))
    assert [r.text for r in outcome.replies] == [render("agent_identity", agent_no=answer.agent_no)]


def test_ticket_numbers_count_per_day(desk):
    numbers = [
        say(desk, "我要投诉", at(10, 0)).ticket,
        say(desk, "我要投诉", at(10, 5), who=BOB).ticket,
        say(desk, "我要投诉", at(10, 0, day=24), who=CustomerRef(44, 44)).ticket,
    ]
    assert numbers == ["T20261123-0001", "T20261123-0002", "T20261124-0001"]
    assert all(re.fullmatch(r"T\d{8}-\d{4}", n) for n in numbers)


def test_complaint_receipt_carries_the_ticket_and_notice(desk):
    outcome = say(desk, "我要投诉，东西坏了", at(10, 0))
    assert [r.text for r in outcome.replies] == [render("complaint_receipt", ticket=outcome.ticket)]
    assert any(outcome.ticket in n for n in outcome.notices)


def test_the_snapshot_knows_whether_the_open_tickets_receipt_was_sent_in_its_conversation(desk):
    """The receipt is read with the conversation's scripts when the ticket is the conversation's own."""
    outcome = say(desk, "我要投诉，东西坏了", at(10, 0))
    storage = desk.storage
    customer = storage.customer(ALICE.user_id)
    conv = storage.current_conversation(customer.id, at(10, 1))
    assert desk.snapshot(customer, conv, at(10, 1)).open_ticket.receipt_sent
    assert storage.script_sent(conv.id, "complaint_receipt")
    storage.db.execute(
        "DELETE FROM outbox WHERE message_id IN (SELECT id FROM messages WHERE script_key = ?)",
        ["complaint_receipt"],
    )
    storage.db.execute("DELETE FROM messages WHERE script_key = ?", ["complaint_receipt"])
    state = desk.snapshot(customer, conv, at(10, 1))
    assert outcome.ticket and state.open_ticket.number == outcome.ticket
    assert not state.open_ticket.receipt_sent


def test_ticket_due_inside_a_window_that_crossed_midnight(db_path):
    # 22:00-02:00 on Monday-Friday: Saturday 01:00 belongs to Friday's window (issue 17, item 15).
    settings = load_settings(db_path=db_path, working_days="mon-fri", business_hours="22:00-02:00")
    desk = SupportDesk(open_storage(db_path), settings)
    say(desk, "我要投诉", at(1, 0, day=28))
    ticket = desk.storage.open_ticket(ALICE.user_id)
    assert from_iso(ticket.due_answer_at) == at(1, 0, day=1, month=12)  # in Monday's window
    assert from_iso(ticket.due_settle_at) == at(1, 0, day=5, month=12)  # in Friday's window
    assert desk.schedule.is_open(from_iso(ticket.due_answer_at))


@pytest.mark.parametrize(
    ("days", "created", "answer_by", "settle_by"),
    [
        ("mon-sun", at(10, 0), at(10, 0, day=24), at(10, 0, day=28)),
        ("mon-fri", at(10, 0, day=27), at(10, 0, day=30), at(10, 0, day=4, month=12)),
        ("mon-fri", at(20, 0, day=27), at(8, 0, day=1, month=12), at(8, 0, day=7, month=12)),
    ],
)
def test_ticket_due_times_follow_the_sla_in_working_days(db_path, days, created, answer_by, settle_by):
    settings = load_settings(db_path=db_path, working_days=days)
    desk = SupportDesk(open_storage(db_path), settings)
    number = say(desk, "我要投诉", created).ticket
    ticket = desk.storage.open_ticket(ALICE.user_id)
    assert ticket.number == number
    assert from_iso(ticket.due_answer_at) == answer_by
    assert from_iso(ticket.due_settle_at) == settle_by


@pytest.mark.parametrize(
    ("later", "variant"),
    [(timedelta(hours=1), None), (timedelta(days=1, minutes=1), "overdue")],
)
def test_followup_finds_the_ticket_flags_it_urgent(desk, later, variant):
    number = say(desk, "我要投诉", at(10, 0)).ticket
    outcome = say(desk, "我上次投诉的怎么还没处理", at(10, 0) + later)
    assert outcome.intent == "complaint_followup"
    assert [r.text for r in outcome.replies] == [render("complaint_followup", variant=variant, ticket=number)]
    assert [(r.key, r.variant) for r in outcome.replies] == [("complaint_followup", variant)]
    ticket = desk.storage.open_ticket(ALICE.user_id)
    assert (ticket.urgent, ticket.followups) == (1, 1)


def test_followup_without_ticket_opens_one(desk):
    outcome = say(desk, "我上次投诉的怎么还没处理", at(10, 0))
    assert keys(outcome) == ["complaint_receipt"] and outcome.ticket


def test_traditional_characters(desk):
    text = "我要投訴，東西壞了"
    outcome = say(desk, text, at(10, 0))
    assert outcome.intent == "complaint" and keys(outcome) == ["complaint_receipt"]
    assert desk.storage.message(outcome.message_id).text == text


@pytest.mark.parametrize(("text", "kind"), [(None, "sticker"), ("", "text"), ("   ", "text")])
def test_no_content_reply(desk, text, kind):
    outcome = say(desk, text, at(10, 0), kind=kind)
    assert outcome.intent is None
    assert [r.text for r in outcome.replies] == [render("no_content")]
    assert desk.storage.message(outcome.message_id).content_kind == kind


@pytest.mark.parametrize("kind", ["photo", "video", "document", "voice", "video_note", "location", "contact"])
def test_media_without_caption_is_for_a_person_not_no_content(desk, kind):
    """Issue 17 item 2: a photo of a broken parcel IS the question: no no_content; the busy timer starts."""
    outcome = say(desk, None, at(10, 0), kind=kind)
    assert outcome.replies == ()
    assert desk.storage.current_conversation(ALICE.user_id, at(10, 0)).waiting_since is not None


def test_media_caption_is_judged(desk):
    outcome = say(desk, "我要投诉", at(10, 0), kind="photo")
    assert outcome.intent == "complaint" and keys(outcome) == ["complaint_receipt"]


def test_uncivil_ladder_closes_and_agent_reopens(desk):
    steps = [say(desk, text, at(10, i)) for i, text in enumerate(["傻逼", "去你妈的", "傻逼"])]
    assert [keys(o) for o in steps] == [["uncivil_1"], ["uncivil_2"], ["uncivil_3"]]
    assert steps[2].notices == (NOTICE_UNCIVIL_CLOSED,)
    assert desk.storage.conversation(steps[2].conversation_id).status == "closed_uncivil"
    after = say(desk, "你好", at(10, 5))
    assert after.replies == () and after.notices
    assert desk.storage.message(after.message_id).text == "你好"  # still stored
    assert desk.reopen(ALICE.user_id, at(10, 6))
    assert keys(say(desk, "傻逼", at(10, 7))) == ["uncivil_1"]


def test_human_request_retains_twice_then_hands_over(desk):
    outcomes = [say(desk, "转人工", at(10, i)) for i in range(4)]
    assert [keys(o) for o in outcomes] == [
        ["human_request_1"],
        ["human_request_2"],
        ["human_handover"],
        ["waiting"],
    ]
    assert [NOTICE_HUMAN in o.notices for o in outcomes] == [False, False, True, True]


def test_unclear_asks_once_per_conversation(desk):
    plain = say(desk, "asdfgh", at(10, 0))
    assert plain.intent == "unclear"
    assert [r.text for r in plain.replies] == [render("unclear")]
    again = say(desk, "。。。", at(10, 1))
    assert again.intent == "unclear" and again.replies == ()


@pytest.mark.parametrize("text", ["好的", "嗯嗯", "收到", "👍"])
def test_acknowledgements_get_nothing(desk, text):
    outcome = say(desk, text, at(10, 0))
    assert outcome.intent == "other" and outcome.replies == ()


def test_a_suggestion_ignored_when_the_agent_answers_in_own_words(desk, settings):
    from bot.store.sqlite import open_storage as reopen

    cores = replace(Cores.installed(), classify=lambda text, platforms=None: classify_as("complaint", 0.3))
    staffed = SupportDesk(
        reopen(settings.db_path), settings.model_copy(update={"staff_chat_id": -100}), cores=cores
    )
    outcome = staffed.on_customer_message(ALICE, "东西好像不太对", at=at(10, 0), telegram_message_id=9)
    assert outcome.replies == () and len(outcome.suggestions) == 1
    AgentDesk(staffed).on_agent_message(
        AGENT, "小王", ALICE.user_id, "您好，请您拍张照片给我看看", at=at(10, 1)
    )
    rows = staffed.storage.rows("SELECT intent, status FROM suggestions")
    assert rows == [{"intent": "complaint", "status": "ignored"}]
    assert staffed.send_suggestion(outcome.suggestions[0], AGENT, "小王", at(10, 2)) is None


def test_edit_is_a_new_version(desk):
    first = desk.on_customer_message(ALICE, "我要退", at=at(10, 0), telegram_message_id=5)
    edit = desk.on_customer_edit(ALICE, "我要投诉", at=at(10, 1), telegram_message_id=5)
    again = desk.on_customer_edit(ALICE, "我要投诉!", at=at(10, 2), telegram_message_id=5)
    assert (edit.version, again.version) == (2, 3) and edit.replies == ()
    rows = [m for m in desk.storage.messages(ALICE.user_id) if m.direction == "in"]
    assert [(m.version, m.edit_of, m.text) for m in rows] == [
        (1, None, "我要退"),
        (2, first.message_id, "我要投诉"),
        (3, edit.message_id, "我要投诉!"),
    ]


@pytest.mark.parametrize(
    ("written", "swept", "busy"),
    [
        (at(10, 0), [at(10, 0, 59)], [False]),
        (at(10, 0), [at(10, 1, 0), at(10, 5)], [True, False]),
        (at(11, 59, 30), [at(12, 0, 30), at(13, 59), at(14, 0, 30)], [False, False, True]),
        (at(18, 30), [at(7, 0, day=24), at(8, 0, 59, day=24), at(8, 1, 0, day=24)], [False, False, True]),
    ],
)
def test_busy_reply_once_after_business_seconds(desk, written, swept, busy):
    say(desk, "你好", written)
    results = [desk.due_busy_replies(when) for when in swept]
    assert [bool(r) for r in results] == busy
    for result in results:
        assert all(o.replies[0].text == render("busy") for o in result)


def test_busy_reply_cancelled_by_agent_answer(desk):
    say(desk, "你好", at(10, 0))
    AgentDesk(desk).on_agent_message(
        AGENT, "小王", ALICE.user_id, "您好，请问有什么可以帮您？", at=at(10, 0, 30)
    )
    assert desk.due_busy_replies(at(10, 5)) == []
    say(desk, "我要投诉", at(10, 6))
    assert len(desk.due_busy_replies(at(10, 7))) == 1


def test_settled_answers_do_not_start_the_busy_timer(desk):
    say(desk, "谢谢", at(10, 0))
    assert desk.due_busy_replies(at(10, 5)) == []


def test_busy_state_survives_a_restart(settings):
    first = SupportDesk(open_storage(settings.db_path), settings)
    say(first, "你好", at(10, 0))
    first.storage.close()
    second = SupportDesk(open_storage(settings.db_path), settings)
    assert len(second.due_busy_replies(at(10, 2))) == 1
    assert second.due_busy_replies(at(10, 3)) == []


def test_agent_message_blocked_by_the_guard(desk):
    say(desk, "你好", at(10, 0))
    text = "喂，大声一点儿！"
    result = AgentDesk(desk).on_agent_message(AGENT, "小王", ALICE.user_id, text, at=at(10, 1))
    verdict = check(text)
    assert not result.allowed and result.verdict == verdict
    event = desk.storage.db.execute("SELECT allowed, hits, source, text FROM guard_events").fetchone()
    assert event[0] == 0 and event[2:] == ("agent", text)
    assert json.loads(event[1]) == verdict.to_dict()["hits"]
    sent = [r for r in desk.storage.outbox() if r.params.get("text") == text]
    assert sent == []


def test_own_reply_blocked_by_the_guard_is_held_back(desk):
    hit_all = Verdict(allowed=False, hits=(), suggestion=None)
    desk.cores = replace(desk.cores, guard=SimpleNamespace(check=lambda text: hit_all))
    outcome = say(desk, "你好", at(10, 0))
    assert outcome.replies == () and [r.key for r in outcome.held_back] == ["greeting"]
    assert desk.storage.outbox() == []
    row = desk.storage.db.execute("SELECT source, allowed FROM guard_events").fetchone()
    assert row == ("bot", 0)


def test_failing_guard_holds_the_agent_message(desk):
    say(desk, "你好", at(10, 0))

    def broken(text):
        raise RuntimeError("catalogue gone")

    desk.cores = replace(desk.cores, guard=SimpleNamespace(check=broken))
    result = AgentDesk(desk).on_agent_message(AGENT, "小王", ALICE.user_id, "好的", at=at(10, 1))
    assert not result.allowed and result.verdict is None and "catalogue gone" in result.error


def test_message_stored_before_deciding(desk):
    def explode(text):
        raise RuntimeError("classifier down")

    desk.cores = replace(desk.cores, classify=explode)
    outcome = say(desk, "你好", at(10, 0))
    assert [m.text for m in desk.storage.messages(ALICE.user_id)] == ["你好"]
    assert outcome.replies == () and outcome.notices == (NOTICE_DESK_FAILED,)


def intents(desk, who=ALICE):
    return [m.intent for m in desk.storage.messages(who.user_id) if m.direction == "in"]


def test_the_intent_is_stored_with_the_message_and_a_failed_decision_leaves_none(desk):
    # The intent goes in the message's INSERT (issue 15): a decision that fails after classifying (here
    # the snapshot's read) must leave the row without one, as when the intent was written on success.
    say(desk, "你们几点下班", at(10, 0))
    assert intents(desk) == ["service_hours"]

    def broken(*args):
        raise RuntimeError("snapshot gone")

    desk.snapshot = broken
    outcome = say(desk, "你们几点下班", at(10, 1))
    assert outcome.replies == () and outcome.notices == (NOTICE_DESK_FAILED,)
    assert intents(desk) == ["service_hours", None]


def test_a_banned_customers_message_is_stored_without_an_intent(desk):
    say(desk, "你们几点下班", at(10, 0))
    desk.storage.set_banned(ALICE.user_id, at(10, 1))
    outcome = say(desk, "你们几点下班", at(10, 2))
    assert outcome.banned and intents(desk) == ["service_hours", None]


def test_a_replayed_update_is_not_answered_twice(desk):
    first = desk.on_customer_message(ALICE, "你好", at=at(10, 0), telegram_message_id=77)
    again = desk.on_customer_message(ALICE, "你好", at=at(10, 0), telegram_message_id=77)
    assert first.replies and not first.duplicate
    assert again.duplicate and again.replies == () and again.message_id == first.message_id
    assert len(desk.storage.messages(ALICE.user_id)) == len(first.replies) + 1


def test_a_fresh_message_is_not_looked_for_as_a_replay(desk):
    ran: list[str] = []
    desk.storage.db.conn.set_trace_callback(ran.append)
    desk.on_customer_message(ALICE, "你好", at=at(10, 0), telegram_message_id=78, fresh=True)
    desk.on_customer_message(ALICE, "在吗", at=at(10, 1), telegram_message_id=79)
    desk.storage.db.conn.set_trace_callback(None)
    looks = [s for s in ran if s.startswith("SELECT * FROM messages WHERE chat_id")]
    assert len(looks) == 1  # the second one only (not known fresh: a replay may find it stored)


def test_an_update_handled_after_downtime_gets_no_stale_off_hours_reply(desk):
    # Written at 20:00 (closed), handled at 09:00 the next morning (open): 「明天08:00」 would be false.
    late = desk.on_customer_message(ALICE, "我的快递到哪了", at=at(20, 0), now=at(9, 0, day=24))
    assert not any(r.key.startswith("off_hours") for r in late.replies)
    # Handled at 01:00 (still closed): the reopening is told from then.
    other = desk.on_customer_message(BOB, "我的快递到哪了", at=at(20, 0), now=at(1, 0, day=24))
    [notice] = [r for r in other.replies if r.key == "off_hours_closed"]
    assert "请您在08:00后" in notice.text
