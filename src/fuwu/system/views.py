"""Admin page for background jobs: the dead-letter list with a retry button."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from fuwu.audit import service as audit
from fuwu.auth.deps import Csrf, UiAdmin
from fuwu.jobs import service as jobs_service
from fuwu.kit.ids import Id
from fuwu.web.deps import DbSession
from fuwu.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/admin/jobs")
def jobs_page(
    request: Request,
    session: DbSession,
    me: UiAdmin,
    state: Literal["queued", "running", "done", "dead"] | None = "dead",
) -> Response:
    jobs = jobs_service.list_jobs(session, state=state, limit=200)
    return render(request, "admin/jobs.html", {"jobs": jobs, "state": state, "nav_active": "jobs"})


@router.post("/admin/jobs/{job_id}/retry", dependencies=[Csrf])
def retry(job_id: Id, session: DbSession, me: UiAdmin) -> Response:
    job = jobs_service.retry(session, job_id)
    audit.record(
        session,
        actor_id=me.user_id,
        actor_name=me.name,
        action="retry",
        entity="job",
        entity_id=job.id,
    )
    return RedirectResponse("/admin/jobs?state=queued", status_code=303)
