"""Why a condition was refused: one problem per wrong node, named by its path in the tree.

Each message is an English msgid with `%(path)s` first; the Chinese text lives in
`locale/zh_CN/LC_MESSAGES/conditions.po`. The web error handler shows the first problem,
translated; `InvalidCondition.messages(locale)` gives all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fuwu.conditions import regex
from fuwu.errors import ValidationFailed
from fuwu.kit.i18n import gettext

ROOT = "condition"  # how the path of the top node reads

NOT_A_NODE = "%(path)s: each condition must be an object with all, any, not or field"
UNKNOWN_KEY = "%(path)s: unknown key %(name)s"
NOT_A_LIST = "%(path)s: %(name)s must be a list of conditions"
TOO_DEEP = "%(path)s: conditions are nested too deeply (at most %(max)s levels)"
TOO_MANY = "%(path)s: too many tests (at most %(max)s)"
UNKNOWN_FIELD = "%(path)s: unknown field %(key)s"
UNKNOWN_OP = "%(path)s: unknown operator %(op)s"
OP_NOT_FOR_FIELD = "%(path)s: operator %(op)s cannot be used with field %(key)s"
NO_VALUE_WANTED = "%(path)s: operator %(op)s takes no value"
VALUE_NEEDED = "%(path)s: operator %(op)s needs a value"
CHANGES_NOT_ALLOWED = "%(path)s: operator %(op)s only works in rules that react to a change"
LITERAL_NEEDED = "%(path)s: operator %(op)s needs a value, not a field or a variable"
LIST_NEEDED = "%(path)s: operator %(op)s needs a list of 1 to %(max)s values"
BETWEEN_NEEDED = "%(path)s: operator between needs a list [low, high]"
BETWEEN_ORDER = "%(path)s: the low bound is above the high bound"
UNKNOWN_OPTION = "%(path)s: %(value)s is not an option of field %(key)s"
UNKNOWN_VARIABLE = "%(path)s: unknown variable %(name)s"
VARIABLE_MISMATCH = "%(path)s: variable %(name)s cannot be compared with field %(key)s"
FIELD_MISMATCH = "%(path)s: field %(other)s cannot be compared with field %(key)s"
WINDOW_NEEDED = '%(path)s: operator %(op)s needs {"amount": 1 to %(max)s, "unit": %(units)s}'
NOT_FOR_SQL_FIELD = "%(path)s: field %(key)s cannot be used to filter lists"
NOT_FOR_SQL_OP = "%(path)s: operator %(op)s cannot be used to filter lists"

# The value a literal of each kind must be (keyed by Kind value).
WRONG_VALUE = {
    "text": "%(path)s: the value must be text of 1 to %(max)s characters",
    "number": "%(path)s: the value must be a number",
    "bool": "%(path)s: the value must be true or false",
    "date": "%(path)s: the value must be a date such as 2026-11-22",
    "datetime": (
        "%(path)s: the value must be a date and time with a time zone,"
        " such as 2026-11-22T09:30:00+08:00"
    ),
    "choice": "%(path)s: the value must be an option key",
    "multi": "%(path)s: the value must be an option key",
    "ref": "%(path)s: the value must be an id (a whole number of at least 1)",
}

PATTERN_PREFIX = "%(path)s: the pattern is not valid at character %(position)s: "
PATTERN_INVALID = {reason: PATTERN_PREFIX + reason for reason in regex.REASONS}

MESSAGES = (
    NOT_A_NODE, UNKNOWN_KEY, NOT_A_LIST, TOO_DEEP, TOO_MANY, UNKNOWN_FIELD, UNKNOWN_OP,
    OP_NOT_FOR_FIELD, NO_VALUE_WANTED, VALUE_NEEDED, CHANGES_NOT_ALLOWED, LITERAL_NEEDED,
    LIST_NEEDED, BETWEEN_NEEDED, BETWEEN_ORDER, UNKNOWN_OPTION, UNKNOWN_VARIABLE,
    VARIABLE_MISMATCH, FIELD_MISMATCH, WINDOW_NEEDED, NOT_FOR_SQL_FIELD, NOT_FOR_SQL_OP,
    *dict.fromkeys(WRONG_VALUE.values()), *PATTERN_INVALID.values(),
)  # fmt: skip
"""Every msgid this package raises (the i18n test checks each has a translation)."""


@dataclass(frozen=True)
class Problem:
    """One wrong node: where (a path such as all[2].any[0]), the msgid and its parameters."""

    path: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return self.path or ROOT

    def text(self, locale: str = "en") -> str:
        return gettext(locale, self.message, path=self.where, **self.params)


class InvalidCondition(ValidationFailed):
    """422: the condition tree is not valid; one error entry per problem, keyed by its path."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(
            [
                {
                    "field": p.where,
                    "code": "invalid",
                    "params": {
                        **p.params,
                        "detail": p.text(),
                        "msgid": p.message,
                        "path": p.where,
                    },
                }
                for p in problems
            ]
        )
        first = problems[0]
        self.message = first.message
        self.params = {"path": first.where, **first.params}
        self.args = (first.text(),)
        self.problems = tuple(problems)

    def messages(self, locale: str) -> list[str]:
        """Every problem, translated."""
        return [p.text(locale) for p in self.problems]
