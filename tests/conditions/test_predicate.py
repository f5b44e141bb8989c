"""Python predicates: each operator on each kind it applies to, empties, changes, variables."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from fuwu.conditions.tree import parse

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)  # as the `variables` fixture
TODAY = date(2026, 11, 22)
H = timedelta(hours=1)

# (field, op, value, record value, expected); value None = the operator takes none.
CASES: list[tuple[str, str, Any, Any, bool]] = [
    # text: case-sensitive, no wildcards
    ("subject", "eq", "空调", "空调", True),
    ("subject", "eq", "Abc", "abc", False),
    ("subject", "eq", "a", "", False),
    ("subject", "eq", "a", None, False),
    ("subject", "ne", "a", None, True),
    ("subject", "ne", "a", "", True),
    ("subject", "ne", "a", "a", False),
    ("subject", "in", ["a", "b"], "b", True),
    ("subject", "in", ["a", "b"], None, False),
    ("subject", "not_in", ["a", "b"], None, True),
    ("subject", "not_in", ["a", "b"], "c", True),
    ("subject", "contains", "调不", "空调不制冷", True),
    ("subject", "contains", "ABC", "xabcx", False),
    ("subject", "contains", "%", "100%", True),
    ("subject", "contains", "_", "a-b", False),
    ("subject", "contains", "a", None, False),
    ("subject", "starts_with", "空调", "空调不制冷", True),
    ("subject", "starts_with", "a_", "abc", False),
    ("subject", "starts_with", "Ab", "abc", False),
    ("subject", "ends_with", "制冷", "空调不制冷", True),
    ("subject", "ends_with", "%", "50%", True),
    ("subject", "ends_with", "longer than", "than", False),
    ("subject", "regex", r"E\d{1,2}", "故障码 E4", True),
    ("subject", "regex", r"^[A-Z]{2}\d+$", "SR2026", True),
    ("subject", "regex", r"^[A-Z]{2}\d+$", "sr2026", False),
    ("subject", "regex", "a", None, False),
    ("subject", "empty", None, None, True),
    ("subject", "empty", None, "", True),
    ("subject", "empty", None, " ", False),
    ("subject", "not_empty", None, "", False),
    ("subject", "not_empty", None, "x", True),
    # choice
    ("priority", "eq", "high", "high", True),
    ("priority", "ne", "high", "low", True),
    ("priority", "in", ["high", "urgent"], "urgent", True),
    ("priority", "not_in", ["high", "urgent"], "", True),
    ("priority", "empty", None, "", True),
    # number: ints, floats and the Decimals of a NUMERIC column compare as SQL does
    ("amount", "eq", 5, 5, True),
    ("amount", "eq", 5, 5.0, True),
    ("amount", "eq", 5, Decimal("5.00"), True),
    ("amount", "eq", 0.1, Decimal("0.1"), True),
    ("amount", "eq", 0.1, 0.1, True),
    ("amount", "gt", 0.1, Decimal("0.1"), False),
    ("amount", "lt", 0.3, 0.1 + 0.2, False),
    ("amount", "gt", 0.3, 0.1 + 0.2, True),
    ("amount", "gt", 0, -1, False),
    ("amount", "gte", 0, 0, True),
    ("amount", "lt", 0, None, False),
    ("amount", "lte", 2, Decimal("1.5"), True),
    ("amount", "between", [1, 2], 1, True),
    ("amount", "between", [1, 2], 2, True),
    ("amount", "between", [1, 2], Decimal("2.01"), False),
    ("amount", "between", [1, 2], None, False),
    ("amount", "in", [1, 2.5], Decimal("2.5"), True),
    ("amount", "in", [1, 2.5], 1.0, True),
    ("amount", "not_in", [1, 2.5], None, True),
    ("amount", "empty", None, 0, False),
    # bool
    ("vip", "eq", True, True, True),
    ("vip", "eq", False, None, False),
    ("vip", "ne", False, None, True),
    ("vip", "empty", None, False, False),
    # date
    ("due", "eq", "2026-11-22", TODAY, True),
    ("due", "before", "2026-11-22", TODAY - timedelta(days=1), True),
    ("due", "after", "2026-11-22", TODAY, False),
    ("due", "gte", "2026-11-22", TODAY, True),
    ("due", "between", ["2026-11-01", "2026-11-30"], date(2026, 11, 30), True),
    ("due", "within_next", {"amount": 3, "unit": "days"}, TODAY + timedelta(days=3), True),
    ("due", "within_next", {"amount": 3, "unit": "days"}, TODAY + timedelta(days=4), False),
    ("due", "within_last", {"amount": 1, "unit": "days"}, TODAY - timedelta(days=1), True),
    ("due", "within_last", {"amount": 1, "unit": "days"}, TODAY + timedelta(days=1), False),
    ("due", "before", {"var": "today"}, TODAY - timedelta(days=1), True),
    # datetime: aware, any zone
    ("created_at", "eq", "2026-11-22T17:30:00+08:00", NOW, True),
    ("created_at", "before", "2026-11-22T09:30:00Z", NOW - timedelta(microseconds=1), True),
    ("created_at", "after", {"var": "now"}, NOW, False),
    ("created_at", "lte", {"var": "now"}, NOW, True),
    ("created_at", "within_last", {"amount": 90, "unit": "minutes"}, NOW - 1.5 * H, True),
    ("created_at", "within_last", {"amount": 90, "unit": "minutes"}, NOW - 1.6 * H, False),
    ("created_at", "within_last", {"amount": 1, "unit": "hours"}, NOW + H, False),
    ("created_at", "within_next", {"amount": 2, "unit": "hours"}, NOW + 2 * H, True),
    ("created_at", "within_next", {"amount": 2, "unit": "days"}, None, False),
    ("created_at", "between", [{"var": "now"}, "2026-12-01T00:00:00Z"], NOW + H, True),
    # multi: contains is membership
    ("tags", "contains", "vip", ["vip", "空调"], True),
    ("tags", "contains", "vi", ["vip"], False),
    ("tags", "contains", "vip", None, False),
    ("tags", "contains_any", ["x", "空调"], ["vip", "空调"], True),
    ("tags", "contains_any", ["x", "y"], ["vip"], False),
    ("tags", "contains_all", ["vip", "空调"], ["空调", "vip", "x"], True),
    ("tags", "contains_all", ["vip", "空调"], ["vip"], False),
    ("tags", "contains_all", ["vip"], [], False),
    ("tags", "empty", None, [], True),
    ("tags", "empty", None, None, True),
    ("tags", "not_empty", None, ["a"], True),
    # ref
    ("assignee", "eq", {"var": "current_user"}, 7, True),
    ("assignee", "eq", {"var": "current_user"}, 8, False),
    ("assignee", "ne", {"var": "current_user"}, None, True),
    ("assignee", "in", [1, 7], 7, True),
    ("assignee", "empty", None, None, True),
]


@pytest.mark.parametrize(("key", "op", "value", "found", "expected"), CASES)
def test_operator(schema, variables, key, op, value, found, expected):
    tree = {"field": key, "op": op} | ({} if value is None else {"value": value})
    condition = parse(tree, schema)
    assert condition.evaluate({key: found}, variables=variables) is expected
    negated = parse({"not": tree}, schema)
    assert negated.evaluate({key: found}, variables=variables) is not expected


def test_a_missing_key_is_an_empty_field(schema, variables):
    condition = parse({"field": "subject", "op": "ne", "value": "a"}, schema)
    assert condition.evaluate({}, variables=variables) is True


@pytest.mark.parametrize(
    ("first", "second", "op", "expected"),
    [
        (NOW, NOW + H, "before", True),
        (NOW, NOW, "eq", True),
        (NOW, None, "eq", False),
        (None, None, "eq", False),
        (None, None, "ne", True),
        (NOW, NOW.astimezone(UTC), "gte", True),
    ],
)
def test_comparing_two_fields(schema, variables, first, second, op, expected):
    tree = {"field": "created_at", "op": op, "value": {"field": "resolved_at"}}
    record = {"created_at": first, "resolved_at": second}
    assert parse(tree, schema).evaluate(record, variables=variables) is expected


def test_comparing_two_text_fields_treats_empty_text_as_empty(schema, variables):
    condition = parse({"field": "subject", "op": "eq", "value": {"field": "description"}}, schema)
    assert condition.evaluate({"subject": "", "description": ""}, variables=variables) is False
    assert condition.evaluate({"subject": "a", "description": "a"}, variables=variables) is True


def test_numbers_from_different_sources_compare_exactly(schema, variables):
    condition = parse({"field": "amount", "op": "eq", "value": {"field": "budget"}}, schema)
    assert condition.evaluate({"amount": 0.1, "budget": Decimal("0.1")}, variables=variables)
    assert condition.evaluate({"amount": 2, "budget": Decimal("2.0")}, variables=variables)
    assert not condition.evaluate(
        {"amount": 0.1 + 0.2, "budget": Decimal("0.3")}, variables=variables
    )


@pytest.mark.parametrize(
    ("tree", "expected"),
    [({"all": []}, True), ({"any": []}, False), ({"not": {"all": []}}, False)],
)
def test_empty_groups(schema, variables, tree, expected):
    assert parse(tree, schema).evaluate({}, variables=variables) is expected


def test_groups_combine(schema, variables):
    condition = parse(
        {
            "all": [
                {"field": "priority", "op": "in", "value": ["high", "urgent"]},
                {
                    "any": [
                        {"field": "vip", "op": "eq", "value": True},
                        {"not": {"field": "tags", "op": "contains", "value": "internal"}},
                    ]
                },
            ]
        },
        schema,
    )
    assert condition.evaluate({"priority": "high", "vip": True}, variables=variables)
    assert condition.evaluate({"priority": "high", "tags": ["x"]}, variables=variables)
    assert not condition.evaluate({"priority": "high", "tags": ["internal"]}, variables=variables)
    assert not condition.evaluate({"priority": "low", "vip": True}, variables=variables)


@pytest.mark.parametrize(
    ("op", "value", "old", "new", "expected"),
    [
        ("changed", None, "low", "high", True),
        ("changed", None, "low", "low", False),
        ("changed", None, None, "", False),
        ("changed_to", "high", "low", "high", True),
        ("changed_to", "high", "high", "high", False),
        ("changed_to", "high", "low", "urgent", False),
        ("changed_from", "low", "low", "high", True),
        ("changed_from", "low", "normal", "high", False),
        ("changed_from", "low", "low", "low", False),
    ],
)
def test_change_operators(schema, variables, op, value, old, new, expected):
    tree = {"field": "priority", "op": op} | ({} if value is None else {"value": value})
    condition = parse(tree, schema, allow_changes=True)
    found = condition.evaluate({"priority": new}, before={"priority": old}, variables=variables)
    assert found is expected


def test_without_a_before_snapshot_every_field_was_empty(schema, variables):
    changed = parse({"field": "tags", "op": "changed"}, schema, allow_changes=True)
    assert changed.evaluate({"tags": ["a"]}, variables=variables) is True
    assert changed.evaluate({"tags": []}, variables=variables) is False
    became = parse(
        {"field": "assignee", "op": "changed_to", "value": {"var": "current_user"}},
        schema,
        allow_changes=True,
    )
    assert became.evaluate({"assignee": 7}, variables=variables) is True
    assert became.evaluate({"assignee": 7}, before={"assignee": 7}, variables=variables) is False


def test_a_multi_is_unchanged_when_reordered(schema, variables):
    changed = parse({"field": "tags", "op": "changed"}, schema, allow_changes=True)
    record, before = {"tags": ["a", "b"]}, {"tags": ["b", "a"]}
    assert changed.evaluate(record, before=before, variables=variables) is False


def test_current_user_none_matches_nobody(schema):
    condition = parse({"field": "assignee", "op": "eq", "value": {"var": "current_user"}}, schema)
    assert condition.evaluate({"assignee": None}, variables={"current_user": None}) is False
    assert condition.evaluate({"assignee": 3}, variables={"current_user": None}) is False


@pytest.mark.parametrize(
    ("variables", "error"),
    [
        ({}, "needs the variable 'now'"),
        ({"now": datetime(2026, 1, 1)}, "'now' must be a timezone-aware datetime"),
        ({"now": NOW, "today": NOW}, "'today' must be a date"),
    ],
)
def test_variables_are_checked(schema, variables, error):
    condition = parse(
        {
            "all": [
                {"field": "created_at", "op": "before", "value": {"var": "now"}},
                {"field": "due", "op": "within_last", "value": {"amount": 1, "unit": "days"}},
            ]
        },
        schema,
    )
    with pytest.raises(ValueError, match=error):
        condition.evaluate({}, variables=variables)


def test_a_condition_without_variables_needs_none(schema):
    condition = parse({"field": "vip", "op": "eq", "value": True}, schema)
    assert condition.evaluate({"vip": True}, variables={}) is True


def test_trace_gives_every_leaf_result(schema, variables):
    condition = parse(
        {
            "any": [
                {"field": "vip", "op": "eq", "value": True},
                {"not": {"field": "priority", "op": "eq", "value": "low"}},
            ]
        },
        schema,
    )
    record = {"vip": True, "priority": "low"}
    assert condition.trace(record, variables=variables) == {"any[0]": True, "any[1].not": True}
    assert condition.evaluate(record, variables=variables) is True


def test_a_long_text_with_a_hostile_pattern_is_fast(schema, variables):
    condition = parse({"field": "description", "op": "regex", "value": r"(\s*)*\s*x$"}, schema)
    started = datetime.now(UTC)
    assert not condition.evaluate({"description": " " * 50_000}, variables=variables)
    assert datetime.now(UTC) - started < timedelta(seconds=2)
