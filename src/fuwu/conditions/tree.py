"""Parse and validate a condition tree (JSON) against a schema; `Condition` runs the result.

    {"all": [...]} {"any": [...]} {"not": node}
    {"field": "priority", "op": "eq", "value": "high"}
    value: a literal, {"field": "other_key"}, or {"var": "now" | "today" | "current_user"}

`parse` checks everything once (fields, operator per kind, value types, options, limits) and
reports every wrong node by its path (`all[2].any[0]`); evaluation and SQL compilation then
never meet an unchecked value. See docs/adr/0007-condition-language.md.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final

from sqlalchemy.sql.elements import ColumnElement

from fuwu.conditions import exceptions as msg
from fuwu.conditions import predicate, sql
from fuwu.conditions.exceptions import InvalidCondition, Problem
from fuwu.conditions.nodes import (
    CHANGE_OPS,
    KINDS,
    UNITS,
    VARIABLES,
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
    Value,
    Var,
    Window,
    leaves,
    operands,
)
from fuwu.conditions.regex import MAX_PATTERN, PatternError, Regex
from fuwu.conditions.schema import FieldRef, Kind, Schema

MAX_DEPTH = 10  # nesting levels of all / any / not, the top node included
MAX_LEAVES = 200
MAX_ITEMS = 500  # values in one list (in, contains_any, …)
MAX_TEXT = 1000  # characters in one text value
MAX_AMOUNT = 100_000  # for within_last / within_next
_BIGGEST_INT = 2**63 - 1
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_EMPTY: Final[Mapping[str, Any]] = MappingProxyType({})
_BAD: Final = object()  # a literal that did not validate


class Condition:
    """A parsed condition: `evaluate` it on a record, or `to_sql` it into a WHERE clause."""

    __slots__ = ("_check", "_needs", "fields_used", "node", "variables_used")

    def __init__(self, node: Node) -> None:
        self.node = node
        self.fields_used: frozenset[str] = frozenset(_fields(node))
        self.variables_used: frozenset[str] = frozenset(_variables(node))
        self._needs = tuple(sorted(self.variables_used))
        self._check = predicate.compile_node(node)

    def __repr__(self) -> str:
        return f"Condition(fields={sorted(self.fields_used)})"

    def evaluate(
        self,
        record: Mapping[str, Any],
        *,
        before: Mapping[str, Any] | None = None,
        variables: Mapping[str, Any],
    ) -> bool:
        """True when the record matches; `before` is the previous state for change operators
        (None: there was none, as on creation, so every field was empty)."""
        if self._needs:
            _check_variables(self._needs, variables)
        return self._check(record, _EMPTY if before is None else before, variables)

    def trace(
        self,
        record: Mapping[str, Any],
        *,
        before: Mapping[str, Any] | None = None,
        variables: Mapping[str, Any],
    ) -> dict[str, bool]:
        """Each leaf's own result by path, all of them evaluated (for the run log)."""
        if self._needs:
            _check_variables(self._needs, variables)
        previous = _EMPTY if before is None else before
        return {
            leaf.path or msg.ROOT: predicate.compile_node(leaf)(record, previous, variables)
            for leaf in leaves(self.node)
        }

    def to_sql(self, variables: Mapping[str, Any] = _EMPTY) -> ColumnElement[bool]:
        """A WHERE clause with bound parameters; InvalidCondition when a field has no column
        or an operator exists only in Python (regex, changed…)."""
        if self._needs:
            _check_variables(self._needs, variables)
        return sql.compile_node(self.node, variables)


def parse(
    tree: object, schema: Schema, *, allow_changes: bool = False, for_sql: bool = False
) -> Condition:
    """Validate `tree` fully and compile it; InvalidCondition lists every wrong node.

    `allow_changes` admits changed / changed_to / changed_from (event rules only);
    `for_sql` refuses up front what `Condition.to_sql` could not compile.
    """
    parser = _Parser(schema, allow_changes=allow_changes)
    try:
        node = parser.node(tree, "", 1)
    except _TooBig:
        raise InvalidCondition([Problem("", msg.TOO_MANY, {"max": MAX_LEAVES})]) from None
    problems = parser.problems
    if node is not None and for_sql and not problems:
        problems = sql.unsupported(node)
    if problems or node is None:
        raise InvalidCondition(problems)
    return Condition(node)


def _fields(node: Node) -> set[str]:
    found: set[str] = set()
    for leaf in leaves(node):
        found.add(leaf.field.key)
        found.update(o.field.key for o in operands(leaf) if isinstance(o, Other))
    return found


def _variables(node: Node) -> set[str]:
    found: set[str] = set()
    for leaf in leaves(node):
        found.update(o.name for o in operands(leaf) if isinstance(o, Var))
        if isinstance(leaf.value, Window):
            found.add("today" if leaf.field.kind is Kind.DATE else "now")
    return found


def _check_variables(needed: tuple[str, ...], variables: Mapping[str, Any]) -> None:
    for name in needed:
        if name not in variables:
            raise ValueError(f"the condition needs the variable {name!r}")
        value = variables[name]
        if name == "now" and not (isinstance(value, datetime) and value.tzinfo is not None):
            raise ValueError("the variable 'now' must be a timezone-aware datetime")
        if name == "today" and (isinstance(value, datetime) or not isinstance(value, date)):
            raise ValueError("the variable 'today' must be a date")
        if name == "current_user" and not (value is None or type(value) is int):
            raise ValueError("the variable 'current_user' must be an id or None")


class _TooBig(Exception):
    """More leaves than MAX_LEAVES: stop at once, whatever else is wrong."""


def _join(path: str, part: str) -> str:
    return f"{path}.{part}" if path else part


class _Parser:
    def __init__(self, schema: Schema, *, allow_changes: bool) -> None:
        self.schema = schema
        self.allow_changes = allow_changes
        self.problems: list[Problem] = []
        self.leaf_count = 0

    def fail(self, path: str, message: str, **params: Any) -> None:
        self.problems.append(Problem(path, message, params))

    def node(self, raw: object, path: str, depth: int) -> Node | None:
        if depth > MAX_DEPTH:
            self.fail(path, msg.TOO_DEEP, max=MAX_DEPTH)
            return None
        if not isinstance(raw, Mapping):
            self.fail(path, msg.NOT_A_NODE)
            return None
        if "field" in raw or "op" in raw:
            return self.leaf(raw, path)
        groups = [k for k in ("all", "any", "not") if k in raw]
        if len(groups) != 1:
            self.fail(path, msg.NOT_A_NODE)
            return None
        for extra in sorted(str(k) for k in raw if k not in ("all", "any", "not")):
            self.fail(path, msg.UNKNOWN_KEY, name=extra)
        name = groups[0]
        if name == "not":
            child = self.node(raw["not"], _join(path, "not"), depth + 1)
            return None if child is None else Not(path, child)
        items = raw[name]
        if not isinstance(items, list):
            self.fail(path, msg.NOT_A_LIST, name=name)
            return None
        children = [
            self.node(item, _join(path, f"{name}[{i}]"), depth + 1) for i, item in enumerate(items)
        ]
        if any(child is None for child in children):
            return None
        found = tuple(c for c in children if c is not None)
        return All(path, found) if name == "all" else AnyOf(path, found)

    def leaf(self, raw: Mapping[Any, Any], path: str) -> Leaf | None:
        self.leaf_count += 1
        if self.leaf_count > MAX_LEAVES:
            raise _TooBig
        for extra in sorted(str(k) for k in raw if k not in ("field", "op", "value")):
            self.fail(path, msg.UNKNOWN_KEY, name=extra)
        key = raw.get("field")
        ref = self.schema.get(key) if isinstance(key, str) else None
        if ref is None:
            self.fail(path, msg.UNKNOWN_FIELD, key=_shown(key))
            return None
        try:
            op = Op(str(raw.get("op")))
        except ValueError:
            self.fail(path, msg.UNKNOWN_OP, op=_shown(raw.get("op")))
            return None
        if ref.kind not in KINDS[op]:
            self.fail(path, msg.OP_NOT_FOR_FIELD, op=op.value, key=ref.key)
            return None
        if op in CHANGE_OPS and not self.allow_changes:
            self.fail(path, msg.CHANGES_NOT_ALLOWED, op=op.value)
            return None
        before = len(self.problems)
        value = self.value(op, ref, raw.get("value"), path)
        return None if len(self.problems) > before else Leaf(path, ref, op, value)

    def value(self, op: Op, ref: FieldRef, raw: Any, path: str) -> Value:
        if op in (Op.EMPTY, Op.NOT_EMPTY, Op.CHANGED):
            if raw is not None:
                self.fail(path, msg.NO_VALUE_WANTED, op=op.value)
            return None
        if raw is None:
            self.fail(path, msg.VALUE_NEEDED, op=op.value)
            return None
        if op in (Op.IN, Op.NOT_IN, Op.CONTAINS_ANY, Op.CONTAINS_ALL):
            return self.items(op, ref, raw, path)
        if op is Op.BETWEEN:
            return self.between(ref, raw, path)
        if op in (Op.WITHIN_LAST, Op.WITHIN_NEXT):
            return self.window(op, ref, raw, path)
        if op is Op.REGEX:
            return self.pattern(raw, path)
        literal_only = op in (Op.CONTAINS, Op.STARTS_WITH, Op.ENDS_WITH) or op in CHANGE_OPS
        variable = op in CHANGE_OPS and isinstance(raw, Mapping) and set(raw) == {"var"}
        if literal_only and isinstance(raw, Mapping) and not variable:
            self.fail(path, msg.LITERAL_NEEDED, op=op.value)
            return None
        return self.operand(ref, raw, path)

    def operand(self, ref: FieldRef, raw: Any, path: str) -> Operand | None:
        if isinstance(raw, Mapping) and set(raw) == {"field"}:
            other = self.schema.get(raw["field"]) if isinstance(raw["field"], str) else None
            if other is None:
                self.fail(path, msg.UNKNOWN_FIELD, key=_shown(raw["field"]))
                return None
            if other.kind is not ref.kind:
                self.fail(path, msg.FIELD_MISMATCH, other=other.key, key=ref.key)
                return None
            return Other(other)
        if isinstance(raw, Mapping) and set(raw) == {"var"}:
            name = raw["var"]
            if not isinstance(name, str) or name not in VARIABLES:
                self.fail(path, msg.UNKNOWN_VARIABLE, name=_shown(name))
                return None
            if VARIABLES[name] is not ref.kind:
                self.fail(path, msg.VARIABLE_MISMATCH, name=name, key=ref.key)
                return None
            return Var(name)
        value = self.literal(ref, raw, path)
        return None if value is _BAD else Lit(value)

    def items(self, op: Op, ref: FieldRef, raw: Any, path: str) -> Items | None:
        if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_ITEMS:
            self.fail(path, msg.LIST_NEEDED, op=op.value, max=MAX_ITEMS)
            return None
        values = [self.literal(ref, item, path) for item in raw]
        if any(v is _BAD for v in values):
            return None
        return Items(tuple(dict.fromkeys(values)))

    def between(self, ref: FieldRef, raw: Any, path: str) -> Between | None:
        if not isinstance(raw, list) or len(raw) != 2:
            self.fail(path, msg.BETWEEN_NEEDED)
            return None
        low, high = self.operand(ref, raw[0], path), self.operand(ref, raw[1], path)
        if low is None or high is None:
            return None
        if isinstance(low, Lit) and isinstance(high, Lit) and low.value > high.value:
            self.fail(path, msg.BETWEEN_ORDER)
            return None
        return Between(low, high)

    def window(self, op: Op, ref: FieldRef, raw: Any, path: str) -> Window | None:
        units = ["days"] if ref.kind is Kind.DATE else list(UNITS)
        amount = raw.get("amount") if isinstance(raw, Mapping) else None
        unit = raw.get("unit") if isinstance(raw, Mapping) else None
        if (
            not isinstance(raw, Mapping)
            or set(raw) != {"amount", "unit"}
            or type(amount) is not int
            or not 1 <= amount <= MAX_AMOUNT
            or unit not in units
        ):
            self.fail(path, msg.WINDOW_NEEDED, op=op.value, max=MAX_AMOUNT, units=", ".join(units))
            return None
        return Window(UNITS[unit] * amount)

    def pattern(self, raw: Any, path: str) -> Regex | None:
        if not isinstance(raw, str):
            self.fail(path, msg.WRONG_VALUE["text"], max=MAX_PATTERN)
            return None
        try:
            return Regex(raw)
        except PatternError as exc:
            self.fail(path, msg.PATTERN_INVALID[exc.reason], position=exc.position + 1)
            return None

    def literal(self, ref: FieldRef, raw: Any, path: str) -> Any:
        value = _literal(ref.kind, raw)
        if value is _BAD:
            self.fail(path, msg.WRONG_VALUE[ref.kind.value], max=MAX_TEXT)
            return _BAD
        optional = ref.kind in (Kind.CHOICE, Kind.MULTI) and ref.options is not None
        if optional and value not in ref.options:  # type: ignore[operator]
            self.fail(path, msg.UNKNOWN_OPTION, value=_shown(value), key=ref.key)
            return _BAD
        return value


def _literal(kind: Kind, raw: Any) -> Any:
    """The checked Python value of a literal of `kind`, or _BAD."""
    if kind in (Kind.TEXT, Kind.CHOICE, Kind.MULTI):
        ok = isinstance(raw, str) and 0 < len(raw) <= MAX_TEXT and "\x00" not in raw
        return raw if ok else _BAD
    if kind is Kind.NUMBER:
        return _number(raw)
    if kind is Kind.BOOL:
        return raw if isinstance(raw, bool) else _BAD
    if kind is Kind.REF:
        return raw if type(raw) is int and 1 <= raw <= _BIGGEST_INT else _BAD
    if kind is Kind.DATE:
        if isinstance(raw, str) and _DATE.fullmatch(raw):
            return _parsed(date.fromisoformat, raw)
        return raw if isinstance(raw, date) and not isinstance(raw, datetime) else _BAD
    found = _parsed(datetime.fromisoformat, raw) if isinstance(raw, str) else raw
    if isinstance(found, datetime) and found.tzinfo is not None:
        return found.astimezone(UTC)
    return _BAD


def _number(raw: Any) -> Any:
    if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal):
        return _BAD
    if isinstance(raw, int):
        return raw if abs(raw) <= _BIGGEST_INT else _BAD
    if not math.isfinite(raw):
        return _BAD
    if isinstance(raw, Decimal):
        return int(raw) if raw == raw.to_integral_value() else float(raw)
    return raw


def _parsed(convert: Any, raw: str) -> Any:
    try:
        return convert(raw)
    except ValueError:
        return _BAD


def _shown(value: object) -> str:
    """A user's value for a message: short, and never a huge structure."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "…"
