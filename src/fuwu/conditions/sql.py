"""Compile a condition tree into a SQLAlchemy WHERE clause with bound parameters.

Every leaf compiles to an expression that is never NULL (an empty field gives false, or true
for ne / not_in / empty), so `not` is the exact negation and SQL agrees with `predicate` on
both dialects; tests/conditions/test_sql_agreement.py checks it on random trees and records.
Text tests are case-sensitive and take no wildcards: contains is `replace(col, :x, '') <> col`
and starts_with is `substr(col, 1, :n) = :x`, which SQLite and PostgreSQL compute alike
(SQLite's LIKE ignores ASCII case, PostgreSQL's does not).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Integer,
    String,
    and_,
    false,
    func,
    literal,
    not_,
    or_,
    true,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.sqltypes import NullType
from sqlalchemy.sql.type_api import TypeEngine

from fuwu.conditions import exceptions as msg
from fuwu.conditions.exceptions import InvalidCondition, Problem
from fuwu.conditions.nodes import (
    PYTHON_ONLY,
    All,
    Between,
    Items,
    Leaf,
    Lit,
    Node,
    Not,
    Op,
    Operand,
    Other,
    Var,
    Window,
    leaves,
    operands,
)
from fuwu.conditions.schema import Kind
from fuwu.kit import jsonsql

Expr = ColumnElement[Any]
Bool = ColumnElement[bool]

_COMPARE: dict[Op, Callable[[Any, Any], Any]] = {
    Op.EQ: operator.eq,
    Op.GT: operator.gt,
    Op.GTE: operator.ge,
    Op.LT: operator.lt,
    Op.LTE: operator.le,
    Op.BEFORE: operator.lt,
    Op.AFTER: operator.gt,
}
_NEGATED = {Op.NE: Op.EQ, Op.NOT_IN: Op.IN, Op.NOT_EMPTY: Op.EMPTY}
_FALLBACK_TYPES: dict[Kind, TypeEngine[Any]] = {
    Kind.TEXT: String(),
    Kind.CHOICE: String(),
    Kind.BOOL: Boolean(),
    Kind.REF: BigInteger(),
    Kind.DATE: Date(),
    Kind.DATETIME: DateTime(timezone=True),
}


def unsupported(node: Node) -> list[Problem]:
    """What keeps the tree out of SQL: Python-only operators and fields without a column."""
    problems: list[Problem] = []
    for leaf in leaves(node):
        if leaf.op in PYTHON_ONLY:
            problems.append(Problem(leaf.path, msg.NOT_FOR_SQL_OP, {"op": leaf.op.value}))
        refs = [leaf.field, *(o.field for o in operands(leaf) if isinstance(o, Other))]
        problems.extend(
            Problem(leaf.path, msg.NOT_FOR_SQL_FIELD, {"key": ref.key})
            for ref in refs
            if ref.column is None
        )
    return problems


def compile_node(node: Node, variables: Mapping[str, Any]) -> Bool:
    """The WHERE clause of a tree; InvalidCondition when part of it cannot be SQL."""
    problems = unsupported(node)
    if problems:
        raise InvalidCondition(problems)
    return _node(node, variables)


def _node(node: Node, variables: Mapping[str, Any]) -> Bool:
    if isinstance(node, Leaf):
        return _leaf(node, variables)
    if isinstance(node, Not):
        return not_(_node(node.child, variables))
    parts = [_node(child, variables) for child in node.children]
    if isinstance(node, All):
        return and_(*parts) if parts else true()
    return or_(*parts) if parts else false()


def _leaf(leaf: Leaf, variables: Mapping[str, Any]) -> Bool:
    if leaf.op in _NEGATED:
        return not_(_leaf(Leaf(leaf.path, leaf.field, _NEGATED[leaf.op], leaf.value), variables))
    column, kind, value = leaf.field.column, leaf.field.kind, leaf.value
    assert column is not None  # unsupported() ran
    if leaf.op is Op.EMPTY:
        return _is_empty(column, kind)
    if isinstance(value, Items):
        return _items(leaf.op, column, kind, value.values)
    if isinstance(value, Window):
        return _window(leaf.op, column, kind, value, variables)
    if isinstance(value, Between):
        return _between(column, kind, value, variables)
    assert isinstance(value, Lit | Other | Var)
    if leaf.op in _COMPARE:
        return _compare(_COMPARE[leaf.op], column, kind, value, variables)
    assert isinstance(value, Lit)
    return _text(leaf.op, column, kind, value.value)


def _type(column: Expr, kind: Kind) -> TypeEngine[Any]:
    if kind is Kind.NUMBER:
        return jsonsql.JsonNumber()  # floats bind as floats, ints exactly, on both dialects
    if isinstance(column.type, NullType):
        return _FALLBACK_TYPES[kind]
    return column.type


def _bind(value: Any, column: Expr, kind: Kind) -> Expr:
    return literal(value, _type(column, kind))


def _operand(operand: Operand, column: Expr, kind: Kind, variables: Mapping[str, Any]) -> Any:
    """The SQL of an operand; None when a variable is empty (the test is then false)."""
    if isinstance(operand, Lit):
        return _bind(operand.value, column, kind)
    if isinstance(operand, Var):
        found = variables[operand.name]
        return None if found is None else _bind(found, column, kind)
    other = operand.field.column
    assert other is not None
    return other


def _present(expr: Expr, kind: Kind) -> list[Bool]:
    """The conditions under which a field is not empty."""
    if kind in (Kind.TEXT, Kind.CHOICE):
        return [expr.is_not(None), expr != ""]
    return [expr.is_not(None)]


def _is_empty(column: Expr, kind: Kind) -> Bool:
    if kind in (Kind.TEXT, Kind.CHOICE):
        return or_(column.is_(None), column == "")
    if kind is Kind.MULTI:
        return not_(jsonsql.multi_not_empty(column))
    return column.is_(None)


def _aligned(column: Expr, other: Expr, kind: Kind) -> tuple[Expr, Expr]:
    """A JSON date/datetime (canonical text) meeting a real column is read natively."""
    json_sides = isinstance(column, jsonsql.JsonField) + isinstance(other, jsonsql.JsonField)
    if kind in (Kind.DATE, Kind.DATETIME) and json_sides == 1:
        return jsonsql.as_native(column), jsonsql.as_native(other)
    return column, other


def _compare(
    compare: Callable[[Any, Any], Any],
    column: Expr,
    kind: Kind,
    operand: Lit | Other | Var,
    variables: Mapping[str, Any],
) -> Bool:
    other = _operand(operand, column, kind, variables)
    if other is None:
        return false()
    if not isinstance(operand, Other):
        return and_(column.is_not(None), compare(column, other))
    left, right = _aligned(column, other, kind)
    return and_(*_present(column, kind), *_present(other, kind), compare(left, right))


def _between(column: Expr, kind: Kind, value: Between, variables: Mapping[str, Any]) -> Bool:
    low = _operand(value.low, column, kind, variables)
    high = _operand(value.high, column, kind, variables)
    if low is None or high is None:
        return false()
    above_left, low = _aligned(column, low, kind) if isinstance(value.low, Other) else (column, low)
    below_left, high = (
        _aligned(column, high, kind) if isinstance(value.high, Other) else (column, high)
    )
    present = [*_present(column, kind)]
    present += _present(low, kind) if isinstance(value.low, Other) else []
    present += _present(high, kind) if isinstance(value.high, Other) else []
    return and_(*present, above_left >= low, below_left <= high)


def _items(op: Op, column: Expr, kind: Kind, values: tuple[Any, ...]) -> Bool:
    if op is Op.CONTAINS_ANY:
        return jsonsql.multi_contains_any(column, values)
    if op is Op.CONTAINS_ALL:
        return jsonsql.multi_contains_all(column, values)
    binds = [_bind(v, column, kind) for v in values]
    return and_(column.is_not(None), column.in_(binds))


def _window(op: Op, column: Expr, kind: Kind, window: Window, variables: Mapping[str, Any]) -> Bool:
    anchor = variables["today" if kind is Kind.DATE else "now"]
    low, high = (
        (anchor - window.span, anchor) if op is Op.WITHIN_LAST else (anchor, anchor + window.span)
    )
    return and_(column.is_not(None), column >= _bind(low, column, kind),
                column <= _bind(high, column, kind))  # fmt: skip


def _text(op: Op, column: Expr, kind: Kind, literal_value: Any) -> Bool:
    if kind is Kind.MULTI:
        return jsonsql.multi_contains(column, literal_value)
    wanted = literal(literal_value, String())
    size = literal(len(literal_value), Integer())
    if op is Op.CONTAINS:
        removed = func.replace(column, wanted, literal("", String()), type_=String())
        return and_(column.is_not(None), removed != column)
    if op is Op.STARTS_WITH:
        return and_(column.is_not(None), func.substr(column, 1, size, type_=String()) == wanted)
    length = func.length(column, type_=Integer())
    tail = func.substr(column, length - size + 1, type_=String())
    return and_(column.is_not(None), length >= size, tail == wanted)
