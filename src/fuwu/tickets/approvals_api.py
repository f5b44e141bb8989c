"""REST routes for approval rounds: the inbox (/api/v1/approvals), a ticket's rounds, and what
approvers and initiators do (decide, send back, hand over, add an approver, withdraw, remind)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from fuwu.auth.deps import scoped
from fuwu.auth.principal import Principal
from fuwu.kit.ids import Id
from fuwu.tickets import approvals, approvals_view
from fuwu.tickets import service as tickets_service
from fuwu.tickets.pipeline import Where
from fuwu.tickets.schemas import ErrorRead
from fuwu.web.deps import DbSession, client_ip
from fuwu.web.errors import describe, locale_of

router = APIRouter(prefix="/api/v1", tags=["approvals"])
Reader = Annotated[Principal, Depends(scoped("tickets:read"))]
Writer = Annotated[Principal, Depends(scoped("tickets:write"))]
Comment = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
StatusKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class VoteRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    user_id: int
    user_name: str
    slot: int
    position: int
    state: str
    comment: str
    origin: str
    decided_at: datetime | None


class ApprovalRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ticket_id: int
    ticket_number: str
    ticket_subject: str
    status: str
    mode: str
    ratio: int
    state: str
    initiator_id: int | None
    initiator_name: str
    started_at: datetime
    ended_at: datetime | None
    approved: int
    rejected: int
    slots: int
    votes: list[VoteRead]
    my_turn: bool
    can_withdraw: bool
    return_targets: list[str]


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject"]
    comment: Comment = ""


class BulkDecisionIn(DecisionIn):
    ids: list[Id] = Field(min_length=1, max_length=100)


class BulkDecisionItem(BaseModel):
    id: int
    ok: bool
    error: ErrorRead | None = None


class SendBackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: StatusKey = Field(description="A status the ticket was in before (return_targets)")
    comment: Comment = ""


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: Id
    comment: Comment = ""


class AddApproverIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: Id
    where: Literal["before", "after"] = Field(
        description="before: they decide first (前加签); after: after you (后加签)"
    )


class Reminded(BaseModel):
    users: list[int]


def _where(request: Request) -> Where:
    return Where(timezone=request.app.state.settings.timezone, ip=client_ip(request))


def _read(session: DbSession, actor: Principal, approval_id: int) -> ApprovalRead:
    round_, _ = approvals.load(session, actor=actor, approval_id=approval_id)
    [view] = approvals_view.views(session, actor, [round_])
    return ApprovalRead.model_validate(view)


@router.get("/approvals", response_model=list[ApprovalRead])
def my_approvals(session: DbSession, actor: Reader) -> object:
    """我的审批: the rounds waiting for your decision, oldest first."""
    return approvals_view.inbox(session, actor)


@router.get("/tickets/{ticket_id}/approvals", response_model=list[ApprovalRead])
def ticket_approvals(ticket_id: Id, session: DbSession, actor: Reader) -> object:
    """Every approval round of the ticket, newest first, with each approver's part."""
    ticket = tickets_service.get_ticket(session, actor=actor, ticket_id=ticket_id, people=False)
    return approvals_view.of_ticket(session, actor, ticket)


@router.get("/approvals/{approval_id}", response_model=ApprovalRead)
def get_approval(approval_id: Id, session: DbSession, actor: Reader) -> object:
    return _read(session, actor, approval_id)


@router.post("/approvals/{approval_id}/decision", response_model=ApprovalRead)
def decide_approval(
    approval_id: Id, data: DecisionIn, request: Request, session: DbSession, actor: Writer
) -> object:
    """Approve or reject when it is your turn (403 otherwise). When the votes settle the
    round, the ticket takes the approval's step (409 if that step's condition fails)."""
    approvals.decide(session, actor=actor, approval_id=approval_id,
                     approve=data.decision == "approve", comment=data.comment,
                     where=_where(request))  # fmt: skip
    return _read(session, actor, approval_id)


@router.post("/approvals/decisions", response_model=list[BulkDecisionItem])
def decide_approvals(
    data: BulkDecisionIn, request: Request, session: DbSession, actor: Writer
) -> object:
    """批量审批: the same decision on up to 100 rounds, each on its own; one that fails is
    reported with the error a single decision would give, the others still count."""
    locale = locale_of(request)
    done = approvals.decide_many(session, actor=actor, approval_ids=data.ids,
                                 approve=data.decision == "approve", comment=data.comment,
                                 where=_where(request))  # fmt: skip
    return [
        BulkDecisionItem(id=d.approval_id, ok=d.error is None,
                         error=ErrorRead(**describe(locale, d.error)) if d.error else None)
        for d in done
    ]  # fmt: skip


@router.post("/approvals/{approval_id}/send-back", response_model=ApprovalRead)
def send_back_approval(
    approval_id: Id, data: SendBackIn, request: Request, session: DbSession, actor: Writer
) -> object:
    """退回: end the round and move the ticket to a status it was in before."""
    approvals.send_back(session, actor=actor, approval_id=approval_id, status=data.status,
                        comment=data.comment, where=_where(request))  # fmt: skip
    return _read(session, actor, approval_id)


@router.post("/approvals/{approval_id}/transfer", response_model=ApprovalRead)
def transfer_approval(
    approval_id: Id, data: TransferIn, session: DbSession, actor: Writer
) -> object:
    """转交: hand your turn to another staff member."""
    approvals.transfer(session, actor=actor, approval_id=approval_id, to_user=data.user,
                       comment=data.comment)  # fmt: skip
    return _read(session, actor, approval_id)


@router.post("/approvals/{approval_id}/approvers", response_model=ApprovalRead)
def add_approver(approval_id: Id, data: AddApproverIn, session: DbSession, actor: Writer) -> object:
    """加签: add an approver before or after you."""
    approvals.add_approver(session, actor=actor, approval_id=approval_id, user=data.user,
                           where=data.where)  # fmt: skip
    return _read(session, actor, approval_id)


@router.post("/approvals/{approval_id}/withdraw", response_model=ApprovalRead)
def withdraw_approval(
    approval_id: Id, request: Request, session: DbSession, actor: Writer
) -> object:
    """撤回: the initiator takes it back before anyone has decided."""
    approvals.withdraw(session, actor=actor, approval_id=approval_id, where=_where(request))
    return _read(session, actor, approval_id)


@router.post("/approvals/{approval_id}/remind", response_model=Reminded)
def remind_approvers(approval_id: Id, session: DbSession, actor: Writer) -> object:
    """催办: remind the approvers whose turn it is (at most every 30 minutes)."""
    return Reminded(users=approvals.remind(session, actor=actor, approval_id=approval_id))
