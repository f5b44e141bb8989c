"""Applying a form to submitted values: validation, then the checks that need the database —
references that must exist, unique values, and the next number of auto-number fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import column, select, table
from sqlalchemy.orm import Session

from fuwu.db import increment_counter
from fuwu.errors import FieldError, ValidationFailed
from fuwu.fields.forms.compile import Form
from fuwu.fields.forms.validation import validate
from fuwu.fields.registry import entities, types
from fuwu.fields.registry.models import FieldCounter
from fuwu.kit.jsonsql import json_field
from fuwu.kit.time import utcnow


def apply(
    session: Session,
    *,
    form: Form,
    surface: str,
    submitted: Mapping[str, Any],
    system: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
    variables: Mapping[str, Any],
    record_id: int | None = None,
    entity: str = "ticket",
) -> dict[str, Any]:
    """Validate with the form, then the database checks (on `entity`'s rows); the custom
    values to store."""
    creating = previous is None
    values = validate(
        form, surface, submitted, system=system, previous=previous, variables=variables,
        creating=creating,
    )  # fmt: skip
    errors = _check_refs(session, form, values, record_id)
    errors += _check_unique(session, form, values, record_id, entity)
    if errors:
        raise ValidationFailed(errors)
    if creating:
        for key, spec in form.specs.items():
            if spec.type == "auto_number":
                values[key] = _auto_number(session, form, spec)
    return values


def _check_refs(
    session: Session, form: Form, values: Mapping[str, Any], record_id: int | None
) -> list[FieldError]:
    """Each referenced row must exist; a file must be one of this record's own (or staged
    with it), never another ticket's attachment named by its id."""
    errors: list[FieldError] = []
    for key, value in values.items():
        refs = types.TYPES[form.specs[key].type].refs
        if refs is None or value is None:
            continue
        ids = set(value if isinstance(value, list) else [value])
        query: Any = select(column("id")).select_from(table(refs)).where(column("id").in_(ids))
        if refs == "attachment":
            query = query.where(column("ticket_id").is_(None) | (column("ticket_id") == record_id))
        found: set[Any] = set(session.scalars(query))
        if ids - found:
            errors.append(
                {
                    "field": f"custom.{key}",
                    "code": "not_found",
                    "params": {"label": dict(form.specs[key].label)},
                }
            )
    return errors


def _check_unique(
    session: Session, form: Form, values: Mapping[str, Any], record_id: int | None, of: str
) -> list[FieldError]:
    entity = entities.get(of)
    errors: list[FieldError] = []
    if entity is None:
        return errors
    for key, spec in form.specs.items():
        kind = types.kind_of(spec)
        if not spec.unique or values.get(key) is None or kind is None:
            continue
        expr = json_field(entity.custom, key, kind)
        stmt = select(entity.table.c.id).where(expr == types.load(spec, values[key]))
        if record_id is not None:
            stmt = stmt.where(entity.table.c.id != record_id)
        if session.scalar(stmt.limit(1)) is not None:
            errors.append(
                {"field": f"custom.{key}", "code": "taken", "params": {"label": dict(spec.label)}}
            )
    return errors


def _auto_number(session: Session, form: Form, spec: types.FieldSpec) -> str:
    now = utcnow()
    pattern = str(spec.options.get("pattern") or "{seq:05}")
    prefix = pattern.split("{seq")[0].format(yyyy=f"{now:%Y}", mm=f"{now:%m}", dd=f"{now:%d}")
    seq = increment_counter(session, FieldCounter.__table__, f"{spec.key}:{prefix}")
    return pattern.format(yyyy=f"{now:%Y}", mm=f"{now:%m}", dd=f"{now:%d}", seq=seq)
