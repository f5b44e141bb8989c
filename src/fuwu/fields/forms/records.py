"""The form of a customer record — a contact, an organisation or an asset.

Unlike a ticket type, these entities have no designed form: every active custom field of the
entity is on it, in the order the admin gave the fields (Zendesk's user and organisation
fields). It is compiled and validated by the same machinery as ticket forms (types, required,
unique, references, formulas), cached per process until a field of the entity changes. File
fields (attachment, image, signature) hold ticket attachments and stay off these forms.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from fuwu.errors import ValidationFailed, field_error
from fuwu.fields.forms import checks as form_checks
from fuwu.fields.forms.compile import Form, compile_form
from fuwu.fields.forms.validation import variables_for
from fuwu.fields.registry import entities, types
from fuwu.fields.registry.catalog import catalog

SURFACES = ("agent_create", "agent_edit")
_CACHE: dict[tuple[Any, ...], Form | None] = {}


def form_of(session: Session, entity: str, timezone: str) -> Form | None:
    """The compiled form of `entity`; None when it has no fields (or is not registered)."""
    registered = entities.get(entity)
    if registered is None:
        return None
    fields = catalog(session, entity)
    cache_key = (str(session.get_bind().engine.url), entity, *fields.stamp, timezone)
    if cache_key in _CACHE:
        return _CACHE[cache_key]
    specs = {s.key: s for s in fields.active_specs() if s.type not in types.FILE_TYPES}
    form = None
    if specs:
        keys = list(specs)
        form = compile_form(
            type_key=entity, version=0, specs=specs, entity=registered, timezone=timezone,
            definition={"fields": [{"key": k} for k in keys],
                        "layouts": {s: [{"fields": keys, "columns": 2}] for s in SURFACES}},
        )  # fmt: skip
    if len(_CACHE) > 100:
        _CACHE.clear()
    _CACHE[cache_key] = form
    return form


def apply(
    session: Session,
    *,
    entity: str,
    submitted: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
    record_id: int | None,
    timezone: str,
    actor_id: int | None,
) -> dict[str, Any]:
    """The custom values to store on a new record (`previous` None) or after an edit: checked
    by the entity's form, every error at once (fields as `custom.<key>`); values of fields
    since archived are kept."""
    form = form_of(session, entity, timezone)
    specs = form.specs if form is not None else {}
    errors = [field_error(f"custom.{k}", "extra_forbidden") for k in submitted if k not in specs]
    if form is None:
        if errors:
            raise ValidationFailed(errors)
        return dict(previous or {})
    surface = "agent_create" if previous is None else "agent_edit"
    try:
        values = form_checks.apply(
            session, form=form, surface=surface, previous=previous, record_id=record_id,
            submitted={k: v for k, v in submitted.items() if k in specs}, system={},
            variables=variables_for(actor_id, timezone), entity=entity,
        )  # fmt: skip
    except ValidationFailed as exc:
        errors.extend(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    kept = {k: v for k, v in (previous or {}).items() if k not in specs}
    return {**kept, **values}
