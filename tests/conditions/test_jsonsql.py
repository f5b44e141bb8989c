"""JSON custom fields in SQL: canonical storage, literal keys, and expression indexes that the
planner really uses for a filter built by `Condition.to_sql`."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Column, Index, Integer, MetaData, String, Table, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.expression import Executable

from fuwu.conditions.exceptions import InvalidCondition
from fuwu.conditions.schema import FieldRef, Kind
from fuwu.conditions.tree import parse
from fuwu.db import JSONType
from fuwu.kit.jsonsql import check_key, from_json_value, json_field, to_json_value

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
ROWS = 20_000


class Explain(Executable, ClauseElement):
    """EXPLAIN (QUERY PLAN) of a statement, its parameters bound as usual."""

    inherit_cache = False

    def __init__(self, statement: Any) -> None:
        self.statement = statement


@compiles(Explain, "sqlite")
def _explain_sqlite(element: Explain, compiler: SQLCompiler, **kw: Any) -> str:
    return "EXPLAIN QUERY PLAN " + compiler.process(element.statement, **kw)


@compiles(Explain, "postgresql")
def _explain_pg(element: Explain, compiler: SQLCompiler, **kw: Any) -> str:
    return "EXPLAIN " + compiler.process(element.statement, **kw)


def plan(conn: Any, statement: Any) -> str:
    rows = conn.execute(Explain(statement)).all()
    return "\n".join(str(r[-1]) for r in rows)


@pytest.mark.parametrize(
    ("kind", "value", "stored"),
    [
        ("datetime", datetime(2026, 11, 22, 17, 30, tzinfo=timezone(timedelta(hours=8))),
         "2026-11-22T09:30:00.000000Z"),
        ("datetime", datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC), "2026-01-02T03:04:05.000006Z"),
        ("date", date(2026, 3, 1), "2026-03-01"),
        ("number", Decimal("12.50"), 12.5),
        ("number", Decimal("12.00"), 12),
        ("number", 7, 7),
        ("multi", ["a", "b", "a"], ["a", "b"]),
        ("bool", True, True),
        ("ref", 42, 42),
        ("text", "空调", "空调"),
        ("choice", "high", "high"),
        ("text", None, None),
    ],
)  # fmt: skip
def test_canonical_json_values_round_trip(kind, value, stored):
    assert to_json_value(kind, value) == stored
    back = from_json_value(kind, stored)
    if kind == "multi":
        assert back == list(dict.fromkeys(value))
    elif kind == "number" and value is not None:
        assert back == value
    else:
        assert back == value


def test_canonical_datetimes_sort_as_time():
    moments = [NOW + timedelta(microseconds=n * 777_777_777) for n in range(-50, 50)]
    stored = [to_json_value("datetime", m) for m in moments]
    assert sorted(stored) == stored
    assert len({len(s) for s in stored}) == 1


@pytest.mark.parametrize(
    ("kind", "value"),
    [("datetime", datetime(2026, 1, 1)), ("date", NOW), ("number", float("inf")), ("number", True)],
)
def test_converters_refuse_values_of_the_wrong_kind(kind, value):
    with pytest.raises((TypeError, ValueError)):
        to_json_value(kind, value)


@pytest.mark.parametrize("key", ["Priority", "1st", "a-b", "a'b", "", "a" * 41, "ключ", "a b"])
def test_keys_that_cannot_be_sql_literals_are_refused(key):
    with pytest.raises(ValueError, match="does not match"):
        check_key(key)
    with pytest.raises(ValueError, match="does not match"):
        json_field(Column("custom", JSONType), key, "text")


def test_the_key_is_rendered_as_a_literal_and_the_kind_casts():
    table = Table("t", MetaData(), Column("custom", JSONType))
    number = select(table).where(json_field(table.c.custom, "amount", "number") > 5)
    assert "CAST((t.custom ->> 'amount') AS NUMERIC) > %(param_1)s" in str(
        number.compile(dialect=postgresql.dialect())
    )
    assert "json_extract(t.custom, '$.amount') > ?" in str(number.compile(dialect=sqlite.dialect()))
    due = select(table).where(json_field(table.c.custom, "due_at", "datetime") < NOW)
    assert """((t.custom ->> 'due_at') COLLATE "C") <""" in str(
        due.compile(dialect=postgresql.dialect())
    )


def _fill(conn: Any, table: Table) -> None:
    rng = random.Random(7)
    conn.execute(
        table.insert(),
        [
            {
                "id": i,
                "title": f"工单 {i}",
                "custom": {
                    "score": i,
                    "due_at": to_json_value("datetime", NOW - timedelta(minutes=i * 17)),
                    "level": rng.choice(["low", "normal", "high"]),
                },
            }
            for i in range(1, ROWS + 1)
        ],
    )


@pytest.fixture
def indexed(db_url, databases):
    """A scratch table of ROWS rows with expression indexes on two custom fields."""
    metadata = MetaData()
    table = Table(
        "cond_index_scratch",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("title", String(50)),
        Column("custom", JSONType),
    )
    engine = databases.engine(db_url)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    schema = {
        key: FieldRef(key, kind, column=json_field(table.c.custom, key, kind))
        for key, kind in [("score", Kind.NUMBER), ("due_at", Kind.DATETIME), ("level", Kind.CHOICE)]
    }
    with engine.begin() as conn:
        for key in ("score", "due_at"):
            Index(f"ix_cond_scratch_{key}", schema[key].column).create(conn)
        _fill(conn, table)
        conn.execute(text("ANALYZE"))
    yield engine, table, schema
    metadata.drop_all(engine)


INDEXED_CASES = [
    ({"field": "score", "op": "gt", "value": ROWS - 5}, "ix_cond_scratch_score", 5),
    ({"field": "score", "op": "between", "value": [10.5, 12]}, "ix_cond_scratch_score", 2),
    (
        {"field": "due_at", "op": "within_last", "value": {"amount": 1, "unit": "hours"}},
        "ix_cond_scratch_due_at",
        3,  # 17, 34 and 51 minutes ago
    ),
    (
        {"all": [{"field": "due_at", "op": "after", "value": "2026-11-22T17:00:00+08:00"},
                 {"not": {"field": "level", "op": "empty"}}]},
        "ix_cond_scratch_due_at",
        1,
    ),
]  # fmt: skip


def test_the_planner_uses_the_expression_indexes(indexed):
    """No hint, no enable_seqscan=off: with the table analysed, both planners pick the index."""
    engine, table, schema = indexed
    variables = {"now": NOW}
    rows = [
        {"score": i, "due_at": NOW - timedelta(minutes=i * 17), "level": "x"}
        for i in range(1, ROWS + 1)
    ]
    with engine.connect() as conn:
        for tree, index, expected in INDEXED_CASES:
            condition = parse(tree, schema, for_sql=True)
            query = select(table.c.id).where(condition.to_sql(variables))
            assert index in plan(conn, query), (tree, plan(conn, query))
            found = list(conn.scalars(query))
            matching = [r for r in rows if condition.evaluate(r, variables=variables)]
            assert len(found) == len(matching) == expected, tree


def test_to_sql_refuses_python_only_parts_with_the_path():
    schema = {
        "subject": FieldRef("subject", Kind.TEXT, column=Column("subject", String)),
        "note": FieldRef("note", Kind.TEXT),
    }
    condition = parse(
        {
            "any": [
                {"field": "subject", "op": "regex", "value": "^a"},
                {"field": "note", "op": "empty"},
            ]
        },
        schema,
    )
    with pytest.raises(InvalidCondition) as caught:
        condition.to_sql({})
    assert caught.value.messages("en") == [
        "any[0]: operator regex cannot be used to filter lists",
        "any[1]: field note cannot be used to filter lists",
    ]
    changes = parse({"field": "subject", "op": "changed"}, schema, allow_changes=True)
    with pytest.raises(InvalidCondition, match="operator changed cannot be used to filter lists"):
        changes.to_sql({})
