"""Custom fields on the customer and organisation pages: the inputs of the entity's form
(`fields.forms.records`), the values posted back, and the values shown on the detail page."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from fuwu.auth import service as auth_service
from fuwu.auth.principal import Principal
from fuwu.customers import assets as customer_assets
from fuwu.customers import service as customers_service
from fuwu.errors import DomainError, ValidationFailed
from fuwu.fields.forms import records as entity_forms
from fuwu.fields.forms import render as fields_render
from fuwu.fields.forms.compile import Form
from fuwu.fields.forms.display import display
from fuwu.kit.ids import parse_id
from fuwu.web.errors import locale_of

REFERENCE_TYPES = frozenset({"user", "team", "customer", "asset", "ticket"})


def today(request: Request) -> date:
    """Today in the configured time zone (warranty dates are local calendar dates)."""
    return datetime.now(ZoneInfo(request.app.state.settings.timezone)).date()


def form_of(request: Request, session: Session, entity: str) -> Form | None:
    return entity_forms.form_of(session, entity, request.app.state.settings.timezone)


def posted(form: Form | None, *, creating: bool, data: FormData) -> dict[str, Any]:
    """The custom values of a post, as the API would take them."""
    if form is None:
        return {}
    return fields_render.parse_posted(form, _surface(creating), data)


Namer = Callable[[Session, Principal, str, int], str | None]


def reference_name(session: Session, me: Principal, kind: str, ref: int) -> str | None:
    """The name of the user, team, customer, organisation or asset a reference holds, as the
    reader may see it; None for another kind (a ticket: the tickets domain names those)."""
    if kind == "user":
        return auth_service.get_user(session, ref).display_name
    if kind == "team":
        return auth_service.get_team(session, ref).name
    if kind == "customer":
        return customers_service.get_contact(session, actor=me, contact_id=ref).name
    if kind == "organisation":
        return customers_service.get_organisation(session, actor=me, organisation_id=ref).name
    if kind == "asset":
        asset = customer_assets.get_asset(session, actor=me, asset_id=ref)
        return " ".join(p for p in (asset.product, asset.model, f"· {asset.serial_number}") if p)
    return None


def reference_texts(
    session: Session,
    me: Principal,
    form: Form | None,
    custom: Mapping[str, Any],
    name: Namer = reference_name,
) -> dict[str, str]:
    """Reference field → the name of what it holds, not `#144`; one the reader may not see (or
    `name` cannot name) keeps its number."""
    found: dict[str, str] = {}
    for key, spec in (form.specs if form else {}).items():
        ref = custom.get(key)
        if spec.type not in REFERENCE_TYPES or ref is None:
            continue
        try:
            text = name(session, me, spec.type, int(ref))
        except (DomainError, TypeError, ValueError):
            continue
        if text:
            found[key] = text
    return found


def picked_name(session: Session, me: Principal, kind: str, value: Any) -> str:
    """What a search picker shows for the id a posted form holds ("" when it names nobody the
    reader may see)."""
    ref = parse_id(str(value)) if value is not None else None
    try:
        return (reference_name(session, me, kind, ref) if ref else None) or ""
    except DomainError:
        return ""


def inputs(
    request: Request,
    session: Session,
    me: Principal,
    form: Form | None,
    *,
    creating: bool,
    values: Mapping[str, Any],
    failed: ValidationFailed | None = None,
) -> dict[str, Any]:
    """What `fields/_inputs.html` draws for the form, with the errors of its fields."""
    if form is None:
        return {"cf_sections": []}
    locale = locale_of(request)
    errors = [e for e in (failed.errors if failed else []) if str(e["field"]).startswith("custom.")]
    sections = fields_render.render(
        form, _surface(creating), values, locale=locale, system={},
        errors=fields_render.messages(locale, errors), variables={"current_user": me.user_id},
        texts=reference_texts(session, me, form, values),
    )  # fmt: skip
    return {"cf_sections": sections}


def shown(
    request: Request, session: Session, me: Principal, form: Form | None, values: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """(label, text) of each custom value of a record, in the form's order; references by name."""
    if form is None:
        return []
    timezone = request.app.state.settings.timezone
    texts = reference_texts(session, me, form, values)
    return display(form, values, locale=locale_of(request), timezone=timezone, texts=texts)


def _surface(creating: bool) -> str:
    return "agent_create" if creating else "agent_edit"
