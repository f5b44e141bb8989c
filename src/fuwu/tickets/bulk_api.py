"""REST route for changing many tickets at once: POST /api/v1/tickets/bulk."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from fuwu.auth.deps import scoped
from fuwu.auth.principal import Principal
from fuwu.tickets import bulk
from fuwu.tickets.schemas import BulkItem, BulkResult, ErrorRead, TicketBulkUpdate
from fuwu.web.deps import DbSession, client_ip
from fuwu.web.errors import describe, locale_of

router = APIRouter(prefix="/api/v1", tags=["tickets"])
Writer = Annotated[Principal, Depends(scoped("tickets:write"))]


@router.post("/tickets/bulk", response_model=BulkResult)
def bulk_update(
    data: TicketBulkUpdate, request: Request, session: DbSession, actor: Writer
) -> BulkResult:
    """Apply the same change to up to 100 tickets. Each is changed on its own: one that
    cannot take the change is reported with the error a single update would give (`failed`),
    the others are still changed. 200 with one result per ticket, in the order asked."""
    outcomes = bulk.bulk_update(
        session, actor=actor, ticket_ids=data.ids, changes=data.changes,
        timezone=request.app.state.settings.timezone, ip=client_ip(request),
    )  # fmt: skip
    locale = locale_of(request)
    results = [_item(o, locale) for o in outcomes]
    count = {r: sum(o.result == r for o in outcomes) for r in ("updated", "unchanged", "failed")}
    return BulkResult(results=results, **count)


def _item(outcome: bulk.Outcome, locale: str) -> BulkItem:
    error = outcome.error
    return BulkItem(
        id=outcome.ticket_id,
        number=outcome.number,
        result=outcome.result,
        error=ErrorRead(**describe(locale, error)) if error else None,
    )
