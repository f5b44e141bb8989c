"""Tickets: create, read, change; each change writes history, a domain event and an audit row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.exc import StaleDataError

from fuwu.audit import service as audit
from fuwu.auth.models import Team, TeamMember, User
from fuwu.auth.principal import Principal
from fuwu.customers import service as customers_service
from fuwu.customers.models import Contact, Organisation
from fuwu.db import table
from fuwu.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from fuwu.jobs import service as jobs
from fuwu.kit.time import utcnow
from fuwu.tickets import numbering
from fuwu.tickets.models import Ticket, TicketEvent, TicketTag
from fuwu.tickets.permissions import can_see
from fuwu.tickets.repository import NameRef, TicketRow, UserRef
from fuwu.tickets.schemas import TicketCreate, TicketUpdate
from fuwu.tickets.statuses import OPEN_CATEGORIES, PRIORITIES, status

TRACKED = (
    "subject",
    "description",
    "status",
    "priority",
    "type_key",
    "customer_id",
    "assignee_id",
    "team_id",
    "tags",
    "custom",
)


def get_ticket(session: Session, *, actor: Principal, ticket_id: int) -> Ticket:
    """A ticket the actor may see, with its people loaded; NotFound otherwise."""
    ticket = session.scalar(
        select(Ticket)
        .where(Ticket.id == ticket_id)
        .options(
            joinedload(Ticket.customer),
            joinedload(Ticket.assignee),
            joinedload(Ticket.team),
            joinedload(Ticket.organisation),
        )
    )
    if ticket is None or not can_see(actor, ticket):
        raise NotFound("Ticket %(id)s does not exist.", id=ticket_id)
    return ticket


def _check_people(
    session: Session, *, assignee_id: int | None, team_id: int | None, customer_id: int | None
) -> None:
    errors: list[dict[str, Any]] = []
    if team_id is not None and session.get(Team, team_id) is None:
        errors.append({"field": "team_id", "code": "not_found", "params": {}})
    if assignee_id is not None:
        user = session.get(User, assignee_id)
        if user is None or not user.is_active or user.role == "customer":
            errors.append({"field": "assignee_id", "code": "not_found", "params": {}})
        elif team_id is not None and not errors and not _is_member(session, team_id, assignee_id):
            errors.append({"field": "assignee_id", "code": "not_in_team", "params": {}})
    if customer_id is not None and session.get(Contact, customer_id) is None:
        errors.append({"field": "customer_id", "code": "not_found", "params": {}})
    if errors:
        raise ValidationFailed(errors)


def _is_member(session: Session, team_id: int, user_id: int) -> bool:
    return session.get(TeamMember, (team_id, user_id)) is not None


def _set_tags(session: Session, ticket: Ticket, tags: list[str]) -> None:
    unique = list(dict.fromkeys(tags))
    ticket.tags = unique
    with session.no_autoflush:  # an autoflush here would bump the ticket's version twice
        session.execute(delete(TicketTag).where(TicketTag.ticket_id == ticket.id))
    session.add_all(TicketTag(ticket_id=ticket.id, tag=t) for t in unique)


def status_values(key: str, *, resolved_at: datetime | None = None) -> dict[str, Any]:
    """The columns a status sets: its category, whether it is open, and the resolved/closed
    times (kept when already resolved, cleared when the ticket is open again)."""
    st = status(key)
    values: dict[str, Any] = {
        "status": st.key,
        "status_category": st.category,
        "is_open": st.category in OPEN_CATEGORIES,
    }
    now = utcnow()
    if st.category == "resolved":
        values["resolved_at"] = resolved_at or now
    elif st.category == "closed":
        values.update(resolved_at=resolved_at or now, closed_at=now)
    else:
        values.update(resolved_at=None, closed_at=None)
    return values


def _apply_status(ticket: Ticket, key: str) -> None:
    for column, value in status_values(key, resolved_at=ticket.resolved_at).items():
        setattr(ticket, column, value)


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
) -> TicketRow:
    """Open a ticket; the customer is found or created from name/email/phone."""
    if actor.is_staff:
        if data.customer_id is not None:
            customer: Contact | None = session.get(Contact, data.customer_id)
            if customer is None:
                raise ValidationFailed.single("customer_id", "not_found")
        elif data.customer is not None:
            try:
                customer = customers_service.find_or_create_contact(
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
        else:
            customer = None
        _check_people(session, assignee_id=data.assignee_id, team_id=data.team_id, customer_id=None)
        assignee_id, team_id = data.assignee_id, data.team_id
    else:
        if actor.contact_id is None:
            raise PermissionDenied()
        customer = session.get(Contact, actor.contact_id)
        assignee_id = team_id = None
    return _insert_ticket(
        session,
        actor=actor,
        data=data,
        customer=customer,
        assignee_id=assignee_id,
        team_id=team_id,
        number=numbering.next_number(session, pattern=number_pattern, timezone=timezone),
        channel=data.channel or (default_channel if actor.is_staff else "portal"),
    )


def _insert_ticket(
    session: Session,
    *,
    actor: Principal,
    data: TicketCreate,
    customer: Contact | None,
    assignee_id: int | None,
    team_id: int | None,
    number: str,
    channel: str,
) -> TicketRow:
    """The INSERTs of a new ticket and its timeline, without the unit-of-work overhead.

    Ticket intake is the hottest write path (see docs/benchmarks.md): plain bulk INSERTs, and
    the related rows the response shows are attached from the session instead of reloaded.
    """
    now = utcnow()
    tags = list(dict.fromkeys(data.tags))
    values: dict[str, Any] = {
        "number": number,
        "subject": data.subject,
        "description": data.description,
        "type_key": data.type,
        "priority": data.priority,
        "priority_rank": PRIORITIES[data.priority],
        "channel": channel,
        "customer_id": customer.id if customer else None,
        "organisation_id": customer.organisation_id if customer else None,
        "assignee_id": assignee_id,
        "team_id": team_id,
        "created_by_id": actor.user_id,
        "custom": dict(data.custom),
        "tags": tags,
        "created_at": now,
        "updated_at": now,
        "version": 1,
        **status_values("open" if assignee_id else "new"),
    }
    inserted = session.execute(
        insert(table(Ticket)).returning(*table(Ticket).columns), [values]
    ).mappings()
    ticket = _created_row(session, dict(inserted.one()), customer)
    if tags:
        session.execute(
            insert(table(TicketTag)), [{"ticket_id": ticket.id, "tag": t} for t in tags]
        )
    _log(
        session, ticket_id=ticket.id, actor=actor, kind="created",
        changes={"channel": channel, "status": ticket.status}, payload={"number": number},
        before=None, after={"number": number, **_snapshot(ticket)},
    )  # fmt: skip
    return ticket


def _created_row(session: Session, values: dict[str, Any], customer: Contact | None) -> TicketRow:
    """The new ticket as the API returns it, with its people's names from the session."""
    assignee = session.get(User, values["assignee_id"]) if values["assignee_id"] else None
    team = session.get(Team, values["team_id"]) if values["team_id"] else None
    org_id = values["organisation_id"]
    org = session.get(Organisation, org_id) if org_id else None
    return TicketRow(
        **values,
        customer=NameRef(customer.id, customer.name) if customer else None,
        organisation=NameRef(org.id, org.name) if org else None,
        assignee=UserRef(assignee.id, assignee.display_name) if assignee else None,
        team=NameRef(team.id, team.name) if team else None,
    )


def _snapshot(ticket: Ticket | TicketRow) -> dict[str, Any]:
    data = {k: getattr(ticket, k) for k in TRACKED}
    data["tags"] = list(ticket.tags)
    data["custom"] = dict(ticket.custom)
    return data


def update_ticket(
    session: Session, *, actor: Principal, ticket_id: int, data: TicketUpdate, ip: str | None = None
) -> Ticket:
    """Change fields; `version` guards against overwriting someone else's change (409)."""
    if not actor.is_staff:
        raise PermissionDenied()
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
    if "type" in changes:
        changes["type_key"] = changes.pop("type")
    new_team = changes.get("team_id", ticket.team_id)
    keeps_assignee = "team_id" in changes and "assignee_id" not in changes
    moved_away = (
        keeps_assignee
        and ticket.assignee_id is not None
        and new_team is not None
        and not _is_member(session, new_team, ticket.assignee_id)
    )
    if moved_away:
        changes["assignee_id"] = None  # moving to another team hands the ticket back
    if {"assignee_id", "team_id", "customer_id"} & changes.keys():
        _check_people(
            session,
            assignee_id=changes.get("assignee_id", ticket.assignee_id),
            team_id=new_team,
            customer_id=changes.get("customer_id"),
        )
    before = _snapshot(ticket)
    for key, value in changes.items():
        if key == "status":
            _apply_status(ticket, value)
        elif key == "priority":
            ticket.priority = value
            ticket.priority_rank = PRIORITIES[value]
        elif key == "tags":
            _set_tags(session, ticket, value)
        elif key == "customer_id":
            ticket.customer_id = value
            customer = session.get(Contact, value) if value else None
            ticket.organisation_id = customer.organisation_id if customer else None
        else:
            setattr(ticket, key, value)
    if ticket.status == "new" and ticket.assignee_id is not None and "status" not in changes:
        _apply_status(ticket, "open")
    old, new = audit.diff(before, _snapshot(ticket))
    if not new:
        return ticket
    ticket.updated_at = utcnow()
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict("Someone else changed this ticket. Reload it and try again.") from exc
    record_change(session, ticket=ticket, actor=actor, old=old, new=new, ip=ip)
    session.expire(ticket)  # reload assignee/team/customer: they were changed through their ids
    # As the system: an agent who routes a ticket to another team may no longer see it, and
    # that must not turn their successful change into a 404 (and a rollback).
    return get_ticket(session, actor=Principal.system(), ticket_id=ticket.id)


def record_change(
    session: Session,
    *,
    ticket: Ticket,
    actor: Principal,
    old: dict[str, Any],
    new: dict[str, Any],
    ip: str | None = None,
) -> None:
    """History row, domain event and audit row for one change of a ticket."""
    changes = {k: [old.get(k), new[k]] for k in new}
    _log(
        session, ticket_id=ticket.id, actor=actor, kind="updated", changes=changes,
        payload={"changes": changes}, before=old, after=new, ip=ip,
    )  # fmt: skip


def _log(
    session: Session,
    *,
    ticket_id: int,
    actor: Principal,
    kind: str,
    changes: dict[str, Any],
    payload: dict[str, Any],
    before: dict[str, Any] | None,
    after: dict[str, Any],
    ip: str | None = None,
) -> None:
    """The three records of every ticket change: its history, its event, the audit log."""
    history = {
        "ticket_id": ticket_id, "actor_id": actor.user_id, "actor_name": actor.name,
        "kind": kind, "changes": changes, "created_at": utcnow(),
    }  # fmt: skip
    session.execute(insert(table(TicketEvent)), [history])
    jobs.emit(
        session, f"ticket.{kind}", entity="ticket", entity_id=ticket_id,
        actor_id=actor.user_id, payload=payload,
    )  # fmt: skip
    audit.record(
        session, actor_id=actor.user_id, actor_name=actor.name,
        action="create" if kind == "created" else "update", entity="ticket",
        entity_id=ticket_id, before=before, after=after, ip=ip,
    )  # fmt: skip
