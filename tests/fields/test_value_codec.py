"""One JSON codec for custom values: what a field type stores is what `kit.jsonsql` binds in
SQL conditions and sort cursors, so a stored value and a compared value always agree."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from fuwu.fields.registry import types
from fuwu.fields.registry.types import FieldSpec
from fuwu.kit.jsonsql import from_json_value, to_json_value

SHANGHAI = timezone(timedelta(hours=8))


@pytest.mark.parametrize(
    ("type_name", "value"),
    [
        ("decimal", Decimal("12.50")),
        ("money", Decimal("200.00")),
        ("percent", Decimal("7.5")),
        ("integer", 42),
        ("date", date(2026, 2, 17)),
        ("datetime", datetime(2026, 2, 17, 9, 30, tzinfo=SHANGHAI)),
        ("boolean", True),
        ("text", "空调漏水"),
        ("user", 144),
    ],
)
def test_a_field_stores_what_conditions_bind_and_reads_it_back(type_name: str, value: Any) -> None:
    spec = FieldSpec(key="x", type=type_name, label={"en": "X"})
    kind = types.kind_of(spec)
    assert kind is not None
    stored = types.dump(spec, value)
    assert stored == to_json_value(kind.value, value)
    loaded = types.load(spec, stored)
    assert loaded == value
    assert from_json_value(kind.value, stored) == value


def test_datetimes_are_stored_in_utc_text_that_sorts_as_time() -> None:
    spec = FieldSpec(key="visit", type="datetime", label={"en": "Visit"})
    early = types.dump(spec, datetime(2026, 2, 17, 23, 0, tzinfo=SHANGHAI))
    late = types.dump(spec, datetime(2026, 2, 17, 16, 0, tzinfo=UTC))
    assert early == "2026-02-17T15:00:00.000000Z"
    assert early < late


def test_a_computed_money_value_is_stored_as_a_number() -> None:
    spec = FieldSpec(key="total", type="computed", label={"en": "Total"},
                     options={"formula": "1", "result_kind": "number"})  # fmt: skip
    assert types.dump(spec, Decimal("300.00")) == 300
    assert types.load(spec, 300) == Decimal("300")
