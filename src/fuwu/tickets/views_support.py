"""What the ticket pages share: page-or-fragment rendering, pickers, the ticket page's context,
the conflict message, and the custom-field parts (forms, type choices, sections, details).

Custom fields are drawn by `fuwu.fields.forms.render` from the type's form for the caller's surface
(agents: agent_create / agent_edit, customers: portal).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from fuwu.auth import service as auth_service
from fuwu.auth.principal import Principal
from fuwu.customers import views_custom
from fuwu.errors import DomainError, FieldError
from fuwu.fields.forms import display as fields_display
from fuwu.fields.forms import render as fields_render
from fuwu.fields.forms.compile import Form
from fuwu.fields.registry import entities
from fuwu.fields.registry.catalog import catalog
from fuwu.kit.i18n import gettext
from fuwu.kit.ids import Id, parse_id
from fuwu.tickets import approvals_view, repository, transitions
from fuwu.tickets import custom as custom_fields
from fuwu.tickets import messages as messages_service
from fuwu.tickets import service as tickets_service
from fuwu.tickets.models import Ticket
from fuwu.tickets.statuses import PRIORITIES
from fuwu.tickets.types import service as ticket_types
from fuwu.web import forms
from fuwu.web.errors import locale_of
from fuwu.web.templating import VARY, is_htmx, page, redirect, render
from fuwu.workflows import statuses, timers
from fuwu.workflows.compiled import Workflow, reason_for

log = logging.getLogger("fuwu.tickets")
GENERAL = custom_fields.GENERAL
NEW_FIELDS_URL = "/tickets/new/fields"


# ---------------------------------------------------------------- pages


def lookups(session: Session) -> dict[str, Any]:
    """Staff users and teams for filters and pickers, with id → name maps for the timeline."""
    users = auth_service.list_users(session, staff_only=True, active_only=True, limit=500)
    teams = auth_service.list_teams(session, active_only=True)
    return {
        "staff": users,
        "teams": teams,
        "user_names": {u.id: u.display_name for u in users},
        "team_names": {t.id: t.name for t in teams},
    }


def ui(request: Request, session: Session) -> dict[str, Any]:
    """What every ticket template needs besides the defaults of `render`."""
    locale = locale_of(request)
    catalogue = statuses.catalogue(session)
    return {
        "statuses": catalogue.active(),
        "priorities": list(PRIORITIES),
        "status_label": lambda key: catalogue.label(key, locale),
    }


def ticket_context(
    request: Request, session: Session, me: Principal, ticket_id: Id
) -> dict[str, Any]:
    """Everything the ticket page draws."""
    ticket = tickets_service.get_ticket(session, actor=me, ticket_id=ticket_id)
    timeline = messages_service.timeline(session, actor=me, ticket_id=ticket_id)
    context: dict[str, Any] = {
        **ui(request, session),
        "ticket": ticket,
        "timeline": timeline,
        "custom_changes": custom_changes(request, session, ticket, timeline),
        "attachments": [
            a
            for a in messages_service.list_attachments(session, actor=me, ticket_id=ticket_id)
            if a.message_id is None
        ],
        "user_names": {},
        "team_names": {},
        **details_context(request, session, me, ticket),
        **steps_context(request, session, me, ticket, timeline),
        **family_context(session, me, ticket),
    }
    if me.is_staff:
        context.update(lookups(session))
    return context


def family_context(session: Session, me: Principal, ticket: Ticket) -> dict[str, Any]:
    """The ticket a step opened this one under, and those it opened (what `me` may see)."""
    parent = None
    if ticket.parent_id is not None:
        parent = repository.visible_row(session, me, ticket.parent_id)
    return {"parent": parent, "children": repository.children(session, me, ticket.id)}


def steps_context(
    request: Request, session: Session, me: Principal, ticket: Ticket, timeline: list[Any]
) -> dict[str, Any]:
    """Where the ticket is in its workflow and why: the steps this person may take now (with
    the labels of the fields they ask for), since when it has been in its status (staff see
    the history) and who may move it on; `governed`: a workflow decides the status (the
    sidebar shows no status select)."""
    locale, timezone = locale_of(request), request.app.state.settings.timezone
    workflow = transitions.workflow_of(session, ticket)
    governed = workflow is not None
    steps = transitions.available(
        session, actor=me, ticket=ticket, locale=locale, timezone=timezone
    ) if governed else []  # fmt: skip
    # The timeline names the step behind each status change ("workflow:<step>" in history).
    reasons: dict[str, str] = {reason_for("reopen"): gettext(locale, "reopened by a reply"),
                               reason_for("approval"): gettext(locale, "approval")}  # fmt: skip
    if workflow is not None:
        reasons[reason_for(workflow.key)] = workflow.definition.name.of(locale)
        for step in workflow.steps:
            reasons[reason_for(step.key)] = step.transition.label.of(locale)
    entity = entities.get("ticket")
    specs = catalog(session, "ticket").specs
    labels: dict[str, str] = {}
    for key in {k for step in steps for k in step.require}:
        system = entity.system.get(key) if entity else None
        names = system.label if system else (specs[key].label if key in specs else {})
        labels[key] = fields_display.label_in(dict(names), locale, key)
    changes = [i.at for i in timeline if i.event is not None and "status" in i.event.changes]
    rounds = approvals_view.of_ticket(session, me, ticket) if governed and me.is_staff else []
    waiting_on = _waiting_on(workflow, ticket, locale) if workflow else []
    if rounds and rounds[0].state == "pending":  # the approvers first, then other steps' people
        approvers = [v.user_name for v in rounds[0].votes if v.state == "pending"]
        waiting_on = list(dict.fromkeys([*approvers, *waiting_on]))
    return {
        "governed": governed, "steps": steps, "step_labels": labels, "workflow_reasons": reasons,
        "status_since": changes[-1] if changes else (ticket.created_at if me.is_staff else None),
        "waiting_on": waiting_on, "approval_rounds": rounds,
        "timers_due": timers.due(session, workflow=workflow, ticket_id=ticket.id,
                                 status=ticket.status) if workflow and me.is_staff else [],
    }  # fmt: skip


_ROLES = {"admin": "Administrator", "supervisor": "Supervisor", "agent": "Agent",
          "engineer": "Engineer"}  # fmt: skip


def _waiting_on(workflow: Workflow, ticket: Ticket, locale: str) -> list[str]:
    """Who may take a step from the ticket's status, by name where the step names a person."""
    names: list[str] = []
    for step in workflow.manual_from(ticket.status):
        who = step.transition.who
        if who.anyone_on_staff:
            names.append(gettext(locale, "any staff member"))
        names += [gettext(locale, _ROLES[r]) for r in who.roles if r in _ROLES]
        if who.teams:
            names.append(gettext(locale, "members of the named teams"))
        if who.assignee:
            assignee = ticket.assignee.display_name if ticket.assignee else None
            names.append(assignee or gettext(locale, "the assignee"))
        if who.customer:
            names.append(gettext(locale, "the customer"))
    return list(dict.fromkeys(names))


def custom_changes(
    request: Request, session: Session, ticket: Ticket, timeline: list[Any]
) -> dict[int, list[tuple[str, str, str]]]:
    """Event id → (label, old, new) of each custom field the event changed, for the timeline
    (the history stores the whole custom object before and after)."""
    events = [i.event for i in timeline if i.event is not None and "custom" in i.event.changes]
    if not events:
        return {}
    timezone = request.app.state.settings.timezone
    form = load_form(session, ticket.type_key, timezone, ticket.form_version)
    locale = locale_of(request)
    return {
        e.id: fields_display.changes(
            form,
            e.changes["custom"][0],
            e.changes["custom"][1],
            locale=locale,
            timezone=timezone,
        )
        for e in events
    }


def saved_response(request: Request, session: Session, me: Principal, ticket_id: Id) -> Response:
    """After a change from the ticket page: htmx gets the page body again with "Changes
    saved."; a plain form post goes back to the page."""
    if not is_htmx(request):
        return redirect(request, f"/tickets/{ticket_id}")
    session.flush()
    session.expire_all()
    context = {**ticket_context(request, session, me, ticket_id), "saved": True}
    return render(request, "tickets/_ticket_body.html", context, headers=VARY)


def conflict_response(request: Request, ticket_id: Id) -> Response:
    """A stale version: the message and a reload link (in #flash for htmx)."""
    locale = locale_of(request)
    message = gettext(
        locale,
        "Someone else changed this ticket while you were editing. Your change was not saved.",
    )
    reload_url = f"/tickets/{ticket_id}"
    context = {"status": 409, "message": message, "fields": [], "reload_url": reload_url}
    headers = {"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"} if is_htmx(request) else {}
    return page(
        request, "errors/page.html", "tickets/_conflict.html", context, status_code=409,
        headers=headers,
    )  # fmt: skip


# ---------------------------------------------------------------- custom fields


def load_form(
    session: Session, type_key: str, timezone: str, version: Id | None = None
) -> Form | None:
    """The type's compiled form (a given version), or None: general, unknown or broken."""
    if not type_key or type_key == GENERAL:
        return None
    try:
        return ticket_types.form(session, type_key, timezone, version)
    except (DomainError, ValidationError):  # a form that no longer compiles must not break pages
        log.warning("form of ticket type %s (version %s) is unusable", type_key, version)
        return None


def type_choices(session: Session, me: Principal, locale: str) -> list[tuple[str, str]]:
    """(key, name) of the types a user may open a ticket of: every active type for staff,
    the public (customer-facing) ones for customers; "general" first."""
    found = [(GENERAL, gettext(locale, "General"))]
    for row in ticket_types.list_types(session):
        if me.is_staff or row.public:
            found.append((row.key, row.name.get(locale) or row.name.get("en") or row.key))
    return found


def chosen_type(choices: list[tuple[str, str]], wanted: str | None) -> str:
    """The type asked for when the user may choose it, else general."""
    return wanted if wanted and any(k == wanted for k, _ in choices) else GENERAL


# The system fields of the new-ticket page, in the order drawn when the type's form does not
# place them; staff get the routing ones too.
STAFF_SYSTEM = ("customer", "subject", "description", "priority", "channel", "team", "assignee",
                "tags")  # fmt: skip
CUSTOMER_SYSTEM = ("subject", "description", "priority")


def system_order(form: Form | None, surface: str, *, staff: bool) -> list[str]:
    """The system fields of the new-ticket page in the order the designer placed them on the
    create layout, then the ones it did not place, in the usual order: an admin decides what
    comes first (the customer for a phone desk, the subject for a web desk)."""
    offered = STAFF_SYSTEM if staff else CUSTOMER_SYSTEM
    placed = [k for section in (form.layouts.get(surface, []) if form else []) for k in section]
    first = [k for k in dict.fromkeys(placed) if k in offered]
    return [*first, *(k for k in offered if k not in first)]


def create_surface(me: Principal) -> str:
    """The layout a new ticket's fields come from for this user."""
    return custom_fields.surface_for(staff=me.is_staff, creating=True)


def posted_custom(form: Form | None, surface: str, posted: FormData) -> dict[str, Any]:
    """The custom values of a post, for the service; none for a type without a form."""
    return {} if form is None else fields_render.parse_posted(form, surface, posted)


def new_system(me: Principal, posted: FormData | Mapping[str, str]) -> dict[str, Any]:
    """The system values of the new-ticket form, as form logic tests them."""

    def text(name: str) -> str:
        value = posted.get(name)
        return value.strip() if isinstance(value, str) else ""

    def number(name: str) -> int | None:
        value = text(name)
        return parse_id(value)

    return {
        "subject": text("subject"),
        "description": text("description"),
        "priority": text("priority") or "normal",
        "type": text("type") or GENERAL,
        "channel": "web" if me.is_staff else "portal",
        "customer": None if me.is_staff else me.contact_id,
        "team": number("team_id"),
        "assignee": number("assignee_id"),
        "tags": forms.tags(text("tags")),
    }


def split_errors(locale: str, errors: list[FieldError]) -> tuple[dict[str, str], list[FieldError]]:
    """(custom key → message, the other errors) of a ValidationFailed."""
    custom = [e for e in errors if str(e.get("field", "")).startswith("custom.")]
    others = [e for e in errors if not str(e.get("field", "")).startswith("custom.")]
    return fields_render.messages(locale, custom), others


def fields_context(
    request: Request,
    me: Principal,
    *,
    form: Form | None,
    surface: str,
    values: Mapping[str, Any],
    system: Mapping[str, Any],
    errors: Mapping[str, str] | None = None,
    stored: Mapping[str, Any] | None = None,
    texts: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """What `tickets/_custom_fields.html` draws: the sections, errors it cannot place, and
    the `stored` values (an edit) that saving would clear; `texts` name what reference
    fields hold."""
    if form is None:
        return {"cf_sections": [], "cf_unplaced": list((errors or {}).values())}
    locale, variables = locale_of(request), {"current_user": me.user_id}
    sections = fields_render.render(
        form, surface, values, locale=locale, system=system, errors=errors, variables=variables,
        texts=texts,
    )  # fmt: skip
    drawn = {i.key for s in sections for i in s.inputs if not i.system}
    unplaced = [m for k, m in (errors or {}).items() if k not in drawn]
    clearing = fields_render.to_be_cleared(
        form, values, stored or {}, locale=locale, system=system, variables=variables
    )
    return {"cf_sections": sections, "cf_unplaced": unplaced, "cf_clearing": clearing}


def new_fields(
    request: Request,
    session: Session,
    me: Principal,
    *,
    type_key: str,
    posted: FormData | None,
    errors: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The custom part of the new-ticket form for a type, filled from a post (or defaults)."""
    timezone = request.app.state.settings.timezone
    surface = create_surface(me)
    form = load_form(session, type_key, timezone)
    values: dict[str, Any] = {}
    if form is not None:
        values = fields_render.defaults(form, surface)
        if posted is not None:
            values.update(fields_render.parse_posted(form, surface, posted))
    system = new_system(me, posted if posted is not None else {"type": type_key})
    texts = _reference_texts(session, me, form, values) if form else None
    return {
        "type_key": type_key,
        "cf_url": NEW_FIELDS_URL,
        "cf_target": "#cf-fields",
        "cf_errors": dict(errors or {}),
        "cf_uploads": True,  # file fields take their files with the create
        **fields_context(
            request,
            me,
            form=form,
            surface=surface,
            values=values,
            system=system,
            errors=errors,
            texts=texts,
        ),
    }


def ticket_system(ticket: Ticket) -> dict[str, Any]:
    """A ticket's system values, as form logic tests them."""
    return {
        "number": ticket.number,
        "subject": ticket.subject,
        "description": ticket.description,
        "type": ticket.type_key,
        "status": ticket.status,
        "status_category": ticket.status_category,
        "is_open": ticket.is_open,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "customer": ticket.customer_id,
        "organisation": ticket.organisation_id,
        "assignee": ticket.assignee_id,
        "team": ticket.team_id,
        "tags": list(ticket.tags or []),
    }


def _reference_name(session: Session, me: Principal, kind: str, ref: int) -> str | None:
    """The name of what a reference field holds, as the reader may see it: a ticket by its
    number and subject, the rest as the customer pages name them."""
    if kind != "ticket":
        return views_custom.reference_name(session, me, kind, ref)
    ticket = tickets_service.get_ticket(session, actor=me, ticket_id=ref)
    return f"{ticket.number} {ticket.subject}"


def _reference_texts(
    session: Session, me: Principal, form: Form, custom: Mapping[str, Any]
) -> dict[str, str]:
    """Reference field → the name of what it holds (a user, team, customer, asset or ticket),
    not `#144`; one the reader may not see keeps its number."""
    return views_custom.reference_texts(session, me, form, custom, _reference_name)


@dataclass(frozen=True)
class FieldFile:
    """A file a file field holds, as the details panel shows it: who added it and when (a
    signature: who had it signed)."""

    id: int
    filename: str
    is_image: bool
    by: str
    at: datetime


def _field_files(
    session: Session, me: Principal, form: Form, ticket: Ticket, locale: str
) -> dict[str, list[FieldFile]]:
    """Field label → the files its value names, among those this reader may see."""
    kinds = ("attachment", "image", "signature")
    wanted = {k: s for k, s in form.specs.items() if s.type in kinds and ticket.custom.get(k)}
    if not wanted:
        return {}
    visible = {a.id: a for a in messages_service.list_attachments(
        session, actor=me, ticket_id=ticket.id)}  # fmt: skip
    names: dict[int, str] = {}
    found: dict[str, list[FieldFile]] = {}
    for key, spec in wanted.items():
        value = ticket.custom[key]
        for file_id in value if isinstance(value, list) else [value]:
            attachment = visible.get(file_id)
            if attachment is None:
                continue
            by_id = attachment.uploaded_by_id
            if by_id is not None and by_id not in names:
                names[by_id] = auth_service.get_user(session, by_id).display_name
            found.setdefault(spec.text(locale), []).append(FieldFile(
                attachment.id, attachment.filename, attachment.content_type.startswith("image/"),
                names.get(by_id, "") if by_id is not None else "", attachment.created_at,
            ))  # fmt: skip
    return found


def details_context(
    request: Request, session: Session, me: Principal, ticket: Ticket
) -> dict[str, Any]:
    """The ticket's custom values for reading: agents see every field of its form (the
    agent_edit layout first), customers only the fields of the portal layout."""
    locale = locale_of(request)
    timezone = request.app.state.settings.timezone
    form = load_form(session, ticket.type_key, timezone, ticket.form_version)
    rows: list[tuple[str, str]] = []
    files: dict[str, list[FieldFile]] = {}
    editable = shown = False
    if form is not None:
        surface = "agent_edit" if me.is_staff else "portal"
        shown_values = _not_hidden(session, ticket)
        rows = fields_render.display(
            form, shown_values, locale=locale, timezone=timezone, surface=surface,
            others=me.is_staff, texts=_reference_texts(session, me, form, shown_values),
        )  # fmt: skip
        files = _field_files(session, me, form, ticket, locale)
        editable = me.is_staff and bool(form.inputs("agent_edit"))
        shown = bool(form.specs) if me.is_staff else bool(form.custom_keys("portal"))
    type_label = gettext(locale, "General")
    if ticket.type_key != GENERAL:
        row = next((t for t in ticket_types.list_types(session, inactive=True)
                    if t.key == ticket.type_key), None)  # fmt: skip
        type_label = (row.name.get(locale) or row.name.get("en") or row.key) if row else ""
        type_label = type_label or ticket.type_key
    return {
        "custom_rows": rows,
        "custom_files": files,
        "custom_editable": editable,
        "type_label": type_label,
        "has_form": shown,  # the form has fields this reader may see
    }


def _not_hidden(session: Session, ticket: Ticket) -> dict[str, Any]:
    """The ticket's custom values but those its workflow hides in its status."""
    workflow = transitions.workflow_of(session, ticket)
    rules = workflow.definition.fields.get(ticket.status, {}) if workflow else {}
    return {k: v for k, v in (ticket.custom or {}).items() if rules.get(k) != "hidden"}


def edit_context(
    request: Request,
    session: Session,
    me: Principal,
    ticket: Ticket,
    *,
    posted: FormData | None = None,
    errors: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The details panel as a form: the agent_edit layout of the ticket's form version."""
    timezone = request.app.state.settings.timezone
    form = load_form(session, ticket.type_key, timezone, ticket.form_version)
    values: dict[str, Any] = dict(ticket.custom or {})
    if form is not None and posted is not None:
        values.update(fields_render.parse_posted(form, "agent_edit", posted))
    return {
        "ticket": ticket,
        "cf_url": f"/tickets/{ticket.id}/details/fields",
        "cf_target": "#cf-edit-fields",
        "cf_uploads": True,  # file fields take new files (a signature when the work is done)
        **fields_context(
            request, me, form=form, surface="agent_edit", values=values,
            system=ticket_system(ticket), errors=errors, stored=ticket.custom or {},
            texts=_reference_texts(session, me, form, values) if form else None,
        ),
    }  # fmt: skip
