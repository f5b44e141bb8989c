"""Parsing: every wrong node is named by its path and reason, in English and Chinese."""

from __future__ import annotations

import re

import pytest

from fuwu.conditions import exceptions as msg
from fuwu.conditions.exceptions import InvalidCondition
from fuwu.conditions.nodes import KINDS, Op
from fuwu.conditions.schema import FieldRef, Kind
from fuwu.conditions.tree import MAX_DEPTH, MAX_LEAVES, parse
from fuwu.errors import ValidationFailed
from fuwu.kit.i18n import catalogue, gettext


def problems(tree: object, schema, **options) -> list[str]:
    with pytest.raises(InvalidCondition) as caught:
        parse(tree, schema, **options)
    return caught.value.messages("en")


@pytest.mark.parametrize(
    ("tree", "expected"),
    [
        ("high", "condition: each condition must be an object with all, any, not or field"),
        ({"all": {"field": "vip"}}, "condition: all must be a list of conditions"),
        ({"all": [], "any": []}, "condition: each condition must be an object"),
        ({"all": [], "when": 1}, "condition: unknown key when"),
        ({"field": "vip", "op": "empty", "note": "x"}, "condition: unknown key note"),
        ({"field": "nope", "op": "eq", "value": 1}, "condition: unknown field nope"),
        ({"field": ["x"], "op": "eq", "value": 1}, "condition: unknown field ['x']"),
        ({"field": "vip", "op": "like", "value": 1}, "condition: unknown operator like"),
        (
            {"field": "subject", "op": "gt", "value": "a"},
            "condition: operator gt cannot be used with field subject",
        ),
        (
            {"field": "tags", "op": "eq", "value": "a"},
            "condition: operator eq cannot be used with field tags",
        ),
        (
            {"field": "vip", "op": "empty", "value": True},
            "condition: operator empty takes no value",
        ),
        ({"field": "vip", "op": "eq"}, "condition: operator eq needs a value"),
        ({"field": "amount", "op": "eq", "value": "5"}, "condition: the value must be a number"),
        ({"field": "amount", "op": "eq", "value": True}, "condition: the value must be a number"),
        ({"field": "amount", "op": "gt", "value": float("nan")}, "the value must be a number"),
        ({"field": "vip", "op": "eq", "value": 1}, "condition: the value must be true or false"),
        ({"field": "subject", "op": "eq", "value": ""}, "the value must be text of 1 to 1000"),
        ({"field": "subject", "op": "eq", "value": "x" * 1001}, "text of 1 to 1000 characters"),
        ({"field": "due", "op": "eq", "value": "22/11/2026"}, "must be a date such as 2026-11-22"),
        ({"field": "due", "op": "eq", "value": "2026-02-30"}, "must be a date such as 2026-11-22"),
        (
            {"field": "created_at", "op": "after", "value": "2026-11-22T09:30:00"},
            "the value must be a date and time with a time zone",
        ),
        ({"field": "assignee", "op": "eq", "value": 0}, "the value must be an id"),
        ({"field": "assignee", "op": "eq", "value": "7"}, "the value must be an id"),
        (
            {"field": "priority", "op": "eq", "value": "asap"},
            "asap is not an option of field priority",
        ),
        (
            {"field": "labels", "op": "contains_any", "value": ["a", "z"]},
            "condition: z is not an option of field labels",
        ),
        (
            {"field": "priority", "op": "in", "value": []},
            "operator in needs a list of 1 to 500 values",
        ),
        ({"field": "priority", "op": "in", "value": "high"}, "operator in needs a list"),
        ({"field": "amount", "op": "between", "value": [1]}, "between needs a list [low, high]"),
        ({"field": "amount", "op": "between", "value": [5, 1]}, "the low bound is above the high"),
        (
            {"field": "due", "op": "before", "value": {"var": "tomorrow"}},
            "unknown variable tomorrow",
        ),
        (
            {"field": "due", "op": "before", "value": {"var": "now"}},
            "condition: variable now cannot be compared with field due",
        ),
        (
            {"field": "due", "op": "before", "value": {"field": "created_at"}},
            "condition: field created_at cannot be compared with field due",
        ),
        ({"field": "due", "op": "eq", "value": {"field": "nope"}}, "condition: unknown field nope"),
        (
            {"field": "subject", "op": "contains", "value": {"field": "description"}},
            "operator contains needs a value, not a field or a variable",
        ),
        (
            {"field": "created_at", "op": "within_last", "value": {"amount": 0, "unit": "hours"}},
            'operator within_last needs {"amount": 1 to 100000, "unit": minutes, hours, days}',
        ),
        (
            {"field": "due", "op": "within_next", "value": {"amount": 2, "unit": "hours"}},
            'operator within_next needs {"amount": 1 to 100000, "unit": days}',
        ),
        (
            {"field": "subject", "op": "regex", "value": "(a+"},
            "condition: the pattern is not valid at character 1: missing ), unterminated",
        ),
        (
            {"field": "subject", "op": "regex", "value": r"\bword"},
            "the pattern is not valid at character 1: bad or unsupported escape",
        ),
        ({"field": "subject", "op": "regex", "value": "a" * 201}, "longer than 200 characters"),
        (
            {"field": "subject", "op": "changed"},
            "condition: operator changed only works in rules that react to a change",
        ),
    ],
)
def test_a_wrong_node_is_named_with_its_reason(schema, tree, expected):
    found = problems(tree, schema)
    assert any(expected in line for line in found), found


def test_paths_name_the_wrong_leaf_and_every_problem_is_reported(schema):
    tree = {
        "all": [
            {"field": "vip", "op": "eq", "value": True},
            {"not": {"field": "subject", "op": "gt", "value": 1}},
            {"any": [{"field": "priority", "op": "empty"}, {"field": "nope", "op": "empty"}]},
        ]
    }
    assert problems(tree, schema) == [
        "all[1].not: operator gt cannot be used with field subject",
        "all[2].any[1]: unknown field nope",
    ]


def test_the_error_is_a_validation_failure_with_one_entry_per_path(schema):
    with pytest.raises(ValidationFailed) as caught:
        parse({"any": [{"field": "x", "op": "empty"}, {"field": "y", "op": "empty"}]}, schema)
    error = caught.value
    assert error.status_code == 422
    assert [e["field"] for e in error.errors] == ["any[0]", "any[1]"]
    assert error.errors[0]["params"]["detail"] == "any[0]: unknown field x"
    assert str(error) == "any[0]: unknown field x"
    # The web error handler translates exc.message with exc.params: the first problem.
    assert gettext("zh_CN", error.message, **error.params) == "any[0]:未知字段 x"


def test_messages_translate_to_chinese(schema):
    with pytest.raises(InvalidCondition) as caught:
        parse({"all": [{"field": "priority", "op": "eq", "value": "asap"}]}, schema)
    assert caught.value.messages("zh_CN") == ["all[0]:asap 不是字段 priority 的选项"]


def test_every_message_has_a_chinese_translation_with_the_same_placeholders():
    placeholders = re.compile(r"%\((\w+)\)s")
    for message in msg.MESSAGES:
        translated = catalogue("zh_CN").get(message)
        assert translated, message
        assert set(placeholders.findall(translated)) == set(placeholders.findall(message))


def test_depth_and_size_are_limited(schema):
    leaf = {"field": "vip", "op": "empty"}
    deep: dict = leaf
    for _ in range(MAX_DEPTH - 1):
        deep = {"not": deep}
    parse(deep, schema)  # exactly at the limit
    path = ".".join(["not"] * MAX_DEPTH)
    assert problems({"not": deep}, schema) == [
        f"{path}: conditions are nested too deeply (at most 10 levels)"
    ]
    parse({"all": [leaf] * MAX_LEAVES}, schema)
    assert problems({"all": [leaf] * (MAX_LEAVES + 1)}, schema) == [
        "condition: too many tests (at most 200)"
    ]


def test_change_operators_need_allow_changes(schema):
    tree = {"field": "priority", "op": "changed_to", "value": "high"}
    parse(tree, schema, allow_changes=True)
    assert problems(tree, schema) == [
        "condition: operator changed_to only works in rules that react to a change"
    ]
    assert problems(
        {"field": "priority", "op": "changed_to", "value": {"field": "channel"}},
        schema,
        allow_changes=True,
    ) == ["condition: operator changed_to needs a value, not a field or a variable"]


def test_for_sql_refuses_python_only_operators_and_fields_without_column(schema):
    tree = {
        "all": [
            {"field": "subject", "op": "regex", "value": "^a"},
            {"field": "vip", "op": "empty"},
        ]
    }
    assert problems(tree, schema, for_sql=True) == [
        "all[0]: operator regex cannot be used to filter lists",
        "all[0]: field subject cannot be used to filter lists",
        "all[1]: field vip cannot be used to filter lists",
    ]


def test_fields_used_includes_fields_compared_with(schema):
    condition = parse(
        {
            "all": [
                {"field": "resolved_at", "op": "after", "value": {"field": "created_at"}},
                {"not": {"field": "assignee", "op": "eq", "value": {"var": "current_user"}}},
            ]
        },
        schema,
    )
    assert condition.fields_used == {"resolved_at", "created_at", "assignee"}
    assert condition.variables_used == {"current_user"}


def test_literals_are_normalised(schema):
    condition = parse(
        {
            "all": [
                {"field": "created_at", "op": "after", "value": "2026-11-22T17:30:00+08:00"},
                {"field": "priority", "op": "in", "value": ["high", "high", "urgent"]},
            ]
        },
        schema,
    )
    first, second = condition.node.children  # type: ignore[union-attr]
    assert first.value.value.isoformat() == "2026-11-22T09:30:00+00:00"
    assert second.value.values == ("high", "urgent")


def test_every_operator_has_at_least_one_kind_and_the_table_is_complete():
    assert set(KINDS) == set(Op)
    assert all(KINDS[op] for op in Op)
    assert KINDS[Op.CONTAINS] == {Kind.TEXT, Kind.MULTI}


def test_a_field_without_options_accepts_any_key():
    schema = {"tags": FieldRef("tags", Kind.MULTI)}
    parse({"field": "tags", "op": "contains_all", "value": ["x", "y"]}, schema)
