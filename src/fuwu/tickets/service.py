"""Tickets: read one, open one, change one; every write goes through `pipeline.apply_change`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from fuwu.auth.principal import Principal, require_staff
from fuwu.customers import service as customers_service
from fuwu.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from fuwu.tickets import pipeline
from fuwu.tickets.models import Ticket
from fuwu.tickets.permissions import can_see
from fuwu.tickets.repository import TicketRow
from fuwu.tickets.schemas import TicketCreate, TicketUpdate
from fuwu.tickets.state import state_of


def get_ticket(
    session: Session, *, actor: Principal, ticket_id: int, people: bool = True
) -> Ticket:
    """A ticket the actor may see, with its people loaded (unless the caller needs only its
    own columns: `people=False`); NotFound otherwise."""
    stmt = select(Ticket).where(Ticket.id == ticket_id)
    if people:
        stmt = stmt.options(
            joinedload(Ticket.customer),
            joinedload(Ticket.assignee),
            joinedload(Ticket.team),
            joinedload(Ticket.organisation),
        )
    ticket = session.scalar(stmt)
    if ticket is None or not can_see(actor, ticket):
        raise NotFound("Ticket %(id)s does not exist.", id=ticket_id)
    return ticket


def _customer_field(field: str) -> str:
    return f"customer.{field}" if field in ("name", "email", "phone", "organisation") else field


def create_ticket(
    session: Session,
    *,
    actor: Principal,
    data: TicketCreate,
    number_pattern: str,
    timezone: str,
    default_channel: str = "api",
    surface: str | None = None,
    attachments: Sequence[int] = (),
) -> TicketRow:
    """Open a ticket; the customer is found or created from name/email/phone.

    Custom fields are validated by the type's published form, as laid out for `surface`
    (default: agent_create for staff, portal for customers); the form version is recorded.
    `attachments` are the files staged for it (`tickets.uploads.stage`), which it claims.
    """
    errors: list[FieldError] = []  # reported with the pipeline's, all in one answer
    if actor.is_staff:
        try:
            customer_id = _staff_customer_id(session, actor=actor, data=data)
        except ValidationFailed as exc:
            customer_id, errors = None, exc.errors
        assignee_id, team_id = data.assignee_id, data.team_id
    elif actor.contact_id is None:
        raise PermissionDenied()
    else:
        _refuse_staff_fields(data)
        customer_id, assignee_id, team_id = actor.contact_id, None, None
    values = {"subject": data.subject, "description": data.description, "type": data.type,
              "priority": data.priority,
              "channel": data.channel or (default_channel if actor.is_staff else "portal"),
              "customer": customer_id, "assignee": assignee_id, "team": team_id,
              "tags": list(dict.fromkeys(data.tags)), **data.custom}  # fmt: skip
    applied = pipeline.apply_change(
        session, actor=actor, before=None,
        change=pipeline.Change(
            values, cause="created", surface=surface, attachments=tuple(attachments),
            errors=tuple(errors),
        ),
        where=pipeline.Where(timezone=timezone, number_pattern=number_pattern),
    )  # fmt: skip
    assert applied.row is not None
    return applied.row


# What a customer's new ticket may say: what the portal's new-ticket page offers. Channel,
# tags, the customer and the routing are set by the system and the agents, never by customers.
CUSTOMER_SETS = frozenset({"subject", "description", "type", "priority", "custom"})


def _refuse_staff_fields(data: TicketCreate) -> None:
    refused = sorted(data.model_fields_set - CUSTOMER_SETS)
    if refused:
        raise ValidationFailed(
            [{"field": name, "code": "not_settable", "params": {}} for name in refused]
        )


def _staff_customer_id(session: Session, *, actor: Principal, data: TicketCreate) -> int | None:
    """The customer a staff member names: by id (checked later), or found or created."""
    if data.customer_id is not None or data.customer is None:
        return data.customer_id
    try:
        contact = customers_service.find_or_create_contact(
            session,
            actor=actor,
            name=data.customer.name,
            email=data.customer.email,
            phone=data.customer.phone,
            organisation=data.customer.organisation,
        )
    except ValidationFailed as exc:
        # Name the field as the caller sent it (customer.email), not the contact's own.
        raise ValidationFailed(
            [{**e, "field": _customer_field(e["field"])} for e in exc.errors]
        ) from exc
    return contact.id


def update_ticket(
    session: Session,
    *,
    actor: Principal,
    ticket_id: int,
    data: TicketUpdate,
    ip: str | None = None,
    timezone: str = "Asia/Shanghai",
    surface: str | None = None,
    attachments: Sequence[int] = (),
) -> Ticket:
    """Change fields; `version` guards against overwriting someone else's change (409).
    `attachments` are files staged for file fields of this change, which it claims."""
    require_staff(actor)
    ticket = get_ticket(session, actor=actor, ticket_id=ticket_id)
    changes = data.model_dump(exclude_unset=True)
    expected = changes.pop("version", None)
    if expected is not None and expected != ticket.version:
        raise Conflict(
            "Someone else changed this ticket (now version %(current)s, you had %(sent)s). "
            "Reload it and apply your change again.",
            current=ticket.version,
            sent=expected,
        )
    applied = pipeline.apply_change(
        session, actor=actor, before=state_of(ticket),
        change=pipeline.Change(
            change_values(changes), surface=surface, attachments=tuple(attachments)
        ),
        where=pipeline.Where(timezone=timezone, ip=ip),
    )  # fmt: skip
    if not applied.changed:
        return ticket
    session.expire(ticket)  # reload assignee/team/customer: they were changed through their ids
    # As the system: an agent who routes a ticket to another team may no longer see it, and
    # that must not turn their successful change into a 404 (and a rollback).
    return get_ticket(session, actor=Principal.system(), ticket_id=ticket.id)


# TicketUpdate's names → the registry's keys.
_KEYS = {"customer_id": "customer", "assignee_id": "assignee", "team_id": "team"}


def change_values(changes: dict[str, Any]) -> dict[str, Any]:
    """An update's fields (`TicketChanges`, as set) as the pipeline's registry keys, custom
    fields by their own keys."""
    values = {_KEYS.get(k, k): v for k, v in changes.items() if k != "custom"}
    values.update(changes.get("custom") or {})
    return values
