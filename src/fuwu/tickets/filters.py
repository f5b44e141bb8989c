"""Ticket lists filtered and sorted by any field, custom ones included, in the condition language.

`?filter={"all":[{"field":"fault_type","op":"eq","value":"leak"}]}` becomes a SQL WHERE with
bound parameters; a filterable custom field's expression index makes it fast on millions of
tickets. Sorting by a custom field puts empty values last and pages with a keyset cursor.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.orm import Session

from fuwu.conditions.schema import FieldRef
from fuwu.fields.forms import filters as entity_filters
from fuwu.fields.forms.validation import variables_for
from fuwu.fields.registry import entities
from fuwu.tickets.models import Ticket


def schema(session: Session, readable: Collection[str] | None = None) -> dict[str, FieldRef]:
    """Every field a ticket list can filter or sort on: system columns and custom fields (only
    the `readable` ones when given: a customer cannot probe fields the portal does not show)."""
    return entity_filters.schema(session, "ticket", readable)


def where(
    session: Session,
    raw: str,
    *,
    user_id: int | None,
    timezone: str,
    readable: Mapping[str, Collection[str]] | None = None,
) -> ColumnElement[bool]:
    """The WHERE clause of a `filter` parameter; 422 naming the wrong part otherwise.

    `readable` (customers): custom field → the ticket types on which the reader sees it. Other
    fields are unknown to the filter, and a field used matches only tickets of those types, so
    no condition can test a value the reader could not read.
    """
    condition = entity_filters.parse(session, "ticket", raw, readable=readable)
    clause = condition.to_sql(variables_for(user_id, timezone))
    if readable is None:
        return clause
    limits = [
        Ticket.type_key.in_(sorted(readable[k])) for k in condition.fields_used if k in readable
    ]
    return and_(clause, *limits)


def sort_ref(
    session: Session, key: str, readable: Collection[str] | None = None
) -> FieldRef | None:
    """The custom field to sort on, or None when `key` is not a sortable custom field."""
    ref = schema(session, readable).get(key)
    if ref is None or ref.column is None or key in _system_keys():
        return None
    return ref


def _system_keys() -> frozenset[str]:
    entity = entities.get("ticket")
    return frozenset(entity.system) if entity else frozenset()


def after(
    column: ColumnElement[Any], value: Any, last_id: int, *, desc: bool
) -> ColumnElement[bool]:
    """Rows after a cursor when sorting by a nullable expression, empty values last."""
    beyond = Ticket.id < last_id if desc else Ticket.id > last_id
    if value is None:
        return and_(column.is_(None), beyond)
    further = column < value if desc else column > value
    return or_(further, and_(column == value, beyond), column.is_(None))
