"""The inbox's filter builder (any field, custom ones included) and the saved-view routes.

The builder is a list of field / operator / value rows joined by all or any, posted with the
inbox's GET form (`match`, `c-0-field`, `c-0-op`, `c-0-value` …), so it works without JS.
It becomes a condition tree (ADR 0007) that `fuwu.conditions` validates; a wrong row comes
back with a message naming it. A saved view stores that tree and the sort.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from sqlalchemy import false
from sqlalchemy.orm import Session
from starlette.responses import Response

from fuwu.auth import service as auth_service
from fuwu.auth.deps import Csrf, UiStaff
from fuwu.auth.principal import Principal
from fuwu.errors import DomainError, ValidationFailed
from fuwu.fields.designer import edits as designer
from fuwu.fields.designer.list_filter import (
    Builder,
    ListFilter,
    applied,
    field_choices,
    read_builder,
)
from fuwu.kit.i18n import gettext
from fuwu.kit.ids import Id, parse_id
from fuwu.tickets import filters as ticket_filters
from fuwu.tickets import saved_views
from fuwu.tickets.models import SavedView
from fuwu.tickets.saved_views_schemas import SavedViewCreate, SavedViewUpdate
from fuwu.web import forms
from fuwu.web.deps import DbSession
from fuwu.web.errors import from_pydantic, locale_of
from fuwu.web.forms import Posted
from fuwu.web.templating import redirect

router = APIRouter(include_in_schema=False)
ROW = re.compile(r"^c-(\d+)-field$")
LEAF = re.compile(r"^(?:all|any)\[(\d+)\]")
MAX_ROWS = 20
MISSING = "This saved view does not exist or is not shared with you."


@dataclass
class InboxFilter(ListFilter):
    """The builder's filter of the inbox, and the saved view it came from."""

    saved: SavedView | None = None


def _saved(session: Session, me: Principal, view: str) -> SavedView | None:
    view_id = parse_id(view)
    if view_id is None:
        return None
    try:
        return saved_views.get_view(session, actor=me, view_id=view_id)
    except DomainError:
        return None


def inbox_filter(
    request: Request, session: Session, me: Principal, *, view: str, timezone: str
) -> InboxFilter:
    """The builder's condition (or the saved view's) as SQL, or the reasons it is refused."""
    locale = locale_of(request)
    saved = _saved(session, me, view) if me.is_staff else None
    builder = read_builder(request.query_params) if me.is_staff else None
    tree: dict[str, Any] | None = None
    if builder is None and saved is not None:
        shown = designer.rows_of(saved.condition)
        builder = Builder(*shown) if shown else Builder()
        tree = saved.condition if not shown else None
    found = InboxFilter(builder or Builder(), saved=saved)
    if me.is_staff and view.isdigit() and saved is None:
        found.errors.append(gettext(locale, MISSING))
        found.where = false()
    if tree is None and found.builder.rows:
        kinds = {c.key: c.kind for c in field_choices(session, locale, "ticket")}
        tree = designer.build_when(found.builder.match, found.builder.rows, dict(kinds))
    found.tree = tree
    applied(found, session, entity="ticket", locale=locale, user_id=me.user_id,
            timezone=timezone, schema=ticket_filters.schema(session))  # fmt: skip
    if found.errors and saved is not None and not request.query_params.get("match"):
        found.errors.insert(0, gettext(locale, saved_views.STALE, name=saved.name))
    return found


# ---------------------------------------------------------------- saved views


def _back(request: Request, url: str) -> Response:
    return redirect(request, url)


def _condition(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text or '{"all": []}')
    except ValueError:
        raise ValidationFailed.single("condition", "invalid_json") from None
    if not isinstance(value, dict):
        raise ValidationFailed.single("condition", "invalid")
    return value


def _validated(model: Any, payload: dict[str, Any]) -> Any:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise ValidationFailed([from_pydantic(dict(e)) for e in exc.errors()]) from exc


@router.post("/inbox/views", dependencies=[Csrf])
def save_view(request: Request, session: DbSession, me: UiStaff, form: Posted) -> Response:
    """Save the inbox's current filter and sort as a named view."""
    scope = forms.text(form, "scope") or "personal"
    team = forms.text(form, "team_id")
    data = _validated(SavedViewCreate, {
        "name": forms.text(form, "name"), "scope": scope,
        "team_id": parse_id(team) if scope == "team" else None,
        "condition": _condition(forms.text(form, "condition")),
        "sort": forms.text(form, "sort") or "-updated_at",
    })  # fmt: skip
    view = saved_views.create_view(session, actor=me, data=data)
    return _back(request, f"/inbox?view={view.id}")


@router.post("/inbox/views/{view_id}", dependencies=[Csrf])
def rename_view(
    view_id: Id, request: Request, session: DbSession, me: UiStaff, form: Posted
) -> Response:
    """Rename a view; with `condition`, also replace its filter and sort by the current ones."""
    payload: dict[str, Any] = {"name": forms.text(form, "name")}
    if forms.text(form, "condition"):
        payload["condition"] = _condition(forms.text(form, "condition"))
        payload["sort"] = forms.text(form, "sort") or None
    data = _validated(SavedViewUpdate, {k: v for k, v in payload.items() if v is not None})
    saved_views.update_view(session, actor=me, view_id=view_id, data=data)
    return _back(request, f"/inbox?view={view_id}")


@router.post("/inbox/views/{view_id}/delete", dependencies=[Csrf])
def delete_view(view_id: Id, request: Request, session: DbSession, me: UiStaff) -> Response:
    """Delete a view and go back to the default inbox."""
    saved_views.delete_view(session, actor=me, view_id=view_id)
    return _back(request, "/inbox")


def share_teams(session: Session, me: Principal) -> list[Any]:
    """The teams a user may share a view with: any for an administrator, else their own."""
    if me.role not in saved_views.SHARERS:
        return []
    teams = auth_service.list_teams(session, active_only=True)
    return [t for t in teams if me.is_admin or t.id in me.team_ids]
