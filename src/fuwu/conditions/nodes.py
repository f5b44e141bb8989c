"""The validated condition tree, its operators, and which operator applies to which kind.

`tree.parse` builds these from JSON; `predicate` and `sql` compile them. Nodes are immutable
and hold only checked, typed values (dates as `date`, datetimes as aware UTC `datetime`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from fuwu.conditions.regex import Regex
from fuwu.conditions.schema import FieldRef, Kind


class Op(StrEnum):
    EQ = "eq"
    NE = "ne"
    IN = "in"
    NOT_IN = "not_in"
    CONTAINS = "contains"
    CONTAINS_ANY = "contains_any"
    CONTAINS_ALL = "contains_all"
    STARTS_WITH = "starts_with"
    ENDS_WITH = "ends_with"
    REGEX = "regex"
    EMPTY = "empty"
    NOT_EMPTY = "not_empty"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    BETWEEN = "between"
    BEFORE = "before"
    AFTER = "after"
    WITHIN_LAST = "within_last"
    WITHIN_NEXT = "within_next"
    CHANGED = "changed"
    CHANGED_TO = "changed_to"
    CHANGED_FROM = "changed_from"


_ALL = frozenset(Kind)
_EQUAL = frozenset(
    {Kind.TEXT, Kind.NUMBER, Kind.BOOL, Kind.DATE, Kind.DATETIME, Kind.CHOICE, Kind.REF}
)
_ORDERED = frozenset({Kind.NUMBER, Kind.DATE, Kind.DATETIME})
_TIME = frozenset({Kind.DATE, Kind.DATETIME})

KINDS: dict[Op, frozenset[Kind]] = {
    Op.EQ: _EQUAL,
    Op.NE: _EQUAL,
    Op.IN: frozenset({Kind.TEXT, Kind.NUMBER, Kind.CHOICE, Kind.REF}),
    Op.NOT_IN: frozenset({Kind.TEXT, Kind.NUMBER, Kind.CHOICE, Kind.REF}),
    Op.CONTAINS: frozenset({Kind.TEXT, Kind.MULTI}),
    Op.CONTAINS_ANY: frozenset({Kind.MULTI}),
    Op.CONTAINS_ALL: frozenset({Kind.MULTI}),
    Op.STARTS_WITH: frozenset({Kind.TEXT}),
    Op.ENDS_WITH: frozenset({Kind.TEXT}),
    Op.REGEX: frozenset({Kind.TEXT}),
    Op.EMPTY: _ALL,
    Op.NOT_EMPTY: _ALL,
    Op.GT: _ORDERED,
    Op.GTE: _ORDERED,
    Op.LT: _ORDERED,
    Op.LTE: _ORDERED,
    Op.BETWEEN: _ORDERED,
    Op.BEFORE: _TIME,
    Op.AFTER: _TIME,
    Op.WITHIN_LAST: _TIME,
    Op.WITHIN_NEXT: _TIME,
    Op.CHANGED: _ALL,
    Op.CHANGED_TO: _EQUAL,
    Op.CHANGED_FROM: _EQUAL,
}
"""Which kinds each operator applies to (the ADR has the table)."""

CHANGE_OPS = frozenset({Op.CHANGED, Op.CHANGED_TO, Op.CHANGED_FROM})
PYTHON_ONLY = CHANGE_OPS | {Op.REGEX}
VARIABLES: dict[str, Kind] = {"now": Kind.DATETIME, "today": Kind.DATE, "current_user": Kind.REF}
UNITS = {"minutes": timedelta(minutes=1), "hours": timedelta(hours=1), "days": timedelta(days=1)}


@dataclass(frozen=True, slots=True)
class Lit:
    """A literal of the field's kind."""

    value: Any


@dataclass(frozen=True, slots=True)
class Other:
    """Another field of the same kind."""

    field: FieldRef


@dataclass(frozen=True, slots=True)
class Var:
    """A variable supplied at evaluation: now, today, current_user."""

    name: str


Operand = Lit | Other | Var


@dataclass(frozen=True, slots=True)
class Items:
    """A list of literals (in, not_in, contains_any, contains_all); never empty, no repeats."""

    values: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Between:
    low: Operand
    high: Operand


@dataclass(frozen=True, slots=True)
class Window:
    """within_last / within_next: a span before or after `now` (or `today` for dates)."""

    span: timedelta


Value = Lit | Other | Var | Items | Between | Window | Regex | None


@dataclass(frozen=True, slots=True)
class Leaf:
    path: str
    field: FieldRef
    op: Op
    value: Value = None


@dataclass(frozen=True, slots=True)
class All:
    path: str
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    path: str
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    path: str
    child: Node


Node = Leaf | All | AnyOf | Not


def leaves(node: Node) -> Iterator[Leaf]:
    """Every leaf of the tree, in order."""
    if isinstance(node, Leaf):
        yield node
    elif isinstance(node, Not):
        yield from leaves(node.child)
    else:
        for child in node.children:
            yield from leaves(child)


def operands(leaf: Leaf) -> list[Operand]:
    """The single-value operands of a leaf (none for lists, windows and patterns)."""
    if isinstance(leaf.value, Lit | Other | Var):
        return [leaf.value]
    if isinstance(leaf.value, Between):
        return [leaf.value.low, leaf.value.high]
    return []
