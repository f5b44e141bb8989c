"""The field registry: create, change, archive and retype custom fields, safely.

A field in use cannot disappear silently: archiving, deleting or retyping first lists every
place that uses it (forms, logic, formulas and whatever later engines register) and refuses
while active configuration depends on it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Index, func, select, text
from sqlalchemy.orm import Session

from fuwu.audit import service as audit
from fuwu.audit.service import Actor
from fuwu.errors import Conflict, NotFound, ValidationFailed
from fuwu.fields.formulas.language import references as formula_references
from fuwu.fields.registry import entities, options, types
from fuwu.fields.registry.models import ACTIVE, ARCHIVED, FieldDef
from fuwu.fields.registry.schemas import FieldCreate, FieldRetype, FieldUpdate, Usage
from fuwu.fields.registry.types import spec_of
from fuwu.kit.indexes import custom_field_index, index_names
from fuwu.kit.time import utcnow

# Higher domains (views, rules, reports) register how to find their uses of a field.
UsageFinder = Callable[[Session, str, str], list[Usage]]
USAGE_FINDERS: list[UsageFinder] = []


def register_usages(finder: UsageFinder) -> None:
    """Add a way to find a field's uses (the owning domain's `register()` calls this)."""
    if finder not in USAGE_FINDERS:
        USAGE_FINDERS.append(finder)


def list_fields(session: Session, entity: str, *, archived: bool = False) -> list[FieldDef]:
    """An entity's fields in display order."""
    stmt = select(FieldDef).where(FieldDef.entity == entity)
    if not archived:
        stmt = stmt.where(FieldDef.status == ACTIVE)
    return list(session.scalars(stmt.order_by(FieldDef.position, FieldDef.id)))


def get_field(session: Session, field_id: int) -> FieldDef:
    """One field; NotFound otherwise."""
    found = session.get(FieldDef, field_id)
    if found is None:
        raise NotFound("Field %(id)s does not exist.", id=field_id)
    return found


def kinds(session: Session, entity: str, *, skip: str = "") -> dict[str, Any]:
    """Key → condition kind of an entity's active fields (for formulas)."""
    return {f.key: types.kind_of(spec_of(f)) for f in list_fields(session, entity) if f.key != skip}


def _check_default(row_type: str, key: str, opts: dict[str, Any], default: Any) -> Any:
    if default in (None, "", []) or not types.TYPES[row_type].accepts_input:
        return None
    spec = types.FieldSpec(key=key, type=row_type, label={}, options=opts)
    try:
        value = TypeAdapter(types.TYPES[row_type].build(spec, "UTC")).validate_python(default)
    except ValidationError:
        raise ValidationFailed.single("default", "invalid") from None
    return types.dump(spec, value)


def create_field(session: Session, *, actor: Actor, data: FieldCreate) -> FieldDef:
    """Add a custom field; a filterable or unique one gets its expression index at once."""
    entity = entities.get(data.entity)
    if entity is not None and entity.taken(data.key):
        raise ValidationFailed.single("key", "taken")
    _check_type(data.entity, data.type)
    if session.scalar(
        select(FieldDef.id).where(FieldDef.entity == data.entity, FieldDef.key == data.key)
    ):
        raise ValidationFailed.single("key", "taken")
    opts = options.check(data.type, data.options, kinds=kinds(session, data.entity))
    position = session.scalar(
        select(func.coalesce(func.max(FieldDef.position), 0)).where(FieldDef.entity == data.entity)
    )
    row = FieldDef(
        **data.model_dump(exclude={"options", "default"}),
        options=opts,
        default=_check_default(data.type, data.key, opts, data.default),
        position=int(position or 0) + 10,
    )
    session.add(row)
    session.flush()
    _sync_index(session, row)
    audit.record(
        session, actor_id=actor.user_id, actor_name=actor.name, action="create",
        entity="field", entity_id=row.id, after=_snapshot(row),
    )  # fmt: skip
    return row


def update_field(session: Session, *, actor: Actor, field_id: int, data: FieldUpdate) -> FieldDef:
    """Change labels, options and flags; option keys already given out cannot be removed."""
    row = get_field(session, field_id)
    if row.version != data.version:
        raise Conflict("Someone else changed this field; reload and try again.")
    before = _snapshot(row)
    changes = data.model_dump(exclude_unset=True, exclude={"version"})
    if "label" in changes and not changes["label"]:
        raise ValidationFailed.single("label", "empty")
    if "options" in changes:
        new_opts = options.check(
            row.type, changes["options"], kinds=kinds(session, row.entity, skip=row.key)
        )
        _keep_option_keys(row.options, new_opts)
        changes["options"] = new_opts
    if "default" in changes:
        changes["default"] = _check_default(
            row.type, row.key, changes.get("options", row.options), changes["default"]
        )
    unique_changed = "unique" in changes and changes["unique"] != row.unique
    for name, value in changes.items():
        if value is not None or name == "default":
            setattr(row, name, value)
    row.updated_at = utcnow()
    session.flush()
    if unique_changed and row.unique:
        _refuse_duplicates(session, row)
    _sync_index(session, row, rebuild=unique_changed)
    audit.record_update(
        session, actor=actor, entity="field", entity_id=row.id, before=before,
        after=_snapshot(row),
    )  # fmt: skip
    return row


def _keep_option_keys(old: dict[str, Any], new: dict[str, Any]) -> None:
    kept = {c["key"] for c in new.get("choices", [])}
    gone = [c["key"] for c in old.get("choices", []) if c["key"] not in kept]
    if gone:
        raise ValidationFailed.single("options.choices", "option_removed", detail=", ".join(gone))


def usages(session: Session, row: FieldDef) -> list[Usage]:
    """Every place that uses a field, from every registered finder."""
    found: list[Usage] = []
    for finder in USAGE_FINDERS:
        found += finder(session, row.entity, row.key)
    for other in list_fields(session, row.entity):
        formula = str(other.options.get("formula", ""))
        if other.type == "computed" and row.key in formula_references(formula):
            found.append(Usage(kind="computed", key=other.key, detail=other.options["formula"]))
    return found


REFUSALS = {
    "archive": "This field cannot be archived while it is in use: %(places)s",
    "delete": "This field cannot be deleted while it is in use: %(places)s",
    "retype": "This field's type cannot change while it is in use: %(places)s",
}


def _refuse_if_used(session: Session, row: FieldDef, verb: str) -> None:
    active = [u for u in usages(session, row) if u.active]
    if active:
        places = "; ".join(
            f"{u.kind} {u.key}" + (f" v{u.version}" if u.version else "") for u in active
        )
        raise Conflict(REFUSALS[verb], places=places)


def archive_field(session: Session, *, actor: Actor, field_id: int) -> FieldDef:
    """Hide a field from new forms; refused while active configuration uses it."""
    row = get_field(session, field_id)
    _refuse_if_used(session, row, "archive")
    row.status = ARCHIVED
    row.filterable = False
    row.updated_at = utcnow()
    session.flush()
    _sync_index(session, row)
    audit.record(
        session, actor_id=actor.user_id, actor_name=actor.name, action="archive",
        entity="field", entity_id=row.id, before={"status": ACTIVE}, after={"status": ARCHIVED},
    )  # fmt: skip
    return row


def restore_field(session: Session, *, actor: Actor, field_id: int) -> FieldDef:
    """Bring an archived field back."""
    row = get_field(session, field_id)
    row.status = ACTIVE
    row.updated_at = utcnow()
    session.flush()
    audit.record(
        session, actor_id=actor.user_id, actor_name=actor.name, action="restore",
        entity="field", entity_id=row.id, before={"status": ARCHIVED}, after={"status": ACTIVE},
    )  # fmt: skip
    return row


def delete_field(session: Session, *, actor: Actor, field_id: int) -> None:
    """Delete a field no configuration (even archived) uses and no record has a value for."""
    row = get_field(session, field_id)
    if usages(session, row):
        _refuse_if_used(session, row, "delete")
        raise Conflict("Old form versions still use this field; archive it instead.")
    if values_count(session, row) > 0:
        raise Conflict("Records hold values for this field; archive it instead.")
    row.filterable = row.unique = False
    _sync_index(session, row)
    audit.record(
        session, actor_id=actor.user_id, actor_name=actor.name, action="delete",
        entity="field", entity_id=row.id, before=_snapshot(row),
    )  # fmt: skip
    session.delete(row)
    session.flush()


def _stored(session: Session, row: FieldDef) -> list[tuple[int, Any]]:
    entity = entities.get(row.entity)
    if entity is None:
        return []
    from fuwu.conditions.schema import Kind
    from fuwu.kit.jsonsql import json_field

    present = json_field(entity.custom, row.key, Kind.TEXT).is_not(None)
    stmt = select(entity.table.c.id, entity.custom).where(present)
    return [(int(i), (custom or {}).get(row.key)) for i, custom in session.execute(stmt)]


def values_count(session: Session, row: FieldDef) -> int:
    """How many records hold a value for the field."""
    return len(_stored(session, row))


def retype(session: Session, *, actor: Actor, field_id: int, data: FieldRetype) -> dict[str, Any]:
    """Dry run: which records would not convert. Otherwise convert them all, or refuse."""
    row = get_field(session, field_id)
    if row.version != data.version:
        raise Conflict("Someone else changed this field; reload and try again.")
    _check_type(row.entity, data.type)
    new_opts = options.check(
        data.type, data.options, kinds=kinds(session, row.entity, skip=row.key)
    )
    spec = types.FieldSpec(key=row.key, type=data.type, label=row.label, options=new_opts)
    adapter = TypeAdapter(types.TYPES[data.type].build(spec, "UTC"))
    failures: list[dict[str, Any]] = []
    converted: dict[int, Any] = {}
    for record_id, raw in _stored(session, row):
        try:
            converted[record_id] = types.dump(spec, adapter.validate_python(raw))
        except ValidationError:
            failures.append({"id": record_id, "value": raw})
    start = (data.page - 1) * FAILURES_PAGE
    report = {"converts": len(converted), "fails": len(failures), "page": data.page,
              "pages": max(1, -(-len(failures) // FAILURES_PAGE)),
              "failures": _titled(session, row, failures[start : start + FAILURES_PAGE]),
              "usages": [u.model_dump() for u in usages(session, row)]}  # fmt: skip
    if data.dry_run:
        return report
    if failures:
        raise Conflict("%(count)s records would not convert; fix them first.", count=len(failures))
    _refuse_if_used(session, row, "retype")
    _rewrite(session, row, converted)
    before = _snapshot(row)
    row.type, row.options = data.type, new_opts
    row.updated_at = utcnow()
    session.flush()
    _sync_index(session, row, rebuild=True)
    audit.record_update(
        session, actor=actor, entity="field", entity_id=row.id, before=before, after=_snapshot(row)
    )
    return report


FAILURES_PAGE = 50


def _check_type(entity_name: str, type_: str) -> None:
    """File types only on entities whose records keep files (tickets; not customers)."""
    entity = entities.get(entity_name)
    if entity is not None and not entity.files and type_ in types.FILE_TYPES:
        raise ValidationFailed.single("type", "no_files")


def type_allowed(entity_name: str, type_: str) -> bool:
    """Whether fields of `entity_name` may have this type (what the field editor offers)."""
    entity = entities.get(entity_name)
    return entity is None or entity.files or type_ not in types.FILE_TYPES


def _titled(
    session: Session, row: FieldDef, failures: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Failures with the name people know each record by (a ticket's number, a customer's
    name) and the address of its page."""
    entity = entities.get(row.entity)
    if entity is None or not failures:
        return failures
    ids = [f["id"] for f in failures]
    table = entity.table
    found = session.execute(select(table.c.id, table.c[entity.title]).where(table.c.id.in_(ids)))
    titles: dict[Any, Any] = dict(found.all())
    return [
        {**f, "title": str(titles.get(f["id"]) or f"#{f['id']}"),
         "url": entity.url.format(id=f["id"]) if entity.url else ""}
        for f in failures
    ]  # fmt: skip


def _rewrite(session: Session, row: FieldDef, converted: dict[int, Any]) -> None:
    entity = entities.get(row.entity)
    if entity is None:
        return
    table = entity.table
    for record_id, value in converted.items():
        current = session.execute(select(entity.custom).where(table.c.id == record_id)).scalar_one()
        session.execute(
            table.update()
            .where(table.c.id == record_id)
            .values({entity.custom.name: {**current, row.key: value}})
        )


DUPLICATES_SHOWN = 20


def index_name(entity: str, key: str) -> str:
    return custom_field_index(entity, key)


def _sync_index(session: Session, row: FieldDef, *, rebuild: bool = False) -> None:
    """Create or drop the expression index of a filterable (or unique) field."""
    entity = entities.get(row.entity)
    kind = types.kind_of(spec_of(row))
    if entity is None:
        return
    name = index_name(row.entity, row.key)
    want = (row.filterable or row.unique) and row.status == ACTIVE and kind is not None
    exists = _index_exists(session, entity.table.name, name)
    if exists and (rebuild or not want):
        session.execute(text(f'DROP INDEX IF EXISTS "{name}"'))
        exists = False
    if want and not exists and kind is not None:
        from fuwu.kit.jsonsql import json_field

        # (value, created_at, id): "value = x, newest first" — the inbox's order — reads 25
        # index entries instead of every match. A unique index stays on the value alone.
        order = [] if row.unique else [c for c in ("created_at", "id") if c in entity.table.c]
        index = Index(
            name,
            json_field(entity.custom, row.key, kind),
            *(entity.table.c[c] for c in order),
            unique=row.unique,
        )
        index.create(session.connection())
        # Made at run time, not part of the schema: keep it out of the model's metadata.
        entity.table.indexes.discard(index)


def _refuse_duplicates(session: Session, row: FieldDef) -> None:
    """Turning `unique` on over values already used twice is refused, naming them (the unique
    index could not be built, and which record keeps its value is the admin's call)."""
    entity = entities.get(row.entity)
    kind = types.kind_of(spec_of(row))
    if entity is None or kind is None:
        return
    from fuwu.kit.jsonsql import json_field

    value = json_field(entity.custom, row.key, kind)
    many = func.count().label("n")
    found = session.execute(
        select(value, many).where(value.is_not(None)).group_by(value).having(func.count() > 1)
        .order_by(many.desc(), value).limit(DUPLICATES_SHOWN)
    ).all()  # fmt: skip
    if found:
        shown = "; ".join(f"{v} ×{n}" for v, n in found)
        raise ValidationFailed.single("unique", "duplicates", detail=shown)


def _index_exists(session: Session, table: str, name: str) -> bool:
    return name in index_names(session.connection(), table)


def _snapshot(row: FieldDef) -> dict[str, Any]:
    return {
        "key": row.key, "type": row.type, "label": row.label, "options": row.options,
        "required": row.required, "unique": row.unique, "filterable": row.filterable,
        "read_only": row.read_only, "set_once": row.set_once, "status": row.status,
    }  # fmt: skip
