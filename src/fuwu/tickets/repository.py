"""Ticket queries: the filtered, permission-scoped, keyset-paged list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, tuple_
from sqlalchemy.orm import Session

from fuwu.auth.models import Team, User
from fuwu.auth.principal import Principal
from fuwu.customers.models import Contact, Organisation
from fuwu.errors import ValidationFailed
from fuwu.kit.pagination import decode_cursor, encode_cursor
from fuwu.tickets.models import Ticket, TicketTag
from fuwu.tickets.permissions import visible
from fuwu.tickets.statuses import OPEN_CATEGORIES

SORTS: dict[str, Any] = {
    "created_at": Ticket.created_at,
    "updated_at": Ticket.updated_at,
    "priority": Ticket.priority_rank,
}
SORT_CHOICES = ", ".join(f"{p}{k}" for k in SORTS for p in ("", "-"))


@dataclass
class TicketFilter:
    """Every filter the inbox and the API accept; empty means 'any'."""

    status: list[str] = field(default_factory=list)
    status_category: list[str] = field(default_factory=list)
    priority: list[str] = field(default_factory=list)
    assignee: str | None = None  # user id, "me" or "none"
    team: str | None = None  # team id, "mine" or "none"
    customer_id: int | None = None
    organisation_id: int | None = None
    tag: str | None = None
    channel: str | None = None
    type: str | None = None
    q: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


def _id_or_error(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise ValidationFailed.single(name, "invalid") from exc


def _conditions(f: TicketFilter, actor: Principal) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [visible(actor)]
    categories = set(f.status_category)
    if categories and categories <= OPEN_CATEGORIES and categories == OPEN_CATEGORIES:
        conds.append(Ticket.is_open.is_(True))  # the inbox's "open" views use this index
    elif categories:
        conds.append(Ticket.status_category.in_(sorted(categories)))
    if f.status:
        conds.append(Ticket.status.in_(f.status))
    if f.priority:
        conds.append(Ticket.priority.in_(f.priority))
    if f.assignee == "me":
        conds.append(Ticket.assignee_id == actor.user_id)
    elif f.assignee == "none":
        conds.append(Ticket.assignee_id.is_(None))
    elif f.assignee:
        conds.append(Ticket.assignee_id == _id_or_error(f.assignee, "assignee"))
    if f.team == "mine":
        conds.append(Ticket.team_id.in_(sorted(actor.team_ids)))
    elif f.team == "none":
        conds.append(Ticket.team_id.is_(None))
    elif f.team:
        conds.append(Ticket.team_id == _id_or_error(f.team, "team"))
    if f.customer_id is not None:
        conds.append(Ticket.customer_id == f.customer_id)
    if f.organisation_id is not None:
        conds.append(Ticket.organisation_id == f.organisation_id)
    if f.tag:
        conds.append(Ticket.id.in_(select(TicketTag.ticket_id).where(TicketTag.tag == f.tag)))
    if f.channel:
        conds.append(Ticket.channel == f.channel)
    if f.type:
        conds.append(Ticket.type_key == f.type)
    if f.q:
        q = f.q.strip()
        conds.append(or_(Ticket.number == q, Ticket.subject.ilike(f"%{q}%")))
    if f.created_after:
        conds.append(Ticket.created_at >= _as_utc(f.created_after))
    if f.created_before:
        conds.append(Ticket.created_at < _as_utc(f.created_before))
    return conds


def _as_utc(value: datetime) -> datetime:
    """A time without an offset is UTC, like every time the API returns (a 500 before)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def parse_sort(sort: str) -> tuple[str, bool]:
    """('created_at', True) for '-created_at': the key and whether it is descending."""
    desc = sort.startswith("-")
    key = sort.lstrip("-+ ")
    if key not in SORTS:
        raise ValidationFailed.single("sort", "invalid_sort", choices=SORT_CHOICES)
    return key, desc


def list_tickets(
    session: Session,
    *,
    actor: Principal,
    filters: TicketFilter,
    sort: str = "-created_at",
    limit: int = 25,
    cursor: str | None = None,
) -> tuple[Sequence[TicketRow], str | None]:
    """One page of tickets and the cursor of the next page (None on the last page)."""
    key, desc = parse_sort(sort)
    column = SORTS[key]
    stmt = _LIST_SELECT.where(and_(*_conditions(filters, actor)))
    if cursor:
        raw_value, last_id = decode_cursor(cursor, 2)
        value = _cursor_value(key, raw_value)
        if not isinstance(last_id, int) or isinstance(last_id, bool):
            raise ValidationFailed.single("cursor", "invalid_cursor")
        pair = tuple_(column, Ticket.id)
        stmt = stmt.where(pair < tuple_(value, last_id) if desc else pair > tuple_(value, last_id))
    order = (column.desc(), Ticket.id.desc()) if desc else (column.asc(), Ticket.id.asc())
    rows = [_row(r) for r in session.execute(stmt.order_by(*order).limit(limit + 1)).mappings()]
    if len(rows) <= limit:
        return rows, None
    page = rows[:limit]
    last = page[-1]
    return page, encode_cursor([getattr(last, _attr(key)), last.id])


@dataclass(frozen=True, slots=True)
class NameRef:
    """The id and name of a related row, as a list shows it."""

    id: int
    name: str


@dataclass(frozen=True, slots=True)
class UserRef:
    id: int
    display_name: str


@dataclass(frozen=True, slots=True)
class TicketRow:
    """A ticket as lists see it: its columns and the names of its people, read-only.

    Lists are built from plain rows, not ORM objects: hydrating 25 tickets with four joined
    entities cost most of an inbox page's time (docs/benchmarks.md).
    """

    id: int
    number: str
    subject: str
    description: str
    type_key: str
    status: str
    status_category: str
    is_open: bool
    priority: str
    priority_rank: int
    channel: str
    customer_id: int | None
    organisation_id: int | None
    assignee_id: int | None
    team_id: int | None
    created_by_id: int | None
    custom: dict[str, Any]
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    version: int
    customer: NameRef | None
    organisation: NameRef | None
    assignee: UserRef | None
    team: NameRef | None


_TICKET_COLUMNS = tuple(c.key for c in Ticket.__table__.columns)
_LIST_SELECT = (
    select(
        *Ticket.__table__.columns,
        Contact.name.label("customer_name"),
        Organisation.name.label("organisation_name"),
        User.display_name.label("assignee_name"),
        Team.name.label("team_name"),
    )
    .select_from(Ticket)
    .outerjoin(Contact, Contact.id == Ticket.customer_id)
    .outerjoin(Organisation, Organisation.id == Ticket.organisation_id)
    .outerjoin(User, User.id == Ticket.assignee_id)
    .outerjoin(Team, Team.id == Ticket.team_id)
)


def _row(m: Any) -> TicketRow:
    values = {k: m[k] for k in _TICKET_COLUMNS}
    cid, oid, aid, tid = m["customer_id"], m["organisation_id"], m["assignee_id"], m["team_id"]
    return TicketRow(
        **values,
        customer=NameRef(cid, m["customer_name"]) if cid is not None else None,
        organisation=NameRef(oid, m["organisation_name"]) if oid is not None else None,
        assignee=UserRef(aid, m["assignee_name"]) if aid is not None else None,
        team=NameRef(tid, m["team_name"]) if tid is not None else None,
    )


def _attr(key: str) -> str:
    return "priority_rank" if key == "priority" else key


def _cursor_value(key: str, raw: Any) -> Any:
    try:
        if key == "priority":
            return int(raw)
        value = datetime.fromisoformat(str(raw))
        if value.tzinfo is None:  # we only issue aware times; SQLite compares them as UTC text
            raise ValueError("cursor time without offset")
        return value.astimezone(UTC)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed.single("cursor", "invalid_cursor") from exc
