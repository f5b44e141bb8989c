"""Replies, internal notes, attachments and the merged timeline of a ticket."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from fuwu.auth.principal import Principal
from fuwu.errors import NotFound, PermissionDenied, ValidationFailed
from fuwu.jobs import service as jobs
from fuwu.kit import files
from fuwu.kit.storage import LocalStore, TooLarge
from fuwu.kit.time import utcnow
from fuwu.tickets import pipeline
from fuwu.tickets.models import Attachment, Message, Ticket, TicketEvent
from fuwu.tickets.service import get_ticket
from fuwu.tickets.state import state_of
from fuwu.tickets.uploads import safe_filename

INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"})


def add_message(
    session: Session,
    *,
    actor: Principal,
    ticket_id: int,
    body: str,
    kind: str,
    channel: str = "web",
    timezone: str = "Asia/Shanghai",
    at: datetime | None = None,
) -> Message:
    """Add a reply or note; a customer's reply reopens a pending or resolved ticket.
    `at` dates it when it replays history (the demo loader); default now."""
    ticket = get_ticket(session, actor=actor, ticket_id=ticket_id, people=False)
    if kind not in ("reply", "note"):
        raise ValidationFailed.single("kind", "invalid_choice", choices="reply, note")
    if not body.strip():
        raise ValidationFailed.single("body", "empty")
    if kind == "note" and not actor.is_staff:
        raise PermissionDenied()
    now = at or utcnow()
    message = Message(
        ticket_id=ticket.id,
        kind=kind,
        author_user_id=actor.user_id,
        author_contact_id=None if actor.is_staff else actor.contact_id,
        author_name=actor.name,
        from_customer=not actor.is_staff,
        channel=channel,
        body=body,
        created_at=now,
    )
    session.add(message)
    # A plain UPDATE, not the ORM's versioned one: two people replying at once must both
    # succeed (no StaleDataError), and a reply alone does not bump the version, so an agent's
    # stale edit of the fields still gets its 409.
    values: dict[str, Any] = {"updated_at": now}
    if actor.is_staff and kind == "reply":
        values["first_response_at"] = func.coalesce(Ticket.first_response_at, now)
    session.execute(
        update(Ticket).where(Ticket.id == ticket.id).values(**values),
        execution_options={"synchronize_session": False},
    )
    if not actor.is_staff and ticket.status_category in ("pending", "resolved", "closed"):
        pipeline.apply_change(  # the customer's reply reopens it: a change like any other
            session, actor=actor, before=state_of(ticket),
            change=pipeline.Change({"status": "open"}, cause="reopened", checks_version=False),
            where=pipeline.Where(timezone=timezone, at=at),
        )  # fmt: skip
    session.flush()
    session.expire(ticket)  # its columns were written by plain UPDATEs
    jobs.emit(
        session,
        "message.created",
        entity="ticket",
        entity_id=ticket_id,
        actor_id=actor.user_id,
        payload={"message_id": message.id, "kind": kind, "from_customer": message.from_customer},
    )
    return message


def list_messages(session: Session, *, actor: Principal, ticket_id: int) -> Sequence[Message]:
    """Messages oldest first; customers do not see internal notes."""
    get_ticket(session, actor=actor, ticket_id=ticket_id)
    stmt = (
        select(Message)
        .where(Message.ticket_id == ticket_id)
        .options(selectinload(Message.attachments))
        .order_by(Message.created_at, Message.id)
    )
    if not actor.is_staff:
        stmt = stmt.where(Message.kind == "reply")
    return session.scalars(stmt).all()


@dataclass(frozen=True)
class TimelineItem:
    """A message or a system event, in one time-ordered list."""

    at: datetime
    message: Message | None = None
    event: TicketEvent | None = None


def timeline(session: Session, *, actor: Principal, ticket_id: int) -> list[TimelineItem]:
    """Messages and system events of a ticket, oldest first."""
    messages = list_messages(session, actor=actor, ticket_id=ticket_id)
    items = [TimelineItem(at=m.created_at, message=m) for m in messages]
    if actor.is_staff:
        events = session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
        )
        items.extend(TimelineItem(at=e.created_at, event=e) for e in events)
    return sorted(items, key=lambda item: item.at)


def add_attachment(
    session: Session,
    *,
    actor: Principal,
    store: LocalStore,
    ticket_id: int,
    filename: str,
    content_type: str | None,
    stream: BinaryIO,
    max_bytes: int,
    blocked_extensions: Sequence[str],
    message_id: int | None = None,
) -> Attachment:
    """Store an upload on a ticket; refuse blocked types and files over the limit."""
    ticket: Ticket = get_ticket(session, actor=actor, ticket_id=ticket_id)
    if message_id is not None:
        message = session.get(Message, message_id)
        hidden = message is not None and message.kind == "note" and not actor.is_staff
        if message is None or message.ticket_id != ticket.id or hidden:
            raise ValidationFailed.single("message_id", "not_found")
    name = safe_filename(filename)
    if files.refused(name, files.head(stream), {e.lower() for e in blocked_extensions}):
        raise ValidationFailed.single("file", "blocked_type")
    kind = files.content_type(name, content_type, stream)  # before the stream is read
    try:
        sha, size = store.save(stream, max_bytes=max_bytes)
    except TooLarge as exc:
        raise ValidationFailed.single("file", "too_large", max=max_bytes) from exc
    if size == 0:
        raise ValidationFailed.single("file", "empty")
    attachment = Attachment(
        ticket_id=ticket.id,
        message_id=message_id,
        filename=name,
        content_type=kind,
        size=size,
        sha256=sha,
        is_public=True,
        uploaded_by_id=actor.user_id,
    )
    session.add(attachment)
    ticket.updated_at = utcnow()
    session.flush()
    return attachment


def get_attachment(session: Session, *, actor: Principal, attachment_id: int) -> Attachment:
    """An attachment of a ticket the actor may see; customers only those on public replies."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or attachment.ticket_id is None:  # staged: its ticket is not open yet
        raise NotFound("Attachment %(id)s does not exist.", id=attachment_id)
    get_ticket(session, actor=actor, ticket_id=attachment.ticket_id)
    if not actor.is_staff and attachment.message_id is not None:
        message = session.get(Message, attachment.message_id)
        if message is not None and message.kind == "note":
            raise NotFound("Attachment %(id)s does not exist.", id=attachment_id)
    return attachment


def download_type(attachment: Attachment) -> str:
    """The Content-Type to serve: known-safe types as they are, everything else as bytes."""
    return (
        attachment.content_type
        if attachment.content_type in INLINE_TYPES
        else "application/octet-stream"
    )


def list_attachments(session: Session, *, actor: Principal, ticket_id: int) -> Sequence[Attachment]:
    get_ticket(session, actor=actor, ticket_id=ticket_id)
    stmt = select(Attachment).where(Attachment.ticket_id == ticket_id).order_by(Attachment.id)
    if not actor.is_staff:  # files on internal notes stay internal, as in get_attachment
        notes = select(Message.id).where(Message.ticket_id == ticket_id, Message.kind == "note")
        stmt = stmt.where(or_(Attachment.message_id.is_(None), Attachment.message_id.not_in(notes)))
    return session.scalars(stmt).all()
