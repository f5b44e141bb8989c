"""The inbox's bulk bar: change the tickets an agent ticked, all at once (`tickets.bulk`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from pydantic import ValidationError
from starlette.responses import Response

from fuwu.auth.deps import Csrf, UiStaff
from fuwu.errors import ValidationFailed
from fuwu.tickets import bulk
from fuwu.tickets.schemas import BulkChanges, TicketBulkUpdate
from fuwu.web import forms
from fuwu.web.deps import DbSession, client_ip
from fuwu.web.errors import describe, from_pydantic, locale_of
from fuwu.web.templating import page

router = APIRouter(include_in_schema=False)
Short = Annotated[str, Form(max_length=2_000)]
KEEP = ""  # a select left on "keep as it is"
NOBODY = "none"  # clears the team or the assignee


@router.post("/tickets/bulk", dependencies=[Csrf])
def bulk_update(
    request: Request,
    session: DbSession,
    me: UiStaff,
    ids: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies its defaults)
    status: Short = KEEP,
    priority: Short = KEEP,
    team_id: Short = KEEP,
    assignee_id: Short = KEEP,
    add_tags: Short = "",
    remove_tags: Short = "",
    back: Short = "/inbox",  # the inbox view to return to
) -> Response:
    """Apply the bar's choices to the ticked tickets; show what became of each."""
    chosen = {"status": status, "priority": priority, "team_id": team_id,
              "assignee_id": assignee_id, "add_tags": forms.tags(add_tags),
              "remove_tags": forms.tags(remove_tags)}  # fmt: skip
    changes: dict[str, Any] = {
        name: None if value == NOBODY else value
        for name, value in chosen.items()
        if value not in (KEEP, [])
    }
    try:
        data = TicketBulkUpdate(ids=ids, changes=BulkChanges(**changes))
    except ValidationError as exc:
        raise ValidationFailed([from_pydantic(dict(e)) for e in exc.errors()]) from exc
    outcomes = bulk.bulk_update(
        session, actor=me, ticket_ids=data.ids, changes=data.changes,
        timezone=request.app.state.settings.timezone, ip=client_ip(request),
    )  # fmt: skip
    locale = locale_of(request)
    context = {
        "outcomes": outcomes,
        "errors": {o.ticket_id: describe(locale, o.error) for o in outcomes if o.error},
        "counts": {
            r: sum(o.result == r for o in outcomes) for r in ("updated", "unchanged", "failed")
        },
        "back": back if back.startswith("/inbox") else "/inbox",
    }
    response = page(request, "tickets/bulk_done.html", "tickets/_bulk_result.html", context)
    response.headers["HX-Trigger"] = "bulk-done"  # the inbox reloads its list
    return response
