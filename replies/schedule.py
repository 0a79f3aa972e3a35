"""The business-hours clock: is the shop open, when does it reopen, which off-hours script applies.

Pure: every function takes the moment as a tz-aware ``datetime``; nothing reads the clock.
A window belongs to the day it starts on (``22:00-02:00`` opened on Friday runs into Saturday and
depends on Friday being a working day). All arithmetic is done on real instants (UTC), so a
day with a DST switch has its true length; a window that starts in a skipped hour opens at the
wall time the zone maps it to (PEP 495, fold=0).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from replies.calendar import is_holiday_break, is_makeup_workday

__all__ = ["Schedule", "reopen_text"]

# How far to look for an opening before deciding that there is none.
_HORIZON_DAYS = 400
_WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
# 003 第4篇 1.B calls the 12:00-14:00 gap 午间休息: a gap between two windows of one day is "lunch"
# only when it starts around midday and is no longer than a lunch break; any other gap is "closed".
_LUNCH_STARTS = (time(11, 0), time(13, 30))
_LUNCH_LONGEST = timedelta(hours=3)


@dataclass(frozen=True, slots=True)
class _Interval:
    start: datetime  # UTC
    end: datetime  # UTC
    day: date  # the local day the window (or merged run of windows) opened on


@dataclass(frozen=True)
class Schedule:
    """Opening windows on open days in a time zone; see the module docstring for the rules."""

    windows: tuple[tuple[time, time], ...]
    tz: ZoneInfo
    working_days: frozenset[int] = frozenset(range(7))
    closed_on_holidays: bool = False
    closed_dates: frozenset[date] = frozenset()
    open_dates: frozenset[date] = frozenset()  # worked anyway (e.g. in-lieu days the package lacks)

    def __post_init__(self) -> None:
        if not self.windows:
            raise ValueError("a schedule needs at least one opening window")
        if any(start == end != time(0) for start, end in self.windows):  # 00:00-24:00 is the whole day
            raise ValueError("an opening window must not be empty")
        if not self.working_days or not self.working_days <= frozenset(range(7)):
            raise ValueError("working_days must be a non-empty set of weekday numbers 0-6")

    @classmethod
    def from_settings(cls, settings: Any) -> Schedule:
        """Return the schedule described by ``bot.ops.settings.Settings`` (hours, zone, working days…)."""
        return cls(
            windows=tuple(settings.business_hours),
            tz=settings.zone,
            working_days=frozenset(settings.working_days),
            closed_on_holidays=settings.closed_on_holidays,
            closed_dates=frozenset(settings.closed_dates),
            open_dates=frozenset(getattr(settings, "open_dates", ())),
        )

    @property
    def hours_text(self) -> str:
        """Return the days and windows as shown to customers.

        E.g. ``每天 08:00-12:00、14:00-18:00`` or ``周一至周五 08:00-12:00（法定节假日休息）``.
        """
        windows = "、".join(f"{a:%H:%M}-{'24:00' if b == time(0) else f'{b:%H:%M}'}" for a, b in self.windows)
        holidays = "（法定节假日休息）" if self.closed_on_holidays else ""
        return f"{_days_text(self.working_days)} {windows}{holidays}"

    # --- which days open -------------------------------------------------------------------------

    def is_open_day(self, day: date) -> bool:
        """Return True when the windows apply on ``day`` (working day, not a closed date or holiday)."""
        if day in self.closed_dates:
            return False
        if day in self.open_dates:
            return True
        if self.closed_on_holidays:
            if is_holiday_break(day):
                return False
            if is_makeup_workday(day):
                return True
        return day.weekday() in self.working_days

    def _day_intervals(self, day: date) -> tuple[_Interval, ...]:
        return _cached_day_intervals(self, day)

    def _compute_day_intervals(self, day: date) -> tuple[_Interval, ...]:
        if not self.is_open_day(day):
            return ()
        out = []
        for start, end in self.windows:
            end_day = day if (end > start and end != time(0)) else day + timedelta(days=1)
            begin = datetime.combine(day, start, tzinfo=self.tz).astimezone(UTC)
            finish = datetime.combine(end_day, end, tzinfo=self.tz).astimezone(UTC)
            if finish > begin:
                out.append(_Interval(begin, finish, day))
        return tuple(out)

    def _intervals(self, first: date, last: date) -> Iterator[_Interval]:
        """Yield merged opening intervals of the windows opened on days ``first``..``last``, in order."""
        pending: _Interval | None = None
        day = first
        while day <= last:
            for interval in sorted(self._day_intervals(day), key=lambda i: i.start):
                if pending is not None and interval.start <= pending.end:
                    pending = _Interval(pending.start, max(pending.end, interval.end), pending.day)
                    continue
                if pending is not None:
                    yield pending
                pending = interval
            day += timedelta(days=1)
        if pending is not None:
            yield pending

    def _around(self, at: datetime) -> tuple[_Interval | None, _Interval | None, _Interval | None]:
        """Return (interval containing ``at``, last one ended by then, first one starting after it)."""
        _require_aware(at)
        instant = at.astimezone(UTC)
        local_day = at.astimezone(self.tz).date()
        previous = upcoming = None
        for step in (3, 31, _HORIZON_DAYS):
            previous = upcoming = None
            for interval in self._intervals(
                local_day - timedelta(days=step), local_day + timedelta(days=step)
            ):
                if interval.start <= instant < interval.end:
                    return interval, None, None
                if interval.end <= instant:
                    previous = interval
                elif upcoming is None:
                    upcoming = interval
                    break
            if previous is not None and upcoming is not None:
                break
        return None, previous, upcoming

    # --- public questions -----------------------------------------------------------------------

    def is_open(self, at: datetime) -> bool:
        """Return True when ``at`` falls inside an opening window (start included, end excluded).

        Only the windows opened on ``at``'s day or the day before can hold it (a window ends at most the
        day after it opened): their day intervals are looked at, not the merged ones around ``at``.
        """
        _require_aware(at)
        instant = at.astimezone(UTC)
        local_day = at.astimezone(self.tz).date()
        return any(
            interval.start <= instant < interval.end
            for day in (local_day - timedelta(days=1), local_day)
            for interval in self._day_intervals(day)
        )

    def next_opening(self, at: datetime) -> datetime:
        """Return the first moment at or after ``at`` when the shop is open, in ``self.tz``.

        That is ``at`` itself while open. ``ValueError`` when nothing opens within ~400 days.
        """
        current, _, upcoming = self._around(at)
        if current is not None:
            return at.astimezone(self.tz)
        if upcoming is None:
            raise ValueError(f"the shop does not open within {_HORIZON_DAYS} days of {at.isoformat()}")
        return upcoming.start.astimezone(self.tz)

    def off_hours_kind(self, at: datetime) -> str | None:
        """Return None when open, ``"lunch"`` between two windows of the same open day, else ``"closed"``."""
        current, previous, upcoming = self._around(at)
        if current is not None:
            return None
        if (
            previous is not None
            and upcoming is not None
            and previous.day == upcoming.day
            and upcoming.start - previous.end <= _LUNCH_LONGEST
            and _LUNCH_STARTS[0] <= previous.end.astimezone(self.tz).time() <= _LUNCH_STARTS[1]
        ):
            return "lunch"
        return "closed"

    def stretch_start(self, at: datetime) -> datetime | None:
        """Return when the current off-hours stretch began (the last closing), None when open, in ``self.tz``.

        With no opening in the previous ~400 days, the start of that horizon is returned (stable per day).
        """
        current, previous, _ = self._around(at)
        if current is not None:
            return None
        if previous is not None:
            return previous.end.astimezone(self.tz)
        local_day = at.astimezone(self.tz).date() - timedelta(days=_HORIZON_DAYS)
        return datetime.combine(local_day, time(0), tzinfo=self.tz)

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """Return the moment ``days`` open days after ``start``, at the same offset into its day.

        The day counted from is the one the current window opened on, so a complaint at Saturday
        01:00 inside Friday's 22:00-02:00 window is due inside a later window, not in a closed night.
        """
        current, _, _ = self._around(start)
        local = start.astimezone(self.tz)
        first = current.day if current is not None else local.date()
        offset = local.replace(tzinfo=None) - datetime.combine(first, time(0))
        day, left = first, days
        while left > 0:
            day += timedelta(days=1)
            left -= self.is_open_day(day)
        return (datetime.combine(day, time(0)) + offset).replace(tzinfo=self.tz)

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """Return the number of open seconds between two instants (0 when ``end`` is not after ``start``)."""
        _require_aware(start)
        _require_aware(end)
        begin, finish = start.astimezone(UTC), end.astimezone(UTC)
        if finish <= begin:
            return 0.0
        first = begin.astimezone(self.tz).date() - timedelta(days=1)
        last = finish.astimezone(self.tz).date()
        total = 0.0
        for interval in self._intervals(first, last):
            overlap = min(interval.end, finish) - max(interval.start, begin)
            if overlap > timedelta(0):
                total += overlap.total_seconds()
        return total


def reopen_text(opening: datetime, at: datetime) -> str:
    """Return how a customer is told the reopening time, relative to ``at`` (both in the shop's zone).

    ``"14:00"`` today, ``"明天08:00"`` tomorrow, ``"后天08:00"``, else ``"10月8日（周三）08:00"``.
    """
    _require_aware(opening)
    local = opening.astimezone(opening.tzinfo)
    days = (local.date() - at.astimezone(opening.tzinfo).date()).days
    clock = f"{local:%H:%M}"
    if days <= 0:
        return clock
    if days == 1:
        return f"明天{clock}"
    if days == 2:
        return f"后天{clock}"
    return f"{local.month}月{local.day}日（{_WEEKDAY_NAMES[local.weekday()]}）{clock}"


def _days_text(days: frozenset[int]) -> str:
    """Return working days as customers read them: 每天, 周一至周五, 周六、周日, 周一至周五、周日."""
    if len(days) == 7:
        return "每天"
    runs: list[list[int]] = []
    for day in sorted(days):
        if runs and runs[-1][-1] + 1 == day:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{_WEEKDAY_NAMES[run[0]]}至{_WEEKDAY_NAMES[run[-1]]}")
        else:
            parts.extend(_WEEKDAY_NAMES[d] for d in run)
    return "、".join(parts)


@lru_cache(maxsize=1024)
def _cached_day_intervals(schedule: Schedule, day: date) -> tuple[_Interval, ...]:
    # A day's opening intervals depend only on the (immutable) schedule and the date: the bot asks
    # is_open for every message, so compute each day once.
    return schedule._compute_day_intervals(day)


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{at.isoformat()} has no time zone: pass a tz-aware datetime")
