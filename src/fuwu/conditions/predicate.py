"""Compile a condition tree into nested closures: no per-call dispatch on strings.

Every check has the signature `(record, before, variables) -> bool`. The semantics are those
of the SQL compiler, decided once in docs/adr/0007-condition-language.md:

- a field is empty when it is None, "" (text, choice) or [] (multi);
- eq / in / gt / contains / … are false on an empty field or operand;
- ne, not_in and not_empty are the exact negation of eq, in and empty;
- numbers compare as SQL does: a float stands for the decimal of its shortest repr (what JSON
  stores), so it equals a Decimal from a NUMERIC column or a custom field when SQL says so.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

from fuwu.conditions.nodes import (
    All,
    AnyOf,
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
)
from fuwu.conditions.regex import Regex
from fuwu.conditions.schema import Kind

Record = Mapping[str, Any]
Check = Callable[[Record, Record, Record], bool]
Get = Callable[[Record, Record], Any]  # (record, variables) → a value, None when empty

_COMPARE: dict[Op, Callable[[Any, Any], bool]] = {
    Op.EQ: operator.eq,
    Op.GT: operator.gt,
    Op.GTE: operator.ge,
    Op.LT: operator.lt,
    Op.LTE: operator.le,
    Op.BEFORE: operator.lt,
    Op.AFTER: operator.gt,
}
_NEGATED = {Op.NE: Op.EQ, Op.NOT_IN: Op.IN, Op.NOT_EMPTY: Op.EMPTY}


def compile_node(node: Node) -> Check:
    """The predicate of a node."""
    if isinstance(node, Leaf):
        return _leaf(node)
    if isinstance(node, Not):
        return _negate(compile_node(node.child))
    children = tuple(compile_node(c) for c in node.children)
    if isinstance(node, All):
        return _all(children)
    assert isinstance(node, AnyOf)
    return _any(children)


def _all(children: tuple[Check, ...]) -> Check:
    if len(children) == 1:
        return children[0]

    def check(record: Record, before: Record, variables: Record) -> bool:
        for child in children:  # noqa: SIM110 - a loop is faster than all() over a generator
            if not child(record, before, variables):
                return False
        return True

    return check


def _any(children: tuple[Check, ...]) -> Check:
    if len(children) == 1:
        return children[0]

    def check(record: Record, before: Record, variables: Record) -> bool:
        for child in children:  # noqa: SIM110 - a loop is faster than any() over a generator
            if child(record, before, variables):
                return True
        return False

    return check


def _negate(inner: Check) -> Check:
    def check(record: Record, before: Record, variables: Record) -> bool:
        return not inner(record, before, variables)

    return check


def _leaf(leaf: Leaf) -> Check:
    if leaf.op in _NEGATED:
        return _negate(_leaf(Leaf(leaf.path, leaf.field, _NEGATED[leaf.op], leaf.value)))
    key, kind, value = leaf.field.key, leaf.field.kind, leaf.value
    if leaf.op in (Op.CHANGED, Op.CHANGED_TO, Op.CHANGED_FROM):
        return _changed(leaf)
    if leaf.op is Op.EMPTY:
        return _empty(key, kind)
    if isinstance(value, Items):
        return _items(leaf.op, key, kind, value.values)
    if isinstance(value, Window):
        return _window(leaf.op, key, kind, value.span)
    if isinstance(value, Regex):
        return _regex(key, value)
    if isinstance(value, Between):
        low, high = _getter(value.low, kind), _getter(value.high, kind)
        return _between(key, kind, low, high)
    assert isinstance(value, Lit | Other | Var)
    if leaf.op in _COMPARE:
        return _compare(_COMPARE[leaf.op], key, kind, value)
    assert isinstance(value, Lit)
    return _text(leaf.op, key, kind, value.value)


# --- empty values and numbers ----------------------------------------------------------------


def is_empty(kind: Kind, value: Any) -> bool:
    """None, "" for text and choice, [] for multi."""
    if value is None:
        return True
    if kind in (Kind.TEXT, Kind.CHOICE):
        return bool(value == "")
    return kind is Kind.MULTI and len(value) == 0


def _exact(value: Any) -> Any:
    """A float as the decimal SQL holds for it (JSON keeps its shortest repr), so that it
    compares exactly with a Decimal from a NUMERIC column, as NUMERIC does."""
    return Decimal(repr(value)) if type(value) is float else value


def _empty(key: str, kind: Kind) -> Check:
    def check(record: Record, before: Record, variables: Record) -> bool:
        return is_empty(kind, record.get(key))

    return check


def _getter(operand: Operand, kind: Kind) -> Get:
    """The operand's value at evaluation, None when empty."""
    if isinstance(operand, Lit):
        constant = _exact(operand.value) if kind is Kind.NUMBER else operand.value
        return lambda record, variables: constant
    if isinstance(operand, Var):
        name = operand.name
        return lambda record, variables: variables.get(name)
    other = operand.field.key

    def get(record: Record, variables: Record) -> Any:
        found = record.get(other)
        if is_empty(kind, found):
            return None
        return _exact(found) if kind is Kind.NUMBER else found

    return get


# --- comparisons ----------------------------------------------------------------------------


def _compare(compare: Callable[[Any, Any], bool], key: str, kind: Kind, operand: Operand) -> Check:
    if isinstance(operand, Lit) and kind is not Kind.NUMBER:
        return _compare_literal(compare, key, operand.value)
    if isinstance(operand, Lit):
        return _compare_number(compare, key, operand.value)
    get = _getter(operand, kind)
    number = kind is Kind.NUMBER

    def check(record: Record, before: Record, variables: Record) -> bool:
        found = record.get(key)
        other = get(record, variables)
        if found is None or other is None or (found == "" and kind is not Kind.NUMBER):
            return False
        return compare(_exact(found) if number else found, other)

    return check


def _compare_literal(compare: Callable[[Any, Any], bool], key: str, literal: Any) -> Check:
    # The literal is never empty, so an empty text ("") simply compares unequal.
    def check(record: Record, before: Record, variables: Record) -> bool:
        found = record.get(key)
        return found is not None and compare(found, literal)

    return check


def _compare_number(compare: Callable[[Any, Any], bool], key: str, literal: Any) -> Check:
    # Floats against floats and ints compare as they are; a Decimal meets the literal's
    # exact decimal, as NUMERIC does in SQL.
    exact = _exact(literal)

    def check(record: Record, before: Record, variables: Record) -> bool:
        found = record.get(key)
        if found is None:
            return False
        return compare(found, exact if type(found) is Decimal else literal)

    return check


def _between(key: str, kind: Kind, low: Get, high: Get) -> Check:
    number = kind is Kind.NUMBER

    def check(record: Record, before: Record, variables: Record) -> bool:
        found = record.get(key)
        start, end = low(record, variables), high(record, variables)
        if found is None or start is None or end is None:
            return False
        if number:
            found = _exact(found)
        return bool(start <= found <= end)

    return check


def _window(op: Op, key: str, kind: Kind, span: timedelta) -> Check:
    name = "today" if kind is Kind.DATE else "now"
    last = op is Op.WITHIN_LAST

    def check(record: Record, before: Record, variables: Record) -> bool:
        found = record.get(key)
        if found is None:
            return False
        anchor = variables[name]
        if last:
            return bool(anchor - span <= found <= anchor)
        return bool(anchor <= found <= anchor + span)

    return check


# --- lists, text and patterns ---------------------------------------------------------------


def _items(op: Op, key: str, kind: Kind, values: tuple[Any, ...]) -> Check:
    wanted = frozenset(values)
    if op is Op.CONTAINS_ALL:

        def check(record: Record, before: Record, variables: Record) -> bool:
            found = record.get(key)
            return bool(found) and wanted.issubset(found)  # type: ignore[arg-type]

    elif op is Op.CONTAINS_ANY:

        def check(record: Record, before: Record, variables: Record) -> bool:
            found = record.get(key)
            return bool(found) and not wanted.isdisjoint(found)  # type: ignore[arg-type]

    elif kind is Kind.NUMBER:
        decimals = frozenset(_exact(v) for v in values)

        def check(record: Record, before: Record, variables: Record) -> bool:
            found = record.get(key)
            return (found in decimals) if type(found) is Decimal else (found in wanted)

    else:

        def check(record: Record, before: Record, variables: Record) -> bool:
            return record.get(key) in wanted

    return check


def _text(op: Op, key: str, kind: Kind, literal: Any) -> Check:
    if op is Op.CONTAINS:  # a substring of text, a member of a multi

        def check(record: Record, before: Record, variables: Record) -> bool:
            found = record.get(key)
            return found is not None and literal in found

    elif op is Op.STARTS_WITH:

        def check(record: Record, before: Record, variables: Record) -> bool:
            found = record.get(key)
            return found is not None and bool(found.startswith(literal))

    else:

        def check(record: Record, before: Record, variables: Record) -> bool:
            found = record.get(key)
            return found is not None and bool(found.endswith(literal))

    return check


def _regex(key: str, pattern: Regex) -> Check:
    search = pattern.search

    def check(record: Record, before: Record, variables: Record) -> bool:
        found = record.get(key)
        return found is not None and search(found)

    return check


# --- changes --------------------------------------------------------------------------------


def same(kind: Kind, old: Any, new: Any) -> bool:
    """Whether a field kept its value: empties are all alike, a multi is a set."""
    if is_empty(kind, old) or is_empty(kind, new):
        return is_empty(kind, old) and is_empty(kind, new)
    if kind is Kind.MULTI:
        return set(old) == set(new)
    if kind is Kind.NUMBER:
        return bool(_exact(old) == _exact(new))
    return bool(old == new)


def _changed(leaf: Leaf) -> Check:
    key, kind = leaf.field.key, leaf.field.kind
    if leaf.op is Op.CHANGED:

        def check(record: Record, before: Record, variables: Record) -> bool:
            return not same(kind, before.get(key), record.get(key))

        return check
    assert isinstance(leaf.value, Lit | Var)
    get = _getter(leaf.value, kind)
    to = leaf.op is Op.CHANGED_TO

    def check_value(record: Record, before: Record, variables: Record) -> bool:
        old, new = before.get(key), record.get(key)
        wanted = get(record, variables)
        if wanted is None or same(kind, old, new):
            return False
        return same(kind, new if to else old, wanted)

    return check_value
