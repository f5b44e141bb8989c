"""A regular-expression matcher that never backtracks: time linear in the text, always.

Python's `re` backtracks, so a pattern an admin types can take seconds to minutes on a long
ticket body (`\\s*\\s*x` on 4,000 spaces: 31 s on the benchmark machine), and rejecting nested
quantifiers does not stop the polynomial cases. Conditions therefore run patterns here: the
pattern becomes a Thompson NFA, simulated as a DFA built lazily and cached per pattern, so a
search costs one dictionary look-up per character once warm and O(text × pattern) at worst.

The syntax is the common subset of Python `re` and most engines; anything else is rejected,
never guessed: literals, `.` (any character but a newline), classes `[a-z]`, `[^…]`, escapes
`\\d \\w \\s \\D \\W \\S \\t \\n \\r \\f \\v` and escaped punctuation, groups `( )` and `(?: )`,
alternation `|`, quantifiers `* + ? {m} {m,} {,n} {m,n}` (lazy forms accepted: the answer is
the same), anchors `^` (start of text) and `$` (end of text). Matching is case-sensitive and
finds the pattern anywhere in the text, like `re.search`. Not supported: backreferences,
lookaround, `\\b`, flags, named groups, possessive quantifiers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

MAX_PATTERN = 200  # characters
MAX_REPEAT = 100  # the largest count in {m,n}
MAX_STATES = 2000  # NFA states after expanding counted repeats
MAX_CACHED = 20_000  # DFA transitions kept per pattern before the cache starts over

CharTest = Callable[[str], bool]

_CATEGORIES: dict[str, CharTest] = {
    "d": str.isdecimal,
    "D": lambda c: not c.isdecimal(),
    "w": lambda c: c.isalnum() or c == "_",
    "W": lambda c: not (c.isalnum() or c == "_"),
    "s": str.isspace,
    "S": lambda c: not c.isspace(),
}
_CONTROL = {"t": "\t", "n": "\n", "r": "\r", "f": "\f", "v": "\v"}

# Why a pattern is refused; each is part of a translatable message (conditions.po).
NOTHING_TO_REPEAT = "nothing to repeat"
MULTIPLE_REPEAT = "multiple repeat"
POSSESSIVE = "possessive quantifiers are not supported"
MIN_OVER_MAX = "min repeat greater than max repeat"
REPEAT_TOO_LARGE = "repeat counts above 100 are not supported"
UNBALANCED = "unbalanced parenthesis"
UNTERMINATED_GROUP = "missing ), unterminated subpattern"
UNSUPPORTED_GROUP = "lookaround, flags and named groups are not supported"
BAD_ESCAPE = "bad or unsupported escape"
UNTERMINATED_SET = "unterminated character set"
BAD_RANGE = "bad character range"
TOO_COMPLEX = "the pattern is too complex"
TOO_LONG = "the pattern is longer than 200 characters"
REASONS = (
    NOTHING_TO_REPEAT, MULTIPLE_REPEAT, POSSESSIVE, MIN_OVER_MAX, REPEAT_TOO_LARGE, UNBALANCED,
    UNTERMINATED_GROUP, UNSUPPORTED_GROUP, BAD_ESCAPE, UNTERMINATED_SET, BAD_RANGE, TOO_COMPLEX,
    TOO_LONG,
)  # fmt: skip


class PatternError(ValueError):
    """The pattern is not in the supported syntax; `position` is 0-based."""

    def __init__(self, reason: str, position: int) -> None:
        super().__init__(f"{reason} at position {position}")
        self.reason = reason
        self.position = position


# --- parsing -------------------------------------------------------------------------------
# The tree is tuples: ("char", test) ("cat", [..]) ("alt", [..]) ("rep", node, min, max|None)
# ("bol",) ("eol",).

Node = tuple[object, ...]


class _Parser:
    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.pos = 0

    def fail(self, reason: str, at: int | None = None) -> PatternError:
        return PatternError(reason, self.pos if at is None else at)

    def peek(self, ahead: int = 0) -> str:
        at = self.pos + ahead
        return self.text[at] if at < len(self.text) else ""

    def parse(self) -> Node:
        node = self.alternation()
        if self.pos < len(self.text):
            raise self.fail(UNBALANCED)
        return node

    def alternation(self) -> Node:
        branches = [self.sequence()]
        while self.peek() == "|":
            self.pos += 1
            branches.append(self.sequence())
        return branches[0] if len(branches) == 1 else ("alt", branches)

    def sequence(self) -> Node:
        items: list[Node] = []
        while self.peek() not in ("", "|", ")"):
            items.append(self.quantified())
        return ("cat", items)

    def quantified(self) -> Node:
        start = self.pos
        atom = self.atom()
        bounds = self.quantifier()
        if bounds is None:
            return atom
        if atom[0] in ("bol", "eol"):
            raise self.fail(NOTHING_TO_REPEAT, start)
        if self.peek() == "?":  # lazy: the same yes/no answer
            self.pos += 1
        elif self.peek() == "+":
            raise self.fail(POSSESSIVE)
        if self.peek() in ("*", "+", "?") or self._counted() is not None:
            raise self.fail(MULTIPLE_REPEAT)
        return ("rep", atom, bounds[0], bounds[1])

    def quantifier(self) -> tuple[int, int | None] | None:
        char = self.peek()
        simple = {"*": (0, None), "+": (1, None), "?": (0, 1)}
        if char in simple:
            self.pos += 1
            return simple[char]
        counted = self._counted()
        if counted is None:
            return None
        low, high, end = counted
        if high is not None and low > high:
            raise self.fail(MIN_OVER_MAX)
        if max(low, high or 0) > MAX_REPEAT:
            raise self.fail(REPEAT_TOO_LARGE)
        self.pos = end
        return low, high

    def _counted(self) -> tuple[int, int | None, int] | None:
        """{m} {m,} {,n} {m,n} at the cursor → (min, max, end); None when it is a literal {."""
        if self.peek() != "{":
            return None
        close = self.text.find("}", self.pos)
        if close < 0:
            return None
        low, comma, high = self.text[self.pos + 1 : close].partition(",")
        if not all(part == "" or (part.isascii() and part.isdigit()) for part in (low, high)):
            return None
        if not comma:
            return (int(low), int(low), close + 1) if low else None
        return int(low or 0), (int(high) if high else None), close + 1

    def atom(self) -> Node:
        char = self.peek()
        if char in ("*", "+", "?") or self._counted() is not None:
            raise self.fail(NOTHING_TO_REPEAT)
        self.pos += 1
        if char == "(":
            return self.group()
        if char == "[":
            return ("char", self.char_class())
        if char == "\\":
            return ("char", self.escape())
        if char == ".":
            return ("char", "\n".__ne__)
        if char == "^":
            return ("bol",)
        if char == "$":
            return ("eol",)
        return ("char", char.__eq__)

    def group(self) -> Node:
        if self.peek() == "?":
            if self.peek(1) != ":":
                raise self.fail(UNSUPPORTED_GROUP)
            self.pos += 2
        start = self.pos - 1
        node = self.alternation()
        if self.peek() != ")":
            raise self.fail(UNTERMINATED_GROUP, start)
        self.pos += 1
        return node

    def escape(self) -> CharTest:
        char = self.peek()
        if not char:
            raise self.fail(BAD_ESCAPE)
        self.pos += 1
        if char in _CATEGORIES:
            return _CATEGORIES[char]
        if char in _CONTROL:
            return _CONTROL[char].__eq__
        if char.isalnum() or char == "_":
            raise self.fail(BAD_ESCAPE, self.pos - 2)
        return char.__eq__

    def char_class(self) -> CharTest:
        start = self.pos - 1
        negated = self.peek() == "^"
        if negated:
            self.pos += 1
        singles: set[str] = set()
        ranges: list[tuple[str, str]] = []
        tests: list[CharTest] = []
        first = True
        while True:
            char = self.peek()
            if not char:
                raise self.fail(UNTERMINATED_SET, start)
            if char == "]" and not first:
                self.pos += 1
                break
            first = False
            item = self.pos
            low = self._class_item(tests)
            is_range = self.peek() == "-" and self.peek(1) not in ("]", "")
            if low is None and is_range:
                raise self.fail(BAD_RANGE, item)
            if low is None:
                continue
            if is_range:
                self.pos += 1
                high = self._class_item(tests)
                if high is None or high < low:
                    raise self.fail(BAD_RANGE, item)
                ranges.append((low, high))
            else:
                singles.add(low)
        return _class_test(frozenset(singles), tuple(ranges), tuple(tests), negated)

    def _class_item(self, tests: list[CharTest]) -> str | None:
        """One character of a class; None when it was a category such as \\d (added to tests)."""
        char = self.peek()
        self.pos += 1
        if char != "\\":
            return char
        escaped = self.peek()
        if escaped in _CATEGORIES:
            self.pos += 1
            tests.append(_CATEGORIES[escaped])
            return None
        if escaped in _CONTROL:
            self.pos += 1
            return _CONTROL[escaped]
        self.escape()  # validates the escape
        return escaped


def _class_test(
    singles: frozenset[str],
    ranges: tuple[tuple[str, str], ...],
    tests: tuple[CharTest, ...],
    negated: bool,
) -> CharTest:
    def test(char: str) -> bool:
        found = (
            char in singles
            or any(low <= char <= high for low, high in ranges)
            or any(t(char) for t in tests)
        )
        return found != negated

    return test


# --- the automaton -------------------------------------------------------------------------

_CHAR, _SPLIT, _BOL, _EOL, _MATCH = range(5)


@dataclass
class _State:
    """A set of NFA states, as one state of the lazily built DFA."""

    members: frozenset[int]
    accepting: bool
    next: dict[str, _State] = field(default_factory=dict)
    at_end: bool | None = None  # accepting at the end of the text (after $), once computed


class _Builder:
    """Thompson construction, built backwards: each node is compiled in front of its successor."""

    def __init__(self) -> None:
        self.kinds: list[int] = []
        self.tests: list[CharTest | None] = []
        self.outs: list[list[int]] = []

    def add(self, kind: int, outs: list[int], test: CharTest | None = None) -> int:
        if len(self.kinds) >= MAX_STATES:
            raise PatternError(TOO_COMPLEX, 0)
        self.kinds.append(kind)
        self.tests.append(test)
        self.outs.append(outs)
        return len(self.kinds) - 1

    def build(self, node: Node, then: int) -> int:
        tag = node[0]
        if tag == "char":
            return self.add(_CHAR, [then], node[1])  # type: ignore[arg-type]
        if tag == "bol":
            return self.add(_BOL, [then])
        if tag == "eol":
            return self.add(_EOL, [then])
        if tag == "cat":
            for item in reversed(node[1]):  # type: ignore[call-overload]
                then = self.build(item, then)
            return then
        if tag == "alt":
            return self.add(_SPLIT, [self.build(b, then) for b in node[1]])  # type: ignore[attr-defined]
        return self.repeat(node[1], node[2], node[3], then)  # type: ignore[arg-type]

    def repeat(self, body: Node, low: int, high: int | None, then: int) -> int:
        if high is None:
            loop = self.add(_SPLIT, [])
            self.outs[loop] = [self.build(body, loop), then]
            tail = loop
        else:
            tail = then
            for _ in range(high - low):
                tail = self.add(_SPLIT, [self.build(body, tail), then])
        for _ in range(low):
            tail = self.build(body, tail)
        return tail


class Regex:
    """A compiled pattern; `search(text)` says whether it occurs anywhere in the text."""

    def __init__(self, pattern: str) -> None:
        if len(pattern) > MAX_PATTERN:
            raise PatternError(TOO_LONG, MAX_PATTERN)
        self.pattern = pattern
        builder = _Builder()
        match = builder.add(_MATCH, [])
        self._start = builder.build(_Parser(pattern).parse(), match)
        self._kinds, self._tests, self._outs = builder.kinds, builder.tests, builder.outs
        self._restart = self._closure([self._start], at_start=False)
        self._reset()

    def __repr__(self) -> str:
        return f"Regex({self.pattern!r})"

    def _reset(self) -> None:
        self._states: dict[frozenset[int], _State] = {}
        self._cached = 0
        self._initial = self._state(self._closure([self._start], at_start=True))

    def _closure(self, seeds: list[int], *, at_start: bool) -> frozenset[int]:
        """States reachable without reading a character; $ states are kept, not crossed."""
        seen: set[int] = set()
        stack = list(seeds)
        while stack:
            index = stack.pop()
            if index in seen:
                continue
            seen.add(index)
            kind = self._kinds[index]
            if kind == _SPLIT or (kind == _BOL and at_start):
                stack.extend(self._outs[index])
        return frozenset(i for i in seen if self._kinds[i] in (_CHAR, _EOL, _MATCH))

    def _state(self, members: frozenset[int]) -> _State:
        found = self._states.get(members)
        if found is None:
            accepting = any(self._kinds[i] == _MATCH for i in members)
            found = self._states[members] = _State(members, accepting)
        return found

    def _step(self, state: _State, char: str) -> _State:
        if self._cached >= MAX_CACHED:
            self._reset()  # memory stays bounded; states already handed out remain valid
        moved = [
            self._outs[i][0]
            for i in state.members
            if self._kinds[i] == _CHAR and self._tests[i](char)  # type: ignore[misc]
        ]
        target = self._state(self._closure(moved, at_start=False) | self._restart)
        state.next[char] = target
        self._cached += 1
        return target

    def _accepts_at_end(self, state: _State, *, empty_text: bool) -> bool:
        if empty_text or state.at_end is None:
            seeds = [self._outs[i][0] for i in state.members if self._kinds[i] == _EOL]
            end: set[int] = set(state.members)
            while seeds:  # `$` may repeat ($$) and, on an empty text, meet `^`
                reached = self._closure(seeds, at_start=empty_text) - end
                end |= reached
                seeds = [self._outs[i][0] for i in reached if self._kinds[i] == _EOL]
            result = any(self._kinds[i] == _MATCH for i in end)
            if empty_text:
                return result
            state.at_end = result
        return state.at_end

    def search(self, text: str) -> bool:
        """True when the pattern matches somewhere in `text`."""
        state = self._initial
        if state.accepting:
            return True
        for char in text:
            state = state.next.get(char) or self._step(state, char)
            if state.accepting:
                return True
        return self._accepts_at_end(state, empty_text=not text)
