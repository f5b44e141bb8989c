"""Tickets and their timeline: messages, system events, attachments, tags."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fuwu.auth.models import Team, User
from fuwu.customers.models import Contact, Organisation
from fuwu.db import Base, JSONType, UTCDateTime
from fuwu.kit.time import utcnow


class Ticket(Base):
    """A customer request tracked from intake to close."""

    __tablename__ = "ticket"
    __table_args__ = (
        Index("ix_ticket_open_created", "is_open", "created_at", "id"),
        Index("ix_ticket_open_updated", "is_open", "updated_at", "id"),
        Index("ix_ticket_open_priority", "is_open", "priority_rank", "id"),
        Index("ix_ticket_created", "created_at", "id"),
        Index("ix_ticket_assignee", "assignee_id", "is_open", "created_at", "id"),
        Index("ix_ticket_team", "team_id", "is_open", "created_at", "id"),
        Index("ix_ticket_customer", "customer_id", "created_at"),
        Index("ix_ticket_status", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    type_key: Mapped[str] = mapped_column(String(40), default="general")
    # The workflow version the ticket runs on (ADR 0016): the one governing its type when it
    # was opened, until an administrator migrates it; None while no workflow governs it.
    workflow_key: Mapped[str | None] = mapped_column(String(40))
    workflow_version: Mapped[int | None] = mapped_column(Integer)
    # The ticket this one was opened under by a workflow step (备件申请 under a 报修).
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(40), default="new")
    status_category: Mapped[str] = mapped_column(String(10), default="new")
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    priority_rank: Mapped[int] = mapped_column(Integer, default=1)
    channel: Mapped[str] = mapped_column(String(16), default="web")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"), index=True
    )
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    custom: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    form_version: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)

    customer: Mapped[Contact | None] = relationship(lazy="raise")
    organisation: Mapped[Organisation | None] = relationship(lazy="raise")
    assignee: Mapped[User | None] = relationship(lazy="raise", foreign_keys=[assignee_id])
    team: Mapped[Team | None] = relationship(lazy="raise")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's own API


class TicketTag(Base):
    """One tag on a ticket; a row per tag so tag filters use an index."""

    __tablename__ = "ticket_tag"
    __table_args__ = (Index("ix_ticket_tag_tag", "tag", "ticket_id"),)

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(50), primary_key=True)


class TicketCounter(Base):
    """The running sequence behind ticket numbers, one row per number prefix."""

    __tablename__ = "ticket_counter"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class Message(Base):
    """A public reply or an internal note on a ticket."""

    __tablename__ = "message"
    __table_args__ = (Index("ix_message_ticket", "ticket_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # reply | note
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    author_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact.id", ondelete="SET NULL")
    )
    author_name: Mapped[str] = mapped_column(String(100), default="")
    from_customer: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(16), default="web")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    attachments: Mapped[list[Attachment]] = relationship(lazy="raise", order_by="Attachment.id")


class TicketEvent(Base):
    """A system event on the timeline: creation, a field change, a status change."""

    __tablename__ = "ticket_event"
    __table_args__ = (Index("ix_ticket_event_ticket", "ticket_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(100), default="")
    kind: Mapped[str] = mapped_column(String(32))
    changes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # Field → why it changed, when the actor did not set it: an engine's decision, a form rule.
    reasons: Mapped[dict[str, str] | None] = mapped_column(JSONType, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Attachment(Base):
    """A file on a ticket, stored under the data directory by its content hash."""

    __tablename__ = "attachment"
    __table_args__ = (Index("ix_attachment_ticket", "ticket_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # None only inside the transaction that opens the ticket it is posted with (migration 0008).
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("message.id", ondelete="SET NULL"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SavedView(Base):
    """A named inbox filter (condition tree + sort): personal, for a team, or for everyone."""

    __tablename__ = "saved_view"
    __table_args__ = (
        Index("ix_saved_view_owner", "owner_id"),
        Index("ix_saved_view_scope", "scope", "team_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(10), default="personal")  # personal | team | all
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"))
    condition: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    sort: Mapped[str] = mapped_column(String(60), default="-updated_at")
    columns: Mapped[list[str] | None] = mapped_column(JSONType, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StatusLink(Base):
    """A secret link that shows one ticket's status to whoever holds it (web form, email).

    Only the SHA-256 of the link's random token is stored. The link is valid while the ticket
    still belongs to the customer it was issued for (ADR 0010).
    """

    __tablename__ = "status_link"
    __table_args__ = (Index("ix_status_link_ticket", "ticket_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
