"""Tokenizer, typed AST and parser of the computed-field formula language.

The language itself (syntax, functions, evaluation rules) is described in
`fuwu.fields.formulas.language`, which is the module other code imports. This module turns
source text into an immutable, type-checked tree and raises `FormulaError` with a position
for anything it cannot accept.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fuwu.conditions.schema import Kind
from fuwu.errors import DomainError, ValidationFailed

MAX_LENGTH = 1000  # characters of source
MAX_DEPTH = 50  # levels of the tree, and of parentheses / calls / signs while parsing

# Messages (English msgids, Chinese in locale/zh_CN/LC_MESSAGES/formula.po). `position` is the
# 1-based character where the problem is.
EMPTY = "The formula is empty"
TOO_LONG = "The formula is too long (at most %(max)s characters)"
TOO_DEEP = "The formula is nested too deeply (at most %(max)s levels)"
UNEXPECTED_CHAR = "Unexpected character %(char)s at position %(position)s"
CURLY_QUOTE = 'Text must be written in straight quotes "…", not “…” (position %(position)s)'
UNTERMINATED_TEXT = 'The text starting at position %(position)s has no closing "'
UNTERMINATED_BRACE = "The field reference at position %(position)s has no closing }"
UNEXPECTED = "Unexpected %(text)s at position %(position)s"
ENDS_EARLY = "The formula ends too early (position %(position)s)"
UNKNOWN_FIELD = "Unknown field %(name)s at position %(position)s"
UNUSABLE_FIELD = "Field %(name)s cannot be used in a formula (position %(position)s)"
UNKNOWN_FUNCTION = "Unknown function %(name)s at position %(position)s"
ARGS_EXACTLY = "%(name)s needs exactly %(count)s argument(s), not %(found)s (position %(position)s)"
ARGS_AT_LEAST = (
    "%(name)s needs at least %(count)s argument(s), not %(found)s (position %(position)s)"
)
ARGS_BETWEEN = "%(name)s needs %(min)s to %(max)s arguments, not %(found)s (position %(position)s)"
NEEDS_NUMBER = "%(context)s needs a number at position %(position)s"
NEEDS_DATE = "%(context)s needs a date at position %(position)s"
NEEDS_CONDITION = "%(context)s needs a condition (true or false) at position %(position)s"
NEEDS_SAME_KIND = "%(context)s needs values of the same type (position %(position)s)"
NEEDS_ORDERED = "%(context)s can only compare numbers, text or dates (position %(position)s)"
NEEDS_NUMBER_OR_DATE = "%(context)s needs numbers or dates (position %(position)s)"
DATEDIF_UNIT = 'DATEDIF needs the unit "d", "m" or "y" at position %(position)s'
CYCLE = "Computed fields refer to each other in a circle: %(fields)s"

MESSAGES = (
    EMPTY,
    TOO_LONG,
    TOO_DEEP,
    UNEXPECTED_CHAR,
    CURLY_QUOTE,
    UNTERMINATED_TEXT,
    UNTERMINATED_BRACE,
    UNEXPECTED,
    ENDS_EARLY,
    UNKNOWN_FIELD,
    UNUSABLE_FIELD,
    UNKNOWN_FUNCTION,
    ARGS_EXACTLY,
    ARGS_AT_LEAST,
    ARGS_BETWEEN,
    NEEDS_NUMBER,
    NEEDS_DATE,
    NEEDS_CONDITION,
    NEEDS_SAME_KIND,
    NEEDS_ORDERED,
    NEEDS_NUMBER_OR_DATE,
    DATEDIF_UNIT,
    CYCLE,
)


class FormulaError(ValidationFailed):
    """A formula that cannot be accepted (422); `position` is the 0-based offset, if known.

    The message and its params are translated at the edge like any `DomainError`; `errors`
    holds one entry for `field` so form views can mark the input.
    """

    def __init__(
        self, message: str, *, position: int | None = None, field: str = "formula", **params: Any
    ) -> None:
        if position is not None:
            params["position"] = position + 1
        DomainError.__init__(self, message, **params)
        self.position = position
        self.errors = [{"field": field, "code": "invalid", "params": {}}]


# Field kinds as formulas see them; MULTI and REF have no formula meaning (yet).
VALUE_KIND: dict[Kind, Kind] = {
    Kind.TEXT: Kind.TEXT,
    Kind.CHOICE: Kind.TEXT,
    Kind.NUMBER: Kind.NUMBER,
    Kind.BOOL: Kind.BOOL,
    Kind.DATE: Kind.DATE,
    Kind.DATETIME: Kind.DATE,
}
KEYWORDS = frozenset({"AND", "OR", "NOT", "TRUE", "FALSE"})
COMPARISONS = frozenset({"=", "<>", "<", "<=", ">", ">="})
DATEDIF_UNITS = frozenset({"d", "m", "y"})


# ---------------------------------------------------------------------------------- tokens


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # number | text | name | field | op | end
    text: str  # the source slice (for messages)
    pos: int
    value: Any = None


_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FIELD_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")
_TWO_CHAR_OPS = {"<=": "<=", ">=": ">=", "<>": "<>", "!=": "<>", "==": "="}
# Chinese input methods produce full-width punctuation; accept it where it cannot be ambiguous.
_ONE_CHAR_OPS = {c: c for c in "+-*/=<>(),"} | {"（": "(", "）": ")", "，": ","}


def tokenize(source: str) -> list[Token]:
    """Split source into tokens, ending with an `end` token."""
    tokens: list[Token] = []
    pos, size = 0, len(source)
    while pos < size:
        char = source[pos]
        if char.isspace():
            pos += 1
            continue
        token = _next_token(source, pos, char)
        tokens.append(token)
        pos += len(token.text)
    tokens.append(Token("end", "", size))
    return tokens


def _next_token(source: str, pos: int, char: str) -> Token:
    if char.isdigit() and char.isascii():
        match = _NUMBER.match(source, pos)
        assert match is not None
        return Token("number", match.group(), pos, Decimal(match.group()))
    if char == '"':
        return _text_token(source, pos)
    if char.isascii() and (char.isalpha() or char == "_"):
        match = _NAME.match(source, pos)
        assert match is not None
        return Token("name", match.group(), pos, match.group())
    if char == "{":
        end = source.find("}", pos)
        if end < 0:
            raise FormulaError(UNTERMINATED_BRACE, position=pos)
        return Token("field", source[pos : end + 1], pos, source[pos + 1 : end].strip())
    pair = source[pos : pos + 2]
    if pair in _TWO_CHAR_OPS:
        return Token("op", pair, pos, _TWO_CHAR_OPS[pair])
    if char in _ONE_CHAR_OPS:
        return Token("op", char, pos, _ONE_CHAR_OPS[char])
    if char in "“”":
        raise FormulaError(CURLY_QUOTE, position=pos)
    raise FormulaError(UNEXPECTED_CHAR, position=pos, char=char)


def _text_token(source: str, start: int) -> Token:
    """A double-quoted string; a backslash takes the next character literally (\\" and \\\\)."""
    chars: list[str] = []
    pos = start + 1
    while pos < len(source):
        char = source[pos]
        if char == '"':
            return Token("text", source[start : pos + 1], start, "".join(chars))
        if char == "\\" and pos + 1 < len(source):
            pos += 1
            char = source[pos]
        chars.append(char)
        pos += 1
    raise FormulaError(UNTERMINATED_TEXT, position=start)


# ------------------------------------------------------------------------------------ tree


@dataclass(frozen=True, slots=True)
class Literal:
    kind: Kind
    pos: int
    value: Any
    depth: int = 1


@dataclass(frozen=True, slots=True)
class Ref:
    kind: Kind  # the formula kind (TEXT for a CHOICE field, DATE for DATETIME)
    pos: int
    key: str
    depth: int = 1


@dataclass(frozen=True, slots=True)
class Unary:
    kind: Kind
    pos: int
    op: str  # "-" | "NOT"
    operand: Node
    depth: int


@dataclass(frozen=True, slots=True)
class Binary:
    kind: Kind
    pos: int
    op: str  # + - * / = <> < <= > >= AND OR
    left: Node
    right: Node
    depth: int


@dataclass(frozen=True, slots=True)
class Call:
    kind: Kind
    pos: int
    name: str  # upper case
    args: tuple[Node, ...]
    depth: int


Node = Literal | Ref | Unary | Binary | Call


def walk(node: Node) -> Iterator[Node]:
    """The node and all its descendants."""
    yield node
    if isinstance(node, Unary):
        yield from walk(node.operand)
    elif isinstance(node, Binary):
        yield from walk(node.left)
        yield from walk(node.right)
    elif isinstance(node, Call):
        for arg in node.args:
            yield from walk(arg)


def _depth(*children: Node) -> int:
    depth = 1 + max(child.depth for child in children)
    if depth > MAX_DEPTH:
        raise FormulaError(TOO_DEEP, max=MAX_DEPTH)
    return depth


# ------------------------------------------------------------------------------ type rules

_NEEDS = {Kind.NUMBER: NEEDS_NUMBER, Kind.DATE: NEEDS_DATE, Kind.BOOL: NEEDS_CONDITION}


def need(node: Node, kind: Kind, context: str) -> None:
    """Raise unless node has the kind."""
    if node.kind is not kind:
        raise FormulaError(_NEEDS[kind], position=node.pos, context=context)


def need_same(nodes: Sequence[Node], context: str) -> Kind:
    """Raise unless all nodes have the same kind; return it."""
    for node in nodes[1:]:
        if node.kind is not nodes[0].kind:
            raise FormulaError(NEEDS_SAME_KIND, position=node.pos, context=context)
    return nodes[0].kind


def _arithmetic_kind(op: str, left: Node, right: Node) -> Kind:
    """NUMBER op NUMBER → NUMBER; DATE ± NUMBER → DATE; NUMBER + DATE → DATE; DATE - DATE → days."""
    if op in "*/":
        need(left, Kind.NUMBER, op)
        need(right, Kind.NUMBER, op)
        return Kind.NUMBER
    if left.kind is Kind.DATE:
        if right.kind is Kind.DATE and op == "-":
            return Kind.NUMBER
        need(right, Kind.NUMBER, op)
        return Kind.DATE
    need(left, Kind.NUMBER, op)
    if right.kind is Kind.DATE and op == "+":
        return Kind.DATE
    need(right, Kind.NUMBER, op)
    return Kind.NUMBER


def _comparison_kind(op: Token, left: Node, right: Node) -> Kind:
    need_same((left, right), op.value)
    if op.value not in ("=", "<>") and left.kind is Kind.BOOL:
        raise FormulaError(NEEDS_ORDERED, position=op.pos, context=op.value)
    return Kind.BOOL


@dataclass(frozen=True, slots=True)
class Signature:
    """Argument count, and the rule giving a call's kind from (name, arguments); raises if wrong."""

    min_args: int
    max_args: int | None
    check: Callable[[str, Sequence[Node]], Kind]


def _if_kind(name: str, args: Sequence[Node]) -> Kind:
    need(args[0], Kind.BOOL, name)
    return need_same(args[1:], name)


def _numbers_kind(name: str, args: Sequence[Node]) -> Kind:
    for arg in args:
        need(arg, Kind.NUMBER, name)
    return Kind.NUMBER


def _dates_kind(name: str, args: Sequence[Node]) -> Kind:
    for arg in args[:2]:
        need(arg, Kind.DATE, name)
    return Kind.NUMBER


def _datedif_kind(name: str, args: Sequence[Node]) -> Kind:
    _dates_kind(name, args)
    unit = args[2]
    if not (isinstance(unit, Literal) and unit.kind is Kind.TEXT):
        raise FormulaError(DATEDIF_UNIT, position=unit.pos)
    if str(unit.value).lower() not in DATEDIF_UNITS:
        raise FormulaError(DATEDIF_UNIT, position=unit.pos)
    return Kind.NUMBER


def _min_max_kind(name: str, args: Sequence[Node]) -> Kind:
    kind = need_same(args, name)
    if kind not in (Kind.NUMBER, Kind.DATE):
        raise FormulaError(NEEDS_NUMBER_OR_DATE, position=args[0].pos, context=name)
    return kind


def _conditions_kind(name: str, args: Sequence[Node]) -> Kind:
    for arg in args:
        need(arg, Kind.BOOL, name)
    return Kind.BOOL


SIGNATURES: dict[str, Signature] = {
    "IF": Signature(2, 3, _if_kind),
    "CONCAT": Signature(1, None, lambda name, args: Kind.TEXT),
    "ROUND": Signature(2, 2, _numbers_kind),
    "ABS": Signature(1, 1, _numbers_kind),
    "MIN": Signature(1, None, _min_max_kind),
    "MAX": Signature(1, None, _min_max_kind),
    "DATEDIF": Signature(3, 3, _datedif_kind),
    "WORKDAYS": Signature(2, 2, _dates_kind),
    "TODAY": Signature(0, 0, lambda name, args: Kind.DATE),
    "AND": Signature(1, None, _conditions_kind),
    "OR": Signature(1, None, _conditions_kind),
}


def _check_call(name: Token, spec: Signature, args: Sequence[Node]) -> Kind:
    found, low, high = len(args), spec.min_args, spec.max_args
    where: dict[str, Any] = {"name": name.text, "found": found}
    if low == high and found != low:
        raise FormulaError(ARGS_EXACTLY, position=name.pos, count=low, **where)
    if high is None and found < low:
        raise FormulaError(ARGS_AT_LEAST, position=name.pos, count=low, **where)
    if found < low or (high is not None and found > high):
        raise FormulaError(ARGS_BETWEEN, position=name.pos, min=low, max=high, **where)
    return spec.check(name.text.upper(), args)


# ---------------------------------------------------------------------------------- parser


def parse_tree(source: str, fields: Mapping[str, Kind]) -> Node:
    """Parse and type-check source into a tree; raise FormulaError."""
    if len(source) > MAX_LENGTH:
        raise FormulaError(TOO_LONG, max=MAX_LENGTH)
    if not source.strip():
        raise FormulaError(EMPTY)
    return _Parser(tokenize(source), fields).parse()


def is_keyword(token: Token, word: str) -> bool:
    return token.kind == "name" and token.text.upper() == word


class _Parser:
    """Recursive descent, lowest precedence first: OR, AND, NOT, comparison, + -, * /, sign."""

    def __init__(self, tokens: list[Token], fields: Mapping[str, Kind]) -> None:
        self.tokens = tokens
        self.fields = fields
        self.index = 0
        self.nesting = 0

    def parse(self) -> Node:
        node = self.expression()
        if self.peek().kind != "end":
            raise self.unexpected(self.peek())
        return node

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def at_op(self, *ops: str) -> bool:
        token = self.peek()
        return token.kind == "op" and token.value in ops

    def unexpected(self, token: Token) -> FormulaError:
        if token.kind == "end":
            return FormulaError(ENDS_EARLY, position=token.pos)
        return FormulaError(UNEXPECTED, position=token.pos, text=token.text)

    @contextmanager
    def nested(self) -> Iterator[None]:
        """Guard the recursion itself: parentheses add levels the tree does not show."""
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise FormulaError(TOO_DEEP, max=MAX_DEPTH)
        yield
        self.nesting -= 1

    def expression(self) -> Node:
        return self.logical("OR", self.conjunction)

    def conjunction(self) -> Node:
        return self.logical("AND", self.negation)

    def logical(self, word: str, operand: Callable[[], Node]) -> Node:
        left = operand()
        while is_keyword(self.peek(), word):
            token = self.advance()
            right = operand()
            need(left, Kind.BOOL, word)
            need(right, Kind.BOOL, word)
            left = Binary(Kind.BOOL, token.pos, word, left, right, _depth(left, right))
        return left

    def negation(self) -> Node:
        if not is_keyword(self.peek(), "NOT"):
            return self.comparison()
        token = self.advance()
        with self.nested():
            operand = self.negation()
        need(operand, Kind.BOOL, "NOT")
        return Unary(Kind.BOOL, token.pos, "NOT", operand, _depth(operand))

    def comparison(self) -> Node:
        left = self.additive()
        if not self.at_op(*COMPARISONS):
            return left
        token = self.advance()
        right = self.additive()
        kind = _comparison_kind(token, left, right)
        if self.at_op(*COMPARISONS):  # a < b < c means nothing useful: ask for AND
            raise self.unexpected(self.peek())
        return Binary(kind, token.pos, token.value, left, right, _depth(left, right))

    def additive(self) -> Node:
        return self.arithmetic(("+", "-"), self.multiplicative)

    def multiplicative(self) -> Node:
        return self.arithmetic(("*", "/"), self.signed)

    def arithmetic(self, ops: tuple[str, str], operand: Callable[[], Node]) -> Node:
        left = operand()
        while self.at_op(*ops):
            token = self.advance()
            right = operand()
            kind = _arithmetic_kind(token.value, left, right)
            left = Binary(kind, token.pos, token.value, left, right, _depth(left, right))
        return left

    def signed(self) -> Node:
        if not self.at_op("-"):
            return self.primary()
        token = self.advance()
        with self.nested():
            operand = self.signed()
        need(operand, Kind.NUMBER, "-")
        if isinstance(operand, Literal):  # fold -2 into a literal: keeps trees shallow
            return Literal(Kind.NUMBER, token.pos, operand.value.copy_negate())
        return Unary(Kind.NUMBER, token.pos, "-", operand, _depth(operand))

    def primary(self) -> Node:
        token = self.advance()
        if token.kind == "number":
            return Literal(Kind.NUMBER, token.pos, token.value)
        if token.kind == "text":
            return Literal(Kind.TEXT, token.pos, token.value)
        if token.kind == "field":
            return self.field(token)
        if token.kind == "name":
            return self.name(token)
        if token.kind == "op" and token.value == "(":
            with self.nested():
                node = self.expression()
            self.expect(")")
            return node
        raise self.unexpected(token)

    def name(self, token: Token) -> Node:
        if self.at_op("("):
            return self.call(token)
        word = token.text.upper()
        if word in ("TRUE", "FALSE"):
            return Literal(Kind.BOOL, token.pos, word == "TRUE")
        if word in KEYWORDS:
            raise self.unexpected(token)
        return self.field(token)

    def field(self, token: Token) -> Node:
        key = str(token.value)
        kind = self.fields.get(key) if _FIELD_KEY.fullmatch(key) else None
        if kind is None:
            raise FormulaError(UNKNOWN_FIELD, position=token.pos, name=key)
        if kind not in VALUE_KIND:
            raise FormulaError(UNUSABLE_FIELD, position=token.pos, name=key)
        return Ref(VALUE_KIND[kind], token.pos, key)

    def call(self, name: Token) -> Node:
        spec = SIGNATURES.get(name.text.upper())
        if spec is None:
            raise FormulaError(UNKNOWN_FUNCTION, position=name.pos, name=name.text)
        self.advance()  # (
        args: list[Node] = []
        with self.nested():
            if self.at_op(")"):
                self.advance()
            else:
                args.append(self.expression())
                while self.at_op(","):
                    self.advance()
                    args.append(self.expression())
                self.expect(")")
        kind = _check_call(name, spec, args)
        depth = _depth(*args) if args else 1
        return Call(kind, name.pos, name.text.upper(), tuple(args), depth)

    def expect(self, op: str) -> None:
        if not self.at_op(op):
            raise self.unexpected(self.peek())
        self.advance()
