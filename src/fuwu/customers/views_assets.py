"""HTML routes for assets: the list with search and export, the detail page, and the form
that adds or changes one (its owners chosen with search pickers, its custom fields)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from fuwu.auth.deps import Csrf, UiStaff
from fuwu.auth.principal import Principal
from fuwu.customers import assets as customer_assets
from fuwu.customers import views_custom, views_lists
from fuwu.customers.models import Asset, Contact
from fuwu.customers.schemas import AssetCreate, AssetUpdate
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
KEYS = ("serial_number", "product", "model", "contact_id", "organisation_id", "install_date",
        "warranty_until", "address")  # fmt: skip
OPTIONAL = ("contact_id", "organisation_id", "install_date", "warranty_until")


@router.get("/assets")
def assets_page(
    request: Request, session: DbSession, me: UiStaff, q: Text = None, after: Text = None
) -> Response:
    found = views_lists.filtered(request, session, me, "asset")
    rows = list(customer_assets.list_assets(
        session, actor=me, q=q or None, after_id=parse_id(after), limit=PAGE + 1,
        where=found.where,
    ))  # fmt: skip
    next_id = rows[PAGE - 1].id if len(rows) > PAGE else None
    context = {"nav_active": "assets", "assets": rows[:PAGE], "next_id": next_id, "q": q or "",
               "today": views_custom.today(request),
               **views_lists.builder_context(request, session, "asset", found)}  # fmt: skip
    return page(request, "customers/assets.html", "customers/_asset_list.html", context)


@router.get("/assets/new")
def new_asset_page(
    request: Request,
    session: DbSession,
    me: UiStaff,
    customer: Annotated[int | None, Query(ge=1)] = None,
    organisation: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    owner = session.get(Contact, customer) if customer else None
    if owner is not None and organisation is None:  # a customer's device is their company's too
        organisation = owner.organisation_id
    values: dict[str, Any] = {"contact_id": customer, "organisation_id": organisation,
                              "address": owner.address if owner else "", "custom": {}}  # fmt: skip
    return _form(request, session, me, asset_id=None, values=values)


@router.post("/assets/new", dependencies=[Csrf])
def create_asset(request: Request, session: DbSession, me: UiStaff, form: Posted) -> Response:
    custom = views_custom.form_of(request, session, "asset")
    raw = _posted(form, custom, creating=True)
    try:
        asset = customer_assets.create_asset(
            session, actor=me, data=forms.build(AssetCreate, raw),
            timezone=request.app.state.settings.timezone,
        )  # fmt: skip
    except ValidationFailed as exc:
        session.rollback()
        return _form(request, session, me, asset_id=None, values=raw, failed=exc, status_code=422)
    return RedirectResponse(f"/assets/{asset.id}?saved=1", status_code=303)


@router.get("/assets/{asset_id}")
def asset_page(request: Request, session: DbSession, me: UiStaff, asset_id: Id) -> Response:
    asset = customer_assets.get_asset(session, actor=me, asset_id=asset_id)
    custom = views_custom.form_of(request, session, "asset")
    context = {
        "nav_active": "assets",
        "asset": asset,
        "today": views_custom.today(request),
        "custom_values": views_custom.shown(request, session, me, custom, asset.custom or {}),
    }
    return render(request, "customers/asset_detail.html", context)


@router.get("/assets/{asset_id}/edit")
def edit_asset_page(request: Request, session: DbSession, me: UiStaff, asset_id: Id) -> Response:
    asset = customer_assets.get_asset(session, actor=me, asset_id=asset_id)
    values: dict[str, Any] = {k: getattr(asset, k) for k in KEYS}
    values["custom"] = dict(asset.custom or {})
    return _form(request, session, me, asset_id=asset.id, values=values, asset=asset)


@router.post("/assets/{asset_id}/edit", dependencies=[Csrf])
def update_asset(
    request: Request, session: DbSession, me: UiStaff, form: Posted, asset_id: Id
) -> Response:
    custom = views_custom.form_of(request, session, "asset")
    raw = _posted(form, custom, creating=False)
    try:
        customer_assets.update_asset(
            session, actor=me, asset_id=asset_id, data=forms.build(AssetUpdate, raw),
            timezone=request.app.state.settings.timezone,
        )  # fmt: skip
    except ValidationFailed as exc:
        session.rollback()
        customer_assets.get_asset(session, actor=me, asset_id=asset_id)  # 404 before 422
        return _form(request, session, me, asset_id=asset_id, values=raw, failed=exc,
                     status_code=422)  # fmt: skip
    return RedirectResponse(f"/assets/{asset_id}?saved=1", status_code=303)


def _posted(form: FormData, custom: Form | None, *, creating: bool) -> dict[str, Any]:
    """Schema input from the asset form; empty optional fields become None."""
    data: dict[str, Any] = {k: forms.text(form, k) for k in KEYS}
    for key in OPTIONAL:
        data[key] = data[key] or None
    data["custom"] = views_custom.posted(custom, creating=creating, data=form)
    return data


def _form(
    request: Request,
    session: Session,
    me: Principal,
    *,
    asset_id: int | None,
    values: dict[str, Any],
    failed: ValidationFailed | None = None,
    status_code: int = 200,
    asset: Asset | None = None,
) -> Response:
    custom = views_custom.form_of(request, session, "asset")
    context = {
        "nav_active": "assets",
        "asset_id": asset_id,
        "title": asset.serial_number if asset else "",
        "values": values,
        "names": {
            "contact_id": views_custom.picked_name(
                session, me, "customer", values.get("contact_id")
            ),
            "organisation_id": views_custom.picked_name(
                session, me, "organisation", values.get("organisation_id")
            ),
        },
        "errors": forms.messages(request, failed) if failed else {},
        **views_custom.inputs(request, session, me, custom, creating=asset_id is None,
                              values=values.get("custom") or {}, failed=failed),
    }  # fmt: skip
    return render(request, "customers/asset_form.html", context, status_code=status_code)
