"""SQL and Python agree: for random trees and records, `to_sql` selects exactly the rows that
`evaluate` accepts, on SQLite and PostgreSQL.

The scratch table has real columns for some kinds (including a UTCDateTime) and a JSON
`custom` column for the rest, so every operator meets both storages, empties (None, "", [],
JSON null, a missing key), Chinese text, `%` and `_`, boundary numbers (ints, floats and the
Decimals a NUMERIC column or the field registry hands over) and datetimes around `now`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import BigInteger, Boolean, Column, Date, Integer, MetaData, String, Table, select

from fuwu.conditions.nodes import KINDS, PYTHON_ONLY, VARIABLES, Op
from fuwu.conditions.schema import FieldRef, Kind
from fuwu.conditions.tree import parse
from fuwu.db import JSONType, UTCDateTime
from fuwu.kit.jsonsql import json_field, to_json_value

NOW = datetime(2026, 11, 22, 9, 30, 15, 250000, tzinfo=UTC)
TODAY = date(2026, 11, 22)
SHANGHAI = timezone(timedelta(hours=8))
OPTIONS = ("low", "normal", "high")
TAGS = ("a", "b", "中")

metadata = MetaData()
scratch = Table(
    "cond_agreement_scratch",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("subject", String(100)),
    Column("priority", String(20)),
    Column("amount", BigInteger),
    Column("vip", Boolean),
    Column("assignee", BigInteger),
    Column("created_at", UTCDateTime),
    Column("due", Date),
    Column("tags", JSONType),
    Column("custom", JSONType),
)
REAL = {
    "subject": Kind.TEXT,
    "priority": Kind.CHOICE,
    "amount": Kind.NUMBER,
    "vip": Kind.BOOL,
    "assignee": Kind.REF,
    "created_at": Kind.DATETIME,
    "due": Kind.DATE,
    "tags": Kind.MULTI,
}
CUSTOM = {f"c_{kind.value}": kind for kind in Kind}
SCHEMA = {
    **{
        key: FieldRef(
            key,
            kind,
            column=scratch.c[key],
            options=frozenset(OPTIONS) if kind is Kind.CHOICE else None,
        )
        for key, kind in REAL.items()
    },
    **{
        key: FieldRef(
            key,
            kind,
            column=json_field(scratch.c.custom, key, kind),
            options=frozenset(OPTIONS) if kind is Kind.CHOICE else None,
        )
        for key, kind in CUSTOM.items()
    },
}
BY_KIND = {kind: [k for k, f in SCHEMA.items() if f.kind is kind] for kind in Kind}

# --- values ----------------------------------------------------------------------------------

TEXT = st.text(alphabet="aAb%_\\'中文 ", max_size=4)
LITERAL_TEXT = st.text(alphabet="aAb%_\\'中文 ", min_size=1, max_size=3)
INTS = [0, 1, -1, 2, 7, 2**31, -(2**31), 2**53, -(2**53)]
FLOATS = [0.5, -0.5, 1.5, 0.1, 0.30000000000000004, 1e-7, 2.0, 123456.789]
OFFSETS = [
    timedelta(days=-3), timedelta(hours=-2), timedelta(hours=-1), timedelta(minutes=-59),
    timedelta(microseconds=-1), timedelta(0), timedelta(microseconds=1), timedelta(hours=1),
    timedelta(days=1, seconds=5), timedelta(days=3),
]  # fmt: skip
DATETIMES = st.builds(
    lambda offset, tz: (NOW + offset).astimezone(tz),
    st.sampled_from(OFFSETS),
    st.sampled_from([UTC, SHANGHAI]),
)
DATES = st.builds(lambda n: TODAY + timedelta(days=n), st.integers(-4, 4))


def number(real_column: bool) -> st.SearchStrategy[Any]:
    ints = st.sampled_from(INTS)
    if real_column:
        return ints
    floats = st.sampled_from(FLOATS)
    decimals = st.sampled_from(INTS + FLOATS).map(lambda v: Decimal(str(v)))
    return st.one_of(ints, floats, decimals)


def record_value(key: str) -> st.SearchStrategy[Any]:
    kind, real = SCHEMA[key].kind, key in REAL
    found: st.SearchStrategy[Any] = {
        Kind.TEXT: TEXT,
        Kind.CHOICE: st.sampled_from(["", *OPTIONS]),
        Kind.NUMBER: number(real),
        Kind.BOOL: st.booleans(),
        Kind.REF: st.integers(1, 3),
        Kind.DATETIME: DATETIMES,
        Kind.DATE: DATES,
        Kind.MULTI: st.lists(st.sampled_from(TAGS), max_size=3, unique=True),
    }[kind]
    return st.one_of(st.none(), found)


RECORD = st.fixed_dictionaries({key: record_value(key) for key in SCHEMA})


def literal(kind: Kind) -> st.SearchStrategy[Any]:
    return {
        Kind.TEXT: LITERAL_TEXT,
        Kind.CHOICE: st.sampled_from(OPTIONS),
        Kind.MULTI: st.sampled_from(TAGS),
        Kind.NUMBER: st.sampled_from(INTS + FLOATS),
        Kind.BOOL: st.booleans(),
        Kind.REF: st.integers(1, 3),
        Kind.DATETIME: DATETIMES.map(datetime.isoformat),
        Kind.DATE: DATES.map(date.isoformat),
    }[kind]


def operand(kind: Kind) -> st.SearchStrategy[Any]:
    choices = [literal(kind), st.sampled_from(BY_KIND[kind]).map(lambda k: {"field": k})]
    choices += [st.just({"var": name}) for name, of in VARIABLES.items() if of is kind]
    return st.one_of(*choices)


def ordered_pair(kind: Kind) -> st.SearchStrategy[list[Any]]:
    def order(pair: list[Any]) -> list[Any]:
        if all(not isinstance(v, dict) for v in pair):
            as_values = [datetime.fromisoformat(v) if kind is Kind.DATETIME else v for v in pair]
            return [v for _, v in sorted(zip(as_values, pair, strict=True), key=lambda x: x[0])]
        return pair

    return st.lists(operand(kind), min_size=2, max_size=2).map(order)


def value_for(op: Op, kind: Kind) -> st.SearchStrategy[Any]:
    if op in (Op.EMPTY, Op.NOT_EMPTY):
        return st.none()
    if op in (Op.IN, Op.NOT_IN, Op.CONTAINS_ANY, Op.CONTAINS_ALL):
        return st.lists(literal(kind), min_size=1, max_size=3)
    if op in (Op.CONTAINS, Op.STARTS_WITH, Op.ENDS_WITH):
        return literal(kind)
    if op is Op.BETWEEN:
        return ordered_pair(kind)
    if op in (Op.WITHIN_LAST, Op.WITHIN_NEXT):
        units = ["days"] if kind is Kind.DATE else ["minutes", "hours", "days"]
        return st.fixed_dictionaries({"amount": st.integers(1, 3), "unit": st.sampled_from(units)})
    return operand(kind)


@st.composite
def leaf(draw: st.DrawFn) -> dict[str, Any]:
    key = draw(st.sampled_from(sorted(SCHEMA)))
    kind = SCHEMA[key].kind
    ops = sorted(op for op, kinds in KINDS.items() if kind in kinds and op not in PYTHON_ONLY)
    op = draw(st.sampled_from(ops))
    node: dict[str, Any] = {"field": key, "op": op.value}
    value = draw(value_for(op, kind))
    if value is not None:
        node["value"] = value
    return node


TREE = st.recursive(
    leaf(),
    lambda children: st.one_of(
        st.lists(children, max_size=3).map(lambda c: {"all": c}),
        st.lists(children, max_size=3).map(lambda c: {"any": c}),
        children.map(lambda c: {"not": c}),
    ),
    max_leaves=6,
)


def row(record_id: int, record: dict[str, Any], null_style: int) -> dict[str, Any]:
    """The stored row; a custom value that is None is left out, or stored as JSON null."""
    found: dict[str, Any] = {"id": record_id}
    found.update({key: record[key] for key in REAL})
    custom = {k: to_json_value(kind, record[k]) for k, kind in CUSTOM.items()}
    if null_style == 0:
        custom = {k: v for k, v in custom.items() if v is not None}
    found["custom"] = (
        None if null_style == 2 and all(v is None for v in custom.values()) else custom
    )
    return found


@pytest.fixture
def engine(db_url, databases):
    engine = databases.engine(db_url)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    yield engine
    metadata.drop_all(engine)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    records=st.lists(RECORD, max_size=10),
    trees=st.lists(TREE, min_size=1, max_size=4),
    current_user=st.sampled_from([None, 2]),
    null_style=st.integers(0, 2),
)
def test_sql_selects_exactly_what_python_accepts(engine, records, trees, current_user, null_style):
    variables = {"now": NOW, "today": TODAY, "current_user": current_user}
    rows = [row(i + 1, record, null_style) for i, record in enumerate(records)]
    with engine.begin() as conn:
        conn.execute(scratch.delete())
        if rows:
            conn.execute(scratch.insert(), rows)
        for tree in trees:
            condition = parse(tree, SCHEMA, for_sql=True)
            expected = [
                i + 1 for i, r in enumerate(records) if condition.evaluate(r, variables=variables)
            ]
            stmt = select(scratch.c.id).where(condition.to_sql(variables)).order_by(scratch.c.id)
            assert list(conn.scalars(stmt)) == expected, tree
