"""Ticket numbers: unique under concurrent creation, restarting when their date part changes."""

from __future__ import annotations

import re
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from fuwu.auth.principal import Principal
from fuwu.config import Settings
from fuwu.db import transaction
from fuwu.tickets import numbering
from fuwu.tickets import service as tickets_service
from fuwu.tickets.schemas import TicketCreate

THREADS, PER_THREAD = 8, 25


def test_numbers_are_unique_under_concurrent_creation(app, settings):
    writer = app.state.writer

    def create_many(thread: int) -> list[str]:
        numbers = []
        for n in range(PER_THREAD):
            with transaction(writer) as session:  # a session and a transaction per ticket
                ticket = tickets_service.create_ticket(
                    session, actor=Principal.system(), data=TicketCreate(subject=f"T{thread}-{n}"),
                    number_pattern=settings.ticket_number_pattern, timezone=settings.timezone,
                )  # fmt: skip
                numbers.append(ticket.number)
        return numbers

    with ThreadPoolExecutor(THREADS) as pool:
        numbers = [n for batch in pool.map(create_many, range(THREADS)) for n in batch]

    assert len(numbers) == len(set(numbers)) == THREADS * PER_THREAD
    by_day: dict[str, list[int]] = defaultdict(list)
    for number in numbers:
        match = re.fullmatch(r"SR(\d{8})-(\d{5})", number)
        assert match, number
        by_day[match.group(1)].append(int(match.group(2)))
    for day, sequence in by_day.items():  # two days only if the test runs across midnight
        assert sorted(sequence) == list(range(1, len(sequence) + 1)), f"gaps or repeats on {day}"


@pytest.mark.parametrize(
    ("pattern", "seq", "expected"),
    [
        ("SR{yyyy}{mm}{dd}-{seq:05}", 7, "SR20261122-00007"),
        ("SR{yyyy}{mm}{dd}-{seq:05}", 123456, "SR20261122-123456"),
        ("SR{yyyy}{mm}{dd}-{seq:05}", None, "SR20261122-#"),
        ("{yy}{mm}-{seq}", 42, "2611-42"),
        ("T-{seq:04}", 3, "T-0003"),
        ("工单{yyyy}-{seq:03}", 5, "工单2026-005"),
    ],
)
def test_render(pattern, seq, expected):
    assert numbering.render(pattern, datetime(2026, 11, 22, 9, 30, tzinfo=UTC), seq) == expected


@pytest.mark.parametrize(
    "pattern",
    ["SR{yyyy}{mm}{dd}-{seq:05}", "{yy}{mm}-{seq}", "T-{seq:04}", "工单{yyyy}-{seq:03}", "{seq}"],
)
def test_numbers_made_by_the_insert_read_like_rendered_ones(pattern, monkeypatch):
    when = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
    monkeypatch.setattr(numbering, "utcnow", lambda: when)
    made = numbering.numbered(pattern=pattern, timezone="UTC")
    assert made.key == numbering.render(pattern, when, None)
    for seq in (1, 7, 99_999, 123_456):
        assert made.render(seq) == numbering.render(pattern, when, seq)


@pytest.fixture
def clock(monkeypatch):
    """Set the time numbering sees: clock.now = datetime(...)."""

    class Clock:
        now = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)

    monkeypatch.setattr(numbering, "utcnow", lambda: Clock.now)
    return Clock


def next_numbers(app, pattern: str, count: int = 1, timezone: str = "Asia/Shanghai") -> list[str]:
    with transaction(app.state.writer) as session:
        return [
            numbering.next_number(session, pattern=pattern, timezone=timezone) for _ in range(count)
        ]


def test_sequence_restarts_when_the_date_changes(app, clock):
    pattern = "SR{yyyy}{mm}{dd}-{seq:05}"
    assert next_numbers(app, pattern, 2) == ["SR20261122-00001", "SR20261122-00002"]
    clock.now = datetime(2026, 11, 22, 16, 30, tzinfo=UTC)  # 00:30 on the 23rd in Shanghai
    assert next_numbers(app, pattern) == ["SR20261123-00001"]
    assert next_numbers(app, pattern, timezone="UTC") == ["SR20261122-00003"]


def test_monthly_pattern_restarts_each_month(app, clock):
    clock.now = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
    assert next_numbers(app, "{yy}{mm}-{seq:03}", 2) == ["2611-001", "2611-002"]
    clock.now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    assert next_numbers(app, "{yy}{mm}-{seq:03}") == ["2612-001"]


def test_pattern_without_a_date_never_restarts(app, clock):
    assert next_numbers(app, "T-{seq:04}", 2) == ["T-0001", "T-0002"]
    clock.now = datetime(2027, 1, 1, 3, 0, tzinfo=UTC)
    assert next_numbers(app, "T-{seq:04}") == ["T-0003"]


def test_created_tickets_use_the_configured_pattern(make_app, factory, clock):
    factory.settings = make_app(ticket_number_pattern="CS-{yyyy}-{seq:04}").state.settings
    assert [factory.ticket().number for _ in range(2)] == ["CS-2026-0001", "CS-2026-0002"]


def test_pattern_without_sequence_is_refused():
    with pytest.raises(ValueError, match="ticket_number_pattern"):
        Settings(_env_file=None, ticket_number_pattern="SR{yyyy}{mm}{dd}")  # type: ignore[call-arg]
