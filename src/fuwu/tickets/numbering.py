"""Ticket numbers from a pattern such as SR{yyyy}{mm}{dd}-{seq:05}, unique under concurrency."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fuwu.db import Numbered, increment_counter, table
from fuwu.kit.time import utcnow
from fuwu.tickets.models import TicketCounter

TOKEN = re.compile(r"\{(yyyy|yy|mm|dd|seq(?::0(\d))?)\}")


def render(pattern: str, when: datetime, seq: int | None) -> str:
    """Fill the date tokens (and the sequence, or '#' when seq is None)."""

    def fill(match: re.Match[str]) -> str:
        part = match.group(1)
        if part == "yyyy":
            return f"{when.year:04d}"
        if part == "yy":
            return f"{when.year % 100:02d}"
        if part == "mm":
            return f"{when.month:02d}"
        if part == "dd":
            return f"{when.day:02d}"
        if seq is None:
            return "#"
        width = int(match.group(2) or 0)
        return str(seq).zfill(width)

    return TOKEN.sub(fill, pattern)


def next_number(session: Session, *, pattern: str, timezone: str) -> str:
    """The next number: the sequence restarts whenever the date part of the pattern changes."""
    now = utcnow().astimezone(ZoneInfo(timezone))
    key = render(pattern, now, None)
    seq = increment_counter(session, TicketCounter.__table__, key)
    return render(pattern, now, seq)


def numbered(*, pattern: str, timezone: str, at: datetime | None = None) -> Numbered:
    """The next number as a value for `db.insert_with_children`, which takes it from the
    counter in the statement that stores the ticket (the same numbers as `next_number`);
    its date part is of `at`, the moment the ticket was opened (default now)."""
    now = (at or utcnow()).astimezone(ZoneInfo(timezone))
    return Numbered(table(TicketCounter), render(pattern, now, None), _parts(pattern, now))


def _parts(pattern: str, when: datetime) -> tuple[str | int, ...]:
    """The pattern as literal text (dates filled in) and the widths of its {seq} tokens."""
    parts: list[str | int] = []
    end = 0
    for match in TOKEN.finditer(pattern):
        text = pattern[end : match.start()]
        if match.group(1).startswith("seq"):
            parts += [text, int(match.group(2) or 0)]
        else:
            parts.append(text + render(match.group(0), when, None))
        end = match.end()
    parts.append(pattern[end:])
    merged: list[str | int] = []
    for part in parts:  # adjacent texts joined, empty ones dropped
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        elif part != "":
            merged.append(part)
    return tuple(merged)
