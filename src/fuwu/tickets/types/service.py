"""Ticket types and their forms: drafts, publishing, the compiled-form cache, and where forms
use a field (for the registry's usage check)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fuwu.audit import service as audit
from fuwu.audit.service import Actor
from fuwu.configs import service as configs
from fuwu.configs.models import ConfigVersion
from fuwu.errors import Conflict, FieldError, NotFound, ValidationFailed
from fuwu.fields.forms.compile import Form, compile_form
from fuwu.fields.forms.schemas import FormDefinition
from fuwu.fields.registry import entities
from fuwu.fields.registry.catalog import catalog
from fuwu.fields.registry.models import FieldDef
from fuwu.fields.registry.schemas import Usage
from fuwu.tickets.types.models import TicketType
from fuwu.tickets.types.schemas import TicketTypeCreate, TicketTypeUpdate
from fuwu.web.errors import from_pydantic

FORM = "ticket_form"
DEFAULT_LAYOUT = {
    "agent_create": [{"fields": ["subject", "customer", "priority", "description"]}],
    "agent_edit": [{"fields": ["subject", "priority"]}],
    "portal": [{"fields": ["subject", "description"]}],
    "web_form": [{"fields": ["subject", "customer", "description"]}],
}
_CACHE: dict[tuple[Any, ...], Form] = {}


def list_types(session: Session, *, inactive: bool = False) -> list[TicketType]:
    """Ticket types in display order."""
    stmt = select(TicketType)
    if not inactive:
        stmt = stmt.where(TicketType.active.is_(True))
    return list(session.scalars(stmt.order_by(TicketType.position, TicketType.id)))


def get_type(session: Session, key: str) -> TicketType:
    """One type by key; NotFound otherwise."""
    found = session.scalars(select(TicketType).where(TicketType.key == key)).first()
    if found is None:
        raise NotFound("Ticket type %(key)s does not exist.", key=key)
    return found


def versions_of(session: Session, key: str) -> tuple[int | None, bool]:
    """(published version number, whether a draft exists)."""
    rows = session.execute(
        select(ConfigVersion.version, ConfigVersion.status).where(
            ConfigVersion.kind == FORM, ConfigVersion.key == key,
            ConfigVersion.status.in_(("published", "draft")),
        )
    ).all()  # fmt: skip
    published = next((v for v, s in rows if s == "published"), None)
    return published, any(s == "draft" for _, s in rows)


def create_type(session: Session, *, actor: Actor, data: TicketTypeCreate) -> TicketType:
    """A new type with a draft form laid out with the basic system fields."""
    if session.scalar(select(TicketType.id).where(TicketType.key == data.key)):
        raise ValidationFailed.single("key", "taken")
    row = TicketType(**data.model_dump(), position=len(list_types(session, inactive=True)) * 10)
    session.add(row)
    session.flush()
    configs.save_draft(
        session, actor_id=actor.user_id, kind=FORM, key=row.key,
        definition={"fields": [], "layouts": DEFAULT_LAYOUT, "logic": []},
    )  # fmt: skip
    audit.record(
        session, actor_id=actor.user_id, actor_name=actor.name, action="create",
        entity="ticket_type", entity_id=row.key, after=data.model_dump(),
    )  # fmt: skip
    return row


def update_type(session: Session, *, actor: Actor, key: str, data: TicketTypeUpdate) -> TicketType:
    """Rename, (de)activate, publish on the web form or reorder a type."""
    row = get_type(session, key)
    before = {"name": row.name, "active": row.active, "public": row.public}
    for name, value in data.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(row, name, value)
    session.flush()
    audit.record_update(
        session, actor=actor, entity="ticket_type", entity_id=key, before=before,
        after={"name": row.name, "active": row.active, "public": row.public},
    )  # fmt: skip
    return row


def parse_definition(definition: Mapping[str, Any]) -> FormDefinition:
    """The definition's shape, or ValidationFailed naming each wrong part (`definition.…`)."""
    try:
        return FormDefinition.model_validate(definition)
    except PydanticValidationError as exc:
        errors = [from_pydantic(dict(e)) for e in exc.errors()]
        for error in errors:
            error["field"] = f"definition.{error['field']}".rstrip(".")
        raise ValidationFailed(errors) from exc


def check_definition(
    session: Session, key: str, definition: Mapping[str, Any], timezone: str, version: int = 0
) -> Form:
    """Compile a definition against the registry; errors name the part that is wrong."""
    entity = entities.get("ticket")
    if entity is None:  # pragma: no cover - tickets registers itself at import
        raise Conflict("Tickets are not loaded.")
    parsed = parse_definition(definition)
    fields = catalog(session, "ticket")
    specs = fields.specs
    errors: list[FieldError] = []
    for i, item in enumerate(parsed.fields):
        spec_row = specs.get(item.key)
        if spec_row is None:
            errors.append({"field": f"fields[{i}].key", "code": "not_found", "params": {}})
    active = set(fields.active)
    own = {f.key for f in parsed.fields}
    for surface, sections in parsed.layouts.items():
        for s, section in enumerate(sections):
            for k, name in enumerate(section.fields):
                if name not in entity.system and (name not in own or name not in active):
                    errors.append(
                        {
                            "field": f"layouts.{surface}[{s}].fields[{k}]",
                            "code": "not_found",
                            "params": {"detail": name},
                        }
                    )
    if errors:
        raise ValidationFailed(errors)
    return compile_form(
        type_key=key, version=version, definition=parsed.model_dump(mode="json"),
        specs=specs, entity=entity, timezone=timezone,
    )  # fmt: skip


def save_draft(
    session: Session,
    *,
    actor: Actor,
    key: str,
    definition: dict[str, Any],
    timezone: str,
    note: str = "",
) -> ConfigVersion:
    """Validate and store the draft form of a type."""
    get_type(session, key)
    check_definition(session, key, definition, timezone)
    clean = parse_definition(definition).model_dump(mode="json")
    return configs.save_draft(
        session, actor_id=actor.user_id, kind=FORM, key=key, definition=clean, note=note
    )


def publish(
    session: Session, *, actor: Actor, key: str, timezone: str, note: str = ""
) -> ConfigVersion:
    """Publish the draft: new tickets of this type use it from now on. `note` says what
    changed (the admin pages require one; the version history shows it)."""
    draft = configs.draft(session, FORM, key)
    if draft is None:
        raise Conflict("There is no draft to publish.")
    check_definition(session, key, draft.definition, timezone, draft.version)
    row = configs.publish(session, actor_id=actor.user_id, kind=FORM, key=key, note=note)
    audit.record(
        session, actor_id=actor.user_id, actor_name=actor.name, action="publish",
        entity="ticket_form", entity_id=f"{key}@{row.version}",
        after={"version": row.version, "note": row.note},
    )  # fmt: skip
    return row


def form(session: Session, key: str, timezone: str, version: int | None = None) -> Form | None:
    """The compiled published form of a type (or one given version); None without one.

    Compiled forms are cached per process. The cache key holds what could make a compiled form
    stale: the database, the version row and when it was published, and a stamp of the field
    registry (field options and labels change without a new form version).
    """
    cond = [ConfigVersion.kind == FORM, ConfigVersion.key == key]
    cond.append(
        ConfigVersion.status == "published" if version is None else ConfigVersion.version == version
    )
    of_tickets = FieldDef.entity == "ticket"
    changed = select(func.max(FieldDef.updated_at)).where(of_tickets).scalar_subquery()
    count = select(func.count(FieldDef.id)).where(of_tickets).scalar_subquery()
    found = session.execute(
        select(ConfigVersion.id, ConfigVersion.version, ConfigVersion.status,
               ConfigVersion.published_at, changed, count).where(*cond)
    ).first()  # fmt: skip
    if found is None:
        if version is not None:
            raise NotFound("Version %(version)s does not exist.", version=version)
        return None
    row_id, number, status, published_at, changed, count = found
    cache_key = (str(session.get_bind().engine.url), row_id, published_at, changed, count, timezone)
    cached = _CACHE.get(cache_key)
    if cached is not None:
        return cached
    definition = configs.get(session, FORM, key, number).definition
    compiled = check_definition(session, key, definition, timezone, number)
    if status != "draft":
        if len(_CACHE) > 500:
            _CACHE.clear()
        _CACHE[cache_key] = compiled
    return compiled


def form_usages(session: Session, entity: str, key: str) -> list[Usage]:
    """Where forms (any version) lay out, require or test a field."""
    if entity != "ticket":
        return []
    found: list[Usage] = []
    active_types = {t.key for t in list_types(session)}
    rows = session.scalars(select(ConfigVersion).where(ConfigVersion.kind == FORM))
    for row in rows:
        definition = FormDefinition.model_validate(row.definition)
        live = row.status == "published" and row.key in active_types
        if any(f.key == key for f in definition.fields):
            found.append(
                Usage(kind="form", key=row.key, version=row.version, detail=row.status, active=live)
            )
        for rule in definition.logic:
            targets = {k for a in rule.then for k in a.fields}
            if key in targets or f'"{key}"' in _json(rule.when):
                found.append(
                    Usage(
                        kind="logic",
                        key=row.key,
                        version=row.version,
                        detail=rule.name or row.status,
                        active=live,
                    )
                )
    return found


def _json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)
