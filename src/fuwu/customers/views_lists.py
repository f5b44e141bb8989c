"""What the customer, organisation and asset lists share: the condition builder on any of
their fields (custom ones included) and the CSV export of what the list shows, for Excel."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from fuwu.auth.deps import UiStaff
from fuwu.auth.principal import Principal
from fuwu.customers import export
from fuwu.fields.designer import list_filter
from fuwu.fields.designer.list_filter import ListFilter
from fuwu.kit.i18n import gettext
from fuwu.web.deps import DbSession
from fuwu.web.downloads import csv_response
from fuwu.web.errors import locale_of

router = APIRouter(include_in_schema=False)
Text = Annotated[str | None, Query(max_length=100)]
# entity → (the list's URL, what its builder says before the rows)
LISTS = {
    "contact": ("/customers", "Show customers where"),
    "organisation": ("/organisations", "Show organisations where"),
    "asset": ("/assets", "Show assets where"),
}


def filtered(request: Request, session: Session, me: Principal, entity: str) -> ListFilter:
    """The builder of the list's query string, as SQL on the entity's rows."""
    return list_filter.list_filter(
        session, request.query_params, entity=entity, locale=locale_of(request),
        user_id=me.user_id, timezone=request.app.state.settings.timezone,
    )  # fmt: skip


def builder_context(
    request: Request, session: Session, entity: str, found: ListFilter
) -> dict[str, Any]:
    """What the list page's builder and export button need."""
    locale = locale_of(request)
    url, subject = LISTS[entity]
    query = request.url.query
    return {
        **list_filter.template_context(session, locale, entity),
        "custom_filter": found,
        "builder_subject": gettext(locale, subject),
        "clear_url": f"{url}?match=all",
        "export_url": f"{url}/export.csv" + (f"?{query}" if query else ""),
    }


def _export(
    request: Request, session: Session, me: Principal, entity: str, q: str | None
) -> Response:
    found = filtered(request, session, me, entity)
    body = export.records_csv(
        session, entity=entity, actor=me, q=q or None, where=found.where,
        locale=locale_of(request), timezone=request.app.state.settings.timezone,
    )  # fmt: skip
    return csv_response(body, export.KINDS[entity].filename)


@router.get("/customers/export.csv")
def export_customers(request: Request, session: DbSession, me: UiStaff, q: Text = None) -> Response:
    """The customers the list shows (search and conditions), as CSV for Excel."""
    return _export(request, session, me, "contact", q)


@router.get("/organisations/export.csv")
def export_organisations(
    request: Request, session: DbSession, me: UiStaff, q: Text = None
) -> Response:
    """The organisations the list shows, as CSV for Excel."""
    return _export(request, session, me, "organisation", q)


@router.get("/assets/export.csv")
def export_assets(request: Request, session: DbSession, me: UiStaff, q: Text = None) -> Response:
    """The assets the list shows, as CSV for Excel."""
    return _export(request, session, me, "asset", q)
