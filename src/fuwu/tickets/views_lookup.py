"""Search for the search pickers of reference fields (`static/js/picker.js`): the users,
teams, customers, organisations, assets or tickets whose names match what an agent typed, as
options."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from fuwu.auth import service as auth_service
from fuwu.auth.deps import UiStaff
from fuwu.auth.principal import Principal
from fuwu.customers import assets as customer_assets
from fuwu.customers import service as customers_service
from fuwu.tickets import repository
from fuwu.web.deps import DbSession
from fuwu.web.templating import render

router = APIRouter(include_in_schema=False)
Kind = Literal["user", "team", "customer", "organisation", "asset", "ticket"]
Found = list[tuple[int, str, str]]  # (id, name, a detail that tells two alike apart)
SHOWN = 10


@router.get("/lookup/{kind}")
def lookup(
    kind: Kind,
    request: Request,
    session: DbSession,
    me: UiStaff,
    q: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    """Up to ten matches of `q` among what the agent may see."""
    text = q.strip()
    found = _FINDERS[kind](session, me, text) if text else []
    return render(request, "fields/_lookup.html", {"found": found[:SHOWN]})


def _users(session: Session, me: Principal, text: str) -> Found:
    users = auth_service.list_users(session, q=text, staff_only=True, active_only=True, limit=SHOWN)
    return [(u.id, u.display_name, u.username) for u in users]


def _teams(session: Session, me: Principal, text: str) -> Found:
    teams = auth_service.list_teams(session, active_only=True)
    return [(t.id, t.name, "") for t in teams if text.lower() in t.name.lower()]


def _customers(session: Session, me: Principal, text: str) -> Found:
    contacts = customers_service.list_contacts(session, actor=me, q=text, limit=SHOWN)
    return [(c.id, c.name, c.phone or c.email or "") for c in contacts]


def _organisations(session: Session, me: Principal, text: str) -> Found:
    found = customers_service.list_organisations(session, actor=me, q=text, limit=SHOWN)
    return [(o.id, o.name, o.phone or "") for o in found]


def _assets(session: Session, me: Principal, text: str) -> Found:
    assets = customer_assets.list_assets(session, actor=me, q=text, limit=SHOWN)
    return [(a.id, f"{a.product} {a.model}".strip(), a.serial_number) for a in assets]


def _tickets(session: Session, me: Principal, text: str) -> Found:
    rows, _ = repository.list_tickets(
        session, actor=me, filters=repository.TicketFilter(q=text), limit=SHOWN
    )
    return [(t.id, t.number, t.subject) for t in rows]


_FINDERS = {
    "user": _users,
    "team": _teams,
    "customer": _customers,
    "organisation": _organisations,
    "asset": _assets,
    "ticket": _tickets,
}
