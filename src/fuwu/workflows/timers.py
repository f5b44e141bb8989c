"""Timers on statuses (节点时限): when a ticket enters a status with timers, one durable job per
timer is queued to run that many hours later (`fuwu.jobs`, at least once, surviving restarts).
When it runs, the ticket must still be in the status it entered then — a ticket that moved
on, even if it came back since, owes nothing to the old timer. What the timer does to the
ticket is `fuwu.tickets.timers`' part.

Hours count around the clock until business calendars (the SLA engine) land.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fuwu.jobs import service as jobs
from fuwu.jobs.models import Job
from fuwu.workflows.compiled import Workflow
from fuwu.workflows.definition import Timer

KIND = "workflow.timer"


def schedule(
    session: Session,
    *,
    workflow: Workflow,
    ticket_id: int,
    status: str,
    entered: datetime,
    timezone: str,
) -> int:
    """Queue the status's timers for a ticket that entered it at `entered`; how many
    (`timezone`: the one its conditions on today and now are read in when it runs)."""
    timers = workflow.definition.timers.get(status, [])
    for index, timer in enumerate(timers):
        jobs.enqueue(
            session,
            KIND,
            {"ticket_id": ticket_id, "status": status, "entered": entered.isoformat(),
             "index": index, "timezone": timezone},
            idempotency_key=f"{KIND}:{ticket_id}:{status}:{entered.isoformat()}:{index}",
            run_at=entered + timedelta(hours=timer.after_hours),
        )  # fmt: skip
    return len(timers)


@dataclass(frozen=True, slots=True)
class Due:
    at: datetime
    timer: Timer


def due(session: Session, *, workflow: Workflow, ticket_id: int, status: str) -> list[Due]:
    """The timers still to run for a ticket in `status`, soonest first (the ticket page's
    "where is it and why"); none asked of the database when the status has no timers."""
    timers = workflow.definition.timers.get(status, [])
    if not timers:
        return []
    stmt = select(Job.run_at, Job.payload).where(
        Job.kind == KIND, Job.state == "queued",
        Job.idempotency_key.like(f"{KIND}:{ticket_id}:{status}:%"),
    ).order_by(Job.run_at)  # fmt: skip
    found = []
    for at, payload in session.execute(stmt):
        index = payload.get("index", -1)
        if 0 <= index < len(timers):
            found.append(Due(at, timers[index]))
    return found
