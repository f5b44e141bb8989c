"""Replies, internal notes, attachments and the merged timeline of a ticket."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session, selectinload

from fuwu.auth.principal import Principal
from fuwu.db import New, insert_with_children, table
from fuwu.errors import NotFound, PermissionDenied, ValidationFailed
from fuwu.jobs import service as jobs
from fuwu.kit import files
from fuwu.kit.storage import LocalStore, TooLarge
from fuwu.kit.time import utcnow
from fuwu.tickets import pipeline, writer
from fuwu.tickets.models import Attachment, Message, Ticket, TicketEvent
from fuwu.tickets.permissions import can_see
from fuwu.tickets.schemas import MessageRead
from fuwu.tickets.service import get_ticket
from fuwu.tickets.state import state_of
from fuwu.tickets.uploads import safe_filename

INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"})


# What a message needs of its ticket: who may see it, and whether a customer's reply reopens it.
_TARGET = select(
    Ticket.id, Ticket.status_category, Ticket.customer_id, Ticket.team_id, Ticket.assignee_id
).where(Ticket.id == bindparam("ticket_id"))
_REOPENED_BY_REPLY = frozenset({"pending", "resolved", "closed"})


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
) -> MessageRead:
    """Add a reply or note; a customer's reply reopens a pending or resolved ticket.
    `at` dates it when it replays history (the demo loader); default now.

    The message and its `message.created` event are one INSERT (`db.insert_with_children`);
    the ticket is read for just the columns that decide, and touched by one UPDATE unless the
    reply reopens it, which is a change like any other (`pipeline.apply_change`)."""
    target = session.execute(_TARGET, {"ticket_id": ticket_id}).one_or_none()
    if target is None or not can_see(actor, target):
        raise NotFound("Ticket %(id)s does not exist.", id=ticket_id)
    if kind not in ("reply", "note"):
        raise ValidationFailed.single("kind", "invalid_choice", choices="reply, note")
    if not body.strip():
        raise ValidationFailed.single("body", "empty")
    if kind == "note" and not actor.is_staff:
        raise PermissionDenied()
    now = at or utcnow()
    from_customer = not actor.is_staff
    values = {
        "ticket_id": ticket_id,
        "kind": kind,
        "author_user_id": actor.user_id,
        "author_contact_id": actor.contact_id if from_customer else None,
        "author_name": actor.name,
        "from_customer": from_customer,
        "channel": channel,
        "body": body,
        "created_at": now,
    }
    payload: dict[str, Any] = {"message_id": New(), "kind": kind, "from_customer": from_customer}
    event = jobs.pending_event(
        "message.created", entity="ticket", entity_id=ticket_id, actor_id=actor.user_id,
        payload=payload,
    )  # fmt: skip
    new = insert_with_children(session, table(Message), values, [event] if event else [])
    message_id = int(new["id"])
    if event is None:  # subscribers' jobs need the event id
        jobs.emit(session, "message.created", entity="ticket", entity_id=ticket_id,
                  actor_id=actor.user_id, payload=payload | {"message_id": message_id})  # fmt: skip
    if from_customer and target.status_category in _REOPENED_BY_REPLY:
        ticket = get_ticket(session, actor=actor, ticket_id=ticket_id, people=False)
        pipeline.apply_change(
            session, actor=actor, before=state_of(ticket),
            change=pipeline.Change({"status": "open"}, cause="reopened", checks_version=False),
            where=pipeline.Where(timezone=timezone, at=at),
        )  # fmt: skip
        session.expire(ticket)  # its columns were written by a plain UPDATE
    else:
        writer.touch(session, ticket_id, now=now, answered=actor.is_staff and kind == "reply")
    return MessageRead(
        id=message_id, ticket_id=ticket_id, kind=kind, author_name=actor.name,
        from_customer=from_customer, channel=channel, body=body, created_at=now, attachments=[],
    )  # fmt: skip


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
