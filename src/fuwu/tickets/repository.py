"""Ticket queries: the filtered, permission-scoped, keyset-paged list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, exists, func, or_, select, tuple_
from sqlalchemy.orm import Session

from fuwu.auth.models import Team, TeamMember, User
from fuwu.auth.principal import Principal
from fuwu.conditions.schema import FieldRef
from fuwu.customers.models import Contact, Organisation
from fuwu.errors import ValidationFailed
from fuwu.kit.ids import parse_id
from fuwu.kit.jsonsql import from_json_value, to_json_value
from fuwu.kit.pagination import decode_cursor, encode_cursor
from fuwu.tickets import filters as ticket_filters
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
    where: ColumnElement[bool] | None = None  # `filter`, in the condition language
    sort: str | None = None  # a saved view's sort, used when the caller asks for none
    # Custom field → ticket types on which the caller may read it (None: all, for staff).
    readable: Mapping[str, frozenset[str]] | None = None


def _id_or_error(value: str, name: str) -> int:
    found = parse_id(value)
    if found is None:
        raise ValidationFailed.single(name, "invalid")
    return found


def _conditions(f: TicketFilter, actor: Principal) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [visible(actor)]
    if f.where is not None:
        conds.append(f.where)
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
        conds.append(or_(Ticket.number == q, Ticket.subject.icontains(q, autoescape=True)))
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
    key, desc = sort.lstrip("-+ "), sort.startswith("-")
    if key not in SORTS:
        # Customers sort by system columns only: a custom field's order would tell them about
        # the values of tickets whose type does not show it.
        readable = None if filters.readable is None else ()
        custom = ticket_filters.sort_ref(session, key, readable)
        if custom is not None:
            return _list_by_custom(session, actor, filters, custom, desc, limit, cursor)
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


def _list_by_custom(
    session: Session,
    actor: Principal,
    filters: TicketFilter,
    ref: FieldRef,
    desc: bool,
    limit: int,
    cursor: str | None,
) -> tuple[Sequence[TicketRow], str | None]:
    """A page sorted by a custom field, empty values last, with a keyset cursor."""
    assert ref.column is not None
    column = ref.column
    stmt = _LIST_SELECT.add_columns(column.label("_sort")).where(and_(*_conditions(filters, actor)))
    if cursor:
        raw_value, last_id = decode_cursor(cursor, 2)
        if not isinstance(last_id, int) or isinstance(last_id, bool):
            raise ValidationFailed.single("cursor", "invalid_cursor")
        try:
            value = from_json_value(ref.kind, raw_value)
        except (TypeError, ValueError) as exc:
            raise ValidationFailed.single("cursor", "invalid_cursor") from exc
        stmt = stmt.where(ticket_filters.after(column, value, last_id, desc=desc))
    direction = column.desc() if desc else column.asc()
    order = (direction.nulls_last(), Ticket.id.desc() if desc else Ticket.id.asc())
    found = list(session.execute(stmt.order_by(*order).limit(limit + 1)).mappings())
    rows = [_row(r) for r in found]
    if len(rows) <= limit:
        return rows, None
    last = found[limit - 1]
    return rows[:limit], encode_cursor([to_json_value(ref.kind, last["_sort"]), last["id"]])


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
    form_version: int | None
    workflow_key: str | None
    workflow_version: int | None
    parent_id: int | None
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


# The ticket columns a TicketRow carries (a column added to the table does not break rows).
ROW_COLUMNS = tuple(f.name for f in fields(TicketRow) if f.name in Ticket.__table__.c)
_LIST_SELECT = (
    select(
        *(Ticket.__table__.c[k] for k in ROW_COLUMNS),
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


def list_select() -> Any:
    """The list query: ticket columns and the names of its people (for exports too)."""
    return _LIST_SELECT


def conditions(f: TicketFilter, actor: Principal) -> list[ColumnElement[bool]]:
    """The WHERE parts of a filter, visibility included."""
    return _conditions(f, actor)


def _row(m: Any) -> TicketRow:
    values = {k: m[k] for k in ROW_COLUMNS}
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


@dataclass(frozen=True, slots=True)
class PeopleRefs:
    """The customer, organisation, team and assignee a ticket names, as they are stored."""

    customer: NameRef | None
    customer_organisation_id: int | None
    organisation: NameRef | None
    team: NameRef | None
    assignee: UserRef | None
    assignee_active: bool
    assignee_role: str | None
    assignee_in_team: bool


def _scalar(column: Any, *where: ColumnElement[bool]) -> Any:
    return select(column).where(*where).correlate(None).scalar_subquery()


_CID: Any = bindparam("customer_id")
_TID: Any = bindparam("team_id")
_AID: Any = bindparam("assignee_id")
# One round trip instead of a get() per row (ticket intake: docs/benchmarks.md). Scalar
# subqueries on primary keys; an absent id (NULL) simply finds nothing.
_PEOPLE = select(
    _scalar(Contact.name, Contact.id == _CID).label("customer_name"),
    _scalar(Contact.organisation_id, Contact.id == _CID).label("organisation_id"),
    _scalar(
        Organisation.name, Organisation.id == Contact.organisation_id, Contact.id == _CID
    ).label("organisation_name"),
    _scalar(Team.name, Team.id == _TID).label("team_name"),
    _scalar(User.display_name, User.id == _AID).label("assignee_name"),
    _scalar(User.is_active, User.id == _AID).label("assignee_active"),
    _scalar(User.role, User.id == _AID).label("assignee_role"),
    exists()
    .where(TeamMember.team_id == _TID, TeamMember.user_id == _AID)
    .label("assignee_in_team"),
)


def people_refs(
    session: Session, *, customer_id: int | None, team_id: int | None, assignee_id: int | None
) -> PeopleRefs:
    """Names and states of the people a ticket refers to, in one query; absent ones are None."""
    m = (
        session.execute(
            _PEOPLE, {"customer_id": customer_id, "team_id": team_id, "assignee_id": assignee_id}
        )
        .mappings()
        .one()
    )
    org_id = m["organisation_id"]
    return PeopleRefs(
        customer=_ref(NameRef, customer_id, m["customer_name"]),
        customer_organisation_id=org_id,
        organisation=_ref(NameRef, org_id, m["organisation_name"]),
        team=_ref(NameRef, team_id, m["team_name"]),
        assignee=_ref(UserRef, assignee_id, m["assignee_name"]),
        assignee_active=bool(m["assignee_active"]),
        assignee_role=m["assignee_role"],
        assignee_in_team=bool(m["assignee_in_team"]),
    )


def is_member(session: Session, team_id: int, user_id: int) -> bool:
    """Whether the user is in the team."""
    return session.get(TeamMember, (team_id, user_id)) is not None


def _ref(cls: Any, id_: int | None, name: str | None) -> Any:
    return cls(id_, name) if id_ is not None and name is not None else None


def visible_row(session: Session, actor: Principal, ticket_id: int) -> TicketRow | None:
    """One ticket as a list row, if `actor` may see it."""
    found = session.execute(
        _LIST_SELECT.where(Ticket.id == ticket_id, visible(actor))
    ).mappings().first()  # fmt: skip
    return _row(found) if found is not None else None


def children(session: Session, actor: Principal, ticket_id: int) -> list[TicketRow]:
    """The tickets opened under this one that `actor` may see, oldest first."""
    stmt = _LIST_SELECT.where(Ticket.parent_id == ticket_id, visible(actor)).order_by(Ticket.id)
    return [_row(m) for m in session.execute(stmt).mappings()]


def open_children(session: Session, ticket_id: int) -> int:
    """How many child tickets of this ticket are still open."""
    stmt = select(func.count()).where(Ticket.parent_id == ticket_id, Ticket.is_open.is_(True))
    return int(session.scalar(stmt) or 0)


def open_by_status(session: Session, types: Sequence[str], workflow: str) -> dict[str, int]:
    """How many open tickets of these types are in each status, leaving out those pinned to
    `workflow` (they stay on the version they run on)."""
    rows = session.execute(
        select(Ticket.status, func.count())
        .where(Ticket.type_key.in_(list(types)), Ticket.is_open.is_(True),
               or_(Ticket.workflow_key.is_(None), Ticket.workflow_key != workflow))
        .group_by(Ticket.status)
    )  # fmt: skip
    return {status: int(n) for status, n in rows}
