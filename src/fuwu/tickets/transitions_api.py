"""REST routes for the steps of a ticket's workflow under /api/v1/tickets/{id}/transitions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from fuwu.auth.deps import scoped
from fuwu.auth.principal import Principal
from fuwu.kit.ids import Count, Id
from fuwu.tickets import service as tickets_service
from fuwu.tickets import transitions
from fuwu.tickets.api import readable
from fuwu.tickets.schemas import TicketRead
from fuwu.web.deps import DbSession, client_ip
from fuwu.web.errors import locale_of

router = APIRouter(prefix="/api/v1", tags=["tickets"])
Reader = Annotated[Principal, Depends(scoped("tickets:read"))]
Writer = Annotated[Principal, Depends(scoped("tickets:write"))]
StepKey = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class TransitionRead(BaseModel):
    key: str
    label: str
    to: str
    require: list[str]


class TransitionTake(BaseModel):
    model_config = ConfigDict(extra="forbid")

    values: dict[str, Any] = Field(
        default_factory=dict,
        description="The fields the step requires, by registry key (assignee, fault_type …)",
    )
    version: Count | None = Field(default=None, ge=1, description="The version you read")


@router.get("/tickets/{ticket_id}/transitions", response_model=list[TransitionRead])
def list_transitions(ticket_id: Id, request: Request, session: DbSession, actor: Reader) -> object:
    """The steps of the ticket's workflow you may take now (empty when no workflow governs
    its type: then its status is edited freely)."""
    ticket = tickets_service.get_ticket(session, actor=actor, ticket_id=ticket_id)
    return transitions.available(
        session, actor=actor, ticket=ticket, locale=locale_of(request),
        timezone=request.app.state.settings.timezone,
    )  # fmt: skip


@router.post("/tickets/{ticket_id}/transitions/{key}", response_model=TicketRead)
def take_transition(
    ticket_id: Id,
    key: StepKey,
    data: TransitionTake,
    request: Request,
    session: DbSession,
    actor: Writer,
) -> object:
    """Take a step: 403 when it is not yours to take, 409 when its condition does not hold
    (or the ticket moved on), 422 naming each required field that has no value."""
    timezone = request.app.state.settings.timezone
    transitions.take(
        session, actor=actor, ticket_id=ticket_id, key=key, values=data.values,
        version=data.version, timezone=timezone, ip=client_ip(request),
    )  # fmt: skip
    ticket = tickets_service.get_ticket(session, actor=Principal.system(), ticket_id=ticket_id)
    return readable(session, actor, ticket, timezone)
