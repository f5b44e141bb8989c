"""Workday calendars, checked day by day against an independent corpus of China's notices."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fuwu.kit.workdays import ChinaCalendar, WeekdayCalendar, workdays_between

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpora" / "calendar" / "cn-holidays-2004-2026.csv"
CORPUS_YEARS = range(2004, 2027)

# Dates where the `holidays` package (0.109) and the chinese-calendar corpus disagree, with who
# is right. Keep this list exact: the test fails when a difference appears or disappears.
KNOWN_DIFFERENCES: dict[date, str] = {
    # Saturday worked for the 2006 New Year holiday: "12月31日(星期六)上班",
    # 国办发明电〔2005〕35号 of 2005-12-16 (zh.wikisource). The package lists it as a make-up
    # workday; the corpus (chinese-calendar 1.11.0) misses it, although it has the similar
    # 2006-12-30/31 and 2011-12-31. The package is right.
    date(2005, 12, 31): "package: workday (make-up); corpus: weekend",
}


def load_corpus() -> tuple[set[date], set[date]]:
    """(days off, make-up workdays) from the CSV."""
    days_off: set[date] = set()
    worked: set[date] = set()
    with CORPUS.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            day = date.fromisoformat(row["date"])
            if row["kind"] == "makeup_workday":
                worked.add(day)
            elif row["kind"] in ("holiday", "in_lieu_day"):
                days_off.add(day)
    return days_off, worked


def days_of(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days)]


@pytest.mark.skipif(not CORPUS.exists(), reason=f"corpus not found at {CORPUS}")
@pytest.mark.parametrize("year", CORPUS_YEARS)
def test_china_calendar_matches_the_corpus_every_day(year: int) -> None:
    calendar = ChinaCalendar()
    assert calendar.covers(year), f"the holidays package has no notice for {year}"
    days_off, worked = load_corpus()
    differences = set()
    for day in days_of(year):
        expected = day in worked or (day not in days_off and day.weekday() < 5)
        if calendar.is_workday(day) != expected:
            differences.add(day)
    known = {day for day in KNOWN_DIFFERENCES if day.year == year}
    assert differences == known


@pytest.mark.skipif(not CORPUS.exists(), reason=f"corpus not found at {CORPUS}")
def test_the_corpus_is_the_one_described() -> None:
    days_off, worked = load_corpus()
    assert len(worked) == 150
    assert min(days_off).year == 2004
    assert max(days_off).year == 2026


@pytest.mark.parametrize(
    ("day", "is_workday"),
    [
        (date(2006, 12, 31), True),  # Sunday worked for the 2007 New Year, announced in 2006
        (date(2011, 12, 31), True),  # Saturday worked for the 2012 New Year
        (date(2025, 1, 26), True),  # Sunday before 春节 2025
        (date(2025, 1, 28), False),  # 除夕, a holiday since 2025
        (date(2025, 2, 4), False),  # last day of 春节 2025
        (date(2025, 2, 8), True),  # Saturday after 春节 2025
        (date(2025, 2, 10), True),  # plain Monday
        (date(2025, 2, 9), False),  # plain Sunday
        (date(2025, 10, 6), False),  # 中秋 inside the National Day week
        (date(2015, 9, 3), False),  # one-off 70th anniversary holiday
        (date(2026, 2, 23), False),  # 9-day 春节 2026
        (date(2026, 2, 28), True),  # Saturday worked for it
    ],
)
def test_china_calendar_edge_cases(day: date, is_workday: bool) -> None:
    assert ChinaCalendar().is_workday(day) is is_workday


def test_years_without_a_notice_fall_back_to_monday_to_friday() -> None:
    calendar = ChinaCalendar()
    assert not calendar.covers(2000)
    assert not calendar.covers(2999)
    assert calendar.is_workday(date(2000, 10, 2))  # a holiday in reality, unknown to the package
    assert not calendar.is_workday(date(2999, 1, 5))  # a Saturday
    assert workdays_between(date(2999, 1, 1), date(2999, 12, 31), calendar) == 261


def test_overrides_take_precedence_over_the_package() -> None:
    calendar = ChinaCalendar(
        overrides={date(2999, 1, 1): False, date(2025, 1, 28): True, date(2025, 2, 9): True}
    )
    assert not calendar.is_workday(date(2999, 1, 1))
    assert calendar.is_workday(date(2025, 1, 28))
    assert calendar.is_workday(date(2025, 2, 9))
    assert workdays_between(date(2025, 1, 1), date(2025, 12, 31), calendar) == 250
    assert workdays_between(date(2999, 1, 1), date(2999, 1, 1), calendar) == 0


def test_weekday_calendar() -> None:
    calendar = WeekdayCalendar()
    assert calendar.is_workday(date(2025, 1, 28))
    assert not calendar.is_workday(date(2025, 2, 8))
    assert workdays_between(date(2025, 1, 26), date(2025, 2, 8), calendar) == 10
    assert WeekdayCalendar({date(2025, 2, 8): True}).is_workday(date(2025, 2, 8))


def test_workdays_between_counts_both_ends_and_is_negative_backwards() -> None:
    china = ChinaCalendar()
    assert workdays_between(date(2025, 1, 1), date(2025, 12, 31), china) == 248
    assert workdays_between(date(2025, 12, 31), date(2025, 1, 1), china) == -248
    assert workdays_between(date(2025, 2, 10), date(2025, 2, 10), china) == 1
    assert workdays_between(date(2025, 2, 9), date(2025, 2, 9), china) == 0
    # 春节 2025: Sunday 26 Jan and Saturday 8 Feb worked, 28 Jan – 4 Feb off.
    assert workdays_between(date(2025, 1, 26), date(2025, 2, 8), china) == 6


def test_the_whole_date_range_counts_in_one_go() -> None:
    # The fast path skips day-by-day iteration: the whole calendar range counts at once.
    assert workdays_between(date(1, 1, 1), date(9999, 12, 31), ChinaCalendar()) > 2_600_000


class DayByDay:
    """A calendar that is only a Protocol implementation: forces the generic path."""

    def __init__(self, inner: WeekdayCalendar) -> None:
        self.inner = inner

    def is_workday(self, day: date) -> bool:
        return self.inner.is_workday(day)


@settings(max_examples=200, deadline=None)
@given(
    start=st.dates(min_value=date(2003, 6, 1), max_value=date(2027, 6, 1)),
    length=st.integers(min_value=-400, max_value=400),
    overridden=st.dictionaries(
        st.dates(min_value=date(2003, 6, 1), max_value=date(2027, 6, 1)), st.booleans()
    ),
)
def test_fast_count_equals_day_by_day_count(
    start: date, length: int, overridden: dict[date, bool]
) -> None:
    calendar = ChinaCalendar(overridden)
    end = start + timedelta(days=length)
    assert workdays_between(start, end, calendar) == workdays_between(
        start, end, DayByDay(calendar)
    )
