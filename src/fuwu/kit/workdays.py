"""Workday calendars: which dates are working days, and how many lie between two dates.

`ChinaCalendar` follows the State Council holiday notices as transcribed by the `holidays`
package: public holidays and their in-lieu days are off, make-up workdays (调休上班, a Saturday
or Sunday worked in exchange) are on, other days follow Monday–Friday. The notice for a year is
published each November or December, so a year the package has no notice for falls back to plain
Monday–Friday; `covers(year)` says which case applies, and `overrides` lets an admin-maintained
table (the SLA calendar) correct or extend the package.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from functools import cache
from types import MappingProxyType
from typing import Protocol

from holidays import country_holidays
from holidays.countries.china import ChinaStaticHolidays

_SATURDAY = 5


class WorkdayCalendar(Protocol):
    """Anything that can say whether a date is a working day."""

    def is_workday(self, day: date) -> bool: ...


class WeekdayCalendar:
    """Monday to Friday, except the dates listed in `overrides` (date → is a workday)."""

    def __init__(self, overrides: Mapping[date, bool] | None = None) -> None:
        self.overrides: Mapping[date, bool] = MappingProxyType(dict(overrides or {}))

    def is_workday(self, day: date) -> bool:
        """True for a working day."""
        found = self.overrides.get(day)
        if found is not None:
            return found
        return (day.weekday() < _SATURDAY) != (day in self._exceptions_of_year(day.year))

    def candidates(self, start: date, end: date) -> Iterable[date]:
        """Every date in [start, end] that may differ from Monday–Friday (a superset is fine)."""
        for day in self.overrides:
            if start <= day <= end:
                yield day
        for year in self._exceptional_years(start.year, end.year):
            for day in self._exceptions_of_year(year):
                if start <= day <= end and day not in self.overrides:
                    yield day

    def _exceptions_of_year(self, year: int) -> frozenset[date]:
        """Dates of a year whose working status differs from Monday–Friday."""
        return frozenset()

    def _exceptional_years(self, first: int, last: int) -> Iterable[int]:
        """Years in [first, last] that have exceptions besides the overrides."""
        return ()


class ChinaCalendar(WeekdayCalendar):
    """Mainland China: public holidays off, 调休 make-up weekend days on, else Monday–Friday."""

    def covers(self, year: int) -> bool:
        """Whether the package knows the State Council notice for this year."""
        return year in _CHINA_NOTICE_YEARS

    def _exceptions_of_year(self, year: int) -> frozenset[date]:
        return _china_exceptions(year) if year in _CHINA_NOTICE_YEARS else frozenset()

    def _exceptional_years(self, first: int, last: int) -> Iterable[int]:
        return sorted(year for year in _CHINA_NOTICE_YEARS if first <= year <= last)


# Each key is one year's State Council notice, typed into the package with its substitutions
# (workday ↔ day off). Without a notice the package only estimates the statutory days and knows
# no make-up workdays, which is worse for SLA timers than an honest Monday–Friday.
_CHINA_NOTICE_YEARS: frozenset[int] = frozenset(
    int(year) for year in ChinaStaticHolidays.special_public_holidays
)


@cache
def _china_exceptions(year: int) -> frozenset[date]:
    """Weekdays off and weekend days worked in a year, from the package's structured tables.

    `weekend_workdays` is filled from the substitution tuples, not from the (translated) labels,
    and includes make-up days that an adjacent year's notice puts in this year (2006-12-31).
    """
    table = country_holidays("CN", years=year)
    days_off = {day for day in table if day.year == year and day.weekday() < _SATURDAY}
    worked = {
        day for day in table.weekend_workdays if day.year == year and day.weekday() >= _SATURDAY
    }
    return frozenset(days_off | worked)


def workdays_between(start: date, end: date, calendar: WorkdayCalendar) -> int:
    """Working days from start to end, both included; negative when end < start (NETWORKDAYS)."""
    if end < start:
        return -workdays_between(end, start, calendar)
    if isinstance(calendar, WeekdayCalendar):
        count = _monday_to_friday(start, end)
        for day in set(calendar.candidates(start, end)):
            usual = day.weekday() < _SATURDAY
            if calendar.is_workday(day) != usual:
                count += -1 if usual else 1
        return count
    # Any other calendar is asked day by day.
    return sum(
        calendar.is_workday(start + timedelta(days=n)) for n in range((end - start).days + 1)
    )


def _monday_to_friday(start: date, end: date) -> int:
    """Mondays to Fridays in [start, end], start <= end."""
    weeks, rest = divmod((end - start).days + 1, 7)
    first = start.weekday()
    return weeks * 5 + sum(1 for n in range(rest) if (first + n) % 7 < _SATURDAY)
