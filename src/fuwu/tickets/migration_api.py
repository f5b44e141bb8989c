"""REST route for moving open tickets to a workflow's newest version:
POST /api/v1/workflows/{key}/migrations (a preview unless `apply`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from fuwu.auth.deps import scoped
from fuwu.auth.principal import Principal
from fuwu.errors import ValidationFailed
from fuwu.tickets import migration
from fuwu.tickets.pipeline import Where
from fuwu.web.deps import DbSession, client_ip
from fuwu.web.errors import describe, locale_of

router = APIRouter(prefix="/api/v1", tags=["workflows"])
ConfigWrite = Annotated[Principal, Depends(scoped("config:write"))]
Key = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
StatusKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class MigrationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mapping: dict[StatusKey, StatusKey] = Field(
        default_factory=dict, max_length=100,
        description="old status → status of the new version; a status the new version has "
        "maps to itself unless named here",
    )  # fmt: skip
    apply: bool = Field(default=False, description="false: only say what would move")


class MoveRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_version: int
    from_status: str
    to_status: str
    count: int


class MigrationRead(BaseModel):
    key: str
    version: int = Field(description="The version the tickets move to")
    tickets: int = Field(description="Open tickets on older versions, before this call")
    moves: list[MoveRead]
    problems: list[dict[str, Any]] = Field(
        description="Why it cannot be applied as asked: field (mapping.<status>), code, message"
    )
    moved: int
    remaining: int


@router.post("/workflows/{key}/migrations", response_model=MigrationRead)
def migrate_workflow_tickets(
    key: Key, data: MigrationIn, request: Request, session: DbSession, actor: ConfigWrite
) -> object:
    """Move the open tickets on older versions of the workflow to its newest published
    version. Without `apply` it only previews: how many tickets move from which status to
    which, and the statuses still needing a mapping. Applied, each ticket is one change
    through the pipeline (at most 500 per call; call again while `remaining` > 0)."""
    done = migration.migrate(
        session, actor=actor, key=key, mapping=data.mapping, apply=data.apply,
        where=Where(timezone=request.app.state.settings.timezone, ip=client_ip(request)),
    )  # fmt: skip
    plan = done.plan
    locale = locale_of(request)
    problems = []
    if plan.problems:
        problems = describe(locale, ValidationFailed(list(plan.problems)))["fields"]
    return MigrationRead(
        key=plan.key, version=plan.version, tickets=plan.tickets,
        moves=[MoveRead.model_validate(m) for m in plan.moves],
        problems=problems, moved=done.moved, remaining=done.remaining,
    )  # fmt: skip
