"""REST routes for saved inbox views under /api/v1/views."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from fuwu.auth.deps import scoped
from fuwu.auth.principal import Principal
from fuwu.kit.ids import Id
from fuwu.tickets import saved_views
from fuwu.tickets.saved_views_schemas import SavedViewCreate, SavedViewRead, SavedViewUpdate
from fuwu.web.deps import DbSession

router = APIRouter(prefix="/api/v1", tags=["views"])
Reader = Annotated[Principal, Depends(scoped("tickets:read"))]
Writer = Annotated[Principal, Depends(scoped("tickets:write"))]


@router.get("/views", response_model=list[SavedViewRead])
def list_views(session: DbSession, actor: Reader) -> object:
    """Your views, your teams' and everyone's; use one with GET /api/v1/tickets?view=<id>."""
    return saved_views.list_views(session, actor=actor)


@router.post("/views", status_code=201, response_model=SavedViewRead)
def create_view(data: SavedViewCreate, session: DbSession, actor: Writer) -> object:
    """Save a filter (a condition, ADR 0007) and a sort; sharing needs admin or supervisor."""
    return saved_views.create_view(session, actor=actor, data=data)


@router.get("/views/{view_id}", response_model=SavedViewRead)
def get_view(view_id: Id, session: DbSession, actor: Reader) -> object:
    return saved_views.get_view(session, actor=actor, view_id=view_id)


@router.patch("/views/{view_id}", response_model=SavedViewRead)
def update_view(view_id: Id, data: SavedViewUpdate, session: DbSession, actor: Writer) -> object:
    """Rename it or change its filter, sort or audience (owner or administrator)."""
    return saved_views.update_view(session, actor=actor, view_id=view_id, data=data)


@router.delete("/views/{view_id}", status_code=204, response_class=Response)
def delete_view(view_id: Id, session: DbSession, actor: Writer) -> Response:
    saved_views.delete_view(session, actor=actor, view_id=view_id)
    return Response(status_code=204)
