"""Admin REST routes for background jobs: list (e.g. the dead letters) and retry."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from fuwu.audit import service as audit
from fuwu.auth.deps import scoped
from fuwu.auth.principal import Principal, require_admin
from fuwu.jobs import service as jobs_service
from fuwu.kit.ids import Id
from fuwu.system.schemas import JobRead
from fuwu.web.deps import DbSession

router = APIRouter(prefix="/api/v1", tags=["system"])
Admin = Annotated[Principal, Depends(scoped("users:write"))]
State = Literal["queued", "running", "done", "dead"]


@router.get("/jobs", response_model=list[JobRead])
def list_jobs(
    session: DbSession,
    actor: Admin,
    state: State | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> object:
    """Jobs newest first; `state=dead` is the dead-letter list."""
    require_admin(actor)
    return jobs_service.list_jobs(session, state=state, limit=limit)


@router.post("/jobs/{job_id}/retry", response_model=JobRead)
def retry_job(job_id: Id, session: DbSession, actor: Admin) -> object:
    """Queue a dead or failed job again with a fresh set of attempts."""
    require_admin(actor)
    job = jobs_service.retry(session, job_id)
    audit.record(
        session,
        actor_id=actor.user_id,
        actor_name=actor.name,
        action="retry",
        entity="job",
        entity_id=job.id,
    )
    return job
