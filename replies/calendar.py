"""China's public holidays (from the maintained ``holidays`` package) and the festival greetings they choose.

The documents greet with "新年好" on 元旦/春节 and "节日好" on 五一/端午/中秋/国庆 (003 第5篇 (一)开始语);
a bridging day off (调休) or an observed day counts as part of the festival it belongs to.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import lru_cache

import holidays

__all__ = [
    "festival",
    "is_holiday_break",
    "is_makeup_workday",
    "is_public_holiday",
    "missing_official_years",
    "official_years",
]

# Substrings of the package's English holiday names → greeting variant; 清明 has no greeting.
_FESTIVAL_NAMES: tuple[tuple[str, str], ...] = (
    ("New Year", "new_year"),  # New Year's Day, Chinese New Year, Chinese New Year's Eve
    ("Spring Festival", "new_year"),
    ("Labor Day", "festival"),
    ("Labour Day", "festival"),
    ("Dragon Boat", "festival"),
    ("Mid-Autumn", "festival"),
    ("National Day", "festival"),
)
_SUBSTITUTED = re.compile(r"substituted from (\d{2})/(\d{2})/(\d{4})")
# How far a bridging day off may sit from its named holiday (weekends and other days off in between).
_BRIDGE_DAYS = 7


@lru_cache(maxsize=1)
def _calendar() -> holidays.HolidayBase:
    return holidays.China(language="en_US")


def _names(day: date) -> list[str]:
    name = _calendar().get(day)
    return name.split("; ") if name else []


def _named_festival(day: date) -> str | None:
    for name in _names(day):
        for needle, variant in _FESTIVAL_NAMES:
            if needle in name:
                return variant
    return None


@lru_cache(maxsize=64)
def _makeup_days(year: int) -> frozenset[date]:
    cal = _calendar()
    days: set[date] = set()
    for y in (year - 1, year, year + 1):
        _ = date(y, 1, 1) in cal  # the package fills in a year on first look-up
    for name in cal.values():
        for month, dom, y in _SUBSTITUTED.findall(name):
            if int(y) == year:
                days.add(date(int(y), int(month), int(dom)))
    return frozenset(days)


def official_years() -> frozenset[int]:
    """Return the years for which the package carries the State Council's notice (its in-lieu days).

    Other years are the package's guess from the rules: the lunar dates are right, but the bridging
    days off and the worked weekends (调休) are missing, so a holiday-closed shop would be wrong.
    """
    return frozenset(_calendar().special_public_holidays)


def missing_official_years(today: date) -> list[int]:
    """Return this year and next year when they have no official schedule in the package, else ``[]``."""
    known = official_years()
    return [year for year in (today.year, today.year + 1) if year not in known]


def is_makeup_workday(day: date) -> bool:
    """Return True when ``day`` is a weekend day worked in exchange for a holiday day off (调休上班)."""
    return day in _makeup_days(day.year)


def is_public_holiday(day: date) -> bool:
    """Return True when ``day`` is a public holiday or statutory day off in mainland China."""
    return day in _calendar()


def festival(day: date) -> str | None:
    """Return ``"new_year"`` (元旦/春节 holiday), ``"festival"`` (五一/端午/中秋/国庆 holiday) or None.

    A substituted day off or an observed day takes the festival of the holiday block it belongs to.
    >>> festival(date(2026, 2, 17)), festival(date(2025, 10, 1)), festival(date(2025, 3, 3))
    ('new_year', 'festival', None)
    """
    if not is_public_holiday(day):
        return _weekend_in_block(day)
    named = _named_festival(day)
    if named or all(not n.startswith("Day off") for n in _names(day)):
        return named
    # A bridging day off: walk through the block (holidays and weekends) to its named holiday.
    for direction in (-1, 1):
        current = day
        for _ in range(_BRIDGE_DAYS):
            current += timedelta(days=direction)
            if not (is_public_holiday(current) or current.weekday() >= 5):
                break
            named = _named_festival(current)
            if named:
                return named
    return None


def _weekend_in_block(day: date) -> str | None:
    """Return the festival of a holiday block that a (non-worked) weekend day belongs to, else None."""
    if day.weekday() < 5 or is_makeup_workday(day):
        return None
    for direction in (-1, 1):
        current = day
        for _ in range(_BRIDGE_DAYS):
            current += timedelta(days=direction)
            if is_public_holiday(current):
                named = festival(current)
                if named:
                    return named
                break
            if current.weekday() < 5 or is_makeup_workday(current):
                break
    return None


def is_holiday_break(day: date) -> bool:
    """Return True on a day of an official holiday break: a public holiday or day off, or a weekend
    day joined to one by other weekend days (the 2026 春节 break is 2/15-2/23), unless worked (调休).
    """
    if is_public_holiday(day):
        return True
    if day.weekday() < 5 or is_makeup_workday(day):
        return False
    for direction in (-1, 1):
        current = day
        for _ in range(2):
            current += timedelta(days=direction)
            if is_public_holiday(current):
                return True
            if current.weekday() < 5 or is_makeup_workday(current):
                break
    return False
