"""What follows once a change of a ticket is written, in the same transaction:
- approval rounds keep in step with its status (`fuwu.workflows.approvals.follow`); a round
  decided at once takes its outcome step;
- the step that moved its status opens the child tickets the step names (备件申请 under a
  报修; a step that leaves the status as it is opens none);
- a child that opened or closed lets its parent's workflow look again (an automatic step on
  `open_children`, e.g. all spare parts arrived → 处理中);
- the timers of the status it entered are queued (`fuwu.workflows.timers`).
Each further change goes through the pipeline again (`apply`, passed in by it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fuwu.auth.principal import Principal
from fuwu.tickets import repository
from fuwu.tickets.changes import Applied, Change, Where
from fuwu.tickets.models import Ticket
from fuwu.tickets.state import TicketState, state_of
from fuwu.workflows import approvals, statuses, timers
from fuwu.workflows import service as workflows
from fuwu.workflows.definition import Child

Apply = Callable[..., Applied]
OPEN = frozenset({"new", "open", "pending"})


def written(
    session: Session,
    actor: Principal,
    before: TicketState | None,
    applied: Applied,
    where: Where,
    now: datetime,
    apply: Apply,
) -> Applied:
    """The change as finally written, after what it set off."""
    state = applied.state
    if state.id is None or (before is not None and before["status"] == state["status"]):
        return applied
    _nudge_parent(session, before, state, where, apply)
    workflow = workflows.for_ticket(session, state["type"], state.workflow)
    if workflow is None:
        return applied
    step = workflow.step_of(str(applied.reasons.get("status", "")))
    if step is not None:
        for child in step.transition.children:
            _open_child(session, actor, state, child, where, apply)
    outcome = approvals.follow(
        session, workflow=workflow, ticket_id=state.id, after=state["status"],
        before=None if before is None else before["status"], record=state.data,
        initiator_id=actor.user_id, now=now,
    )  # fmt: skip
    timers.schedule(session, workflow=workflow, ticket_id=state.id, status=state["status"],
                    entered=now, timezone=where.timezone)  # fmt: skip
    approval = workflow.approval(state["status"])
    if outcome is None or approval is None:
        return applied
    outcome_step = workflow.step(approval.approve if outcome == "approved" else approval.reject)
    assert outcome_step is not None, "publishing checks that an approval's steps exist"
    followed = apply(
        session, actor=Principal.system(), before=state, where=where,
        change=Change({"status": outcome_step.transition.to}, cause="approval",
                      intent=outcome_step.key, checks_version=False),
    )  # fmt: skip
    # a create answers with its row: read again, the outcome step moved it on
    row = repository.visible_row(session, Principal.system(), state.id) if applied.row else None
    return Applied(state=followed.state, changed=True, row=row,
                   reasons={**applied.reasons, **followed.reasons})  # fmt: skip


def _open_child(
    session: Session,
    actor: Principal,
    parent: TicketState,
    child: Child,
    where: Where,
    apply: Apply,
) -> None:
    number = session.scalar(select(Ticket.number).where(Ticket.id == parent.id)) or ""
    subject = child.subject.replace("{subject}", str(parent["subject"])).replace("{number}", number)
    values: dict[str, Any] = {
        "type": child.type, "subject": subject[:200], "channel": parent["channel"],
        "parent": parent.id, **{k: parent.get(k) for k in child.copy_fields},
    }  # fmt: skip
    apply(session, actor=actor, before=None, change=Change(values, cause="created"), where=where)


def _nudge_parent(
    session: Session, before: TicketState | None, state: TicketState, where: Where, apply: Apply
) -> None:
    """A child opened or closed: its parent's workflow looks at its automatic steps again."""
    parent_id = state.get("parent")
    if parent_id is None:
        return
    was_open = before is not None and statuses.category_of(session, before["status"]) in OPEN
    if was_open == (statuses.category_of(session, state["status"]) in OPEN):
        return
    parent = session.get(Ticket, parent_id)
    if parent is None:
        return
    session.refresh(parent)
    apply(session, actor=Principal.system(), before=state_of(parent), where=where,
          change=Change({}, cause="children", checks_version=False))  # fmt: skip
