"""HTML routes for administrators: users, teams, API tokens and the audit log."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from fuwu.audit import service as audit_service
from fuwu.audit.models import AuditEntry
from fuwu.auth import access
from fuwu.auth import service as auth_service
from fuwu.auth.deps import Csrf, UiAdmin, UiUser
from fuwu.auth.models import ROLES, User
from fuwu.auth.principal import ALL_SCOPES, Principal
from fuwu.auth.schemas import TeamCreate, TeamUpdate, TokenCreate, UserCreate, UserUpdate
from fuwu.errors import PermissionDenied, ValidationFailed
from fuwu.kit.ids import Id, parse_id
from fuwu.web import forms
from fuwu.web.deps import DbSession, client_ip
from fuwu.web.forms import FieldErrors, Posted
from fuwu.web.templating import page, render

router = APIRouter(include_in_schema=False)
PAGE = 50
# entity → label msgid, for the audit filter and table
AUDIT_ENTITIES = {
    "user": "User",
    "team": "Team",
    "api_token": "API token",
    "contact": "Customer",
    "organisation": "Organisation",
    "ticket": "Ticket",
}
Text = Annotated[str | None, Query(max_length=100)]


def audit_reader(principal: UiUser) -> Principal:
    """Administrators and supervisors may read the audit log."""
    if principal.role not in ("admin", "supervisor"):
        raise PermissionDenied()
    return principal


UiAuditor = Annotated[Principal, Depends(audit_reader)]


def as_int(value: str | None) -> int | None:
    """A query value as an id; empty or malformed means "no filter"."""
    return parse_id(value)


def _page(rows: Sequence[Any]) -> tuple[list[Any], int | None]:
    """A page of PAGE rows (PAGE + 1 were fetched) and the id to continue after."""
    items = list(rows)
    if len(items) > PAGE:
        return items[:PAGE], items[PAGE - 1].id
    return items, None


# ---------------------------------------------------------------- users


@router.get("/admin/users")
def users_page(
    request: Request,
    session: DbSession,
    me: UiAdmin,
    role: Text = None,
    team: Text = None,
    q: Text = None,
    after: Text = None,
) -> Response:
    rows = auth_service.list_users(
        session,
        role=role or None,
        team_id=as_int(team),
        q=q or None,
        after_id=as_int(after),
        limit=PAGE + 1,
    )
    users, next_id = _page(rows)
    context = {
        "nav_active": "users",
        "users": users,
        "next_id": next_id,
        "filters": {"role": role or "", "team": team or "", "q": q or ""},
        "roles": ROLES,
        "teams": auth_service.list_teams(session),
    }
    return page(request, "admin/users.html", "admin/_users_table.html", context)


def _user_values(user: User) -> dict[str, Any]:
    keys = (
        "username",
        "display_name",
        "email",
        "role",
        "locale",
        "phone",
        "district",
        "ticket_scope",
        "is_active",
    )
    values = {k: getattr(user, k) for k in keys}
    values["team_ids"] = [t.id for t in user.teams]
    return values


def _user_form(form: FormData, *, create: bool) -> dict[str, Any]:
    """The posted user form as schema input; empty optional fields become None."""
    data: dict[str, Any] = {
        "display_name": forms.text(form, "display_name"),
        "email": forms.optional(form, "email"),
        "role": forms.text(form, "role"),
        "locale": forms.optional(form, "locale"),
        "phone": forms.optional(form, "phone"),
        "district": forms.optional(form, "district"),
        "ticket_scope": forms.optional(form, "ticket_scope"),
        "team_ids": forms.ids(form, "team_ids"),
    }
    password = form.get("password")
    if isinstance(password, str) and password:
        data["password"] = password
    if create:
        data["username"] = forms.text(form, "username")
    else:
        data["is_active"] = forms.checked(form, "is_active")
        if data["ticket_scope"] is None:  # every existing user has a scope; keep it
            del data["ticket_scope"]
    return data


def _user_page(
    request: Request,
    session: Session,
    *,
    user: User | None,
    values: dict[str, Any],
    errors: FieldErrors | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "nav_active": "users",
        "user": user,
        "values": values,
        "errors": errors or {},
        "roles": ROLES,
        "teams": auth_service.list_teams(session),
    }
    return render(request, "admin/user_form.html", context, status_code=status_code)


@router.get("/admin/users/new")
def new_user_page(request: Request, session: DbSession, me: UiAdmin) -> Response:
    values = {"role": "agent", "is_active": True, "team_ids": []}
    return _user_page(request, session, user=None, values=values)


@router.post("/admin/users/new", dependencies=[Csrf])
def create_user(request: Request, session: DbSession, me: UiAdmin, form: Posted) -> Response:
    raw = _user_form(form, create=True)
    try:
        data = forms.build(UserCreate, raw)
        user = auth_service.create_user(session, actor=me, data=data, ip=client_ip(request))
    except ValidationFailed as exc:
        session.rollback()
        errors = forms.messages(request, exc)
        return _user_page(request, session, user=None, values=raw, errors=errors, status_code=422)
    return RedirectResponse(f"/admin/users/{user.id}?saved=1", status_code=303)


@router.get("/admin/users/{user_id}")
def edit_user_page(request: Request, session: DbSession, me: UiAdmin, user_id: Id) -> Response:
    user = auth_service.get_user(session, user_id)
    return _user_page(request, session, user=user, values=_user_values(user))


@router.post("/admin/users/{user_id}", dependencies=[Csrf])
def update_user(
    request: Request, session: DbSession, me: UiAdmin, form: Posted, user_id: Id
) -> Response:
    raw = _user_form(form, create=False)
    try:
        data = forms.build(UserUpdate, raw)
        auth_service.update_user(
            session, actor=me, user_id=user_id, data=data, ip=client_ip(request)
        )
    except ValidationFailed as exc:
        session.rollback()
        user = auth_service.get_user(session, user_id)
        values = {**raw, "username": user.username}
        errors = forms.messages(request, exc)
        return _user_page(
            request, session, user=user, values=values, errors=errors, status_code=422
        )
    return RedirectResponse(f"/admin/users/{user_id}?saved=1", status_code=303)


# ---------------------------------------------------------------- API tokens


def token_form(form: FormData) -> dict[str, Any]:
    """The posted token form: a name and the chosen scopes ("*" = everything)."""
    return {"name": forms.text(form, "name"), "scopes": forms.many(form, "scopes")}


def _tokens_page(
    request: Request,
    session: Session,
    me: Principal,
    user: User,
    *,
    created: str | None = None,
    values: dict[str, Any] | None = None,
    errors: FieldErrors | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "nav_active": "users",
        "user": user,
        "created": created,
        "tokens": access.list_tokens(session, actor=me, user_id=user.id),
        "scopes": ("*", *ALL_SCOPES),
        "values": values or {"scopes": ["*"]},
        "errors": errors or {},
        "error_form": "token",
        "base_url": f"/admin/users/{user.id}/tokens",
    }
    # A page that shows a new token's secret must not be kept by the browser or a proxy.
    headers = {"Cache-Control": "no-store"} if created else None
    return render(request, "admin/tokens.html", context, status_code=status_code, headers=headers)


@router.get("/admin/users/{user_id}/tokens")
def tokens_page(request: Request, session: DbSession, me: UiAdmin, user_id: Id) -> Response:
    return _tokens_page(request, session, me, auth_service.get_user(session, user_id))


@router.post("/admin/users/{user_id}/tokens", dependencies=[Csrf])
def create_token(
    request: Request, session: DbSession, me: UiAdmin, form: Posted, user_id: Id
) -> Response:
    raw = token_form(form)
    try:
        data = forms.build(TokenCreate, raw)
        plain, _token = access.create_token(
            session, actor=me, user_id=user_id, name=data.name, scopes=data.scopes
        )
    except ValidationFailed as exc:
        session.rollback()
        user = auth_service.get_user(session, user_id)
        errors = forms.messages(request, exc)
        return _tokens_page(request, session, me, user, values=raw, errors=errors, status_code=422)
    user = auth_service.get_user(session, user_id)
    return _tokens_page(request, session, me, user, created=plain)


@router.post("/admin/users/{user_id}/tokens/{token_id}/revoke", dependencies=[Csrf])
def revoke_token(session: DbSession, me: UiAdmin, user_id: Id, token_id: Id) -> Response:
    access.revoke_token(session, actor=me, token_id=token_id)
    return RedirectResponse(f"/admin/users/{user_id}/tokens", status_code=303)


# ---------------------------------------------------------------- teams


@router.get("/admin/teams")
def teams_page(request: Request, session: DbSession, me: UiAdmin) -> Response:
    context = {"nav_active": "teams", "teams": auth_service.list_teams(session)}
    return render(request, "admin/teams.html", context)


def _team_form(form: FormData, *, create: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": forms.text(form, "name"),
        "description": forms.text(form, "description"),
        "member_ids": forms.ids(form, "member_ids"),
    }
    if not create:
        data["is_active"] = forms.checked(form, "is_active")
    return data


def _team_page(
    request: Request,
    session: Session,
    *,
    team_id: int | None,
    values: dict[str, Any],
    errors: FieldErrors | None = None,
    status_code: int = 200,
) -> Response:
    staff = auth_service.list_users(session, staff_only=True, active_only=True, limit=1000)
    context = {
        "nav_active": "teams",
        "team_id": team_id,
        "values": values,
        "errors": errors or {},
        "staff": staff,
    }
    return render(request, "admin/team_form.html", context, status_code=status_code)


@router.get("/admin/teams/new")
def new_team_page(request: Request, session: DbSession, me: UiAdmin) -> Response:
    values = {"name": "", "description": "", "member_ids": [], "is_active": True}
    return _team_page(request, session, team_id=None, values=values)


@router.post("/admin/teams/new", dependencies=[Csrf])
def create_team(request: Request, session: DbSession, me: UiAdmin, form: Posted) -> Response:
    raw = _team_form(form, create=True)
    try:
        data = forms.build(TeamCreate, raw)
        team = auth_service.create_team(session, actor=me, data=data, ip=client_ip(request))
    except ValidationFailed as exc:
        session.rollback()
        errors = forms.messages(request, exc)
        return _team_page(
            request, session, team_id=None, values=raw, errors=errors, status_code=422
        )
    return RedirectResponse(f"/admin/teams/{team.id}?saved=1", status_code=303)


@router.get("/admin/teams/{team_id}")
def edit_team_page(request: Request, session: DbSession, me: UiAdmin, team_id: Id) -> Response:
    team = auth_service.get_team(session, team_id)
    values = {
        "name": team.name,
        "description": team.description,
        "is_active": team.is_active,
        "member_ids": [m.id for m in team.members],
    }
    return _team_page(request, session, team_id=team.id, values=values)


@router.post("/admin/teams/{team_id}", dependencies=[Csrf])
def update_team(
    request: Request, session: DbSession, me: UiAdmin, form: Posted, team_id: Id
) -> Response:
    raw = _team_form(form, create=False)
    try:
        data = forms.build(TeamUpdate, raw)
        auth_service.update_team(
            session, actor=me, team_id=team_id, data=data, ip=client_ip(request)
        )
    except ValidationFailed as exc:
        session.rollback()
        auth_service.get_team(session, team_id)  # a vanished team is a 404, not a form error
        errors = forms.messages(request, exc)
        return _team_page(
            request, session, team_id=team_id, values=raw, errors=errors, status_code=422
        )
    return RedirectResponse(f"/admin/teams/{team_id}?saved=1", status_code=303)


# ---------------------------------------------------------------- audit log


def _shown(value: Any) -> str:
    """A compact, single-line rendering of one audited value."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, list):
        return ", ".join(_shown(v) for v in value) or "—"
    if isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = str(value)
    return text if len(text) <= 80 else text[:79] + "…"


def changes(entry: AuditEntry) -> list[tuple[str, str | None, str]]:
    """(key, old or None when there was no before, new) for every audited key."""
    before, after = entry.before or {}, entry.after or {}
    keys = list(dict.fromkeys([*before, *after]))
    if entry.before is None:  # a creation: empty fields say nothing
        keys = [k for k in keys if after.get(k) not in (None, "", [], {})]
    return [(k, _shown(before.get(k)) if k in before else None, _shown(after.get(k))) for k in keys]


@router.get("/admin/audit")
def audit_page(
    request: Request,
    session: DbSession,
    me: UiAuditor,
    entity: Text = None,
    actor: Text = None,
    entity_id: Text = None,
    before: Text = None,
) -> Response:
    rows = audit_service.list_entries(
        session,
        entity=entity or None,
        entity_id=entity_id or None,
        actor_id=as_int(actor),
        before_id=as_int(before),
        limit=PAGE + 1,
    )
    entries, older_id = _page(rows)
    context = {
        "nav_active": "audit",
        "entries": [(e, changes(e)) for e in entries],
        "older_id": older_id,
        "entities": list(AUDIT_ENTITIES),
        "entity_labels": AUDIT_ENTITIES,
        "filters": {"entity": entity or "", "actor": actor or "", "entity_id": entity_id or ""},
        "actors": auth_service.list_users(session, staff_only=True, limit=1000),
    }
    return page(request, "admin/audit.html", "admin/_audit_table.html", context)
