"""Which tickets a principal may see: one filter for the API, the UI and every list."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import ColumnElement, false, or_, true

from fuwu.auth.principal import Principal
from fuwu.tickets.models import Ticket


def visible(actor: Principal) -> ColumnElement[bool]:
    """SQL filter of the tickets `actor` may see."""
    if actor.sees_all_tickets:
        return true()
    if not actor.is_staff:
        return Ticket.customer_id == actor.contact_id if actor.contact_id else false()
    clauses: list[ColumnElement[bool]] = [Ticket.team_id.is_(None)]
    if actor.team_ids:
        clauses.append(Ticket.team_id.in_(sorted(actor.team_ids)))
    if actor.user_id is not None:
        clauses.append(Ticket.assignee_id == actor.user_id)
    return or_(*clauses)


class Placed(Protocol):
    """What decides who sees a ticket: a loaded ticket, or a row of just these columns."""

    @property
    def customer_id(self) -> int | None: ...
    @property
    def team_id(self) -> int | None: ...
    @property
    def assignee_id(self) -> int | None: ...


def can_see(actor: Principal, ticket: Placed) -> bool:
    """The same rule as `visible`, for one loaded ticket (or its `Placed` columns)."""
    if actor.sees_all_tickets:
        return True
    if not actor.is_staff:
        return actor.contact_id is not None and ticket.customer_id == actor.contact_id
    return (
        ticket.team_id is None
        or ticket.team_id in actor.team_ids
        or (actor.user_id is not None and ticket.assignee_id == actor.user_id)
    )
