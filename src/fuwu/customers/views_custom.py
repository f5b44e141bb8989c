"""Custom fields on the customer and organisation pages: the inputs of the entity's form
(`fields.forms.records`), the values posted back, and the values shown on the detail page."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from fuwu.auth.principal import Principal
from fuwu.errors import ValidationFailed
from fuwu.fields.forms import records as entity_forms
from fuwu.fields.forms import render as fields_render
from fuwu.fields.forms.compile import Form
from fuwu.fields.forms.display import display
from fuwu.web.errors import locale_of


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


def inputs(
    request: Request,
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
    )  # fmt: skip
    return {"cf_sections": sections}


def shown(request: Request, form: Form | None, values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, text) of each custom value of a record, in the form's order."""
    if form is None:
        return []
    timezone = request.app.state.settings.timezone
    return display(form, values, locale=locale_of(request), timezone=timezone)


def _surface(creating: bool) -> str:
    return "agent_create" if creating else "agent_edit"
