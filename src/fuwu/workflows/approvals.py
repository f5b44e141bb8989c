"""Approval rounds as they run: who approves, whose turn it is, and what the votes decide.

A round opens when a ticket enters an approval state (`follow`, called by the change pipeline
after it writes a status change) and ends when the votes add up (`tally`), when an approver
sends the ticket back (退回), when the initiator withdraws (撤回) or when the ticket leaves the
state another way. What a decision means for the ticket (taking the approval's `approve` or
`reject` step) is the caller's part: `fuwu.tickets.approvals` moves the ticket through the
pipeline; this module keeps the rounds and votes and imports nothing of tickets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fuwu.auth.models import STAFF_ROLES, Team, TeamMember, User
from fuwu.errors import Conflict, FieldError, PermissionDenied, ValidationFailed, field_error
from fuwu.jobs import service as jobs
from fuwu.workflows.approval import MAX_APPROVERS, Approval
from fuwu.workflows.compiled import Workflow
from fuwu.workflows.models import ApprovalVote, TicketApproval
from fuwu.workflows.tally import Outcome, count, turns

REMIND_EVERY = timedelta(minutes=30)  # 催办 at most this often per round
Where = Literal["before", "after"]


def unknown_people(session: Session, approvals: Mapping[str, Approval]) -> list[FieldError]:
    """Approvers that name a user or team that does not exist (checked when publishing)."""
    errors: list[FieldError] = []
    for status, approval in approvals.items():
        for i, approver in enumerate(approval.approvers):
            path = f"approvals.{status}.approvers[{i}]"
            if approver.user is not None and not active_staff(session, [approver.user]):
                errors.append(field_error(f"{path}.user", "not_found"))
            if approver.team is not None and session.get(Team, approver.team) is None:
                errors.append(field_error(f"{path}.team", "not_found"))
    return errors


def active_staff(session: Session, ids: Sequence[int]) -> list[int]:
    """The active staff among `ids`, in the given order."""
    if not ids:
        return []
    found = set(session.scalars(
        select(User.id).where(User.id.in_(set(ids)), User.is_active,
                              User.role.in_(STAFF_ROLES))
    ))  # fmt: skip
    return [i for i in ids if i in found]


def resolve(session: Session, approval: Approval, record: Mapping[str, Any]) -> list[int]:
    """The approvers the workflow names for this ticket, in order, each once."""
    ids: list[int] = []
    for approver in approval.approvers:
        if approver.user is not None:
            ids.append(approver.user)
        elif approver.role is not None:
            ids += session.scalars(select(User.id).where(User.role == approver.role)
                                   .order_by(User.id))  # fmt: skip
        elif approver.team is not None:
            ids += session.scalars(select(TeamMember.user_id)
                                   .where(TeamMember.team_id == approver.team)
                                   .order_by(TeamMember.user_id))  # fmt: skip
        elif approver.field is not None:
            value = record.get(approver.field)
            if isinstance(value, int) and not isinstance(value, bool):
                ids.append(value)
    found = active_staff(session, list(dict.fromkeys(ids)))[:MAX_APPROVERS]
    return found[:1] if approval.mode == "single" else found


def follow(
    session: Session,
    *,
    workflow: Workflow,
    ticket_id: int,
    before: str | None,
    after: str,
    record: Mapping[str, Any],
    initiator_id: int | None,
    now: datetime,
) -> Outcome | None:
    """Keep rounds in step with a status change: a round still open in the state the ticket
    left is cancelled; entering an approval state opens one. Returns the outcome when the new
    round is decided at once (nobody to ask under an approve/reject policy, only the initiator
    under "skip"), for the caller to take its step."""
    if before is not None and workflow.approval(before) is not None:
        for round_ in _open_rounds(session, ticket_id):
            _end(session, round_, "cancelled", now)
    approval = workflow.approval(after)
    if approval is None:
        return None
    return _open(session, workflow, approval, ticket_id, before, after, record, initiator_id, now)


def _open(
    session: Session,
    workflow: Workflow,
    approval: Approval,
    ticket_id: int,
    before: str | None,
    status: str,
    record: Mapping[str, Any],
    initiator_id: int | None,
    now: datetime,
) -> Outcome | None:
    round_ = TicketApproval(
        ticket_id=ticket_id, workflow_key=workflow.key, workflow_version=workflow.version,
        status_key=status, previous_status=before, mode=approval.mode, ratio=approval.ratio,
        initiator_id=initiator_id, state="pending", started_at=now,
    )  # fmt: skip
    session.add(round_)
    ids, origin = resolve(session, approval, record), "workflow"
    if approval.self_approval == "deny":
        ids = [i for i in ids if i != initiator_id]
    if not ids and approval.empty == "admins":
        admins = session.scalars(select(User.id).where(User.role == "admin", User.is_active)
                                 .order_by(User.id))  # fmt: skip
        ids = [i for i in admins if approval.self_approval != "deny" or i != initiator_id]
        ids, origin = ids[:1] if approval.mode == "single" else ids, "admins"
    for slot, user_id in enumerate(ids):
        skipped = approval.self_approval == "skip" and user_id == initiator_id
        round_.votes.append(ApprovalVote(
            user_id=user_id, slot=slot, position=0, origin=origin,
            state="skipped" if skipped else "waiting", decided_at=now if skipped else None,
        ))  # fmt: skip
    session.flush()
    if not ids:
        outcome: Outcome = "approved" if approval.empty == "approve" else "rejected"
        _end(session, round_, outcome, now)
        return outcome
    return _settle(session, round_, now)


def _open_rounds(session: Session, ticket_id: int) -> list[TicketApproval]:
    stmt = select(TicketApproval).where(
        TicketApproval.ticket_id == ticket_id, TicketApproval.state == "pending"
    )
    return list(session.scalars(stmt))


def open_round(session: Session, ticket_id: int) -> TicketApproval | None:
    """The round the ticket waits for now, if any."""
    rounds = _open_rounds(session, ticket_id)
    return rounds[-1] if rounds else None


def rounds_of(session: Session, ticket_id: int) -> list[TicketApproval]:
    """Every round of the ticket, oldest first (its approval history)."""
    stmt = select(TicketApproval).where(TicketApproval.ticket_id == ticket_id)
    return list(session.scalars(stmt.order_by(TicketApproval.id)))


def _settle(session: Session, round_: TicketApproval, now: datetime) -> Outcome | None:
    """Mark whose turn it is, tell them (an `approval.requested` event), and end the round
    when the votes decide it."""
    votes = round_.votes
    outcome = count(votes).outcome(round_.mode, round_.ratio)
    if outcome is not None:
        for vote in votes:
            if vote.state == "pending":
                vote.state = "waiting"
        _end(session, round_, outcome, now)
        return outcome
    due = turns(votes, round_.mode)
    called = []
    for vote in votes:
        undecided = vote.state in ("waiting", "pending")
        if undecided:
            state = "pending" if (vote.slot, vote.position) in due else "waiting"
            if state == "pending" and vote.state != "pending":
                called.append(vote.user_id)
            vote.state = state
    session.flush()
    if called:
        jobs.emit(session, "approval.requested", entity="ticket", entity_id=round_.ticket_id,
                  payload={"approval_id": round_.id, "users": called})  # fmt: skip
    return None


def _end(session: Session, round_: TicketApproval, state: str, now: datetime) -> None:
    round_.state, round_.ended_at = state, now
    session.flush()
    jobs.emit(session, "approval.ended", entity="ticket", entity_id=round_.ticket_id,
              payload={"approval_id": round_.id, "state": state,
                       "initiator": round_.initiator_id})  # fmt: skip


def my_vote(round_: TicketApproval, user_id: int | None) -> ApprovalVote | None:
    """The vote of `user_id` whose turn it is in this round, if any."""
    return next((v for v in round_.votes if v.user_id == user_id and v.state == "pending"), None)


def _turn(round_: TicketApproval, user_id: int | None) -> ApprovalVote:
    if round_.state != "pending":
        raise Conflict("This approval has already ended (%(state)s).", state=round_.state)
    vote = my_vote(round_, user_id)
    if vote is None:
        raise PermissionDenied("It is not your turn to decide on this approval.")
    return vote


def decide(
    session: Session,
    round_: TicketApproval,
    *,
    user_id: int | None,
    approve: bool,
    comment: str,
    now: datetime,
) -> Outcome | None:
    """Record one approver's decision; the round's outcome once the votes decide it."""
    vote = _turn(round_, user_id)
    vote.state = "approved" if approve else "rejected"
    vote.comment, vote.decided_at = comment, now
    return _settle(session, round_, now)


def time_out(session: Session, round_: TicketApproval, *, approve: bool, now: datetime) -> Outcome:
    """A status's timer decides for everyone who has not (auto-approve or auto-reject)."""
    if round_.state != "pending":
        raise Conflict("This approval has already ended (%(state)s).", state=round_.state)
    for vote in round_.votes:
        if vote.state == "pending":
            vote.state = "waiting"
    outcome: Outcome = "approved" if approve else "rejected"
    _end(session, round_, outcome, now)
    return outcome


def send_back(
    session: Session, round_: TicketApproval, *, user_id: int | None, comment: str, now: datetime
) -> None:
    """退回: the approver rejects and the round ends as returned (the caller moves the ticket
    to the earlier status they chose)."""
    vote = _turn(round_, user_id)
    vote.state, vote.comment, vote.decided_at = "rejected", comment, now
    for other in round_.votes:
        if other.state == "pending":
            other.state = "waiting"
    _end(session, round_, "returned", now)


def transfer(
    session: Session,
    round_: TicketApproval,
    *,
    user_id: int | None,
    to_user: int,
    comment: str,
    now: datetime,
) -> None:
    """转交: hand one's turn to another staff member, who takes the same place."""
    vote = _turn(round_, user_id)
    _check_newcomer(session, round_, to_user)
    vote.state, vote.comment, vote.decided_at = "transferred", comment, now
    round_.votes.append(ApprovalVote(
        user_id=to_user, slot=vote.slot, position=vote.position, state="waiting",
        origin="transferred", added_by_id=user_id,
    ))  # fmt: skip
    _settle(session, round_, now)


def add(
    session: Session,
    round_: TicketApproval,
    *,
    user_id: int | None,
    new_user: int,
    where: Where,
    now: datetime,
) -> None:
    """加签: another approver on one's own chain, who decides before one (前加签: one's turn
    waits for theirs) or after one (后加签: one's approval no longer finishes the chain)."""
    vote = _turn(round_, user_id)
    _check_newcomer(session, round_, new_user)
    at = vote.position if where == "before" else vote.position + 1
    session.execute(
        update(ApprovalVote)
        .where(ApprovalVote.approval_id == round_.id, ApprovalVote.slot == vote.slot,
               ApprovalVote.position >= at)
        .values(position=ApprovalVote.position + 1)
        .execution_options(synchronize_session="fetch")
    )  # fmt: skip
    round_.votes.append(ApprovalVote(
        user_id=new_user, slot=vote.slot, position=at, state="waiting",
        origin=f"added_{where}", added_by_id=user_id,
    ))  # fmt: skip
    session.flush()
    session.expire(round_, ["votes"])
    _settle(session, round_, now)


def _check_newcomer(session: Session, round_: TicketApproval, user: int) -> None:
    if not active_staff(session, [user]):
        raise ValidationFailed.single("user", "not_found")
    if any(v.user_id == user and v.state in ("waiting", "pending") for v in round_.votes):
        raise ValidationFailed.single("user", "already_approver")


def withdraw(
    session: Session, round_: TicketApproval, *, user_id: int | None, now: datetime
) -> str | None:
    """撤回: the initiator takes the request back before anyone has decided; the status the
    ticket came from (None when it started in the approval state)."""
    if round_.state != "pending":
        raise Conflict("This approval has already ended (%(state)s).", state=round_.state)
    if user_id is None or round_.initiator_id != user_id:
        raise PermissionDenied("Only the person who asked for this approval may withdraw it.")
    if any(v.state in ("approved", "rejected", "transferred") for v in round_.votes):
        raise Conflict("An approver has already acted on it; it can no longer be withdrawn.")
    for vote in round_.votes:
        if vote.state == "pending":
            vote.state = "waiting"
    _end(session, round_, "withdrawn", now)
    return round_.previous_status


def remind(
    session: Session, round_: TicketApproval, *, actor_id: int | None, now: datetime
) -> list[int]:
    """催办: tell the approvers whose turn it is again (an `approval.reminded` event), at most
    once every REMIND_EVERY per round. Returns who was reminded."""
    if round_.state != "pending":
        raise Conflict("This approval has already ended (%(state)s).", state=round_.state)
    last = round_.reminded_at
    if last is not None and now - last < REMIND_EVERY:
        raise Conflict(
            "The approvers were reminded less than %(minutes)s minutes ago.",
            minutes=int(REMIND_EVERY.total_seconds() // 60),
        )
    users = [v.user_id for v in round_.votes if v.state == "pending"]
    round_.reminded_at = now
    jobs.emit(session, "approval.reminded", entity="ticket", entity_id=round_.ticket_id,
              actor_id=actor_id, payload={"approval_id": round_.id, "users": users})  # fmt: skip
    return users


def waiting_for(session: Session, user_id: int, *, limit: int = 200) -> list[TicketApproval]:
    """The rounds in which it is this user's turn (the "my approvals" inbox), oldest first."""
    stmt = (
        select(TicketApproval)
        .join(ApprovalVote, ApprovalVote.approval_id == TicketApproval.id)
        .where(ApprovalVote.user_id == user_id, ApprovalVote.state == "pending",
               TicketApproval.state == "pending")
        .order_by(TicketApproval.started_at, TicketApproval.id)
        .limit(limit)
    )  # fmt: skip
    return list(session.scalars(stmt).unique())
