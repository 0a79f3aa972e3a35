"""Issue 17, calendar: the hours text names the days, the holiday data is checked, lunch means lunch,
SLA counts from the day a window opened, overlaps across midnight are refused (each failed before)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.ops.settings import ConfigError, load_settings, parse_business_hours
from replies.calendar import missing_official_years, official_years
from replies.schedule import Schedule

SH = ZoneInfo("Asia/Shanghai")


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SH)


def shop(hours: str = "08:00-12:00,14:00-18:00", **kw) -> Schedule:
    return Schedule(windows=parse_business_hours(hours), tz=SH, **kw)


# 11. The hours text names the working days and the holiday closure.
@pytest.mark.parametrize(
    ("kw", "text"),
    [
        ({}, "每天 08:00-12:00、14:00-18:00"),
        ({"working_days": frozenset(range(5))}, "周一至周五 08:00-12:00、14:00-18:00"),
        (
            {"working_days": frozenset(range(5)), "closed_on_holidays": True},
            "周一至周五 08:00-12:00、14:00-18:00（法定节假日休息）",
        ),
        ({"working_days": frozenset({5, 6})}, "周六、周日 08:00-12:00、14:00-18:00"),
        ({"working_days": frozenset({0, 2, 4})}, "周一、周三、周五 08:00-12:00、14:00-18:00"),
        ({"working_days": frozenset({0, 1, 2, 3, 4, 6})}, "周一至周五、周日 08:00-12:00、14:00-18:00"),
        ({"working_days": frozenset({5, 6, 0})}, "周一、周六、周日 08:00-12:00、14:00-18:00"),
        ({"closed_on_holidays": True}, "每天 08:00-12:00、14:00-18:00（法定节假日休息）"),
    ],
)
def test_hours_text_names_the_days(kw, text):
    assert shop(**kw).hours_text == text


def test_settings_text_is_the_schedules(monkeypatch):
    monkeypatch.setenv("KEFU_WORKING_DAYS", "mon-fri")
    monkeypatch.setenv("KEFU_CLOSED_ON_HOLIDAYS", "true")
    settings = load_settings()
    assert settings.business_hours_text == "周一至周五 08:00-12:00、14:00-18:00（法定节假日休息）"


# 12. The holiday data: official years known, a missing one reported, dates overridable.
def test_official_years_include_2026():
    assert 2026 in official_years()


def test_a_year_without_an_official_schedule_is_reported():
    assert missing_official_years(date(2026, 11, 30)) == [2027] or 2027 in official_years()
    assert missing_official_years(date(2099, 1, 1)) == [2099, 2100]


def test_open_dates_override_a_holiday_and_a_weekend():
    s = shop(working_days=frozenset(range(5)), closed_on_holidays=True,
             open_dates=frozenset({date(2026, 10, 3), date(2026, 3, 7)}))
    assert s.is_open(at(2026, 10, 3, 9))  # National Day, opened by the shop
    assert s.is_open(at(2026, 3, 7, 9))  # a Saturday
    assert not s.is_open(at(2026, 10, 2, 9))


def test_open_dates_from_settings(monkeypatch):
    monkeypatch.setenv("KEFU_OPEN_DATES", "2026-10-03")
    assert load_settings().open_dates == frozenset({date(2026, 10, 3)})


def test_a_date_both_open_and_closed_is_refused(monkeypatch):
    monkeypatch.setenv("KEFU_OPEN_DATES", "2026-10-03")
    monkeypatch.setenv("KEFU_CLOSED_DATES", "2026-10-03")
    with pytest.raises(ConfigError, match="KEFU_OPEN_DATES"):
        load_settings()


def test_holidays_floor_has_the_2026_schedule():
    import tomllib
    from pathlib import Path

    deps = tomllib.loads(Path(__file__).parent.parent.joinpath("pyproject.toml").read_text())["project"]
    floor = next(d for d in deps["dependencies"] if d.startswith("holidays"))
    assert floor == "holidays>=0.85"  # 0.85 is the first release with the State Council's 2026 notice


# 14. Lunch only for the midday gap the documents mean.
@pytest.mark.parametrize(
    ("hours", "moment", "kind"),
    [
        ("08:00-12:00,14:00-18:00", at(2026, 3, 2, 13), "lunch"),
        ("08:30-11:30,13:00-17:30", at(2026, 3, 2, 12), "lunch"),
        ("08:00-12:00,19:00-22:00", at(2026, 3, 2, 16), "closed"),
        ("08:00-10:00,16:00-22:00", at(2026, 3, 2, 12), "closed"),
        ("06:00-08:00,09:00-12:00", at(2026, 3, 2, 8, 30), "closed"),
    ],
)
def test_lunch_is_the_midday_gap(hours, moment, kind):
    assert shop(hours).off_hours_kind(moment) == kind


# 15. Working days are counted from the day the window opened.
def test_sla_across_a_midnight_window():
    # 22:00-02:00 on Monday to Friday; Saturday 01:00 belongs to Friday's window.
    s = shop("22:00-02:00", working_days=frozenset(range(5)))
    start = at(2026, 3, 7, 1)  # Saturday 01:00 (window opened Friday 2026-03-06)
    assert s.is_open(start)
    due = s.add_working_days(start, 1)
    assert due == at(2026, 3, 10, 1)  # Monday's window, Tuesday 01:00
    assert s.is_open(due)
    assert s.business_seconds(start, due) == timedelta(hours=4).total_seconds()


def test_sla_in_an_ordinary_day():
    s = shop(working_days=frozenset(range(5)))
    assert s.add_working_days(at(2026, 3, 6, 15), 1) == at(2026, 3, 9, 15)  # Friday → Monday
    assert s.add_working_days(at(2026, 3, 6, 15), 5) == at(2026, 3, 13, 15)


# 16. Overlapping windows across midnight are refused.
@pytest.mark.parametrize(
    "spec", ["22:00-02:00,01:00-05:00", "20:00-03:00,02:00-04:00", "00:00-24:00,08:00-09:00"]
)
def test_overlap_across_midnight_is_refused(spec):
    with pytest.raises(ValueError, match="overlap"):
        parse_business_hours(spec)


@pytest.mark.parametrize("spec", ["22:00-02:00,02:00-05:00", "08:00-12:00,22:00-02:00"])
def test_touching_windows_across_midnight_are_fine(spec):
    assert parse_business_hours(spec)


def test_start_up_warns_about_a_year_without_official_holidays():
    from bot.ops.runner import calendar_warnings

    [first, second] = calendar_warnings(date(2099, 6, 1))
    assert "2099" in first and "KEFU_OPEN_DATES" in first and "2100" in second
    assert calendar_warnings(date(2026, 1, 5)) == [] or "2027" in calendar_warnings(date(2026, 1, 5))[0]
