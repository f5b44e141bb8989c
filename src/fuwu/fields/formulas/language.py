"""Computed-field formulas: a small, typed, spreadsheet-like language. No eval, ever.

Syntax
    numbers `12`, `3.5`; text in double quotes, a backslash takes the next character literally
    (`"say \\"hi\\""`); `TRUE`, `FALSE`; field keys (`amount`) or braces (`{amount}`, needed for a
    field named like a keyword, e.g. `{and}`); `+ - * /` with the usual precedence, parentheses,
    unary minus; comparisons `= <> < <= > >=` (`==`, `!=` are accepted too); `AND`, `OR`, `NOT`
    as operators, and `AND(…)`, `OR(…)` as functions. Keywords and function names ignore case;
    full-width `（ ） ，` are read as `( ) ,`. At most 1000 characters and 50 levels of nesting.

Functions
    IF(cond, a[, b])         a when cond is true, else b (blank when b is left out)
    CONCAT(x, …)             text of every argument joined
    ROUND(x, digits)         half away from zero (四舍五入), like spreadsheets; digits may be < 0
    ABS(x), MIN(x, …), MAX(x, …)
    DATEDIF(start, end, u)   whole days ("d"), months ("m") or years ("y") from start to end
    WORKDAYS(start, end)     working days, both ends included, negative backwards (NETWORKDAYS);
                             on the calendar given to `evaluate`, `ChinaCalendar()` by default
    TODAY()                  the date of evaluation (see below)

Types are checked when the formula is parsed, so `"a" * 2` or `DATEDIF(amount, …)` never reach a
ticket. A formula's result is NUMBER, TEXT, BOOL or DATE (`Formula.kind`). CHOICE fields read as
their option key (TEXT) and DATETIME fields as their date (the date in the timezone the value
carries: pass local datetimes); MULTI and REF fields cannot be used. Values may come as stored
in JSON: numbers as int, float, Decimal or numeric text; dates as date, datetime or ISO text.
Errors are `FormulaError` (a 422 `ValidationFailed`) with `position` (0-based) and a translated
message naming the 1-based character. `references(source)` lists the field keys a formula
mentions before the kinds of other computed fields are known; `order_computed` orders parsed
formulas and rejects cycles.

Evaluation rules (the choices an admin would otherwise have to guess)
    - Numbers are `Decimal`, never float: a float input is read through its shortest repr
      (0.1 → Decimal("0.1")). Arithmetic uses 28 significant digits with banker's rounding for
      inexact results (Python's default context), so money adds up exactly; ROUND is half-up.
    - Blank in, blank out: a missing or None input, or one of the wrong type, makes arithmetic,
      comparisons, dates and ROUND/ABS/DATEDIF/WORKDAYS return None; division by zero (and any
      overflow) returns None instead of raising. CONCAT reads None as "". MIN and MAX skip
      blanks. IF takes the else branch when its condition is None. AND/OR use three-valued logic
      (FALSE AND blank = FALSE, TRUE OR blank = TRUE, otherwise blank).
    - DATEDIF counts like spreadsheets: a month is complete when the end's day of month reaches
      the start's (31 Jan → 28 Feb is 0 months, → 1 Mar is 1), a year likewise (29 Feb 2024 →
      28 Feb 2025 is 0 years). Unlike spreadsheets, end < start gives a negative count instead
      of an error, matching WORKDAYS.
    - `date ± number` moves by whole days (the number is truncated toward zero);
      `date - date` is the number of days between.
    - CONCAT writes numbers without exponent (`1E+2` → "100"), dates as ISO, TRUE/FALSE.
    - TODAY() is not live: the value is computed when the ticket is saved, from the `today`
      argument (pass the date in the organisation's timezone) or else the server's local date.
      `Formula.uses_today` tells the caller the stored value goes stale.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, DivisionByZero, Overflow
from decimal import InvalidOperation as DecimalInvalid
from typing import Any

from fuwu.conditions.schema import Kind
from fuwu.fields.formulas.parser import (
    CYCLE,
    KEYWORDS,
    MAX_DEPTH,
    MAX_LENGTH,
    Binary,
    Call,
    FormulaError,
    Literal,
    Node,
    Ref,
    Unary,
    parse_tree,
    tokenize,
    walk,
)
from fuwu.kit.workdays import ChinaCalendar, WorkdayCalendar, workdays_between

__all__ = [
    "DECIMAL_CONTEXT",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "Formula",
    "FormulaError",
    "order_computed",
    "parse",
    "references",
]

# Python's default context, fixed here so a caller's `decimal.localcontext` cannot change results.
DECIMAL_CONTEXT = Context(
    prec=28, rounding=ROUND_HALF_EVEN, traps=[DecimalInvalid, DivisionByZero, Overflow]
)
_DEFAULT_CALENDAR = ChinaCalendar()


class _Env:
    """What a formula may need besides field values."""

    __slots__ = ("_today", "calendar")

    def __init__(self, calendar: WorkdayCalendar, today: date | None) -> None:
        self.calendar = calendar
        self._today = today

    def today(self) -> date:
        if self._today is None:
            self._today = date.today()  # documented: the server's local date
        return self._today


Evaluator = Callable[[Mapping[str, Any], _Env], Any]


@dataclass(frozen=True, slots=True)
class Formula:
    """A parsed, type-checked formula; `evaluate` runs precompiled closures."""

    source: str
    kind: Kind
    fields_used: frozenset[str]
    uses_today: bool
    tree: Node = field(repr=False)
    run: Evaluator = field(repr=False, compare=False)

    def evaluate(
        self,
        values: Mapping[str, Any],
        *,
        calendar: WorkdayCalendar | None = None,
        today: date | None = None,
    ) -> Any:
        """The value for these field values: Decimal, str, bool, date or None (blank)."""
        chosen = _DEFAULT_CALENDAR if calendar is None else calendar
        return self.run(values, _Env(chosen, today))


def parse(source: str, fields: Mapping[str, Kind]) -> Formula:
    """Parse and type-check a formula over fields (key → kind); raise FormulaError."""
    tree = parse_tree(source, fields)
    nodes = list(walk(tree))
    return Formula(
        source=source,
        kind=tree.kind,
        fields_used=frozenset(node.key for node in nodes if isinstance(node, Ref)),
        uses_today=any(isinstance(node, Call) and node.name == "TODAY" for node in nodes),
        tree=tree,
        run=_compile(tree),
    )


def references(source: str) -> frozenset[str]:
    """Field keys a formula mentions, without type-checking (to parse computed fields in order)."""
    tokens = tokenize(source)
    found: set[str] = set()
    for token, following in itertools.pairwise(tokens):
        if token.kind == "field":
            found.add(str(token.value))
        elif (
            token.kind == "name"
            and token.text.upper() not in KEYWORDS
            and not (following.kind == "op" and following.value == "(")
        ):
            found.add(token.text)
    return frozenset(found)


def order_computed(formulas: Mapping[str, Formula]) -> list[str]:
    """Computed field keys in an order where each comes after the computed fields it uses.

    Raises FormulaError naming the fields of a cycle (a field using itself is one too).
    """
    order: list[str] = []
    done: set[str] = set()
    path: list[str] = []

    def visit(key: str) -> None:
        if key in done:
            return
        if key in path:
            cycle = [*path[path.index(key) :], key]
            raise FormulaError(CYCLE, field=key, fields=" → ".join(cycle))
        path.append(key)
        for used in sorted(formulas[key].fields_used & formulas.keys()):
            visit(used)
        path.pop()
        done.add(key)
        order.append(key)

    for key in formulas:
        visit(key)
    return order


# ------------------------------------------------------------------------- reading values


def _as_number(raw: Any) -> Decimal | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, Decimal):
        number = raw
    elif isinstance(raw, int):
        number = Decimal(raw)
    elif isinstance(raw, float | str):
        try:
            number = Decimal(repr(raw) if isinstance(raw, float) else raw.strip())
        except DecimalInvalid:
            return None
    else:
        return None
    return number if number.is_finite() else None


def _as_date(raw: Any) -> date | None:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str):
        try:
            return datetime.fromisoformat(raw.strip()).date()
        except ValueError:
            return None
    return None


_READERS: dict[Kind, Callable[[Any], Any]] = {
    Kind.NUMBER: _as_number,
    Kind.DATE: _as_date,
    Kind.TEXT: lambda raw: raw if isinstance(raw, str) else None,
    Kind.BOOL: lambda raw: raw if isinstance(raw, bool) else None,
}


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# ----------------------------------------------------------------------------- compiling


def _compile(node: Node) -> Evaluator:
    if isinstance(node, Literal):
        return _constant(node.value)
    if isinstance(node, Ref):
        return _reader(node)
    if isinstance(node, Unary):
        return _unary(node.op, _compile(node.operand))
    if isinstance(node, Binary):
        return _binary(node)
    return _CALLS[node.name](node.args)


def _constant(value: Any) -> Evaluator:
    def constant(values: Mapping[str, Any], env: _Env) -> Any:
        return value

    return constant


def _reader(node: Ref) -> Evaluator:
    key, read = node.key, _READERS[node.kind]
    if node.kind is Kind.NUMBER:

        def number(values: Mapping[str, Any], env: _Env) -> Any:
            raw = values.get(key)
            if type(raw) is Decimal and raw.is_finite():  # the common case, without a call
                return raw
            return read(raw)

        return number

    def value(values: Mapping[str, Any], env: _Env) -> Any:
        return read(values.get(key))

    return value


def _unary(op: str, operand: Evaluator) -> Evaluator:
    if op == "NOT":

        def negation(values: Mapping[str, Any], env: _Env) -> Any:
            found = operand(values, env)
            return None if found is None else not found

        return negation
    minus = DECIMAL_CONTEXT.minus

    def negative(values: Mapping[str, Any], env: _Env) -> Any:
        found = operand(values, env)
        return None if found is None else minus(found)

    return negative


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_ARITHMETIC: dict[str, Callable[[Decimal, Decimal], Decimal]] = {
    "+": DECIMAL_CONTEXT.add,
    "-": DECIMAL_CONTEXT.subtract,
    "*": DECIMAL_CONTEXT.multiply,
    "/": DECIMAL_CONTEXT.divide,
}


def _binary(node: Binary) -> Evaluator:
    left, right = _compile(node.left), _compile(node.right)
    if node.op in ("AND", "OR"):
        return _logical(node.op == "AND", left, right)
    if node.op in _COMPARE:
        return _strict(_COMPARE[node.op], left, right)
    if node.kind is Kind.NUMBER and node.left.kind is Kind.NUMBER:
        return _strict(_ARITHMETIC[node.op], left, right)
    if node.kind is Kind.NUMBER:  # date - date
        return _strict(lambda end, start: Decimal((end - start).days), left, right)
    if node.left.kind is Kind.NUMBER:  # number + date
        return _strict(lambda days, day: _add_days(day, days, 1), left, right)
    sign = -1 if node.op == "-" else 1
    return _strict(lambda day, days: _add_days(day, days, sign), left, right)


def _add_days(day: date, days: Decimal, sign: int) -> date:
    return day + timedelta(days=sign * int(days))


def _strict(function: Callable[[Any, Any], Any], left: Evaluator, right: Evaluator) -> Evaluator:
    """Blank when either side is blank or the operation fails (division by zero, overflow)."""

    def strict(values: Mapping[str, Any], env: _Env) -> Any:
        a = left(values, env)
        if a is None:
            return None
        b = right(values, env)
        if b is None:
            return None
        try:
            return function(a, b)
        except ArithmeticError:  # Decimal traps and date overflow
            return None

    return strict


def _logical(conjunction: bool, left: Evaluator, right: Evaluator) -> Evaluator:
    """Three-valued AND / OR: the deciding value wins over a blank."""
    deciding = not conjunction  # False decides AND, True decides OR

    def logical(values: Mapping[str, Any], env: _Env) -> Any:
        a = left(values, env)
        if a is deciding:
            return deciding
        b = right(values, env)
        if b is deciding:
            return deciding
        if a is None or b is None:
            return None
        return conjunction

    return logical


# ------------------------------------------------------------------------------ functions


def _call_if(args: Sequence[Node]) -> Evaluator:
    condition, then = _compile(args[0]), _compile(args[1])
    otherwise = _compile(args[2]) if len(args) == 3 else _constant(None)

    def choose(values: Mapping[str, Any], env: _Env) -> Any:
        if condition(values, env) is True:
            return then(values, env)
        return otherwise(values, env)

    return choose


def _call_concat(args: Sequence[Node]) -> Evaluator:
    parts = [_compile(arg) for arg in args]

    def concat(values: Mapping[str, Any], env: _Env) -> Any:
        return "".join([_as_text(part(values, env)) for part in parts])

    return concat


def _round(number: Decimal, digits: Decimal) -> Decimal:
    places = int(digits)
    rounded = number.quantize(
        Decimal(1).scaleb(-places, context=DECIMAL_CONTEXT),
        rounding=ROUND_HALF_UP,
        context=DECIMAL_CONTEXT,
    )
    # ROUND(1250, -2) is 1300, not 1.3E+3: keep the exponent of a whole number at 0.
    return rounded.quantize(Decimal(1), context=DECIMAL_CONTEXT) if places < 0 else rounded


def _call_round(args: Sequence[Node]) -> Evaluator:
    return _strict(_round, _compile(args[0]), _compile(args[1]))


def _call_abs(args: Sequence[Node]) -> Evaluator:
    return _unary_strict(DECIMAL_CONTEXT.abs, _compile(args[0]))


def _unary_strict(function: Callable[[Any], Any], operand: Evaluator) -> Evaluator:
    def strict(values: Mapping[str, Any], env: _Env) -> Any:
        found = operand(values, env)
        return None if found is None else function(found)

    return strict


def _extreme(pick: Callable[[list[Any]], Any]) -> Callable[[Sequence[Node]], Evaluator]:
    def build(args: Sequence[Node]) -> Evaluator:
        parts = [_compile(arg) for arg in args]

        def extreme(values: Mapping[str, Any], env: _Env) -> Any:
            found = [value for part in parts if (value := part(values, env)) is not None]
            return pick(found) if found else None

        return extreme

    return build


def _datedif(start: date, end: date, unit: str) -> int:
    if end < start:
        return -_datedif(end, start, unit)
    if unit == "d":
        return (end - start).days
    months = (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day)
    return months if unit == "m" else months // 12


def _call_datedif(args: Sequence[Node]) -> Evaluator:
    assert isinstance(args[2], Literal)  # the parser allows only a literal unit
    unit = str(args[2].value).lower()
    return _strict(
        lambda start, end: Decimal(_datedif(start, end, unit)), _compile(args[0]), _compile(args[1])
    )


def _call_workdays(args: Sequence[Node]) -> Evaluator:
    start, end = _compile(args[0]), _compile(args[1])

    def workdays(values: Mapping[str, Any], env: _Env) -> Any:
        first, last = start(values, env), end(values, env)
        if first is None or last is None:
            return None
        return Decimal(workdays_between(first, last, env.calendar))

    return workdays


def _call_today(args: Sequence[Node]) -> Evaluator:
    def today(values: Mapping[str, Any], env: _Env) -> Any:
        return env.today()

    return today


def _call_logical(conjunction: bool) -> Callable[[Sequence[Node]], Evaluator]:
    def build(args: Sequence[Node]) -> Evaluator:
        combined = _compile(args[0])
        for arg in args[1:]:
            combined = _logical(conjunction, combined, _compile(arg))
        return combined

    return build


_CALLS: dict[str, Callable[[Sequence[Node]], Evaluator]] = {
    "IF": _call_if,
    "CONCAT": _call_concat,
    "ROUND": _call_round,
    "ABS": _call_abs,
    "MIN": _extreme(min),
    "MAX": _extreme(max),
    "DATEDIF": _call_datedif,
    "WORKDAYS": _call_workdays,
    "TODAY": _call_today,
    "AND": _call_logical(True),
    "OR": _call_logical(False),
}
