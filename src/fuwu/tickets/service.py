"""Tickets: create, read, change; each change writes history, a domain event and an audit row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.exc import StaleDataError

from fuwu.audit import service as audit
from fuwu.auth.models import TeamMember
from fuwu.auth.principal import Principal
from fuwu.customers import service as customers_service
from fuwu.customers.models import Contact
from fuwu.db import Children, New, Numbered, insert_with_children, table
from fuwu.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from fuwu.jobs import service as jobs
from fuwu.kit.time import utcnow
from fuwu.tickets import custom as custom_fields
from fuwu.tickets import numbering, repository
from fuwu.tickets.models import Ticket, TicketEvent, TicketTag
from fuwu.tickets.permissions import can_see
from fuwu.tickets.repository import ROW_COLUMNS, PeopleRefs, TicketRow
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
) -> PeopleRefs:
    """Raise ValidationFailed naming each unknown or unfit person; their names otherwise."""
    refs = repository.people_refs(
        session, customer_id=customer_id, team_id=team_id, assignee_id=assignee_id
    )
    _raise_people_errors(refs, assignee_id=assignee_id, team_id=team_id, customer_id=customer_id)
    return refs


def _raise_people_errors(
    refs: PeopleRefs, *, assignee_id: int | None, team_id: int | None, customer_id: int | None
) -> None:
    errors: list[dict[str, Any]] = []
    if team_id is not None and refs.team is None:
        errors.append({"field": "team_id", "code": "not_found", "params": {}})
    if assignee_id is not None:
        if refs.assignee is None or not refs.assignee_active or refs.assignee_role == "customer":
            errors.append({"field": "assignee_id", "code": "not_found", "params": {}})
        elif team_id is not None and not errors and not refs.assignee_in_team:
            errors.append({"field": "assignee_id", "code": "not_in_team", "params": {}})
    if customer_id is not None and refs.customer is None:
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
    surface: str | None = None,
) -> TicketRow:
    """Open a ticket; the customer is found or created from name/email/phone.

    Custom fields are validated by the type's published form, as laid out for `surface`
    (default: agent_create for staff, portal for customers); the form version is recorded.
    """
    if actor.is_staff:
        customer_id = _staff_customer_id(session, actor=actor, data=data)
        assignee_id, team_id = data.assignee_id, data.team_id
    elif actor.contact_id is None:
        raise PermissionDenied()
    else:
        _refuse_staff_fields(data)
        customer_id, assignee_id, team_id = actor.contact_id, None, None
    # The people the ticket names and their names for the answer, in one query.
    refs = repository.people_refs(
        session, customer_id=customer_id, team_id=team_id, assignee_id=assignee_id
    )
    if actor.is_staff:
        if data.customer_id is not None and refs.customer is None:
            raise ValidationFailed.single("customer_id", "not_found")
        _raise_people_errors(refs, assignee_id=assignee_id, team_id=team_id, customer_id=None)
    channel = data.channel or (default_channel if actor.is_staff else "portal")
    system = {"subject": data.subject, "description": data.description, "type": data.type,
              "priority": data.priority, "channel": channel, "customer": customer_id,
              "assignee": assignee_id, "team": team_id, "tags": list(data.tags)}  # fmt: skip
    values, form_version = custom_fields.on_create(
        session, type_key=data.type,
        surface=surface or custom_fields.surface_for(staff=actor.is_staff, creating=True),
        submitted=data.custom, system=system, timezone=timezone, actor_id=actor.user_id,
    )  # fmt: skip
    return _insert_ticket(
        session,
        actor=actor,
        data=data,
        refs=refs,
        number=numbering.numbered(pattern=number_pattern, timezone=timezone),
        channel=channel,
        custom=values,
        form_version=form_version,
    )


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


def _insert_ticket(
    session: Session,
    *,
    actor: Principal,
    data: TicketCreate,
    refs: PeopleRefs,
    number: Numbered,
    channel: str,
    custom: dict[str, Any],
    form_version: int | None,
) -> TicketRow:
    """The new ticket, its number, its tags and the three records of every change, in one
    statement.

    Ticket intake is the hottest write path (docs/benchmarks.md): one INSERT with its
    dependent rows (a single round trip on PostgreSQL) that also takes the number from the
    day's counter, whose row lock every concurrent create waits for until this one commits.
    The answer is built from the values written and the names already read.
    """
    values = _ticket_values(
        actor=actor, data=data, refs=refs, number=number, channel=channel, custom=custom,
        form_version=form_version,
    )  # fmt: skip
    event = jobs.pending_event(
        "ticket.created", entity="ticket", actor_id=actor.user_id, payload={"number": New("number")}
    )
    new = insert_with_children(
        session,
        table(Ticket),
        values,
        [
            Children(table(TicketTag), [{"ticket_id": New(), "tag": t} for t in values["tags"]]),
            _history(actor, "created", {"channel": channel, "status": values["status"]}),
            *([event] if event else []),
            audit.pending_record(
                actor_id=actor.user_id, actor_name=actor.name, action="create",
                entity="ticket", after={"number": New("number"), **_snapshot_of(values)},
            ),
        ],
    )  # fmt: skip
    if event is None:  # subscribers' jobs need the event id
        jobs.emit(session, "ticket.created", entity="ticket", entity_id=new["id"],
                  actor_id=actor.user_id, payload={"number": new["number"]})  # fmt: skip
    # As stored: the values written, the new id and number, None where nothing was written.
    stored: dict[str, Any] = {k: values.get(k) for k in ROW_COLUMNS} | new
    return TicketRow(
        **stored,
        customer=refs.customer,
        organisation=refs.organisation if refs.customer else None,
        assignee=refs.assignee,
        team=refs.team,
    )


def _ticket_values(
    *,
    actor: Principal,
    data: TicketCreate,
    refs: PeopleRefs,
    number: Numbered,
    channel: str,
    custom: dict[str, Any],
    form_version: int | None,
) -> dict[str, Any]:
    """The columns of a new ticket."""
    now = utcnow()
    return {
        "number": number,
        "subject": data.subject,
        "description": data.description,
        "type_key": data.type,
        "priority": data.priority,
        "priority_rank": PRIORITIES[data.priority],
        "channel": channel,
        "customer_id": refs.customer.id if refs.customer else None,
        "organisation_id": refs.customer_organisation_id if refs.customer else None,
        "assignee_id": refs.assignee.id if refs.assignee else None,
        "team_id": refs.team.id if refs.team else None,
        "created_by_id": actor.user_id,
        "custom": custom,
        "form_version": form_version,
        "tags": list(dict.fromkeys(data.tags)),
        "created_at": now,
        "updated_at": now,
        "version": 1,
        **status_values("open" if refs.assignee else "new"),
    }


def _snapshot(ticket: Ticket | TicketRow) -> dict[str, Any]:
    return _snapshot_of({k: getattr(ticket, k) for k in TRACKED})


def _snapshot_of(values: dict[str, Any]) -> dict[str, Any]:
    data = {k: values[k] for k in TRACKED}
    data["tags"] = list(data["tags"])
    data["custom"] = dict(data["custom"])
    return data


def update_ticket(
    session: Session,
    *,
    actor: Principal,
    ticket_id: int,
    data: TicketUpdate,
    ip: str | None = None,
    timezone: str = "Asia/Shanghai",
    surface: str | None = None,
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
    _route_people(session, ticket, changes)
    if "custom" in changes or "type_key" in changes:
        changes["custom"], changes["form_version"] = _custom_after(
            session, actor=actor, ticket=ticket, changes=changes, timezone=timezone,
            surface=surface or custom_fields.surface_for(staff=actor.is_staff, creating=False),
        )  # fmt: skip
    before = _snapshot(ticket)
    _apply_changes(session, ticket, changes)
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


def _route_people(session: Session, ticket: Ticket, changes: dict[str, Any]) -> None:
    """Moving to another team hands the ticket back unless the assignee is in it; the people
    named must exist and fit together."""
    new_team = changes.get("team_id", ticket.team_id)
    keeps_assignee = "team_id" in changes and "assignee_id" not in changes
    moved_away = (
        keeps_assignee
        and ticket.assignee_id is not None
        and new_team is not None
        and not _is_member(session, new_team, ticket.assignee_id)
    )
    if moved_away:
        changes["assignee_id"] = None
    if {"assignee_id", "team_id", "customer_id"} & changes.keys():
        _check_people(
            session,
            assignee_id=changes.get("assignee_id", ticket.assignee_id),
            team_id=new_team,
            customer_id=changes.get("customer_id"),
        )


def _apply_changes(session: Session, ticket: Ticket, changes: dict[str, Any]) -> None:
    """Set the changed values, with what each implies (rank, tags rows, organisation)."""
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


def _custom_after(
    session: Session,
    *,
    actor: Principal,
    ticket: Ticket,
    changes: dict[str, Any],
    timezone: str,
    surface: str,
) -> tuple[dict[str, Any], int | None]:
    """The custom values after an edit, validated by the ticket's form version."""
    system = {
        "subject": changes.get("subject", ticket.subject),
        "type": changes.get("type_key", ticket.type_key),
        "priority": changes.get("priority", ticket.priority),
        "status": changes.get("status", ticket.status),
        "channel": ticket.channel,
        "customer": changes.get("customer_id", ticket.customer_id),
        "assignee": changes.get("assignee_id", ticket.assignee_id),
        "team": changes.get("team_id", ticket.team_id),
        "tags": list(changes.get("tags", ticket.tags)),
    }
    return custom_fields.on_update(
        session, ticket_id=ticket.id, type_key=system["type"], form_version=ticket.form_version,
        type_changed=system["type"] != ticket.type_key, surface=surface,
        submitted=changes.get("custom") or {}, previous=ticket.custom or {}, system=system,
        timezone=timezone, actor_id=actor.user_id,
    )  # fmt: skip


def record_change(
    session: Session,
    *,
    ticket: Ticket,
    actor: Principal,
    old: dict[str, Any],
    new: dict[str, Any],
    ip: str | None = None,
    cause: str = "updated",
) -> None:
    """History row, `ticket.updated` event and audit row for one change of a ticket, whatever
    made it: `cause` names it on the timeline ("updated"; "reopened" by a customer's reply)
    and in the event's payload, so the engines see every change as the same event."""
    changes = {k: [old.get(k), new[k]] for k in new}
    _log(
        session, ticket_id=ticket.id, actor=actor, kind=cause, event="ticket.updated",
        changes=changes, payload={"changes": changes, "cause": cause}, before=old, after=new,
        ip=ip,
    )  # fmt: skip


_INSERT_HISTORY = insert(table(TicketEvent))


def _history(
    actor: Principal, kind: str, changes: dict[str, Any], ticket_id: int | None = None
) -> Children:
    """The timeline row of a change (of the ticket being inserted, when no id is given)."""
    row = {"ticket_id": New() if ticket_id is None else ticket_id, "actor_id": actor.user_id,
           "actor_name": actor.name, "kind": kind, "changes": changes,
           "created_at": utcnow()}  # fmt: skip
    return Children(table(TicketEvent), [row])


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
    event: str | None = None,
) -> None:
    """The three records of every ticket change: its history, its event, the audit log."""
    [history] = _history(actor, kind, changes, ticket_id).rows
    session.execute(_INSERT_HISTORY, history)
    jobs.emit(
        session, event or f"ticket.{kind}", entity="ticket", entity_id=ticket_id,
        actor_id=actor.user_id, payload=payload,
    )  # fmt: skip
    audit.record(
        session, actor_id=actor.user_id, actor_name=actor.name,
        action="create" if kind == "created" else "update", entity="ticket",
        entity_id=ticket_id, before=before, after=after, ip=ip,
    )  # fmt: skip
