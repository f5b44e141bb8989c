"""What the condition language knows about fields: their key, value kind and SQL expression.

The field registry (`fuwu.fields`) builds a `Schema` from field definitions; the condition
language never reads field definitions itself, so it stays below every domain that uses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.sql.elements import ColumnElement


class Kind(StrEnum):
    """The value kinds a condition can compare; each field type maps onto one of them."""

    TEXT = "text"  # str
    NUMBER = "number"  # int | Decimal | float
    BOOL = "bool"  # bool
    DATE = "date"  # datetime.date
    DATETIME = "datetime"  # timezone-aware datetime.datetime
    CHOICE = "choice"  # one option key (str)
    MULTI = "multi"  # list of option keys (list[str])
    REF = "ref"  # id (int) of a user, team, contact, asset or ticket


@dataclass(frozen=True)
class FieldRef:
    """One field as conditions see it.

    `column` is the SQL expression to filter on (a column, or a JSON extraction built with
    `fuwu.kit.jsonsql.json_field`); None means the field can be tested in Python only.
    `options` are the allowed keys of a CHOICE or MULTI field, used to reject unknown values.
    """

    key: str
    kind: Kind
    label: str = ""
    column: ColumnElement[Any] | None = None
    options: frozenset[str] | None = None


Schema = Mapping[str, FieldRef]
