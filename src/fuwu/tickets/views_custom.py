"""HTML routes for a ticket's custom fields: the new-ticket form's live fields, and the
ticket page's details panel with its edit form.

Every change of a field that form logic reads posts the form to a fragment route that draws
the fields again (hidden ones go, required ones get their star, a cascade's next level
appears); saving goes through `tickets.service` with the caller's surface.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from fuwu.auth.deps import Csrf, UiStaff, UiUser
from fuwu.errors import Conflict, ValidationFailed
from fuwu.fields.forms import render as fields_render
from fuwu.kit.ids import Id, parse_id
from fuwu.tickets import custom as custom_fields
from fuwu.tickets import service as tickets_service
from fuwu.tickets import uploads
from fuwu.tickets import views_support as support
from fuwu.tickets.schemas import TicketUpdate
from fuwu.web import forms
from fuwu.web.deps import DbSession, SettingsDep, client_ip
from fuwu.web.errors import locale_of
from fuwu.web.forms import Posted
from fuwu.web.templating import VARY, is_htmx, page, redirect, render

router = APIRouter(include_in_schema=False)


@router.post(support.NEW_FIELDS_URL, dependencies=[Csrf])
def new_ticket_fields(request: Request, session: DbSession, me: UiUser, form: Posted) -> Response:
    """The chosen type's fields, evaluated by its logic over what is typed so far."""
    choices = support.type_choices(session, me, locale_of(request))
    type_key = support.chosen_type(choices, forms.text(form, "type"))
    context = support.new_fields(request, session, me, type_key=type_key, posted=form)
    return render(request, "tickets/_custom_fields.html", context)


@router.get("/tickets/{ticket_id}/details")
def details(ticket_id: Id, request: Request, session: DbSession, me: UiUser) -> Response:
    """The read-only details panel (htmx: after Cancel); the ticket page otherwise."""
    if not is_htmx(request):
        return redirect(request, f"/tickets/{ticket_id}")
    ticket = tickets_service.get_ticket(session, actor=me, ticket_id=ticket_id)
    context = {"ticket": ticket, **support.details_context(request, session, me, ticket)}
    return render(request, "tickets/_custom_details.html", context, headers=VARY)


@router.get("/tickets/{ticket_id}/details/edit")
def edit_details(ticket_id: Id, request: Request, session: DbSession, me: UiStaff) -> Response:
    """The details panel as a form: the fragment for htmx, else the ticket page with it open."""
    ticket = tickets_service.get_ticket(session, actor=me, ticket_id=ticket_id)
    context = support.edit_context(request, session, me, ticket)
    if not is_htmx(request):  # the ticket page with the panel open
        whole = support.ticket_context(request, session, me, ticket_id)
        context = {**whole, **context, "editing_details": True}
    return page(request, "tickets/ticket.html", "tickets/_custom_edit.html", context)


@router.post("/tickets/{ticket_id}/details/fields", dependencies=[Csrf])
def edit_details_fields(
    ticket_id: Id, request: Request, session: DbSession, me: UiStaff, form: Posted
) -> Response:
    """The edit form's fields, evaluated by the form's logic over what is typed so far."""
    ticket = tickets_service.get_ticket(session, actor=me, ticket_id=ticket_id)
    context = support.edit_context(request, session, me, ticket, posted=form)
    return render(request, "tickets/_custom_fields.html", context)


@router.post("/tickets/{ticket_id}/details", dependencies=[Csrf])
def save_details(
    ticket_id: Id,
    request: Request,
    session: DbSession,
    me: UiStaff,
    settings: SettingsDep,
    form: Posted,
) -> Response:
    """Save the custom fields; errors come back under their fields, a stale version as 409."""
    ticket = tickets_service.get_ticket(session, actor=me, ticket_id=ticket_id)
    compiled = support.load_form(session, ticket.type_key, settings.timezone, ticket.form_version)
    version = forms.text(form, "version")
    custom = support.posted_custom(compiled, "agent_edit", form)
    try:
        kinds = custom_fields.file_fields(
            session, type_key=ticket.type_key, surface="agent_edit", timezone=settings.timezone,
            form_version=ticket.form_version,
        )  # fmt: skip
        files, staged = uploads.stage(
            session, actor=me, store=request.app.state.store,
            uploads=uploads.posted_files(form, {k: k for k in kinds}),
            rules=uploads.FileRules.of(settings), kinds=kinds,
        )  # fmt: skip
        custom.update(uploads.added(files, ticket.custom or {}))
        data = TicketUpdate(custom=custom, version=parse_id(version))
        tickets_service.update_ticket(
            session, actor=me, ticket_id=ticket_id, data=data, ip=client_ip(request),
            timezone=settings.timezone, surface="agent_edit", attachments=staged,
        )  # fmt: skip
    except Conflict:
        session.rollback()
        return support.conflict_response(request, ticket_id)
    except ValidationFailed as exc:
        session.rollback()
        return _invalid(request, session, me, ticket_id, form, exc)
    return support.saved_response(request, session, me, ticket_id)


def _invalid(
    request: Request,
    session: DbSession,
    me: UiStaff,
    ticket_id: Id,
    form: Posted,
    exc: ValidationFailed,
) -> Response:
    """The edit form again, each message under its field and every typed value kept."""
    locale = locale_of(request)
    errors, others = support.split_errors(locale, exc.errors)
    for key, text in fields_render.messages(locale, others).items():
        errors.setdefault(key, text)
    ticket = tickets_service.get_ticket(session, actor=me, ticket_id=ticket_id)
    context = support.edit_context(request, session, me, ticket, posted=form, errors=errors)
    if not is_htmx(request):
        whole = support.ticket_context(request, session, me, ticket_id)
        context = {**whole, **context, "editing_details": True}
    headers = {"HX-Retarget": "#ticket-custom", "HX-Reswap": "outerHTML"}
    return page(
        request, "tickets/ticket.html", "tickets/_custom_edit.html", context, status_code=422,
        headers=headers,
    )  # fmt: skip
