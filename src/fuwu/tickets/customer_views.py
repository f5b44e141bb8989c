"""The customer page's ticket list: an htmx fragment, here because customers sit below tickets."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from fuwu.auth.deps import UiStaff
from fuwu.kit.ids import Id
from fuwu.tickets import repository as tickets_repository
from fuwu.web.deps import DbSession
from fuwu.web.templating import render
from fuwu.workflows import statuses

router = APIRouter(include_in_schema=False)
RECENT = 10


@router.get("/customers/{contact_id}/tickets")
def customer_tickets(request: Request, session: DbSession, me: UiStaff, contact_id: Id) -> Response:
    """The customer's latest tickets that the caller may see, newest first."""
    tickets, more = tickets_repository.list_tickets(
        session,
        actor=me,
        filters=tickets_repository.TicketFilter(customer_id=contact_id),
        limit=RECENT,
    )
    locale = getattr(request.state, "locale", "zh_CN")
    labels = {k: s.label(locale) for k, s in statuses.catalogue(session).statuses.items()}
    context = {"tickets": tickets, "more": more is not None, "status_labels": labels}
    return render(request, "customers/_tickets.html", context)
