"""REST routes for the status catalogue and workflows under /api/v1 (administrators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from fuwu.auth.deps import scoped
from fuwu.auth.principal import Principal, require_staff
from fuwu.configs import service as configs
from fuwu.web.deps import DbSession
from fuwu.workflows import service, statuses
from fuwu.workflows.definition import KIND
from fuwu.workflows.schemas import (
    StatusCreate,
    StatusRead,
    StatusUpdate,
    WorkflowDraft,
    WorkflowPublish,
    WorkflowVersionRead,
)

router = APIRouter(prefix="/api/v1", tags=["workflows"])
ConfigRead = Annotated[Principal, Depends(scoped("config:read"))]
ConfigWrite = Annotated[Principal, Depends(scoped("config:write"))]
Key = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


@router.get("/statuses", response_model=list[StatusRead])
def list_statuses(session: DbSession, actor: ConfigRead) -> object:
    """Every status, in display order, inactive ones too (staff)."""
    require_staff(actor)
    return list(statuses.catalogue(session).statuses.values())


@router.post("/statuses", status_code=201, response_model=StatusRead)
def create_status(data: StatusCreate, session: DbSession, actor: ConfigWrite) -> object:
    """A new status; its key and category never change afterwards."""
    return statuses.create_status(session, actor=actor, data=data.model_dump())


@router.patch("/statuses/{key}", response_model=StatusRead)
def update_status(key: Key, data: StatusUpdate, session: DbSession, actor: ConfigWrite) -> object:
    """Labels, colour, order, or whether it is offered (its category stays: 409)."""
    return statuses.update_status(
        session, actor=actor, key=key, data=data.model_dump(exclude_unset=True)
    )


@router.get("/workflows", response_model=list[str])
def list_workflows(session: DbSession, actor: ConfigRead) -> object:
    """Every workflow's key (staff)."""
    require_staff(actor)
    return service.keys(session)


@router.get("/workflows/{key}", response_model=list[WorkflowVersionRead])
def workflow_history(key: Key, session: DbSession, actor: ConfigRead) -> object:
    """Every version of the workflow, newest first (the draft, if any, on top; staff)."""
    require_staff(actor)
    return configs.history(session, KIND, key)


@router.put("/workflows/{key}/draft", response_model=WorkflowVersionRead)
def save_workflow_draft(
    key: Key, data: WorkflowDraft, session: DbSession, actor: ConfigWrite
) -> object:
    """Create or replace the draft (its shape is checked now, everything else on publish)."""
    return service.save_draft(session, actor=actor, key=key, raw=data.definition)


@router.post("/workflows/{key}/publish", response_model=WorkflowVersionRead)
def publish_workflow(
    key: Key, data: WorkflowPublish, session: DbSession, actor: ConfigWrite
) -> object:
    """Publish the draft with a note saying what changed; 422 lists every problem by its path
    (unknown statuses or fields, unreachable statuses, statuses with no way out, bad guards,
    a ticket type another workflow already governs)."""
    return service.publish(session, actor=actor, key=key, note=data.note)
