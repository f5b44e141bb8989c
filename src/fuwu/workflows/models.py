"""The status catalogue: one row per status any workflow may use."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fuwu.db import Base, UTCDateTime
from fuwu.kit.time import utcnow

CATEGORIES = ("new", "open", "pending", "resolved", "closed")
OPEN_CATEGORIES = frozenset({"new", "open", "pending"})


class TicketStatus(Base):
    """A status (待受理, 已派工 …). Its key and category never change once created: tickets,
    history and published workflows refer to the key, the SLA clock and reports to the
    category (pending pauses the clock). Labels, colour and order may change."""

    __tablename__ = "ticket_status"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    category: Mapped[str] = mapped_column(String(10))
    label_zh: Mapped[str] = mapped_column(String(60))
    label_en: Mapped[str] = mapped_column(String(60))
    colour: Mapped[str] = mapped_column(String(7), default="#6b7280")
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


APPROVAL_STATES = ("pending", "approved", "rejected", "returned", "withdrawn", "cancelled")
VOTE_STATES = ("waiting", "pending", "approved", "rejected", "skipped", "transferred")


class TicketApproval(Base):
    """One round of an approval state: opened when a ticket enters the state, ended by the
    approvers' tally (approved, rejected), a send-back (returned), the initiator (withdrawn),
    or the ticket leaving the state some other way (cancelled)."""

    __tablename__ = "ticket_approval"
    __table_args__ = (Index("ix_ticket_approval_ticket", "ticket_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    workflow_key: Mapped[str] = mapped_column(String(40))
    workflow_version: Mapped[int] = mapped_column(Integer)
    status_key: Mapped[str] = mapped_column(String(40))  # the approval state
    previous_status: Mapped[str | None] = mapped_column(String(40))  # where a withdrawal goes
    mode: Mapped[str] = mapped_column(String(12))
    ratio: Mapped[int] = mapped_column(Integer, default=100)
    initiator_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(12), default="pending")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    votes: Mapped[list[ApprovalVote]] = relationship(
        order_by=lambda: [ApprovalVote.slot, ApprovalVote.position, ApprovalVote.id],
        cascade="all, delete-orphan",
    )


class ApprovalVote(Base):
    """One approver's part. Votes of one `slot` form a chain (an approver found by the
    workflow, then those added before or after them, 加签): the slot is approved when every
    vote of its chain is. `pending` votes are the ones whose turn it is (the inbox)."""

    __tablename__ = "approval_vote"
    __table_args__ = (Index("ix_approval_vote_user", "user_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    approval_id: Mapped[int] = mapped_column(
        ForeignKey("ticket_approval.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    slot: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(12), default="waiting")
    comment: Mapped[str] = mapped_column(Text, default="")
    # How they came to approve: found by the workflow, added before/after someone, handed
    # over by someone (转交), or the admins when nobody was found.
    origin: Mapped[str] = mapped_column(String(12), default="workflow")
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
