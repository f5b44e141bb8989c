"""Approval rounds as people read them: the ticket page's panel and the "my approvals" inbox
(the API and the pages show the same thing)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fuwu.auth.models import User
from fuwu.auth.principal import Principal
from fuwu.tickets.approvals import return_targets, sees
from fuwu.tickets.models import Ticket
from fuwu.workflows import approvals
from fuwu.workflows.models import TicketApproval
from fuwu.workflows.tally import count


@dataclass(frozen=True, slots=True)
class VoteView:
    user_id: int
    user_name: str
    slot: int
    position: int
    state: str  # waiting, pending (their turn), approved, rejected, skipped, transferred
    comment: str
    origin: str
    decided_at: datetime | None


@dataclass(frozen=True, slots=True)
class RoundView:
    id: int
    ticket_id: int
    ticket_number: str
    ticket_subject: str
    status: str  # the approval state
    mode: str
    ratio: int
    state: str  # pending, approved, rejected, returned, withdrawn, cancelled
    initiator_id: int | None
    initiator_name: str
    started_at: datetime
    ended_at: datetime | None
    approved: int  # slots approved so far
    rejected: int
    slots: int
    votes: tuple[VoteView, ...]
    my_turn: bool
    can_withdraw: bool
    return_targets: tuple[str, ...]  # where I may send it back (my turn only)


def views(session: Session, actor: Principal, rounds: Sequence[TicketApproval]) -> list[RoundView]:
    """The rounds as `actor` sees them, people by name, in one read of names and tickets."""
    users = {v.user_id for r in rounds for v in r.votes} | {
        r.initiator_id for r in rounds if r.initiator_id is not None
    }
    names: dict[int, str] = {}
    if users:
        stmt = select(User.id, User.display_name).where(User.id.in_(users))
        names = dict(session.execute(stmt).all())
    tickets = {t.id: t for t in session.scalars(
        select(Ticket).where(Ticket.id.in_({r.ticket_id for r in rounds}))
    )} if rounds else {}  # fmt: skip
    return [
        _view(session, actor, r, tickets[r.ticket_id], names)
        for r in rounds
        if r.ticket_id in tickets and sees(actor, tickets[r.ticket_id], r)
    ]


def _view(
    session: Session,
    actor: Principal,
    round_: TicketApproval,
    ticket: Ticket,
    names: dict[int, str],
) -> RoundView:
    tally = count(round_.votes)
    mine = approvals.my_vote(round_, actor.user_id) is not None
    untouched = not any(v.state in ("approved", "rejected", "transferred") for v in round_.votes)
    return RoundView(
        id=round_.id, ticket_id=ticket.id, ticket_number=ticket.number,
        ticket_subject=ticket.subject, status=round_.status_key, mode=round_.mode,
        ratio=round_.ratio, state=round_.state, initiator_id=round_.initiator_id,
        initiator_name=names.get(round_.initiator_id or 0, ""), started_at=round_.started_at,
        ended_at=round_.ended_at, approved=tally.approved, rejected=tally.rejected,
        slots=tally.slots,
        votes=tuple(
            VoteView(user_id=v.user_id, user_name=names.get(v.user_id, ""), slot=v.slot,
                     position=v.position, state=v.state, comment=v.comment, origin=v.origin,
                     decided_at=v.decided_at)
            for v in round_.votes
        ),
        my_turn=mine,
        can_withdraw=round_.state == "pending" and untouched
        and actor.user_id is not None and round_.initiator_id == actor.user_id,
        return_targets=tuple(return_targets(session, ticket, round_)) if mine else (),
    )  # fmt: skip


def of_ticket(session: Session, actor: Principal, ticket: Ticket) -> list[RoundView]:
    """The ticket's rounds, newest first (the panel shows the open one on top)."""
    return views(session, actor, approvals.rounds_of(session, ticket.id))[::-1]


def inbox(session: Session, actor: Principal) -> list[RoundView]:
    """我的审批: the rounds waiting for this person's decision, oldest first."""
    if actor.user_id is None or not actor.is_staff:
        return []
    return views(session, actor, approvals.waiting_for(session, actor.user_id))
