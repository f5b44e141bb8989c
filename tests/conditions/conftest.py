"""A ticket-like schema without SQL columns, for the parse and predicate tests."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from fuwu.conditions.schema import FieldRef, Kind

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
TODAY = date(2026, 11, 22)
PRIORITIES = frozenset({"low", "normal", "high", "urgent"})

FIELDS = {
    "subject": Kind.TEXT,
    "description": Kind.TEXT,
    "priority": Kind.CHOICE,
    "channel": Kind.CHOICE,
    "amount": Kind.NUMBER,
    "budget": Kind.NUMBER,
    "vip": Kind.BOOL,
    "due": Kind.DATE,
    "promised": Kind.DATE,
    "created_at": Kind.DATETIME,
    "resolved_at": Kind.DATETIME,
    "tags": Kind.MULTI,
    "labels": Kind.MULTI,
    "assignee": Kind.REF,
    "team": Kind.REF,
}
OPTIONS = {"priority": PRIORITIES, "labels": frozenset({"a", "b", "c"})}


@pytest.fixture
def schema() -> dict[str, FieldRef]:
    return {key: FieldRef(key, kind, options=OPTIONS.get(key)) for key, kind in FIELDS.items()}


@pytest.fixture
def variables() -> dict[str, object]:
    return {"now": NOW, "today": TODAY, "current_user": 7}
