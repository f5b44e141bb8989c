"""REST routes for users, teams, API tokens, the caller and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict

from fuwu.audit import service as audit_service
from fuwu.auth import access
from fuwu.auth import service as auth_service
from fuwu.auth.deps import ApiCaller, scoped
from fuwu.auth.principal import Principal, require_staff
from fuwu.auth.schemas import (
    TeamCreate,
    TeamRead,
    TeamUpdate,
    TokenCreate,
    TokenCreated,
    TokenRead,
    UserCreate,
    UserRead,
    UserUpdate,
)
from fuwu.errors import PermissionDenied
from fuwu.kit.ids import Cursor, Id
from fuwu.web.deps import DbSession, client_ip

router = APIRouter(prefix="/api/v1", tags=["people"])
UsersRead = Annotated[Principal, Depends(scoped("users:read"))]
UsersWrite = Annotated[Principal, Depends(scoped("users:write"))]
AuditRead = Annotated[Principal, Depends(scoped("audit:read"))]


@router.get("/me", response_model=UserRead)
def me(session: DbSession, actor: ApiCaller) -> object:
    assert actor.user_id is not None
    return auth_service.get_user(session, actor.user_id)


@router.get("/users", response_model=list[UserRead])
def list_users(
    session: DbSession,
    actor: UsersRead,
    role: str | None = None,
    team: Id | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    after_id: Cursor | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> object:
    require_staff(actor)
    return auth_service.list_users(
        session,
        role=role,
        team_id=team,
        q=q,
        after_id=after_id,
        limit=limit,
        staff_only=not actor.is_admin,
    )


@router.post("/users", status_code=201, response_model=UserRead)
def create_user(
    data: UserCreate, request: Request, session: DbSession, actor: UsersWrite
) -> object:
    user = auth_service.create_user(session, actor=actor, data=data, ip=client_ip(request))
    return auth_service.get_user(session, user.id)


@router.get("/users/{user_id}", response_model=UserRead)
def get_user(user_id: Id, session: DbSession, actor: UsersRead) -> object:
    if actor.user_id != user_id:
        require_staff(actor)
    return auth_service.get_user(session, user_id)


@router.patch("/users/{user_id}", response_model=UserRead)
def update_user(
    user_id: Id, data: UserUpdate, request: Request, session: DbSession, actor: UsersWrite
) -> object:
    auth_service.update_user(
        session, actor=actor, user_id=user_id, data=data, ip=client_ip(request)
    )
    return auth_service.get_user(session, user_id)


@router.get("/users/{user_id}/tokens", response_model=list[TokenRead])
def list_tokens(user_id: Id, session: DbSession, actor: UsersRead) -> object:
    return access.list_tokens(session, actor=actor, user_id=user_id)


@router.post("/users/{user_id}/tokens", status_code=201, response_model=TokenCreated)
def create_token(user_id: Id, data: TokenCreate, session: DbSession, actor: UsersWrite) -> object:
    plain, token = access.create_token(
        session, actor=actor, user_id=user_id, name=data.name, scopes=data.scopes
    )
    return TokenCreated(
        id=token.id,
        name=token.name,
        prefix=token.prefix,
        scopes=token.scopes,
        created_at=token.created_at,
        last_used_at=None,
        revoked_at=None,
        token=plain,
    )


@router.delete("/tokens/{token_id}", response_model=TokenRead)
def revoke_token(token_id: Id, session: DbSession, actor: UsersWrite) -> object:
    return access.revoke_token(session, actor=actor, token_id=token_id)


@router.get("/teams", response_model=list[TeamRead])
def list_teams(session: DbSession, actor: UsersRead) -> object:
    require_staff(actor)
    return auth_service.list_teams(session)


@router.post("/teams", status_code=201, response_model=TeamRead)
def create_team(
    data: TeamCreate, request: Request, session: DbSession, actor: UsersWrite
) -> object:
    team = auth_service.create_team(session, actor=actor, data=data, ip=client_ip(request))
    return auth_service.get_team(session, team.id)


@router.get("/teams/{team_id}", response_model=TeamRead)
def get_team(team_id: Id, session: DbSession, actor: UsersRead) -> object:
    require_staff(actor)
    return auth_service.get_team(session, team_id)


@router.patch("/teams/{team_id}", response_model=TeamRead)
def update_team(
    team_id: Id, data: TeamUpdate, request: Request, session: DbSession, actor: UsersWrite
) -> object:
    return auth_service.update_team(
        session, actor=actor, team_id=team_id, data=data, ip=client_ip(request)
    )


class AuditRead_(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    actor_id: int | None
    actor_name: str
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    ip: str | None
    created_at: datetime


@router.get("/audit", response_model=list[AuditRead_], tags=["audit"])
def audit_log(
    session: DbSession,
    actor: AuditRead,
    entity: str | None = None,
    entity_id: str | None = None,
    actor_id: Id | None = None,
    before_id: Cursor | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> object:
    if actor.role not in ("admin", "supervisor"):
        raise PermissionDenied()
    return audit_service.list_entries(
        session,
        entity=entity,
        entity_id=entity_id,
        actor_id=actor_id,
        before_id=before_id,
        limit=limit,
    )
