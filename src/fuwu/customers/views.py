"""HTML routes for customers (contacts) and organisations: lists, 360° detail, forms."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from fuwu.auth.deps import Csrf, UiStaff
from fuwu.auth.principal import Principal
from fuwu.customers import assets, views_custom, views_lists
from fuwu.customers import service as customers_service
from fuwu.customers.models import Contact, Organisation
from fuwu.customers.schemas import (
    ContactCreate,
    ContactUpdate,
    OrganisationCreate,
    OrganisationUpdate,
)
from fuwu.errors import ValidationFailed
from fuwu.fields.forms.compile import Form
from fuwu.kit.ids import Id, parse_id
from fuwu.web import forms
from fuwu.web.deps import DbSession
from fuwu.web.forms import Posted
from fuwu.web.templating import page, render

router = APIRouter(include_in_schema=False)
PAGE = 50
Text = Annotated[str | None, Query(max_length=100)]
# The form edits what the service tracks; tags and custom fields are read on their own.
CONTACT_KEYS = tuple(k for k in customers_service.CONTACT_FIELDS if k not in ("tags", "custom"))
ORG_KEYS = tuple(k for k in customers_service.ORG_FIELDS if k not in ("tags", "custom"))


def _tz(request: Request) -> str:
    return str(request.app.state.settings.timezone)


def _after(value: str | None) -> int | None:
    return parse_id(value)


def _page(rows: Sequence[Any]) -> tuple[list[Any], int | None]:
    items = list(rows)
    if len(items) > PAGE:
        return items[:PAGE], items[PAGE - 1].id
    return items, None


def _values(obj: Contact | Organisation, keys: Sequence[str]) -> dict[str, Any]:
    values = {k: getattr(obj, k) for k in keys}
    values["tags"] = ", ".join(obj.tags or [])
    values["custom"] = dict(obj.custom or {})
    return values


def _posted(
    form: FormData, keys: Sequence[str], custom: Form | None, *, creating: bool
) -> dict[str, Any]:
    """Schema input from a contact or organisation form; empty optional fields become None."""
    data: dict[str, Any] = {k: forms.text(form, k) for k in keys}
    data["custom"] = views_custom.posted(custom, creating=creating, data=form)
    for key in ("email", "phone", "organisation_id"):
        if key in data and not data[key]:
            data[key] = None
    data["vip_level"] = data.get("vip_level") or "0"
    data["tags"] = forms.tags(forms.text(form, "tags"))
    return data


def _shown(raw: dict[str, Any]) -> dict[str, Any]:
    """Form data back into field values (tags as text) for a re-rendered form."""
    return {**raw, "tags": ", ".join(raw.get("tags") or []), "custom": raw.get("custom") or {}}


# ---------------------------------------------------------------- customers


@router.get("/customers")
def customers_page(
    request: Request, session: DbSession, me: UiStaff, q: Text = None, after: Text = None
) -> Response:
    found = views_lists.filtered(request, session, me, "contact")
    rows = customers_service.list_contacts(
        session, actor=me, q=q or None, after_id=_after(after), limit=PAGE + 1, where=found.where
    )
    contacts, next_id = _page(rows)
    context = {"nav_active": "customers", "contacts": contacts, "next_id": next_id, "q": q or "",
               **views_lists.builder_context(request, session, "contact", found)}  # fmt: skip
    return page(request, "customers/list.html", "customers/_table.html", context)


def _contact_form(
    request: Request,
    session: Session,
    me: Principal,
    *,
    contact_id: int | None,
    values: dict[str, Any],
    failed: ValidationFailed | None = None,
    status_code: int = 200,
) -> Response:
    custom = views_custom.form_of(request, session, "contact")
    context = {
        "nav_active": "customers",
        "contact_id": contact_id,
        "values": values,
        "errors": forms.messages(request, failed) if failed else {},
        "organisations": customers_service.list_organisations(session, actor=me, limit=1000),
        **views_custom.inputs(request, session, me, custom, creating=contact_id is None,
                              values=values.get("custom") or {}, failed=failed),
    }  # fmt: skip
    return render(request, "customers/form.html", context, status_code=status_code)


@router.get("/customers/new")
def new_customer_page(request: Request, session: DbSession, me: UiStaff) -> Response:
    values = {"vip_level": 0, "organisation_id": request.query_params.get("organisation")}
    return _contact_form(request, session, me, contact_id=None, values=values)


@router.post("/customers/new", dependencies=[Csrf])
def create_customer(request: Request, session: DbSession, me: UiStaff, form: Posted) -> Response:
    custom = views_custom.form_of(request, session, "contact")
    raw = _posted(form, CONTACT_KEYS, custom, creating=True)
    try:
        contact = customers_service.create_contact(
            session, actor=me, data=forms.build(ContactCreate, raw), timezone=_tz(request)
        )
    except ValidationFailed as exc:
        session.rollback()
        return _contact_form(
            request, session, me, contact_id=None, values=_shown(raw), failed=exc,
            status_code=422,
        )  # fmt: skip
    return RedirectResponse(f"/customers/{contact.id}?saved=1", status_code=303)


@router.get("/customers/{contact_id}")
def customer_page(request: Request, session: DbSession, me: UiStaff, contact_id: Id) -> Response:
    contact = customers_service.get_contact(session, actor=me, contact_id=contact_id)
    custom = views_custom.form_of(request, session, "contact")
    context = {
        "nav_active": "customers",
        "contact": contact,
        "custom_values": views_custom.shown(request, session, me, custom, contact.custom or {}),
        "today": views_custom.today(request),
        "assets": assets.list_assets(session, actor=me, contact_id=contact.id),
    }
    return render(request, "customers/detail.html", context)


@router.get("/customers/{contact_id}/edit")
def edit_customer_page(
    request: Request, session: DbSession, me: UiStaff, contact_id: Id
) -> Response:
    contact = customers_service.get_contact(session, actor=me, contact_id=contact_id)
    values = _values(contact, CONTACT_KEYS)
    return _contact_form(request, session, me, contact_id=contact.id, values=values)


@router.post("/customers/{contact_id}/edit", dependencies=[Csrf])
def update_customer(
    request: Request, session: DbSession, me: UiStaff, form: Posted, contact_id: Id
) -> Response:
    custom = views_custom.form_of(request, session, "contact")
    raw = _posted(form, CONTACT_KEYS, custom, creating=False)
    try:
        customers_service.update_contact(
            session, actor=me, contact_id=contact_id, data=forms.build(ContactUpdate, raw),
            timezone=_tz(request),
        )  # fmt: skip
    except ValidationFailed as exc:
        session.rollback()
        customers_service.get_contact(session, actor=me, contact_id=contact_id)
        return _contact_form(
            request, session, me, contact_id=contact_id, values=_shown(raw), failed=exc,
            status_code=422,
        )  # fmt: skip
    return RedirectResponse(f"/customers/{contact_id}?saved=1", status_code=303)


# ---------------------------------------------------------------- organisations


@router.get("/organisations")
def organisations_page(
    request: Request, session: DbSession, me: UiStaff, q: Text = None, after: Text = None
) -> Response:
    found = views_lists.filtered(request, session, me, "organisation")
    rows = customers_service.list_organisations(
        session, actor=me, q=q or None, after_id=_after(after), limit=PAGE + 1, where=found.where
    )
    organisations, next_id = _page(rows)
    context = {
        "nav_active": "organisations",
        "organisations": organisations,
        "next_id": next_id,
        "q": q or "",
        **views_lists.builder_context(request, session, "organisation", found),
    }
    return page(request, "customers/organisations.html", "customers/_org_table.html", context)


def _org_form(
    request: Request,
    session: Session,
    me: Principal,
    *,
    organisation_id: int | None,
    values: dict[str, Any],
    failed: ValidationFailed | None = None,
    status_code: int = 200,
) -> Response:
    custom = views_custom.form_of(request, session, "organisation")
    context = {
        "nav_active": "organisations",
        "organisation_id": organisation_id,
        "values": values,
        "errors": forms.messages(request, failed) if failed else {},
        **views_custom.inputs(request, session, me, custom, creating=organisation_id is None,
                              values=values.get("custom") or {}, failed=failed),
    }  # fmt: skip
    return render(request, "customers/organisation_form.html", context, status_code=status_code)


@router.get("/organisations/new")
def new_organisation_page(request: Request, session: DbSession, me: UiStaff) -> Response:
    return _org_form(request, session, me, organisation_id=None, values={"vip_level": 0})


@router.post("/organisations/new", dependencies=[Csrf])
def create_organisation(
    request: Request, session: DbSession, me: UiStaff, form: Posted
) -> Response:
    custom = views_custom.form_of(request, session, "organisation")
    raw = _posted(form, ORG_KEYS, custom, creating=True)
    try:
        org = customers_service.create_organisation(
            session, actor=me, data=forms.build(OrganisationCreate, raw), timezone=_tz(request)
        )
    except ValidationFailed as exc:
        session.rollback()
        return _org_form(
            request, session, me, organisation_id=None, values=_shown(raw), failed=exc,
            status_code=422,
        )  # fmt: skip
    return RedirectResponse(f"/organisations/{org.id}?saved=1", status_code=303)


@router.get("/organisations/{organisation_id}")
def organisation_page(
    request: Request, session: DbSession, me: UiStaff, organisation_id: Id
) -> Response:
    org = customers_service.get_organisation(session, actor=me, organisation_id=organisation_id)
    custom = views_custom.form_of(request, session, "organisation")
    context = {
        "nav_active": "organisations",
        "org": org,
        "custom_values": views_custom.shown(request, session, me, custom, org.custom or {}),
        "today": views_custom.today(request),
        "contacts": customers_service.list_contacts(
            session, actor=me, organisation_id=org.id, limit=200
        ),
        "assets": assets.list_assets(session, actor=me, organisation_id=org.id),
    }
    return render(request, "customers/organisation_detail.html", context)


@router.get("/organisations/{organisation_id}/edit")
def edit_organisation_page(
    request: Request, session: DbSession, me: UiStaff, organisation_id: Id
) -> Response:
    org = customers_service.get_organisation(session, actor=me, organisation_id=organisation_id)
    return _org_form(request, session, me, organisation_id=org.id, values=_values(org, ORG_KEYS))


@router.post("/organisations/{organisation_id}/edit", dependencies=[Csrf])
def update_organisation(
    request: Request, session: DbSession, me: UiStaff, form: Posted, organisation_id: Id
) -> Response:
    custom = views_custom.form_of(request, session, "organisation")
    raw = _posted(form, ORG_KEYS, custom, creating=False)
    try:
        customers_service.update_organisation(
            session, actor=me, organisation_id=organisation_id,
            data=forms.build(OrganisationUpdate, raw), timezone=_tz(request),
        )  # fmt: skip
    except ValidationFailed as exc:
        session.rollback()
        customers_service.get_organisation(session, actor=me, organisation_id=organisation_id)
        return _org_form(
            request, session, me, organisation_id=organisation_id, values=_shown(raw),
            failed=exc, status_code=422,
        )  # fmt: skip
    return RedirectResponse(f"/organisations/{organisation_id}?saved=1", status_code=303)
