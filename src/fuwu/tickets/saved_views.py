"""Saved inbox views: a named condition tree and sort, personal or shared with a team or all.

Agents keep personal views; administrators and supervisors may share one with a team they
belong to (administrators: any team) or with every agent. Only the owner or an administrator
changes a view. A view records which fields it uses, so the field registry lists it before a
field is archived, deleted or retyped (`view_usages`, registered by `tickets.fields.register`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.orm import Session

from fuwu.auth.models import Team
from fuwu.auth.principal import Principal
from fuwu.conditions import tree as conditions
from fuwu.conditions.exceptions import InvalidCondition
from fuwu.errors import NotFound, PermissionDenied, ValidationFailed, field_error
from fuwu.fields.forms.validation import variables_for
from fuwu.fields.registry.schemas import Usage
from fuwu.kit.time import utcnow
from fuwu.tickets import filters as ticket_filters
from fuwu.tickets import repository
from fuwu.tickets.models import SavedView
from fuwu.tickets.saved_views_schemas import SavedViewCreate, SavedViewUpdate

SHARERS = frozenset({"admin", "supervisor"})
STALE = "The saved view %(name)s no longer works; edit or delete it."
MAX_VIEWS = 200  # per list: the inbox shows them all


class StaleView(ValidationFailed):
    """422: a saved view's condition no longer compiles (a field was removed or changed)."""

    def __init__(self, view: SavedView, exc: ValidationFailed) -> None:
        errors = [field_error(f"view.{e['field']}", e["code"], **e["params"]) for e in exc.errors]
        super().__init__(errors)
        self.message = STALE
        self.params = {"name": view.name}
        self.cause = exc


def _staff(actor: Principal) -> None:
    if not actor.is_staff or actor.user_id is None:
        raise PermissionDenied("Saved views are for staff.")


def _visible(actor: Principal) -> ColumnElement[bool]:
    if actor.user_id is None:
        return false()
    clauses: list[ColumnElement[bool]] = [
        SavedView.owner_id == actor.user_id,
        SavedView.scope == "all",
    ]
    if actor.team_ids:
        clauses.append(
            and_(SavedView.scope == "team", SavedView.team_id.in_(sorted(actor.team_ids)))
        )
    if actor.is_admin:
        clauses.append(SavedView.scope == "team")
    return or_(*clauses)


def list_views(session: Session, *, actor: Principal) -> list[SavedView]:
    """The views an agent may use: their own, their teams' and everyone's, by name."""
    _staff(actor)
    stmt = select(SavedView).where(_visible(actor)).order_by(SavedView.name, SavedView.id)
    return list(session.scalars(stmt.limit(MAX_VIEWS)))


def get_view(session: Session, *, actor: Principal, view_id: int) -> SavedView:
    """One view the actor may see (an administrator: any); NotFound otherwise."""
    _staff(actor)
    stmt = select(SavedView).where(SavedView.id == view_id)
    if not actor.is_admin:
        stmt = stmt.where(_visible(actor))
    found = session.scalar(stmt)
    if found is None:
        raise NotFound("Saved view %(id)s does not exist.", id=view_id)
    return found


def can_change(actor: Principal, view: SavedView) -> bool:
    """The owner and administrators may rename, change or delete a view."""
    return actor.is_admin or (actor.user_id is not None and view.owner_id == actor.user_id)


def _audience(session: Session, actor: Principal, scope: str, team_id: int | None) -> int | None:
    """The team a view is shared with (None unless scope is team), or why it may not be."""
    if scope == "personal":
        return None
    if actor.role not in SHARERS:
        raise PermissionDenied("Only administrators and supervisors can share views.")
    if scope == "all":
        return None
    if team_id is None:
        raise ValidationFailed.single("team_id", "missing")
    if session.get(Team, team_id) is None:
        raise ValidationFailed.single("team_id", "not_found")
    if not actor.is_admin and team_id not in actor.team_ids:
        raise ValidationFailed.single("team_id", "invalid")
    return team_id


def check_condition(session: Session, tree: Any, *, field: str = "condition") -> None:
    """Refuse a tree the list cannot filter with; errors are keyed condition.<path>."""
    try:
        conditions.parse(tree, ticket_filters.schema(session), for_sql=True)
    except ValidationFailed as exc:
        for error in exc.errors:
            error["field"] = f"{field}.{error['field']}"
        raise


def check_sort(session: Session, sort: str) -> str:
    """A system sort or a custom field's key, with - for descending."""
    key = sort.strip().lstrip("-+ ")
    if key in repository.SORTS or ticket_filters.sort_ref(session, key) is not None:
        return sort.strip()
    raise ValidationFailed.single("sort", "invalid_sort", choices=repository.SORT_CHOICES)


def create_view(session: Session, *, actor: Principal, data: SavedViewCreate) -> SavedView:
    """Save a view for its owner, or shared as the scope says."""
    _staff(actor)
    assert actor.user_id is not None
    team_id = _audience(session, actor, data.scope, data.team_id)
    check_condition(session, data.condition)
    view = SavedView(
        name=data.name, owner_id=actor.user_id, scope=data.scope, team_id=team_id,
        condition=data.condition, sort=check_sort(session, data.sort), columns=data.columns,
    )  # fmt: skip
    session.add(view)
    session.flush()
    return view


def update_view(
    session: Session, *, actor: Principal, view_id: int, data: SavedViewUpdate
) -> SavedView:
    """Rename a view or change its filter, sort or audience (owner or administrator)."""
    view = get_view(session, actor=actor, view_id=view_id)
    if not can_change(actor, view):
        raise PermissionDenied("Only the owner or an administrator can change this view.")
    changes = data.model_dump(exclude_unset=True)
    if "scope" in changes or "team_id" in changes:
        scope = changes.get("scope") or view.scope
        view.team_id = _audience(session, actor, scope, changes.get("team_id", view.team_id))
        view.scope = scope
    if changes.get("name"):
        view.name = changes["name"]
    if changes.get("condition") is not None:
        check_condition(session, changes["condition"])
        view.condition = changes["condition"]
    if changes.get("sort"):
        view.sort = check_sort(session, changes["sort"])
    if "columns" in changes:
        view.columns = changes["columns"]
    view.updated_at = utcnow()
    session.flush()
    return view


def delete_view(session: Session, *, actor: Principal, view_id: int) -> None:
    """Delete a view (owner or administrator)."""
    view = get_view(session, actor=actor, view_id=view_id)
    if not can_change(actor, view):
        raise PermissionDenied("Only the owner or an administrator can delete this view.")
    session.delete(view)
    session.flush()


def where(
    session: Session, *, actor: Principal, view: SavedView, timezone: str
) -> ColumnElement[bool]:
    """The view's condition as SQL; StaleView (422) when it no longer compiles."""
    try:
        condition = conditions.parse(view.condition, ticket_filters.schema(session), for_sql=True)
    except InvalidCondition as exc:
        raise StaleView(view, exc) from None
    return condition.to_sql(variables_for(actor.user_id, timezone))


def _fields_in(node: Any) -> Iterator[str]:
    """Every field key a condition tree names, as a test or as a compared field."""
    if isinstance(node, dict):
        if isinstance(node.get("field"), str):
            yield node["field"]
        for value in node.values():
            yield from _fields_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from _fields_in(item)


def uses(view: SavedView, key: str) -> bool:
    """Whether a view filters or sorts on a field."""
    return key in set(_fields_in(view.condition)) or view.sort.lstrip("-+ ") == key


def view_usages(session: Session, entity: str, key: str) -> list[Usage]:
    """Saved views that filter or sort on a ticket field; each keeps the field in use."""
    if entity != "ticket":
        return []
    return [
        Usage(kind="view", key=view.name, version=None, detail=view.scope, active=True)
        for view in session.scalars(select(SavedView).order_by(SavedView.id))
        if uses(view, key)
    ]


def applied(
    session: Session, *, actor: Principal, view_id: int, timezone: str
) -> tuple[ColumnElement[bool], str]:
    """(WHERE, sort) of a saved view the actor may use, for `?view=<id>`."""
    view = get_view(session, actor=actor, view_id=view_id)
    return where(session, actor=actor, view=view, timezone=timezone), view.sort
