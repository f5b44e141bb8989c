"""What a status's timer does when it runs (`fuwu.workflows.timers` queues it): remind, take
a step, approve or reject the open approval, or hand the approvers' turn to someone else —
each as the system, through the pipeline, recorded in the ticket's history."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fuwu.auth.principal import Principal
from fuwu.errors import Conflict, ValidationFailed
from fuwu.jobs import registry
from fuwu.jobs import service as jobs
from fuwu.jobs.registry import JobInfo
from fuwu.kit.time import utcnow
from fuwu.tickets import approvals as ticket_approvals
from fuwu.tickets import pipeline
from fuwu.tickets.models import Ticket, TicketEvent
from fuwu.tickets.state import state_of
from fuwu.tickets.transitions import workflow_of
from fuwu.workflows import approvals
from fuwu.workflows import timers as workflow_timers
from fuwu.workflows.definition import Timer


def register() -> None:
    registry.handler(workflow_timers.KIND)(run)


def run(session: Session, payload: dict[str, Any], info: JobInfo) -> None:
    """One timer, if the ticket is still where it was when the timer was set."""
    ticket = session.get(Ticket, payload["ticket_id"])
    entered = datetime.fromisoformat(payload["entered"])
    if (
        ticket is None
        or ticket.status != payload["status"]
        or _moved_since(session, ticket.id, entered)
    ):
        return
    workflow = workflow_of(session, ticket)
    timers = workflow.definition.timers.get(ticket.status, []) if workflow else []
    if workflow is None or payload["index"] >= len(timers):
        return
    timer = timers[payload["index"]]
    where = pipeline.Where(timezone=payload["timezone"])
    system = Principal.system()
    if timer.action == "remind":
        _remind(session, ticket)
    elif timer.action == "step":
        step = workflow.step(timer.step or "")
        if step is not None and ticket.status in step.transition.from_:
            pipeline.apply_change(
                session, actor=system, before=state_of(ticket), where=where,
                change=pipeline.Change({"status": step.transition.to}, cause="timer",
                                       intent=step.key, checks_version=False),
            )  # fmt: skip
    else:
        _on_approval(session, ticket, timer, where)


def _moved_since(session: Session, ticket_id: int, entered: datetime) -> bool:
    """Whether the ticket's status changed after `entered` (it may have come back since)."""
    changes = session.scalars(
        select(TicketEvent.changes)
        .where(TicketEvent.ticket_id == ticket_id, TicketEvent.created_at > entered)
    )  # fmt: skip
    return any("status" in (c or {}) for c in changes)


def _remind(session: Session, ticket: Ticket) -> None:
    """The approvers whose turn it is; else the assignee (an event notifications deliver)."""
    round_ = approvals.open_round(session, ticket.id)
    if round_ is not None:
        with suppress(Conflict):  # someone reminded them a moment ago
            approvals.remind(session, round_, actor_id=None, now=utcnow())
        return
    jobs.emit(session, "ticket.reminder", entity="ticket", entity_id=ticket.id,
              payload={"status": ticket.status, "assignee": ticket.assignee_id})  # fmt: skip


def _on_approval(session: Session, ticket: Ticket, timer: Timer, where: pipeline.Where) -> None:
    round_ = approvals.open_round(session, ticket.id)
    if round_ is None:
        return
    now = utcnow()
    if timer.action == "transfer" and timer.user is not None:
        for vote in [v for v in round_.votes if v.state == "pending"]:
            try:
                approvals.transfer(session, round_, user_id=vote.user_id, to_user=timer.user,
                                   comment="timer", now=now)  # fmt: skip
            except ValidationFailed:  # already an approver here: their turn comes anyway
                continue
        return
    outcome = approvals.time_out(session, round_, approve=timer.action == "approve", now=now)
    ticket_approvals.take_outcome(session, Principal.system(), ticket, round_, outcome, where)
