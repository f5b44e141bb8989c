"""Typed values out of a JSON `custom` column, as SQL that both dialects can index.

Custom field values live in one JSON column (JSON on SQLite, JSONB on PostgreSQL). This module
is the one place that knows how to pull a typed value out of it:

- `json_field(column, key, kind)` renders `json_extract(custom, '$.key')` on SQLite and
  `(custom ->> 'key')` (with a cast for numbers, booleans and ids) on PostgreSQL. The key is
  rendered as a literal, never a bound parameter: the same expression creates the expression
  index of a filterable field, and PostgreSQL only uses such an index when the query's
  expression is the indexed one.
- Dates and datetimes are stored as canonical ISO strings whose text order is time order
  (`to_json_value` / `from_json_value`); the expression's type binds Python values in that
  format, so `json_field(...) > some_datetime` compares like with like.
- `multi_contains` / `multi_contains_any` / `multi_contains_all` / `multi_not_empty` test a
  JSON array of option keys (PostgreSQL `?`, `?|`, `?&`; SQLite `json_each`).

`kind` is the string value of `fuwu.conditions.schema.Kind` ("text", "number", …): kit sits
below conditions and cannot import it, and `Kind` members are those strings.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, String, bindparam
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import sqltypes
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.type_api import TypeEngine
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator

KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,39}")
KINDS = frozenset({"text", "number", "bool", "date", "datetime", "choice", "multi", "ref"})
DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # fixed width, UTC: text order is time order
_PG_CASTS = {"number": "NUMERIC", "bool": "BOOLEAN", "ref": "BIGINT"}


def check_key(key: str) -> str:
    """The key, when it may be rendered into SQL as a literal; ValueError otherwise."""
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise ValueError(f"custom field key {key!r} does not match {KEY_PATTERN.pattern}")
    return key


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown field kind {kind!r}")
    return str(kind)


# --- canonical JSON storage --------------------------------------------------------------


def canonical_datetime(value: datetime) -> str:
    """An aware datetime as stored in JSON: UTC, microseconds, `Z` (2026-11-22T01:30:00.000000Z)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given; datetimes must be timezone-aware")
    return value.astimezone(UTC).strftime(DATETIME_FORMAT)


def to_json_value(kind: str, value: Any) -> Any:
    """A Python value of a field kind → what is stored in the JSON column (None stays None)."""
    if value is None:
        return None
    kind = _check_kind(kind)
    if kind == "datetime":
        if not isinstance(value, datetime):
            raise TypeError(f"a datetime is needed, not {type(value).__name__}")
        return canonical_datetime(value)
    if kind == "date":
        if isinstance(value, datetime) or not isinstance(value, date):
            raise TypeError(f"a date is needed, not {type(value).__name__}")
        return value.isoformat()
    if kind == "number":
        return _json_number(value)
    if kind == "multi":
        return list(dict.fromkeys(str(v) for v in value))
    if kind == "bool":
        return bool(value)
    if kind == "ref":
        return int(value)
    return str(value)


def _json_number(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise TypeError(f"a number is needed, not {type(value).__name__}")
    if isinstance(value, int):
        return value
    if not math.isfinite(value):
        raise ValueError("numbers must be finite")
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def from_json_value(kind: str, raw: Any) -> Any:
    """A stored JSON value → the Python value of the kind (None stays None)."""
    if raw is None:
        return None
    kind = _check_kind(kind)
    if kind == "datetime":
        return datetime.fromisoformat(str(raw).replace("Z", "+00:00")).astimezone(UTC)
    if kind == "date":
        return date.fromisoformat(str(raw))
    if kind == "multi":
        return [str(v) for v in raw]
    if kind == "number":
        return raw if isinstance(raw, int | float) else Decimal(str(raw))
    if kind == "bool":
        return bool(raw)
    if kind == "ref":
        return int(raw)
    return str(raw)


# --- column types that bind Python values in the stored format ----------------------------


class JsonDateTime(TypeDecorator[datetime]):
    """A datetime kept as canonical text inside JSON."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else canonical_datetime(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return from_json_value("datetime", value)  # type: ignore[no-any-return]


class JsonDate(TypeDecorator[date]):
    """A date kept as YYYY-MM-DD inside JSON."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return to_json_value("date", value)  # type: ignore[no-any-return]

    def process_result_value(self, value: Any, dialect: Dialect) -> date | None:
        return from_json_value("date", value)  # type: ignore[no-any-return]


class JsonNumber(TypeDecorator[Any]):
    """A JSON number. On PostgreSQL a float binds as the NUMERIC of its shortest repr, so
    `CAST(custom ->> 'k' AS NUMERIC) > 1.5` stays numeric-to-numeric (an expression index
    is usable) and compares exactly like the floats would. On SQLite ints and floats bind
    unchanged (SQLAlchemy's Numeric would turn a large int into a float there)."""

    impl = sqltypes.Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sqltypes.Integer())
        return dialect.type_descriptor(sqltypes.Numeric())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, Decimal) and dialect.name == "sqlite":
            return _json_number(value)
        if isinstance(value, float) and dialect.name != "sqlite":
            return Decimal(repr(value))
        return value


def _type_for(kind: str) -> TypeEngine[Any]:
    types: dict[str, TypeEngine[Any]] = {
        "number": JsonNumber(),
        "bool": Boolean(),
        "ref": sqltypes.BigInteger(),
        "date": JsonDate(),
        "datetime": JsonDateTime(),
        "multi": sqltypes.JSON(),
    }
    return types.get(kind, String())


# --- the extraction expression -------------------------------------------------------------


class JsonField(ColumnElement[Any]):
    """`custom.key` as a typed SQL expression (see the module docstring).

    With `native=True` a date or datetime comes out as the dialect's own DATE / timestamp
    instead of canonical text: for comparing it with a real date or datetime column.
    """

    __visit_name__ = "fuwu_json_field"
    _traverse_internals = [  # noqa: RUF012 - SQLAlchemy reads it from the class (cache key)
        ("column", InternalTraversal.dp_clauseelement),
        ("field_key", InternalTraversal.dp_string),
        ("kind", InternalTraversal.dp_string),
        ("native", InternalTraversal.dp_boolean),
    ]

    def __init__(
        self, column: ColumnElement[Any], key: str, kind: str, *, native: bool = False
    ) -> None:
        self.column = column
        self.field_key = check_key(key)
        self.kind = _check_kind(kind)
        self.native = native
        self.type = _type_for(self.kind)

    @property
    def _from_objects(self) -> list[Any]:
        return self.column._from_objects


def json_field(column: ColumnElement[Any], key: str, kind: str) -> ColumnElement[Any]:
    """The typed value of custom field `key` (see the module docstring); MULTI gives the array."""
    return JsonField(column, key, kind)


def as_native(expr: ColumnElement[Any]) -> ColumnElement[Any]:
    """A JSON date/datetime as the dialect's own DATE / timestamp; anything else unchanged."""
    if isinstance(expr, JsonField) and expr.kind in ("date", "datetime") and not expr.native:
        return JsonField(expr.column, expr.field_key, expr.kind, native=True)
    return expr


@compiles(JsonField, "sqlite")
def _sqlite_json_field(element: JsonField, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    extracted = f"json_extract({column}, '$.{element.field_key}')"
    if element.native and element.kind == "datetime":
        # SQLite keeps DateTime columns as 'YYYY-MM-DD HH:MM:SS.ffffff' (naive UTC).
        return f"replace(replace({extracted}, 'T', ' '), 'Z', '')"
    return extracted


@compiles(JsonField, "postgresql")
def _pg_json_field(element: JsonField, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    if element.kind == "multi":
        return f"({column} -> '{element.field_key}')"
    text = f"({column} ->> '{element.field_key}')"
    if element.kind in _PG_CASTS:
        return f"CAST({text} AS {_PG_CASTS[element.kind]})"
    if element.kind in ("date", "datetime") and element.native:
        target = "DATE" if element.kind == "date" else "TIMESTAMP WITH TIME ZONE"
        return f"CAST({text} AS {target})"
    if element.kind in ("date", "datetime"):
        # Byte order, whatever the database's collation: text order must be time order.
        return f'({text} COLLATE "C")'
    return text


@compiles(JsonField)
def _other_json_field(element: JsonField, compiler: SQLCompiler, **kw: Any) -> str:
    raise NotImplementedError(f"JSON fields are not supported on {compiler.dialect.name}")


# --- arrays of option keys (MULTI) ---------------------------------------------------------


class MultiTest(ColumnElement[bool]):
    """A NULL-free test on a JSON array of strings: has / any / all of `values`, or nonempty."""

    __visit_name__ = "fuwu_multi_test"
    type = Boolean()
    _traverse_internals = [  # noqa: RUF012 - SQLAlchemy reads it from the class (cache key)
        ("array", InternalTraversal.dp_clauseelement),
        ("test", InternalTraversal.dp_string),
        ("values", InternalTraversal.dp_clauseelement_tuple),
    ]

    def __init__(self, array: ColumnElement[Any], test: str, values: Sequence[str]) -> None:
        self.array = array
        self.test = test
        unique = list(dict.fromkeys(values))
        self.values: tuple[BindParameter[str], ...] = tuple(
            bindparam(None, v, type_=String(), unique=True) for v in unique
        )

    @property
    def _from_objects(self) -> list[Any]:
        return self.array._from_objects


def multi_contains(array: ColumnElement[Any], value: str) -> ColumnElement[bool]:
    """The array holds `value` (false when the array is NULL or JSON null)."""
    return MultiTest(array, "has", [value])


def multi_contains_any(array: ColumnElement[Any], values: Sequence[str]) -> ColumnElement[bool]:
    """The array holds at least one of `values` (false for no values)."""
    return MultiTest(array, "any", values)


def multi_contains_all(array: ColumnElement[Any], values: Sequence[str]) -> ColumnElement[bool]:
    """The array holds every one of `values` (true for no values)."""
    return MultiTest(array, "all", values)


def multi_not_empty(array: ColumnElement[Any]) -> ColumnElement[bool]:
    """The array has at least one element (false for NULL, JSON null and [])."""
    return MultiTest(array, "nonempty", [])


@compiles(MultiTest, "sqlite")
def _sqlite_multi(element: MultiTest, compiler: SQLCompiler, **kw: Any) -> str:
    array = compiler.process(element.array, **kw)
    values = ", ".join(compiler.process(v, **kw) for v in element.values)
    if element.test == "nonempty":
        return f"(coalesce(json_array_length({array}), 0) > 0)"
    if not element.values:
        return "1" if element.test == "all" else "0"
    members = f"FROM json_each({array}) AS fuwu_je WHERE fuwu_je.value IN ({values})"
    if element.test == "all":
        return f"((SELECT count(DISTINCT fuwu_je.value) {members}) = {len(element.values)})"
    return f"(EXISTS (SELECT 1 {members}))"


@compiles(MultiTest, "postgresql")
def _pg_multi(element: MultiTest, compiler: SQLCompiler, **kw: Any) -> str:
    array = compiler.process(element.array, **kw)
    if element.test == "nonempty":
        return f"coalesce(jsonb_typeof({array}) = 'array' AND {array} <> '[]'::jsonb, false)"
    if not element.values:
        return "true" if element.test == "all" else "false"
    values = ", ".join(compiler.process(v, **kw) for v in element.values)
    if element.test == "has":
        test = f"{array} ? {values}"
    else:
        operator = "?|" if element.test == "any" else "?&"
        test = f"{array} {operator} CAST(ARRAY[{values}] AS TEXT[])"
    return f"({array} IS NOT NULL AND {test})"


@compiles(MultiTest)
def _other_multi(element: MultiTest, compiler: SQLCompiler, **kw: Any) -> str:
    raise NotImplementedError(f"JSON arrays are not supported on {compiler.dialect.name}")
