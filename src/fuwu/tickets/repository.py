"""Ticket queries: the filtered, permission-scoped, keyset-paged list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select, tuple_
from sqlalchemy.orm import Session, joinedload

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
) -> tuple[Sequence[Ticket], str | None]:
    """One page of tickets and the cursor of the next page (None on the last page)."""
    key, desc = parse_sort(sort)
    column = SORTS[key]
    stmt: Select[Ticket] = select(Ticket).where(and_(*_conditions(filters, actor)))
    if cursor:
        raw_value, last_id = decode_cursor(cursor, 2)
        value = _cursor_value(key, raw_value)
        if not isinstance(last_id, int) or isinstance(last_id, bool):
            raise ValidationFailed.single("cursor", "invalid_cursor")
        pair = tuple_(column, Ticket.id)
        stmt = stmt.where(pair < tuple_(value, last_id) if desc else pair > tuple_(value, last_id))
    order = (column.desc(), Ticket.id.desc()) if desc else (column.asc(), Ticket.id.asc())
    stmt = (
        stmt.order_by(*order)
        .limit(limit + 1)
        .options(
            # Lists show names only: load just those (not, say, a user's password hash), and
            # fail loudly (raiseload) if a template ever needs more, instead of N+1 queries.
            joinedload(Ticket.customer).load_only(Contact.id, Contact.name, raiseload=True),
            joinedload(Ticket.assignee).load_only(User.id, User.display_name, raiseload=True),
            joinedload(Ticket.team).load_only(Team.id, Team.name, raiseload=True),
            joinedload(Ticket.organisation).load_only(
                Organisation.id, Organisation.name, raiseload=True
            ),
        )
    )
    rows = session.scalars(stmt).unique().all()
    if len(rows) <= limit:
        return rows, None
    page = rows[:limit]
    last = page[-1]
    return page, encode_cursor([getattr(last, _attr(key)), last.id])


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
