"""What approvers and initiators do with a ticket's approval round, and what it does to the
ticket: a decision that settles the round takes the approval's outcome step through the change
pipeline; a send-back (退回) or a withdrawal (撤回) moves the ticket to an earlier status.

An approver may act on a ticket their team scope would hide: being asked to approve it is
what lets them see it (and only while the round asks them, or asked them before).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fuwu.auth.principal import Principal
from fuwu.errors import DomainError, NotFound, ValidationFailed
from fuwu.kit.time import utcnow
from fuwu.tickets import pipeline
from fuwu.tickets.models import Ticket, TicketEvent
from fuwu.tickets.permissions import can_see
from fuwu.tickets.state import state_of
from fuwu.tickets.transitions import workflow_of
from fuwu.workflows import approvals, statuses
from fuwu.workflows.approvals import Where
from fuwu.workflows.models import TicketApproval
from fuwu.workflows.tally import Outcome


@dataclass(frozen=True, slots=True)
class Bulk:
    """One round's answer in a bulk decision: done, or the error a single decision would
    have given."""

    approval_id: int
    error: DomainError | None = None


def load(session: Session, *, actor: Principal, approval_id: int) -> tuple[TicketApproval, Ticket]:
    """The round and its ticket, when the actor may see the ticket or is one of its approvers
    (NotFound otherwise, as for a ticket they may not see)."""
    round_ = session.get(TicketApproval, approval_id)
    ticket = session.get(Ticket, round_.ticket_id) if round_ is not None else None
    if round_ is None or ticket is None or not sees(actor, ticket, round_):
        raise NotFound("Approval %(id)s does not exist.", id=approval_id)
    return round_, ticket


def sees(actor: Principal, ticket: Ticket, round_: TicketApproval) -> bool:
    """Staff who see the ticket, and its approvers; approvals are internal (not customers)."""
    if not actor.is_staff:
        return False
    return can_see(actor, ticket) or any(v.user_id == actor.user_id for v in round_.votes)


def decide(
    session: Session,
    *,
    actor: Principal,
    approval_id: int,
    approve: bool,
    comment: str,
    where: pipeline.Where,
) -> TicketApproval:
    """Approve or reject; when that settles the round the ticket takes its outcome step."""
    round_, ticket = load(session, actor=actor, approval_id=approval_id)
    outcome = approvals.decide(session, round_, user_id=actor.user_id, approve=approve,
                               comment=comment, now=where.at or utcnow())  # fmt: skip
    if outcome is not None:
        take_outcome(session, actor, ticket, round_, outcome, where)
    return round_


def decide_many(
    session: Session,
    *,
    actor: Principal,
    approval_ids: Sequence[int],
    approve: bool,
    comment: str,
    where: pipeline.Where,
) -> list[Bulk]:
    """批量审批: each round on its own (a savepoint each), so one that fails (its step's
    condition no longer holds, someone decided first) keeps the others."""
    done: list[Bulk] = []
    for approval_id in dict.fromkeys(approval_ids):
        try:
            with session.begin_nested():
                decide(session, actor=actor, approval_id=approval_id, approve=approve,
                       comment=comment, where=where)  # fmt: skip
        except DomainError as exc:
            done.append(Bulk(approval_id, exc))
        else:
            done.append(Bulk(approval_id))
    return done


def send_back(
    session: Session,
    *,
    actor: Principal,
    approval_id: int,
    status: str,
    comment: str,
    where: pipeline.Where,
) -> TicketApproval:
    """退回 to a status the ticket was in before this round (`return_targets`)."""
    round_, ticket = load(session, actor=actor, approval_id=approval_id)
    if status not in return_targets(session, ticket, round_):
        raise ValidationFailed.single("status", "not_returnable")
    approvals.send_back(session, round_, user_id=actor.user_id, comment=comment,
                        now=where.at or utcnow())  # fmt: skip
    _move(session, actor, ticket, status, where)
    return round_


def withdraw(
    session: Session, *, actor: Principal, approval_id: int, where: pipeline.Where
) -> TicketApproval:
    """撤回: back to the status the initiator sent the ticket from."""
    round_, ticket = load(session, actor=actor, approval_id=approval_id)
    back = approvals.withdraw(session, round_, user_id=actor.user_id, now=where.at or utcnow())
    if back is not None:
        _move(session, actor, ticket, back, where)
    return round_


def transfer(
    session: Session, *, actor: Principal, approval_id: int, to_user: int, comment: str
) -> TicketApproval:
    round_, _ = load(session, actor=actor, approval_id=approval_id)
    approvals.transfer(session, round_, user_id=actor.user_id, to_user=to_user, comment=comment,
                       now=utcnow())  # fmt: skip
    return round_


def add_approver(
    session: Session, *, actor: Principal, approval_id: int, user: int, where: Where
) -> TicketApproval:
    round_, _ = load(session, actor=actor, approval_id=approval_id)
    approvals.add(session, round_, user_id=actor.user_id, new_user=user, where=where,
                  now=utcnow())  # fmt: skip
    return round_


def remind(session: Session, *, actor: Principal, approval_id: int) -> list[int]:
    """催办, by anyone on staff who sees the round."""
    round_, _ = load(session, actor=actor, approval_id=approval_id)
    return approvals.remind(session, round_, actor_id=actor.user_id, now=utcnow())


def return_targets(session: Session, ticket: Ticket, round_: TicketApproval) -> list[str]:
    """Where an approver may send the ticket back: the open statuses of its workflow it has
    been in before, most recent first."""
    workflow = workflow_of(session, ticket)
    if workflow is None:
        return []
    catalogue = statuses.catalogue(session).statuses
    allowed = {
        s for s in workflow.definition.statuses
        if s != round_.status_key and workflow.approval(s) is None
        and s in catalogue and catalogue[s].category in ("new", "open", "pending")
    }  # fmt: skip
    rows = session.scalars(
        select(TicketEvent.changes).where(TicketEvent.ticket_id == ticket.id)
        .order_by(TicketEvent.id.desc())
    )  # fmt: skip
    seen: list[str] = []
    for changes in rows:
        status = (changes or {}).get("status")
        for value in status if isinstance(status, list) else [status]:
            if isinstance(value, str) and value in allowed and value not in seen:
                seen.append(value)
    return seen


def take_outcome(
    session: Session,
    actor: Principal,
    ticket: Ticket,
    round_: TicketApproval,
    outcome: Outcome,
    where: pipeline.Where,
) -> None:
    workflow = workflow_of(session, ticket)
    approval = workflow.approval(round_.status_key) if workflow is not None else None
    step = None
    if workflow is not None and approval is not None:
        step = workflow.step(approval.approve if outcome == "approved" else approval.reject)
    if step is None or ticket.status != round_.status_key:
        return  # the workflow changed under the round: the ticket stays for a person to move
    pipeline.apply_change(
        session, actor=actor, before=state_of(ticket), where=where,
        change=pipeline.Change({"status": step.transition.to}, cause="approval",
                               intent=step.key, checks_version=False),
    )  # fmt: skip
    session.expire(ticket)


def _move(
    session: Session, actor: Principal, ticket: Ticket, status: str, where: pipeline.Where
) -> None:
    pipeline.apply_change(
        session, actor=actor, before=state_of(ticket), where=where,
        change=pipeline.Change({"status": status}, cause="approval", checks_version=False),
    )  # fmt: skip
    session.expire(ticket)
