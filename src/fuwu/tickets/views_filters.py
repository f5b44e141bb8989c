"""The inbox's filter builder (any field, custom ones included) and the saved-view routes.

The builder is a list of field / operator / value rows joined by all or any, posted with the
inbox's GET form (`match`, `c-0-field`, `c-0-op`, `c-0-value` …), so it works without JS.
It becomes a condition tree (ADR 0007) that `fuwu.conditions` validates; a wrong row comes
back with a message naming it. A saved view stores that tree and the sort.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from pydantic import ValidationError
from sqlalchemy import ColumnElement, false
from sqlalchemy.orm import Session
from starlette.responses import Response

from fuwu.auth import service as auth_service
from fuwu.auth.deps import Csrf, UiStaff
from fuwu.auth.principal import Principal
from fuwu.conditions import tree as conditions
from fuwu.conditions.exceptions import InvalidCondition
from fuwu.conditions.nodes import KINDS, PYTHON_ONLY, Op
from fuwu.conditions.schema import Kind
from fuwu.errors import DomainError, ValidationFailed
from fuwu.fields.designer import edits as designer
from fuwu.fields.forms.validation import variables_for
from fuwu.fields.registry import entities, types
from fuwu.fields.registry.catalog import catalog
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
# The builder offers what lists can filter on: no regex, no change operators.
OPERATORS = {op: label for op, label in designer.OPERATORS.items() if Op(op) not in PYTHON_ONLY}


def ops_for(kind: Kind | str | None) -> list[str]:
    """The builder's operators that apply to a kind (all of them for an unknown field)."""
    found = Kind(kind) if kind else None
    return [op for op in OPERATORS if found is None or found in KINDS[Op(op)]]


# operator → the kinds it applies to, as the builder's script reads them
OP_KINDS = {op: " ".join(sorted(k.value for k in KINDS[Op(op)])) for op in OPERATORS}


@dataclass
class FieldChoice:
    """A field the builder offers: key, label in the reader's language, kind, sortable."""

    key: str
    label: str
    kind: Kind
    sortable: bool = False
    options: tuple[tuple[str, str], ...] = ()  # a choice field's (key, label): picked by label


def field_choices(session: Session, locale: str) -> list[FieldChoice]:
    """System fields lists can filter on, then the active custom fields."""
    entity = entities.get("ticket")
    found = [
        FieldChoice(k, f.label.get(locale) or f.label.get("en") or k, f.kind)
        for k, f in (entity.system.items() if entity else [])
        if f.column is not None
    ]
    for spec in catalog(session, "ticket").active_specs():
        kind = types.kind_of(spec)
        if kind is not None:
            label = spec.label.get(locale) or spec.label.get("en") or spec.key
            options = tuple(designer.option_labels(spec.options, locale))
            found.append(FieldChoice(spec.key, label, kind, spec.filterable, options))
    return found


def sort_choices(choices: list[FieldChoice], locale: str) -> list[tuple[str, str]]:
    """(value, label) of the custom fields marked filterable, both directions."""
    found: list[tuple[str, str]] = []
    for c in choices:
        if c.sortable:
            found.append((c.key, gettext(locale, "%(field)s, ascending", field=c.label)))
            found.append((f"-{c.key}", gettext(locale, "%(field)s, descending", field=c.label)))
    return found


@dataclass
class Builder:
    """The builder as the query string (or a saved view) fills it."""

    match: str = "all"
    rows: list[designer.ConditionRow] = field(default_factory=list)

    def params(self) -> str:
        if not self.rows:
            return ""
        pairs = [("match", self.match)]
        for i, r in enumerate(self.rows):
            pairs += [(f"c-{i}-field", r.field), (f"c-{i}-op", r.op), (f"c-{i}-value", r.value)]
        return urlencode(pairs)


def _joined(params: Mapping[str, str], name: str) -> str:
    """A value as typed, or the options of a multiple select joined by commas."""
    getlist = getattr(params, "getlist", None)
    values = getlist(name) if getlist is not None else [params.get(name, "")]
    return ", ".join(v.strip() for v in values if v.strip())


def read_builder(params: Mapping[str, str]) -> Builder | None:
    """The builder rows of the query string; None when the builder was not submitted."""
    if "match" not in params:
        return None
    indexes = sorted({int(m.group(1)) for k in params if (m := ROW.match(k))})[:MAX_ROWS]
    rows = [
        designer.ConditionRow(
            params.get(f"c-{i}-field", "").strip()[:40],
            params.get(f"c-{i}-op", "eq").strip()[:20],
            _joined(params, f"c-{i}-value")[:1000],
        )
        for i in indexes
    ]
    return Builder("any" if params.get("match") == "any" else "all", [r for r in rows if r.field])


@dataclass
class InboxFilter:
    """What the builder adds to the inbox: the rows, the SQL, the problems, the saved view."""

    builder: Builder
    where: ColumnElement[bool] | None = None
    tree: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)
    row_errors: dict[int, list[str]] = field(default_factory=dict)
    saved: SavedView | None = None

    @property
    def condition_json(self) -> str:
        return json.dumps(self.tree or {"all": []}, ensure_ascii=False)


def _by_row(locale: str, exc: InvalidCondition) -> tuple[list[str], dict[int, list[str]]]:
    """Each problem next to its row, named "Condition 2", in the reader's language."""
    general: list[str] = []
    rows: dict[int, list[str]] = {}
    for problem in exc.problems:
        found = LEAF.match(problem.path)
        if not found:
            general.append(problem.text(locale))
            continue
        row = int(found.group(1))
        where = gettext(locale, "Condition %(number)s", number=row + 1)
        text = gettext(locale, problem.message, **{**problem.params, "path": where})
        rows.setdefault(row, []).append(text)
        general.append(text)
    return general, rows


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
        kinds = {c.key: c.kind for c in field_choices(session, locale)}
        tree = designer.build_when(found.builder.match, found.builder.rows, dict(kinds))
    if tree is None:
        return found
    found.tree = tree
    try:
        condition = conditions.parse(tree, ticket_filters.schema(session), for_sql=True)
    except InvalidCondition as exc:
        found.errors, found.row_errors = _by_row(locale, exc)
        found.where = false()  # a refused filter lists nothing rather than everything
        if saved is not None and not request.query_params.get("match"):
            name = saved.name
            found.errors.insert(0, gettext(locale, saved_views.STALE, name=name))
        return found
    found.where = condition.to_sql(variables_for(me.user_id, timezone))
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
