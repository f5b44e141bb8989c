"""A `filter` parameter in the condition language, on any registered entity's fields.

`{"all":[{"field":"tier","op":"eq","value":"gold"}]}` becomes a SQL WHERE with bound
parameters over the entity's system columns and custom fields (a filterable field's expression
index makes it fast). Ticket lists add who may read what on top (`tickets.filters`).
"""

from __future__ import annotations

import json
from collections.abc import Collection

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from fuwu.conditions import tree as conditions
from fuwu.conditions.schema import FieldRef
from fuwu.errors import ValidationFailed
from fuwu.fields.forms.compile import custom_refs
from fuwu.fields.forms.validation import variables_for
from fuwu.fields.registry import entities
from fuwu.fields.registry.catalog import catalog

MAX_FILTER = 20_000  # characters of JSON


def schema(
    session: Session, entity_name: str, readable: Collection[str] | None = None
) -> dict[str, FieldRef]:
    """Every field a list of the entity can filter or sort on: its system columns and custom
    fields (only the `readable` ones when given)."""
    entity = entities.get(entity_name)
    assert entity is not None, f"the {entity_name} entity is not registered"
    every = catalog(session, entity_name).specs
    specs = {k: s for k, s in every.items() if readable is None or k in readable}
    return {**entity.system_refs(), **custom_refs(entity, specs)}


def parse(
    session: Session,
    entity_name: str,
    raw: str,
    *,
    readable: Collection[str] | None = None,
) -> conditions.Condition:
    """The condition of a `filter` parameter; 422 naming the wrong part (`filter.…`)."""
    if len(raw) > MAX_FILTER:
        raise ValidationFailed.single("filter", "too_long", max=MAX_FILTER)
    try:
        tree = json.loads(raw)
    except ValueError:
        raise ValidationFailed.single("filter", "invalid_json") from None
    except RecursionError:  # thousands of nested brackets: deeper than any condition may be
        raise ValidationFailed.single("filter", "too_deep", max=conditions.MAX_DEPTH) from None
    try:
        return conditions.parse(tree, schema(session, entity_name, readable), for_sql=True)
    except ValidationFailed as exc:
        for error in exc.errors:
            error["field"] = f"filter.{error['field']}"
        raise


def where(
    session: Session, entity_name: str, raw: str, *, user_id: int | None, timezone: str
) -> ColumnElement[bool]:
    """The WHERE clause of a `filter` parameter on the entity's rows."""
    condition = parse(session, entity_name, raw)
    return condition.to_sql(variables_for(user_id, timezone))
