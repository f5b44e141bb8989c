"""Bounded integers for everything a request may carry: ids, cursors, versions, positions.

Every integer a caller sends ends up compared with a column; PostgreSQL's `integer` overflows
past 2³¹−1 (an error, not "no such row") and SQLite's past 2⁶³−1. Bounding them where they are
parsed turns a would-be 500 into a 422 that names the parameter, and the OpenAPI document says
the range. `tests/test_input_bounds.py` checks that no route or body takes an unbounded integer.
"""

from __future__ import annotations

from typing import Annotated

from annotated_types import Interval

MAX_ID = 2**31 - 1

Id = Annotated[int, Interval(ge=1, le=MAX_ID)]
"""A row id in a path, query or body."""

Cursor = Annotated[int, Interval(ge=0, le=MAX_ID)]
"""A keyset cursor (`after_id`, `before_id`): 0 starts from the beginning."""

Count = Annotated[int, Interval(ge=0, le=MAX_ID)]
"""A version, position or other count a caller sends back."""


def parse_id(value: str | None) -> int | None:
    """The id a form or query string names, or None when it is not one (blank, not digits, or
    past MAX_ID): HTML routes read ids from free text and treat a bad one as "none chosen"."""
    text = (value or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None
