"""HTML routes for the inbox and tickets: full pages, or just the fragment for htmx."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import Response, StreamingResponse

from fuwu.auth.deps import Csrf, UiStaff, UiUser
from fuwu.auth.principal import Principal
from fuwu.db import transaction
from fuwu.errors import Conflict, ValidationFailed
from fuwu.fields.designer import list_filter
from fuwu.jobs import service as jobs
from fuwu.kit.i18n import gettext
from fuwu.kit.ids import Id
from fuwu.tickets import custom as custom_fields
from fuwu.tickets import messages as messages_service
from fuwu.tickets import (
    repository,
    saved_views,
    uploads,
    views_bulk,
    views_custom,
    views_filters,
    views_lookup,
)
from fuwu.tickets import service as tickets_service
from fuwu.tickets import views_support as support
from fuwu.tickets.schemas import AGENT_CHANNELS, TicketCreate, TicketUpdate
from fuwu.tickets.statuses import OPEN_CATEGORIES, PRIORITIES
from fuwu.web import forms
from fuwu.web.deps import DbSession, SettingsDep, client_ip
from fuwu.web.downloads import download_response
from fuwu.web.errors import from_pydantic, locale_of
from fuwu.web.forms import Posted
from fuwu.web.templating import VARY, is_htmx, page, redirect, render
from fuwu.workflows import statuses

router = APIRouter(include_in_schema=False)
router.include_router(views_bulk.router)  # before /tickets/{ticket_id}
router.include_router(views_custom.router)
router.include_router(views_filters.router)
router.include_router(views_lookup.router)

PAGE_SIZE = 25
# Live updates: how often the stream looks for news, when it proves it is alive, and how long
# one stream lives before the browser reconnects (keeps proxies and load balancers happy).
SSE_POLL_SECONDS = 2.0
SSE_HEARTBEAT_SECONDS = 15.0
SSE_MAX_SECONDS = 300.0

SAVED_VIEWS: dict[str, dict[str, str]] = {
    "mine": {"assignee": "me"},
    "unassigned": {"assignee": "none"},
    "team": {"team": "mine"},
    "all": {},
}
SORT_OPTIONS = (
    "-updated_at",
    "updated_at",
    "-created_at",
    "created_at",
    "-priority",
    "priority",
)
# Where an error about a field of the service's data shows on the create form.
FORM_FIELDS = {
    "customer.name": "customer_name",
    "customer.email": "customer_email",
    "customer.phone": "customer_phone",
    "email": "customer_email",
    "phone": "customer_phone",
    "tags": "tags",
}
Text = Annotated[str, Form(max_length=100_000)]
Short = Annotated[str, Form(max_length=2_000)]
Param = Annotated[str | None, Query(max_length=200)]


# ---------------------------------------------------------------- helpers


def _optional_id(value: str) -> str | None:
    value = value.strip()
    return value or None


# ---------------------------------------------------------------- inbox


@dataclass
class InboxQuery:
    """The inbox's query string, cleaned: unknown values fall back to the defaults."""

    view: str
    status: str
    priority: str
    team: str
    assignee: str
    q: str
    tag: str
    sort: str
    builder: str = ""  # the filter builder's rows, urlencoded

    def filters(self, actor: Principal) -> repository.TicketFilter:
        found = repository.TicketFilter()
        if actor.is_staff:
            base = SAVED_VIEWS.get(self.view, {})  # a saved view of the user's: no base
            found.assignee = self.assignee or base.get("assignee")
            found.team = self.team or base.get("team")
        if self.status:
            found.status = [self.status]
        elif actor.is_staff:
            found.status_category = sorted(OPEN_CATEGORIES)
        found.priority = [self.priority] if self.priority else []
        found.q = self.q or None
        found.tag = self.tag or None
        return found

    def params(self, **override: str) -> str:
        values = {**self.__dict__, **override}
        builder = values.pop("builder")
        plain = urlencode({k: v for k, v in values.items() if v})
        return "&".join(p for p in (plain, builder) if p)


def _clean(value: str | None, allowed: Mapping[str, Any] | tuple[str, ...] | None = None) -> str:
    value = (value or "").strip()
    if allowed is not None and value not in allowed:
        return ""
    return value


def _id_filter(value: str | None, words: tuple[str, ...]) -> str:
    value = _clean(value)
    return value if value in words or value.isdigit() else ""


@router.get("/inbox")
def inbox(
    request: Request,
    session: DbSession,
    me: UiUser,
    view: Param = None,
    status: Param = None,
    priority: Param = None,
    team: Param = None,
    assignee: Param = None,
    q: Param = None,
    tag: Param = None,
    sort: Param = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """The agent inbox (saved views, filters, sort, next page) or the customer's own tickets."""
    query = InboxQuery(
        # Supervisors and admins start on everything open; agents on their own work.
        view=_view_key(view) or ("all" if me.sees_all_tickets else "mine"),
        status=_clean(status, statuses.catalogue(session).statuses),
        priority=_clean(priority, PRIORITIES),
        team=_id_filter(team, ("mine", "none")),
        assignee=_id_filter(assignee, ("me", "none")),
        q=_clean(q),
        tag=_clean(tag),
        sort=_clean(sort),
    )
    extra = _custom_filter(request, session, me, query)
    filters = query.filters(me)
    filters.where = extra["custom_filter"].where
    tickets, next_cursor = repository.list_tickets(
        session,
        actor=me,
        filters=filters,
        sort=query.sort,
        limit=PAGE_SIZE,
        cursor=cursor or None,
    )
    context = {
        **support.ui(request, session),
        **extra,
        "nav_active": "inbox",
        "query": query,
        "tickets": tickets,
        "next_url": f"/inbox?{query.params(cursor=next_cursor)}" if next_cursor else None,
        "saved_views": list(SAVED_VIEWS),
        "sort_options": SORT_OPTIONS,
        "first_page": cursor is None,
    }
    if me.is_staff and not is_htmx(request):
        context.update(support.lookups(session))
    return page(request, "tickets/inbox.html", "tickets/_list.html", context)


def _view_key(value: str | None) -> str:
    """A built-in view's name or a saved view's id."""
    value = _clean(value)
    return value if value in SAVED_VIEWS or (value.isdigit() and len(value) < 12) else ""


def _custom_filter(
    request: Request, session: Session, me: Principal, query: InboxQuery
) -> dict[str, Any]:
    """The builder's filter, the saved views and the sorts; fixes up the query's sort."""
    locale = locale_of(request)
    timezone = request.app.state.settings.timezone
    found = views_filters.inbox_filter(request, session, me, view=query.view, timezone=timezone)
    query.builder = found.builder.params()
    builder = list_filter.template_context(session, locale, "ticket") if me.is_staff else {}
    choices = builder.get("filter_fields", [])
    custom_sorts = list_filter.sort_choices(choices, locale)
    allowed = (*SORT_OPTIONS, *(value for value, _ in custom_sorts))
    default = found.saved.sort if found.saved is not None else "-updated_at"
    query.sort = query.sort if query.sort in allowed else ""
    query.sort = query.sort or (default if default in allowed else "-updated_at")
    return {
        "custom_filter": found,
        "custom_sorts": custom_sorts,
        **builder,
        "builder_subject": gettext(locale, "Show tickets where"),
        "clear_url": f"/inbox?{urlencode({'view': query.view, 'match': 'all'})}",
        "share_teams": views_filters.share_teams(session, me),
        "user_views": saved_views.list_views(session, actor=me) if me.is_staff else [],
        "can_share": me.role in saved_views.SHARERS,
        "can_change": lambda v: saved_views.can_change(me, v),
    }


def _latest_event(reader: sessionmaker[Session]) -> int:
    with transaction(reader) as session:
        return jobs.latest_event_id(session)


async def _change_stream(request: Request) -> AsyncIterator[str]:
    """'changed' whenever a new domain event exists; a comment now and then to stay alive."""
    reader = request.app.state.reader
    last = await run_in_threadpool(_latest_event, reader)
    started = last_sent = time.monotonic()
    yield f"retry: {int(SSE_POLL_SECONDS * 1000) + 1000}\n: connected\n\n"
    while time.monotonic() - started < SSE_MAX_SECONDS:
        await asyncio.sleep(SSE_POLL_SECONDS)
        if await request.is_disconnected():
            return
        current = await run_in_threadpool(_latest_event, reader)
        now = time.monotonic()
        if current != last:
            last, last_sent = current, now
            yield "event: changed\ndata: changed\n\n"  # no ids or content: only "look again"
        elif now - last_sent >= SSE_HEARTBEAT_SECONDS:
            last_sent = now
            yield ": heartbeat\n\n"


@router.get("/inbox/events")
async def inbox_events(request: Request, me: UiUser) -> StreamingResponse:
    """Server-sent events telling an open inbox to reload its list."""
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(
        _change_stream(request), media_type="text/event-stream", headers=headers
    )


# ---------------------------------------------------------------- create


CREATE_FIELDS = (
    "subject",
    "description",
    "priority",
    "type",
    "customer_name",
    "customer_email",
    "customer_phone",
    "team_id",
    "assignee_id",
    "tags",
    "channel",
)


def _create_form(
    request: Request,
    session: Session,
    me: Principal,
    values: dict[str, str],
    *,
    posted: FormData | None = None,
    errors: dict[str, list[str]] | None = None,
    custom_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """The new-ticket form: system inputs, the type picker and the chosen type's fields."""
    choices = support.type_choices(session, me, locale_of(request))
    type_key = support.chosen_type(choices, values.get("type"))
    form = support.load_form(session, type_key, request.app.state.settings.timezone)
    context: dict[str, Any] = {
        **support.ui(request, session),
        "nav_active": "new",
        "values": values,
        "errors": errors or {},
        "types": choices,
        "system_order": support.system_order(form, support.create_surface(me), staff=me.is_staff),
        **support.new_fields(
            request, session, me, type_key=type_key, posted=posted, errors=custom_errors
        ),
    }
    if me.is_staff:
        context.update(support.lookups(session), agent_channels=AGENT_CHANNELS)
    return page(
        request, "tickets/new.html", "tickets/_new_form.html", context, status_code=status_code
    )


@router.post("/tickets/new/form", dependencies=[Csrf])
def new_ticket_form(request: Request, session: DbSession, me: UiUser, form: Posted) -> Response:
    """The whole form again for another type, with what is typed so far: each type's form
    places the system fields its own way."""
    values = {name: _posted_text(form, name) for name in CREATE_FIELDS}
    return _create_form(request, session, me, values, posted=form)


@router.get("/tickets/new")
def new_ticket_page(
    request: Request, session: DbSession, me: UiUser, type: Param = None
) -> Response:
    """The form to open a ticket (reduced for customers); `?type=` preselects a ticket type."""
    return _create_form(request, session, me, {"priority": "normal", "type": type or ""})


def _create_payload(me: Principal, values: dict[str, str]) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "subject": values["subject"],
        "description": values["description"],
        "priority": values["priority"] or "normal",
        "type": values["type"] or support.GENERAL,
    }
    if not me.is_staff:
        return payload
    customer = {k: values[f"customer_{k}"].strip() or None for k in ("name", "email", "phone")}
    if any(customer.values()):
        payload["customer"] = customer
    payload["team_id"] = _optional_id(values["team_id"])
    payload["assignee_id"] = _optional_id(values["assignee_id"])
    payload["tags"] = forms.tags(values["tags"])
    payload["channel"] = values["channel"] if values["channel"] in AGENT_CHANNELS else "web"
    return payload


@router.post("/tickets/new", dependencies=[Csrf])
def create_ticket(
    request: Request, session: DbSession, me: UiUser, settings: SettingsDep, form: Posted
) -> Response:
    """Open a ticket from the form; invalid input comes back with per-field messages, under
    the custom fields too, with everything typed kept."""
    values = {name: _posted_text(form, name) for name in CREATE_FIELDS}
    locale = locale_of(request)
    choices = support.type_choices(session, me, locale)
    type_key = values["type"] or support.GENERAL
    surface = support.create_surface(me)
    try:
        if support.chosen_type(choices, type_key) != type_key:  # a type the user may not pick
            raise ValidationFailed.single("type", "invalid_choice")
        compiled = support.load_form(session, type_key, settings.timezone)
        payload = _create_payload(me, values)
        payload["custom"] = support.posted_custom(compiled, surface, form)
        data = _validated(session, me, payload, surface, settings.timezone, form)
        kinds = custom_fields.file_fields(
            session, type_key=type_key, surface=surface, timezone=settings.timezone
        )
        by_field, staged = uploads.stage(
            session, actor=me, store=request.app.state.store,
            uploads=uploads.posted_files(form, {"attachments": None, **{k: k for k in kinds}}),
            rules=uploads.FileRules.of(settings), kinds=kinds,
        )  # fmt: skip
        data.custom = {**data.custom, **by_field}
        ticket = tickets_service.create_ticket(
            session,
            actor=me,
            data=data,
            number_pattern=settings.ticket_number_pattern,
            timezone=settings.timezone,
            default_channel="web",
            surface=surface,
            attachments=staged,
        )
    except ValidationFailed as exc:
        session.rollback()
        custom, others = support.split_errors(locale, exc.errors)
        errors = forms.place(locale, others, where=FORM_FIELDS)
        return _create_form(
            request, session, me, values, posted=form, errors=errors, custom_errors=custom,
            status_code=422,
        )  # fmt: skip
    return redirect(request, f"/tickets/{ticket.id}")


def _validated(
    session: Session,
    me: Principal,
    payload: dict[str, Any],
    surface: str,
    timezone: str,
    posted: FormData,
) -> TicketCreate:
    """The new ticket's data; when its system input is wrong, ValidationFailed naming that
    and every error of the custom fields too, so the form is corrected in one round."""
    try:
        return TicketCreate.model_validate(payload)
    except ValidationError as exc:
        errors = [from_pydantic(dict(e)) for e in exc.errors()]
    errors += custom_fields.form_errors(
        session, type_key=payload["type"], surface=surface, submitted=payload["custom"],
        system=support.new_system(me, posted), timezone=timezone, actor_id=me.user_id,
    )  # fmt: skip
    raise ValidationFailed(errors)


def _posted_text(form: FormData, name: str) -> str:
    """A posted text as typed (the description keeps its inner line breaks), within limits."""
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    return value[: 100_000 if name == "description" else 2_000]


# ---------------------------------------------------------------- one ticket


@router.get("/tickets/{ticket_id}")
def ticket_page(ticket_id: Id, request: Request, session: DbSession, me: UiUser) -> Response:
    """Header, timeline, reply box, attachments and (for staff) the edit sidebar."""
    context = support.ticket_context(request, session, me, ticket_id)
    return page(request, "tickets/ticket.html", "tickets/_ticket_body.html", context)


def _after_change(
    request: Request, session: Session, me: Principal, ticket_id: Id, part: str
) -> Response:
    """htmx: the changed part plus out-of-band header and version; else back to the page."""
    if not is_htmx(request):
        return redirect(request, f"/tickets/{ticket_id}#{part}")
    session.flush()
    session.expire_all()
    context = support.ticket_context(request, session, me, ticket_id)
    return render(request, f"tickets/_{part}_oob.html", context, headers=VARY)


@router.post("/tickets/{ticket_id}/messages", dependencies=[Csrf])
def add_message(
    ticket_id: Id,
    request: Request,
    session: DbSession,
    me: UiUser,
    body: Text = "",
    kind: Short = "reply",
) -> Response:
    """Post a reply (or, for staff, an internal note); htmx gets the new timeline."""
    messages_service.add_message(
        session, actor=me, ticket_id=ticket_id, body=body, kind=kind or "reply", channel="web"
    )
    return _after_change(request, session, me, ticket_id, "timeline")


@router.post("/tickets/{ticket_id}/attachments", dependencies=[Csrf])
def upload_attachment(
    ticket_id: Id,
    request: Request,
    session: DbSession,
    me: UiUser,
    settings: SettingsDep,
    file: Annotated[UploadFile, File()],
) -> Response:
    """Attach a file to the ticket."""
    messages_service.add_attachment(
        session,
        actor=me,
        store=request.app.state.store,
        ticket_id=ticket_id,
        filename=file.filename or "file",
        content_type=file.content_type,
        stream=file.file,
        max_bytes=settings.attachment_max_bytes,
        blocked_extensions=settings.attachment_blocked_extensions,
    )
    return _after_change(request, session, me, ticket_id, "attachments")


@router.get("/attachments/{attachment_id}")
def download(attachment_id: Id, request: Request, session: DbSession, me: UiUser) -> Response:
    """Download an attachment the user may see."""
    attachment = messages_service.get_attachment(session, actor=me, attachment_id=attachment_id)
    return download_response(
        request, sha256=attachment.sha256, filename=attachment.filename, size=attachment.size,
        media_type=messages_service.download_type(attachment),
    )  # fmt: skip


def _update_payload(values: dict[str, str]) -> dict[str, Any]:
    return {
        "status": values["status"] or None,
        "priority": values["priority"] or None,
        "team_id": _optional_id(values["team_id"]),
        "assignee_id": _optional_id(values["assignee_id"]),
        "tags": forms.tags(values["tags"]),
        "version": values["version"] or None,
    }


@router.post("/tickets/{ticket_id}", dependencies=[Csrf])
def update_ticket(
    ticket_id: Id,
    request: Request,
    session: DbSession,
    me: UiStaff,
    status: Short = "",
    priority: Short = "",
    team_id: Short = "",
    assignee_id: Short = "",
    tags: Short = "",
    version: Short = "",
) -> Response:
    """Save the sidebar; a stale `version` is refused with a clear message, never overwritten."""
    values = {
        "status": status,
        "priority": priority,
        "team_id": team_id,
        "assignee_id": assignee_id,
        "tags": tags,
        "version": version,
    }
    try:
        data = TicketUpdate.model_validate(_update_payload(values))
    except ValidationError as exc:
        raise ValidationFailed([from_pydantic(dict(e)) for e in exc.errors()]) from exc
    try:
        tickets_service.update_ticket(
            session, actor=me, ticket_id=ticket_id, data=data, ip=client_ip(request)
        )
    except Conflict:
        session.rollback()
        return support.conflict_response(request, ticket_id)
    return support.saved_response(request, session, me, ticket_id)
