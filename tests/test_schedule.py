"""The business-hours clock and the holiday calendar: exact answers at chosen instants, no clock read."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.ops.settings import load_settings, parse_business_hours
from replies.calendar import festival, is_holiday_break, is_makeup_workday
from replies.schedule import Schedule, reopen_text

SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NY = ZoneInfo("America/New_York")
DEFAULT = parse_business_hours("08:00-12:00,14:00-18:00")


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0, tz: ZoneInfo = SH) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=tz)


def shop(hours: str = "08:00-12:00,14:00-18:00", tz: ZoneInfo = SH, **kw) -> Schedule:
    return Schedule(windows=parse_business_hours(hours), tz=tz, **kw)


# 2026-03-02 is a Monday.
@pytest.mark.parametrize(
    ("moment", "is_open", "kind", "opening", "stretch"),
    [
        (at(2026, 3, 2, 7, 59), False, "closed", at(2026, 3, 2, 8), at(2026, 3, 1, 18)),
        (at(2026, 3, 2, 8), True, None, at(2026, 3, 2, 8), None),
        (at(2026, 3, 2, 11, 59), True, None, at(2026, 3, 2, 11, 59), None),
        (at(2026, 3, 2, 12), False, "lunch", at(2026, 3, 2, 14), at(2026, 3, 2, 12)),
        (at(2026, 3, 2, 13, 30), False, "lunch", at(2026, 3, 2, 14), at(2026, 3, 2, 12)),
        (at(2026, 3, 2, 14), True, None, at(2026, 3, 2, 14), None),
        (at(2026, 3, 2, 18), False, "closed", at(2026, 3, 3, 8), at(2026, 3, 2, 18)),
        (at(2026, 3, 2, 23, 59), False, "closed", at(2026, 3, 3, 8), at(2026, 3, 2, 18)),
        # the same instant given in another zone
        (
            datetime(2026, 3, 2, 5, 0, tzinfo=ZoneInfo("UTC")),
            False,
            "lunch",
            at(2026, 3, 2, 14),
            at(2026, 3, 2, 12),
        ),
    ],
)
def test_default_hours_through_a_day(moment, is_open, kind, opening, stretch):
    s = shop()
    assert s.is_open(moment) is is_open
    assert s.off_hours_kind(moment) == kind
    assert s.next_opening(moment) == opening
    assert s.stretch_start(moment) == stretch


def test_next_opening_is_in_the_shop_zone():
    opening = shop().next_opening(datetime(2026, 3, 2, 12, 0, tzinfo=ZoneInfo("UTC")))
    assert opening.tzinfo == SH
    assert opening.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize(
    ("hours", "moment", "is_open", "opening"),
    [
        ("22:00-02:00", at(2026, 3, 2, 23), True, at(2026, 3, 2, 23)),
        ("22:00-02:00", at(2026, 3, 3, 1, 59), True, at(2026, 3, 3, 1, 59)),
        ("22:00-02:00", at(2026, 3, 3, 2), False, at(2026, 3, 3, 22)),
        ("20:00-24:00", at(2026, 3, 2, 23, 59), True, at(2026, 3, 2, 23, 59)),
        ("20:00-24:00", at(2026, 3, 3, 0), False, at(2026, 3, 3, 20)),
        ("00:00-12:00,12:00-24:00", at(2026, 3, 3, 0), True, at(2026, 3, 3, 0)),
    ],
)
def test_windows_across_midnight(hours, moment, is_open, opening):
    s = shop(hours)
    assert s.is_open(moment) is is_open
    assert s.next_opening(moment) == opening


def test_night_window_belongs_to_the_day_it_starts():
    # Open Mon-Fri 22:00-02:00: Friday's window runs into Saturday, Saturday opens nothing.
    s = shop("22:00-02:00", working_days=frozenset(range(5)))
    assert s.is_open(at(2026, 3, 7, 1))  # Saturday 01:00, Friday's window
    assert not s.is_open(at(2026, 3, 7, 23))  # Saturday night
    assert s.next_opening(at(2026, 3, 7, 3)) == at(2026, 3, 9, 22)  # Monday 22:00
    assert s.off_hours_kind(at(2026, 3, 7, 3)) == "closed"


def test_gap_after_a_night_window_is_not_lunch():
    s = shop("08:00-12:00,22:00-02:00")
    assert s.off_hours_kind(at(2026, 3, 3, 5)) == "closed"  # between Monday's night and Tuesday's morning
    # between Tuesday's two windows, but a 10-hour gap is no lunch break (issue 17, item 14)
    assert s.off_hours_kind(at(2026, 3, 3, 15)) == "closed"


@pytest.mark.parametrize(
    ("moment", "opening"),
    [
        (at(2026, 3, 6, 18), at(2026, 3, 9, 8)),  # Friday evening → Monday
        (at(2026, 3, 7, 10), at(2026, 3, 9, 8)),  # Saturday
        (at(2026, 3, 8, 23), at(2026, 3, 9, 8)),  # Sunday night
    ],
)
def test_weekend_closed(moment, opening):
    s = shop(working_days=frozenset(range(5)))
    assert not s.is_open(moment)
    assert s.off_hours_kind(moment) == "closed"
    assert s.next_opening(moment) == opening
    assert s.stretch_start(moment) == at(2026, 3, 6, 18)


def test_weekends_open_by_default():
    assert shop().is_open(at(2026, 3, 7, 10))


def test_closed_dates():
    s = shop(closed_dates=frozenset({date(2026, 3, 3)}))
    assert not s.is_open(at(2026, 3, 3, 10))
    assert s.next_opening(at(2026, 3, 2, 19)) == at(2026, 3, 4, 8)
    assert s.stretch_start(at(2026, 3, 3, 15)) == at(2026, 3, 2, 18)
    assert s.off_hours_kind(at(2026, 3, 3, 13)) == "closed"


@pytest.mark.parametrize(
    ("moment", "opening"),
    [
        (at(2026, 10, 1, 10), at(2026, 10, 8, 8)),  # 国庆 break 10/1-10/7 (10/4 is a Sunday inside it)
        (at(2026, 10, 4, 10), at(2026, 10, 8, 8)),
        (at(2026, 2, 16, 9), at(2026, 2, 24, 8)),  # 春节 break 2/15-2/23
        (at(2026, 2, 14, 7), at(2026, 2, 14, 8)),  # Saturday worked in exchange (调休) is open
        (at(2026, 5, 1, 9), at(2026, 5, 6, 8)),  # 劳动节 5/1-5/5
    ],
)
def test_closed_on_chinese_holidays(moment, opening):
    s = shop(closed_on_holidays=True)
    assert s.next_opening(moment) == opening
    assert not shop(closed_on_holidays=True).is_open(opening - timedelta(minutes=1))


def test_makeup_saturday_opens_even_off_the_working_days():
    s = shop(working_days=frozenset(range(5)), closed_on_holidays=True)
    assert s.is_open(at(2026, 2, 14, 9))  # Saturday, a 调休 working day
    assert not shop(working_days=frozenset(range(5))).is_open(at(2026, 2, 14, 9))


def test_holidays_ignored_unless_asked():
    assert shop().is_open(at(2026, 10, 1, 10))


@pytest.mark.parametrize(
    ("hours", "day", "tz", "real_hours"),
    [
        ("08:00-12:00,14:00-18:00", date(2026, 3, 29), BERLIN, 8),
        ("01:00-04:00", date(2026, 3, 29), BERLIN, 2),  # 02:00-03:00 does not exist that night
        ("01:00-04:00", date(2026, 10, 25), BERLIN, 4),  # 02:00-03:00 happens twice
        ("00:00-12:00,12:00-24:00", date(2026, 3, 29), BERLIN, 23),
        ("00:00-12:00,12:00-24:00", date(2026, 10, 25), BERLIN, 25),
        ("00:00-12:00,12:00-24:00", date(2026, 3, 8), NY, 23),
        ("00:00-12:00,12:00-24:00", date(2026, 11, 1), NY, 25),
    ],
)
def test_business_seconds_across_dst_switches(hours, day, tz, real_hours):
    s = shop(hours, tz=tz)
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    assert s.business_seconds(start, end) == real_hours * 3600


def test_next_opening_across_spring_forward():
    s = shop(tz=BERLIN)
    opening = s.next_opening(at(2026, 3, 28, 20, tz=BERLIN))
    assert opening == at(2026, 3, 29, 8, tz=BERLIN)
    assert opening.utcoffset() == timedelta(hours=2)
    assert s.is_open(at(2026, 3, 29, 8, tz=BERLIN))


def test_next_opening_across_fall_back_new_york():
    s = shop(tz=NY)
    assert s.next_opening(at(2026, 10, 31, 19, tz=NY)) == at(2026, 11, 1, 8, tz=NY)
    assert s.next_opening(at(2026, 10, 31, 19, tz=NY)).utcoffset() == timedelta(hours=-5)


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        (at(2026, 3, 2, 0), at(2026, 3, 3, 0), 8),
        (at(2026, 3, 2, 11), at(2026, 3, 2, 15), 2),
        (at(2026, 3, 2, 12), at(2026, 3, 2, 14), 0),
        (at(2026, 3, 2, 17), at(2026, 3, 3, 9), 2),
        (at(2026, 3, 3, 0), at(2026, 3, 2, 0), 0),
    ],
)
def test_business_seconds(start, end, hours):
    assert shop().business_seconds(start, end) == hours * 3600


def test_business_seconds_skip_holidays_when_closed():
    s = shop(closed_on_holidays=True)
    assert s.business_seconds(at(2026, 9, 30, 0), at(2026, 10, 9, 0)) == 2 * 8 * 3600  # 9/30 and 10/8


def test_naive_datetime_is_refused():
    with pytest.raises(ValueError, match="time zone"):
        shop().is_open(datetime(2026, 3, 2, 9))


@pytest.mark.parametrize(
    "kwargs", [{"windows": ()}, {"working_days": frozenset()}, {"working_days": frozenset({7})}]
)
def test_invalid_schedule(kwargs):
    with pytest.raises(ValueError):
        Schedule(**{"windows": DEFAULT, "tz": SH, **kwargs})


def test_from_settings(monkeypatch):
    monkeypatch.setenv("KEFU_BUSINESS_HOURS", "09:00-21:00")
    monkeypatch.setenv("KEFU_TIMEZONE", "Europe/Berlin")
    monkeypatch.setenv("KEFU_WORKING_DAYS", "mon-fri")
    monkeypatch.setenv("KEFU_CLOSED_DATES", "2026-12-24")
    s = Schedule.from_settings(load_settings())
    assert s.tz == BERLIN
    assert s.hours_text == "周一至周五 09:00-21:00"
    assert not s.is_open(at(2026, 12, 24, 10, tz=BERLIN))
    assert s.next_opening(at(2026, 12, 24, 10, tz=BERLIN)) == at(2026, 12, 25, 9, tz=BERLIN)


@pytest.mark.parametrize(
    ("opening", "now", "text"),
    [
        (at(2026, 3, 2, 14), at(2026, 3, 2, 12, 30), "14:00"),
        (at(2026, 3, 3, 8), at(2026, 3, 2, 19), "明天08:00"),
        (at(2026, 3, 4, 8), at(2026, 3, 2, 19), "后天08:00"),
        (at(2026, 10, 8, 8), at(2026, 10, 1, 9), "10月8日（周四）08:00"),
    ],
)
def test_reopen_text(opening, now, text):
    assert reopen_text(opening, now) == text


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 1, 1), "new_year"),
        (date(2026, 2, 17), "new_year"),
        (date(2026, 2, 21), "new_year"),  # weekend inside the 春节 break
        (date(2026, 2, 23), "new_year"),  # day off bridging to the break
        (date(2026, 2, 14), None),  # worked Saturday
        (date(2026, 5, 1), "festival"),
        (date(2026, 6, 19), "festival"),
        (date(2026, 9, 25), "festival"),
        (date(2026, 10, 7), "festival"),
        (date(2026, 4, 5), None),  # 清明: no greeting variant
        (date(2026, 3, 2), None),
        (date(2026, 12, 25), None),
    ],
)
def test_festival(day, expected):
    assert festival(day) == expected


def test_calendar_helpers():
    assert is_makeup_workday(date(2026, 2, 28))
    assert not is_makeup_workday(date(2026, 3, 7))
    assert is_holiday_break(date(2026, 10, 4))
    assert not is_holiday_break(date(2026, 3, 7))


@pytest.mark.parametrize(
    ("hours", "tz", "kw"),
    [
        ("08:00-12:00,14:00-18:00", SH, {}),
        ("22:00-02:00", SH, {}),
        ("00:00-24:00", SH, {}),
        ("09:00-17:00,20:00-01:30", BERLIN, {"working_days": frozenset(range(5))}),
        ("09:00-17:00", NY, {"closed_dates": frozenset({date(2026, 3, 9)})}),
    ],
)
def test_is_open_looks_at_two_days_and_agrees_with_the_merged_intervals_every_quarter_hour(hours, tz, kw):
    schedule = shop(hours, tz, **kw)
    moment = at(2026, 3, 5, tz=tz)  # across a weekend, a closed date and New York's spring-forward
    for _ in range(10 * 24 * 4):
        current, _, _ = schedule._around(moment)
        assert schedule.is_open(moment) is (current is not None), moment
        moment += timedelta(minutes=15)
