"""Admin pages of ticket types: the list, creating one, its settings and its version history."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from fuwu.auth import service as auth_service
from fuwu.auth.deps import Csrf, UiAdmin
from fuwu.configs import service as configs
from fuwu.errors import DomainError, ValidationFailed
from fuwu.fields.forms import diff as form_diff
from fuwu.kit.i18n import Translator, gettext
from fuwu.kit.ids import MAX_ID
from fuwu.tickets.types import service as ticket_types
from fuwu.tickets.types.schemas import TicketTypeCreate, TicketTypeUpdate
from fuwu.tickets.types.views_support import SURFACE_WORDS, labels_of
from fuwu.web import forms
from fuwu.web.deps import DbSession
from fuwu.web.errors import locale_of
from fuwu.web.forms import FieldErrors, Posted
from fuwu.web.templating import page, render

router = APIRouter(include_in_schema=False)
Version = Annotated[int | None, Query(ge=1, le=MAX_ID, alias="from")]
ToVersion = Annotated[int | None, Query(ge=1, le=MAX_ID, alias="to")]


def _types_page(
    request: Request,
    session: Session,
    *,
    values: dict[str, Any] | None = None,
    errors: FieldErrors | None = None,
    status_code: int = 200,
) -> Response:
    rows = []
    for row in ticket_types.list_types(session, inactive=True):
        published, has_draft = ticket_types.versions_of(session, row.key)
        rows.append({"row": row, "published": published, "has_draft": has_draft})
    context = {
        "nav_active": "forms",
        "types": rows,
        "values": values or {},
        "errors": errors or {},
    }
    if errors:  # the whole page: the create form with its messages sits outside the table
        return render(request, "fields/types.html", context, status_code=status_code)
    return page(request, "fields/types.html", "fields/_types_table.html", context)


@router.get("/admin/forms")
def types_page(request: Request, session: DbSession, me: UiAdmin) -> Response:
    return _types_page(request, session)


@router.post("/admin/forms", dependencies=[Csrf])
def create_type(request: Request, session: DbSession, me: UiAdmin, form: Posted) -> Response:
    """A new type; its draft form starts with the basic system fields."""
    raw = {
        "key": forms.text(form, "key"),
        "name": {"zh_CN": forms.text(form, "name_zh"), "en": forms.text(form, "name_en")},
        "public": forms.checked(form, "public"),
    }
    try:
        data = forms.build(TicketTypeCreate, raw)
        if not data.name:
            raise ValidationFailed.single("name", "missing")
        row = ticket_types.create_type(session, actor=me, data=data)
    except ValidationFailed as exc:
        session.rollback()
        values: dict[str, Any] = {k: forms.text(form, k) for k in ("key", "name_zh", "name_en")}
        values["public"] = raw["public"]
        errors = forms.messages(request, exc)
        if "name" in errors:
            errors["name_zh"] = errors.pop("name")
        return _types_page(request, session, values=values, errors=errors, status_code=422)
    return RedirectResponse(f"/admin/forms/{row.key}", status_code=303)


@router.post("/admin/forms/{key}/settings", dependencies=[Csrf])
def change_type(
    request: Request, session: DbSession, me: UiAdmin, form: Posted, key: str
) -> Response:
    """Rename a type, (de)activate it, or put it on the public web form."""
    name = {"zh_CN": forms.text(form, "name_zh"), "en": forms.text(form, "name_en")}
    data = TicketTypeUpdate(
        name={k: v for k, v in name.items() if v} or None,
        active=forms.checked(form, "active"),
        public=forms.checked(form, "public"),
    )
    ticket_types.update_type(session, actor=me, key=key, data=data)
    return RedirectResponse(f"/admin/forms/{key}?saved=1#settings", status_code=303)


def _json(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


@router.get("/admin/forms/{key}/history")
def history_page(
    request: Request,
    session: DbSession,
    me: UiAdmin,
    key: str,
    from_version: Version = None,
    to_version: ToVersion = None,
) -> Response:
    """Every version of the form, and the differences between any two of them."""
    ttype = ticket_types.get_type(session, key)
    versions = configs.history(session, ticket_types.FORM, key)
    numbers = [v.version for v in versions]
    after = to_version or (numbers[0] if numbers else None)
    before = from_version or next((n for n in numbers if after and n < after), None)
    changes: list[dict[str, Any]] = []
    readable: list[form_diff.Line] = []
    message = ""
    locale = locale_of(request)
    if before and after:
        try:
            old = configs.get(session, ticket_types.FORM, key, before).definition
            new = configs.get(session, ticket_types.FORM, key, after).definition
            changes = [
                {"path": c.path, "kind": c.kind, "before": _json(c.before), "after": _json(c.after)}
                for c in configs.diff(old, new)
            ]
            readable = form_diff.summary(
                old, new, labels=labels_of(session, locale),
                surfaces={k: gettext(locale, v) for k, v in SURFACE_WORDS.items()},
                translate=Translator(locale).gettext,
            )  # fmt: skip
        except DomainError as exc:
            message = gettext(locale, exc.message, **exc.params)
    people = {v.published_by_id or v.created_by_id for v in versions} - {None}
    authors = {i: auth_service.get_user(session, i).display_name for i in people if i}
    context = {
        "nav_active": "forms",
        "ttype": ttype,
        "key": key,
        "versions": versions,
        "before": before,
        "after": after,
        "changes": changes,
        "readable": readable,
        "authors": authors,
        "message": message,
        "name": ttype.name.get(locale) or ttype.name.get("en") or key,
    }
    return page(request, "fields/history.html", "fields/_diff.html", context)
