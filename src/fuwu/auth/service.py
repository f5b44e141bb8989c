"""Users and teams: create, change, list; every change audited."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import column, delete, func, or_, select, table, update
from sqlalchemy.orm import Session, selectinload

from fuwu.audit import service as audit
from fuwu.auth import passwords
from fuwu.auth.models import ApiToken, Team, TeamMember, User, UserSession
from fuwu.auth.principal import Principal, require_admin
from fuwu.auth.schemas import TeamCreate, TeamUpdate, UserCreate, UserUpdate
from fuwu.errors import FieldError, NotFound, PermissionDenied, ValidationFailed
from fuwu.kit.time import utcnow

USER_AUDIT_FIELDS = (
    "username",
    "display_name",
    "email",
    "role",
    "locale",
    "phone",
    "district",
    "ticket_scope",
    "is_active",
    "contact_id",
)
# What a user's own API token may never change about that user (ADR 0011): a stolen token must
# not be able to take over the account or raise its own privileges.
TOKEN_CANNOT_CHANGE_ITS_USER = frozenset({"password", "role", "ticket_scope", "is_active", "email"})


def _snapshot(user: User, team_ids: list[int]) -> dict[str, Any]:
    data = {k: getattr(user, k) for k in USER_AUDIT_FIELDS}
    data["team_ids"] = sorted(team_ids)
    return data


def principal_for(session: Session, user: User, **extra: Any) -> Principal:
    """The Principal snapshot of a user, with their team ids."""
    team_ids = session.scalars(select(TeamMember.team_id).where(TeamMember.user_id == user.id))
    default_locale = extra.pop("default_locale", "zh_CN")  # popped always: never reaches Principal
    return Principal(
        user_id=user.id,
        name=user.display_name,
        role=user.role,
        team_ids=frozenset(team_ids),
        ticket_scope=user.ticket_scope,
        contact_id=user.contact_id,
        locale=user.locale or default_locale,
        **extra,
    )


def get_user(session: Session, user_id: int) -> User:
    """A user with their teams loaded, or NotFound."""
    user = session.scalar(select(User).where(User.id == user_id).options(selectinload(User.teams)))
    if user is None:
        raise NotFound("User %(id)s does not exist.", id=user_id)
    return user


def get_user_by_username(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.username) == username.lower()))


def list_users(
    session: Session,
    *,
    role: str | None = None,
    team_id: int | None = None,
    q: str | None = None,
    staff_only: bool = False,
    active_only: bool = False,
    after_id: int | None = None,
    limit: int = 100,
) -> Sequence[User]:
    """Users by id, filtered; keyset-paged with after_id."""
    stmt = select(User).options(selectinload(User.teams)).order_by(User.id).limit(limit)
    if role:
        stmt = stmt.where(User.role == role)
    if staff_only:
        stmt = stmt.where(User.role != "customer")
    if active_only:
        stmt = stmt.where(User.is_active.is_(True))
    if team_id is not None:
        stmt = stmt.where(
            User.id.in_(select(TeamMember.user_id).where(TeamMember.team_id == team_id))
        )
    if q:
        stmt = stmt.where(  # autoescape: a typed % or _ is that character, not a wildcard
            or_(User.username.icontains(q, autoescape=True),
                User.display_name.icontains(q, autoescape=True))
        )  # fmt: skip
    if after_id is not None:
        stmt = stmt.where(User.id > after_id)
    return session.scalars(stmt).all()


def _check_unique(
    session: Session, *, username: str | None, email: str | None, own_id: int | None
) -> None:
    errors: list[FieldError] = []
    if username is not None:
        other = get_user_by_username(session, username)
        if other is not None and other.id != own_id:
            errors.append({"field": "username", "code": "taken", "params": {}})
    if email:
        other_id = session.scalar(select(User.id).where(func.lower(User.email) == email.lower()))
        if other_id is not None and other_id != own_id:
            errors.append({"field": "email", "code": "taken", "params": {}})
    if errors:
        raise ValidationFailed(errors)


def _teams(session: Session, team_ids: list[int], field: str = "team_ids") -> list[Team]:
    teams = list(session.scalars(select(Team).where(Team.id.in_(team_ids)))) if team_ids else []
    if len(teams) != len(set(team_ids)):
        raise ValidationFailed.single(field, "not_found")
    return teams


def create_user(
    session: Session, *, actor: Principal, data: UserCreate, ip: str | None = None
) -> User:
    """Add a user (admin only); staff get team scope unless admin or supervisor."""
    require_admin(actor)
    _check_unique(session, username=data.username, email=data.email, own_id=None)
    if data.role == "customer":
        _check_not_staff_name(session, data.display_name)
    _check_contact(session, data.contact_id)
    if data.password is not None:
        passwords.check_policy(data.password)
    default_scope = "all" if data.role in ("admin", "supervisor") else "team"
    user = User(
        username=data.username,
        display_name=data.display_name,
        email=data.email,
        role=data.role,
        password_hash=passwords.hash_password(data.password) if data.password else None,
        locale=data.locale,
        phone=data.phone,
        district=data.district,
        ticket_scope=data.ticket_scope or default_scope,
        contact_id=data.contact_id,
        is_active=True,
    )
    user.teams = _teams(session, data.team_ids)
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor_id=actor.user_id,
        actor_name=actor.name,
        action="create",
        entity="user",
        entity_id=user.id,
        after=_snapshot(user, data.team_ids),
        ip=ip,
    )
    return user


def update_user(
    session: Session, *, actor: Principal, user_id: int, data: UserUpdate, ip: str | None = None
) -> User:
    """Change a user (admin, or the user for their own name, locale, phone and password)."""
    user = get_user(session, user_id)
    changes = data.model_dump(exclude_unset=True)
    current_password = changes.pop("current_password", None)
    self_service = {"display_name", "locale", "phone", "password"}
    own = actor.user_id == user.id
    if not actor.is_admin and not (own and set(changes) <= self_service):
        raise PermissionDenied()
    if own and actor.by_token and set(changes) & TOKEN_CANNOT_CHANGE_ITS_USER:
        raise PermissionDenied(
            "An API token cannot change its own user's password, role, scope or status; "
            "sign in to do it."
        )
    if (
        own
        and "password" in changes
        and not passwords.verify_password(user.password_hash, current_password or "")
    ):
        raise ValidationFailed.single("current_password", "invalid")
    if actor.user_id == user.id and (
        changes.get("is_active") is False or changes.get("role") not in (None, user.role)
    ):
        raise ValidationFailed.single("role", "self_lockout")  # an admin cannot lock themselves out
    _check_unique(session, username=None, email=changes.get("email"), own_id=user.id)
    if changes.get("role", user.role) == "customer" and "display_name" in changes:
        _check_not_staff_name(session, changes["display_name"])
    before = _snapshot(user, [t.id for t in user.teams])
    password = changes.pop("password", None)
    if password is not None:
        passwords.check_policy(password)
        user.password_hash = passwords.hash_password(password)
    team_ids = changes.pop("team_ids", None)
    if team_ids is not None:
        user.teams = _teams(session, team_ids)
    for key, value in changes.items():
        setattr(user, key, value)
    session.flush()
    after = _snapshot(user, [t.id for t in user.teams])
    if password is not None:  # never the hash: only that it changed
        before["password"], after["password"] = "***", "*** (changed)"
        _end_other_credentials(session, actor=actor, user_id=user.id)
    audit.record_update(
        session, actor=actor, entity="user", entity_id=user.id, before=before, after=after, ip=ip
    )
    return user


_CONTACT = table("contact", column("id"))  # customers' table: auth sits beside customers


def _check_contact(session: Session, contact_id: int | None) -> None:
    """The contact a portal user is linked to must exist (a 422, not a foreign-key error)."""
    if contact_id is None:
        return
    if session.scalar(select(_CONTACT.c.id).where(_CONTACT.c.id == contact_id)) is None:
        raise ValidationFailed.single("contact_id", "not_found")


def _check_not_staff_name(session: Session, display_name: str) -> None:
    """A customer may not take a staff member's name (or username): replies are shown with the
    author's name, and a customer named like an agent could pose as support."""
    wanted = "".join(display_name.split()).casefold()
    staff = session.execute(select(User.display_name, User.username).where(User.role != "customer"))
    for name, username in staff:
        if wanted in ("".join(name.split()).casefold(), username.casefold()):
            raise ValidationFailed.single("display_name", "reserved")


def _end_other_credentials(session: Session, *, actor: Principal, user_id: int) -> None:
    """After a password change: sign the user out everywhere and revoke their API tokens,
    except the session or token this very change came with."""
    own = actor.user_id == user_id
    sessions = delete(UserSession).where(UserSession.user_id == user_id)
    if own and actor.session_id is not None:
        sessions = sessions.where(UserSession.id != actor.session_id)
    session.execute(sessions)
    tokens = (
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    if own and actor.token_id is not None:
        tokens = tokens.where(ApiToken.id != actor.token_id)
    session.execute(tokens)


def get_team(session: Session, team_id: int) -> Team:
    team = session.scalar(
        select(Team).where(Team.id == team_id).options(selectinload(Team.members))
    )
    if team is None:
        raise NotFound("Team %(id)s does not exist.", id=team_id)
    return team


def list_teams(session: Session, *, active_only: bool = False) -> Sequence[Team]:
    stmt = select(Team).options(selectinload(Team.members)).order_by(Team.name)
    if active_only:
        stmt = stmt.where(Team.is_active.is_(True))
    return session.scalars(stmt).all()


def _members(session: Session, member_ids: list[int]) -> list[User]:
    users = list(session.scalars(select(User).where(User.id.in_(member_ids)))) if member_ids else []
    if len(users) != len(set(member_ids)) or any(u.role == "customer" for u in users):
        raise ValidationFailed.single("member_ids", "not_found")
    return users


def create_team(
    session: Session, *, actor: Principal, data: TeamCreate, ip: str | None = None
) -> Team:
    """Add a team (admin only)."""
    require_admin(actor)
    if session.scalar(select(Team.id).where(Team.name == data.name)) is not None:
        raise ValidationFailed.single("name", "taken")
    team = Team(name=data.name, description=data.description, is_active=True)
    team.members = _members(session, data.member_ids)
    session.add(team)
    session.flush()
    audit.record(
        session,
        actor_id=actor.user_id,
        actor_name=actor.name,
        action="create",
        entity="team",
        entity_id=team.id,
        after={
            "name": team.name,
            "description": team.description,
            "member_ids": sorted(data.member_ids),
        },
        ip=ip,
    )
    return team


def update_team(
    session: Session, *, actor: Principal, team_id: int, data: TeamUpdate, ip: str | None = None
) -> Team:
    """Rename, describe, (de)activate a team or set its members (admin only)."""
    require_admin(actor)
    team = get_team(session, team_id)
    changes = data.model_dump(exclude_unset=True)
    renamed = "name" in changes and changes["name"] != team.name
    if renamed and session.scalar(select(Team.id).where(Team.name == changes["name"])):
        raise ValidationFailed.single("name", "taken")
    before = {
        "name": team.name,
        "description": team.description,
        "is_active": team.is_active,
        "member_ids": sorted(m.id for m in team.members),
    }
    member_ids = changes.pop("member_ids", None)
    if member_ids is not None:
        team.members = _members(session, member_ids)
    for key, value in changes.items():
        setattr(team, key, value)
    after = {
        "name": team.name,
        "description": team.description,
        "is_active": team.is_active,
        "member_ids": sorted(m.id for m in team.members),
    }
    audit.record_update(
        session, actor=actor, entity="team", entity_id=team.id, before=before, after=after, ip=ip
    )
    return team


def change_own_password(
    session: Session,
    *,
    actor: Principal,
    current_password: str,
    new_password: str,
    ip: str | None = None,
) -> User:
    """The signed-in user sets a new password after proving they know the current one."""
    if actor.user_id is None:
        raise PermissionDenied()
    user = get_user(session, actor.user_id)
    if not passwords.verify_password(user.password_hash, current_password):
        raise ValidationFailed.single("current_password", "invalid")
    if len(new_password) > 200:
        raise ValidationFailed.single("password", "too_long", max=200)
    passwords.check_policy(new_password)
    data = UserUpdate(password=new_password, current_password=current_password)
    return update_user(session, actor=actor, user_id=user.id, data=data, ip=ip)
