"""REST routes for ticket types and their versioned forms: drafts, publishing, history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from fuwu.auth.deps import scoped
from fuwu.auth.principal import Principal, require_admin, require_staff
from fuwu.configs import service as configs
from fuwu.fields.forms.validation import evaluate, variables_for
from fuwu.kit.ids import Count, Id
from fuwu.tickets.types import service as ticket_types
from fuwu.tickets.types.schemas import (
    FormVersionRead,
    PublishNote,
    TicketTypeCreate,
    TicketTypeRead,
    TicketTypeUpdate,
)
from fuwu.web.deps import DbSession, SettingsDep

router = APIRouter(prefix="/api/v1", tags=["forms"])
ConfigRead = Annotated[Principal, Depends(scoped("config:read"))]
ConfigWrite = Annotated[Principal, Depends(scoped("config:write"))]


def _type_read(session: Any, row: Any) -> TicketTypeRead:
    published, has_draft = ticket_types.versions_of(session, row.key)
    found = TicketTypeRead.model_validate(row)
    found.published_version, found.has_draft = published, has_draft
    return found


@router.get("/ticket-types", response_model=list[TicketTypeRead])
def list_types(session: DbSession, actor: ConfigRead, inactive: bool = False) -> object:
    require_staff(actor)
    return [_type_read(session, t) for t in ticket_types.list_types(session, inactive=inactive)]


@router.post("/ticket-types", response_model=TicketTypeRead, status_code=201)
def create_type(session: DbSession, actor: ConfigWrite, data: TicketTypeCreate) -> object:
    return _type_read(
        session, ticket_types.create_type(session, actor=require_admin(actor), data=data)
    )


@router.get("/ticket-types/{key}", response_model=TicketTypeRead)
def get_type(session: DbSession, actor: ConfigRead, key: str) -> object:
    require_staff(actor)
    return _type_read(session, ticket_types.get_type(session, key))


@router.patch("/ticket-types/{key}", response_model=TicketTypeRead)
def update_type(session: DbSession, actor: ConfigWrite, key: str, data: TicketTypeUpdate) -> object:
    row = ticket_types.update_type(session, actor=require_admin(actor), key=key, data=data)
    return _type_read(session, row)


@router.get("/ticket-types/{key}/form/versions", response_model=list[FormVersionRead])
def form_versions(session: DbSession, actor: ConfigRead, key: str) -> object:
    require_staff(actor)
    ticket_types.get_type(session, key)
    return configs.history(session, ticket_types.FORM, key)


@router.get("/ticket-types/{key}/form/versions/{version}", response_model=FormVersionRead)
def form_version(session: DbSession, actor: ConfigRead, key: str, version: Count) -> object:
    require_staff(actor)
    return configs.get(session, ticket_types.FORM, key, version)


class DraftIn(BaseModel):
    definition: dict[str, Any]
    note: str = ""


@router.put("/ticket-types/{key}/form/draft", response_model=FormVersionRead)
def save_draft(
    session: DbSession, actor: ConfigWrite, settings: SettingsDep, key: str, data: DraftIn
) -> object:
    return ticket_types.save_draft(
        session, actor=require_admin(actor), key=key, definition=data.definition,
        timezone=settings.timezone, note=data.note,
    )  # fmt: skip


@router.delete("/ticket-types/{key}/form/draft", status_code=204)
def discard_draft(session: DbSession, actor: ConfigWrite, key: str) -> None:
    require_admin(actor)
    configs.discard_draft(session, ticket_types.FORM, key)


@router.post("/ticket-types/{key}/form/publish", response_model=FormVersionRead)
def publish(
    session: DbSession,
    actor: ConfigWrite,
    settings: SettingsDep,
    key: str,
    data: PublishNote | None = None,
) -> object:
    """Publish the draft; `note` says what changed (shown in the version history)."""
    return ticket_types.publish(
        session, actor=require_admin(actor), key=key, timezone=settings.timezone,
        note=data.note if data else "",
    )  # fmt: skip


@router.get("/ticket-types/{key}/form/diff")
def form_diff(
    session: DbSession,
    actor: ConfigRead,
    key: str,
    from_version: Annotated[Count, Query(alias="from")],
    to_version: Annotated[Count, Query(alias="to")],
) -> list[dict[str, Any]]:
    require_staff(actor)
    before = configs.get(session, ticket_types.FORM, key, from_version).definition
    after = configs.get(session, ticket_types.FORM, key, to_version).definition
    return [
        {"path": c.path, "change": c.kind, "before": c.before, "after": c.after}
        for c in configs.diff(before, after)
    ]


class StateIn(BaseModel):
    surface: str = "agent_create"
    values: dict[str, Any] = {}
    version: Id | None = None


@router.post("/ticket-types/{key}/form/state")
def form_state(
    session: DbSession, actor: ConfigRead, settings: SettingsDep, key: str, data: StateIn
) -> dict[str, Any]:
    """What the form logic decides for some values: hidden, required, read-only, options."""
    require_staff(actor)
    form = ticket_types.form(session, key, settings.timezone, data.version)
    if form is None:
        return {"hidden": [], "required": [], "read_only": [], "set_values": {}, "allowed": {}}
    state = evaluate(form, dict(data.values), variables_for(actor.user_id, settings.timezone))
    return {
        "hidden": sorted(state.hidden),
        "required": sorted(state.required),
        "read_only": sorted(state.read_only),
        "set_values": state.set_values,
        "allowed": {k: sorted(v) for k, v in state.allowed.items()},
    }
