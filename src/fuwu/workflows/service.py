"""Workflows as versioned configuration (`fuwu.configs`, kind "workflow"): drafts, publishing
with every check, and which published workflow governs a ticket type.

A workflow names the ticket types it governs; a type has at most one. `governing` is what the
engine asks on every change: the published workflows are compiled once per version of the
set (a cheap aggregate over their rows says which) and shared, read-only, by every request.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fuwu.auth.principal import Principal, require_admin
from fuwu.conditions.schema import FieldRef, Kind
from fuwu.configs import service as configs
from fuwu.configs.models import DRAFT, PUBLISHED, ConfigVersion
from fuwu.errors import Conflict, NotFound, ValidationFailed, field_error
from fuwu.fields.forms import filters
from fuwu.fields.registry import entities
from fuwu.fields.registry.catalog import catalog
from fuwu.fields.registry.schemas import Usage
from fuwu.web.errors import from_pydantic
from fuwu.workflows import approvals, statuses
from fuwu.workflows.compiled import Workflow, compile_workflow
from fuwu.workflows.definition import KIND, Definition, problems

_PUBLISHED = (ConfigVersion.kind == KIND, ConfigVersion.status == PUBLISHED)


@dataclass(frozen=True)
class TicketFacts:
    """What the engine asks of tickets, which sit above it (tickets' `register()` gives it):
    how many open tickets of some types, not pinned to a workflow key, are in each status; the
    ticket types there are; how many open child tickets a ticket has."""

    open_by_status: Callable[[Session, Sequence[str], str], Mapping[str, int]]
    type_keys: Callable[[Session], Collection[str]]
    open_children: Callable[[Session, int], int]


_FACTS: list[TicketFacts] = []


def register_tickets(facts: TicketFacts) -> None:
    _FACTS[:] = [facts]


def ticket_facts() -> TicketFacts:
    if not _FACTS:
        raise RuntimeError("tickets are not registered: call fuwu.tickets.fields.register()")
    return _FACTS[0]


_GOVERNING: dict[tuple[Any, ...], Mapping[str, Workflow]] = {}
_SESSION_KEY = "fuwu.workflows.governing"  # in Session.info: this request's answer
_VERSIONS: dict[tuple[Any, ...], Workflow] = {}
_VERSIONS_KEY = "fuwu.workflows.versions"  # in Session.info: versions read this request


def parse(raw: object) -> Definition:
    """The definition's shape, every error by its path."""
    try:
        return Definition.model_validate(raw)
    except ValidationError as exc:
        raise ValidationFailed([from_pydantic(e) for e in exc.errors()]) from None


def governing(session: Session, type_key: str) -> Workflow | None:
    """The published workflow that governs tickets of this type (None: statuses move freely).

    Asked several times in one request (the page, the step, the decider), it reads the
    version of the published set once per session; a publish in the session forgets it."""
    by_type = session.info.get(_SESSION_KEY)
    if by_type is None:
        by_type = session.info[_SESSION_KEY] = _published(session)
    return by_type.get(type_key)


OPEN_CHILDREN = "open_children"  # what guards may test besides the ticket's fields


def guard_schema(session: Session) -> dict[str, FieldRef]:
    """The fields a workflow's guards may test: the ticket's, and how many of its child
    tickets are open (`open_children`, counted when a guard of the ticket's status asks)."""
    return {
        **filters.schema(session, "ticket"),
        OPEN_CHILDREN: FieldRef(OPEN_CHILDREN, Kind.NUMBER, label="Open child tickets"),
    }


def for_ticket(
    session: Session, type_key: str, pinned: tuple[str, int] | None, *, repin: bool = False
) -> Workflow | None:
    """The workflow version that moves a ticket of this type pinned to `pinned` (key,
    version): the version it started on while its type's workflow is still that one; else (a
    ticket opened before any workflow governed its type, or whose type changed, or `repin` by
    a migration) the newest published version governing the type."""
    current = governing(session, type_key)
    if current is None or pinned is None or repin or pinned[0] != current.key:
        return current
    if pinned[1] == current.version:
        return current
    return version_of(session, *pinned) or current


def version_of(session: Session, key: str, version: int) -> Workflow | None:
    """One version of a workflow compiled (published or archived ones never change), cached
    per request, and across requests by the row's id and publish time."""
    memo: dict[tuple[str, int], Workflow | None] = session.info.setdefault(_VERSIONS_KEY, {})
    if (key, version) in memo:
        return memo[(key, version)]
    row = session.scalar(select(ConfigVersion).where(
        ConfigVersion.kind == KIND, ConfigVersion.key == key, ConfigVersion.version == version,
        ConfigVersion.status != DRAFT,
    ))  # fmt: skip
    found = None
    if row is not None:
        cache_key = (str(session.get_bind().engine.url), row.id, row.published_at)
        found = _VERSIONS.get(cache_key)
        if found is None:
            schema = guard_schema(session)
            found = compile_workflow(key, version, Definition.model_validate(row.definition),
                                     schema)  # fmt: skip
            if len(_VERSIONS) > 200:
                _VERSIONS.clear()
            _VERSIONS[cache_key] = found
    memo[(key, version)] = found
    return found


def _published(session: Session) -> Mapping[str, Workflow]:
    count, published_at, newest = session.execute(
        select(func.count(ConfigVersion.id), func.max(ConfigVersion.published_at),
               func.max(ConfigVersion.id)).where(*_PUBLISHED)
    ).one()  # fmt: skip
    if not count:
        return {}
    # Guards were checked against the fields when published; a field removed since makes its
    # guard fail to compile and the step stay shut (compiled.compile_workflow).
    cache_key = (str(session.get_bind().engine.url), count, published_at, newest)
    by_type = _GOVERNING.get(cache_key)
    if by_type is None:
        by_type = _compile_all(session)
        if len(_GOVERNING) > 50:
            _GOVERNING.clear()
        _GOVERNING[cache_key] = by_type
    return by_type


def _compile_all(session: Session) -> dict[str, Workflow]:
    schema = guard_schema(session)
    by_type: dict[str, Workflow] = {}
    rows = session.scalars(select(ConfigVersion).where(*_PUBLISHED).order_by(ConfigVersion.key))
    for row in rows:
        definition = Definition.model_validate(row.definition)
        workflow = compile_workflow(row.key, row.version, definition, schema)
        for type_key in workflow.definition.types:
            by_type.setdefault(type_key, workflow)
    return by_type


def current(session: Session, key: str) -> Workflow | None:
    row = configs.current(session, KIND, key)
    if row is None:
        return None
    schema = guard_schema(session)
    return compile_workflow(row.key, row.version, Definition.model_validate(row.definition), schema)


def keys(session: Session) -> list[str]:
    """Every workflow's key, drafts included."""
    stmt = select(ConfigVersion.key).where(ConfigVersion.kind == KIND).distinct()
    return list(session.scalars(stmt.order_by(ConfigVersion.key)))


def save_draft(
    session: Session, *, actor: Principal, key: str, raw: object, note: str = ""
) -> ConfigVersion:
    """Create or replace the workflow's draft; its shape is checked now, the rest on publish."""
    require_admin(actor)
    if not statuses.KEY.match(key):
        raise ValidationFailed.single("key", "invalid")
    definition = parse(raw)
    return configs.save_draft(
        session, actor_id=actor.user_id, kind=KIND, key=key,
        definition=definition.model_dump(by_alias=True, exclude_none=True), note=note,
    )  # fmt: skip


def check(session: Session, key: str, definition: Definition) -> None:
    """Every reason the definition cannot be published, in one answer."""
    catalogue = statuses.catalogue(session)
    categories = {k: s.category for k, s in catalogue.statuses.items()}
    entity = entities.get("ticket")
    assert entity is not None, "the ticket entity is not registered"
    fields = guard_schema(session)
    writable = [k for k, f in entity.system.items() if f.writable]
    custom = catalog(session, "ticket")
    writable += list(custom.active)
    user_fields = ["assignee", *(k for k in custom.active if custom.specs[k].type == "user")]
    errors = problems(definition, categories=categories, fields=fields, writable=writable,
                      user_fields=user_fields)  # fmt: skip
    errors += approvals.unknown_people(session, definition.approvals)
    for status, timers in definition.timers.items():
        for i, timer in enumerate(timers):
            if timer.user is not None and not approvals.active_staff(session, [timer.user]):
                errors.append(field_error(f"timers.{status}[{i}].user", "not_found"))
    known_types = set(ticket_facts().type_keys(session))
    for i, step in enumerate(definition.transitions):
        for j, child in enumerate(step.children):
            if child.type not in known_types:
                errors.append(field_error(f"transitions[{i}].children[{j}].type", "not_found"))
    for i, type_key in enumerate(definition.types):
        other = governing(session, type_key)
        if other is not None and other.key != key:
            errors.append(field_error(f"types[{i}]", "governed", detail=other.key))
    stranded = _stranded(session, key, definition)
    if stranded:
        detail = ", ".join(f"{status} ({n})" for status, n in sorted(stranded.items()))
        errors.append(field_error("statuses", "in_use", detail=detail))
    if errors:
        raise ValidationFailed(errors)


def _stranded(session: Session, key: str, definition: Definition) -> dict[str, int]:
    """Open tickets the workflow would take over (of its types, not on one of its versions)
    in statuses the definition does not have: they would be stuck there. Its own tickets
    stay on their versions until migrated."""
    counts = ticket_facts().open_by_status(session, definition.types, key)
    return {s: n for s, n in counts.items() if s not in definition.statuses and n}


def field_usages(session: Session, entity: str, key: str) -> list[Usage]:
    """Where workflows (any version) test, require or set a ticket field."""
    if entity != "ticket":
        return []
    found: list[Usage] = []
    for row in session.scalars(select(ConfigVersion).where(ConfigVersion.kind == KIND)):
        definition = Definition.model_validate(row.definition)
        for step in definition.transitions:
            guard = json.dumps(step.guard or {}, ensure_ascii=False)
            if key in step.require or key in step.set or f'"{key}"' in guard:
                found.append(Usage(kind="workflow", key=row.key, version=row.version,
                                   detail=step.key, active=row.status == PUBLISHED))  # fmt: skip
    return found


def publish(session: Session, *, actor: Principal, key: str, note: str) -> ConfigVersion:
    """Publish the draft once it passes every check; tickets take it from their next change."""
    require_admin(actor)
    draft = configs.draft(session, KIND, key)
    if draft is None:
        raise Conflict("There is no draft to publish.")
    if not note.strip():
        raise ValidationFailed.single("note", "empty")
    check(session, key, Definition.model_validate(draft.definition))
    published = configs.publish(session, actor_id=actor.user_id, kind=KIND, key=key, note=note)
    session.info.pop(_SESSION_KEY, None)
    return published


def get_draft_or_current(session: Session, key: str) -> ConfigVersion:
    row = configs.draft(session, KIND, key) or configs.current(session, KIND, key)
    if row is None:
        raise NotFound("Workflow %(key)s does not exist.", key=key)
    return row
