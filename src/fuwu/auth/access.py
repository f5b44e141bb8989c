"""Signing in: passwords with rate limits, browser sessions and API tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from fuwu.audit import service as audit
from fuwu.auth import passwords
from fuwu.auth.models import ApiToken, LoginAttempt, TeamMember, User, UserSession
from fuwu.auth.principal import ALL_SCOPES, Principal
from fuwu.auth.service import get_user_by_username, principal_for
from fuwu.errors import NotAuthenticated, NotFound, PermissionDenied, RateLimited, ValidationFailed
from fuwu.kit.time import utcnow

LOGIN_WINDOW = timedelta(minutes=15)
# Writing last_used_at on every request would serialise API reads on SQLite; a few minutes'
# precision is what an admin deciding whether a token is still in use needs.
TOKEN_TOUCH_EVERY = timedelta(minutes=5)
ADDRESS_FAILURES_FACTOR = 5


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def authenticate(
    session: Session, *, username: str, password: str, ip: str | None, max_failures: int
) -> User:
    """The active user with this username and password; failures are counted and limited.

    A failure counts once against the (username, address) pair, which locks after
    `max_failures`, and once against the address, which locks after ADDRESS_FAILURES_FACTOR
    times as many (one address trying many usernames). Nobody can lock a user out from
    another address.
    """
    pair, address = f"login:{username.lower()[:100]}|{ip or '-'}", f"ip:{ip or '-'}"
    since = utcnow() - LOGIN_WINDOW
    rows = session.execute(
        select(LoginAttempt.key, func.count())
        .where(LoginAttempt.key.in_([pair, address]), LoginAttempt.at > since)
        .group_by(LoginAttempt.key)
    ).all()
    counted = {str(row[0]): int(row[1]) for row in rows}
    if (
        counted.get(pair, 0) >= max_failures
        or counted.get(address, 0) >= max_failures * ADDRESS_FAILURES_FACTOR
    ):
        raise RateLimited("Too many failed sign-ins. Try again in %(minutes)s minutes.", minutes=15)
    user = get_user_by_username(session, username)
    ok = passwords.verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        session.add_all([LoginAttempt(key=pair), LoginAttempt(key=address)])
        raise NotAuthenticated("Wrong username or password.")
    session.execute(delete(LoginAttempt).where(LoginAttempt.key == pair))
    user.last_login_at = utcnow()
    return user


def start_session(
    session: Session, *, user: User, hours: int, ip: str | None, user_agent: str | None
) -> str:
    """Create a browser session and return the cookie value (only its hash is stored)."""
    secret = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            token_hash=_sha256(secret),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            expires_at=utcnow() + timedelta(hours=hours),
            ip=ip,
            user_agent=(user_agent or "")[:300],
        )
    )
    audit.record(
        session,
        actor_id=user.id,
        actor_name=user.display_name,
        action="login",
        entity="user",
        entity_id=user.id,
        ip=ip,
    )
    return secret


def end_session(session: Session, cookie_value: str) -> None:
    session.execute(delete(UserSession).where(UserSession.token_hash == _sha256(cookie_value)))


def session_principal(session: Session, cookie_value: str, default_locale: str) -> Principal | None:
    """The principal behind a session cookie, or None when unknown or expired."""
    row = session.execute(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == _sha256(cookie_value))
    ).first()
    if row is None:
        return None
    user_session, user = row
    if user_session.expires_at < utcnow() or not user.is_active:
        return None
    return principal_for(
        session,
        user,
        csrf_token=user_session.csrf_token,
        session_id=user_session.id,
        default_locale=default_locale,
    )


def create_token(
    session: Session, *, actor: Principal, user_id: int, name: str, scopes: Sequence[str]
) -> tuple[str, ApiToken]:
    """Issue an API token; the plain value is returned once and never stored."""
    if not (actor.is_admin or actor.user_id == user_id):
        raise PermissionDenied()
    bad = [s for s in scopes if s != "*" and s not in ALL_SCOPES]
    if bad or not scopes:
        raise ValidationFailed.single(
            "scopes", "invalid_choice", choices=", ".join(("*", *ALL_SCOPES))
        )
    wider = [s for s in scopes if not _within(actor, s)]
    if wider:
        raise PermissionDenied(
            "A token cannot create a token with scopes it does not have itself: %(scopes)s.",
            scopes=", ".join(wider),
        )
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("User %(id)s does not exist.", id=user_id)
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user_id, name=name, prefix=prefix, token_hash=_sha256(secret), scopes=list(scopes)
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor_id=actor.user_id,
        actor_name=actor.name,
        action="create",
        entity="api_token",
        entity_id=token.id,
        after={"user_id": user_id, "name": name, "scopes": list(scopes), "prefix": prefix},
    )
    return f"fuwu_{prefix}_{secret}", token


def _within(actor: Principal, scope: str) -> bool:
    """Whether the actor's own credential covers `scope` ("*" only when it holds "*")."""
    if actor.scopes is None or "*" in actor.scopes:
        return True
    return scope != "*" and scope in actor.scopes


def list_tokens(session: Session, *, actor: Principal, user_id: int) -> Sequence[ApiToken]:
    if not (actor.is_admin or actor.user_id == user_id):
        raise PermissionDenied()
    return session.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)
    ).all()


def revoke_token(session: Session, *, actor: Principal, token_id: int) -> ApiToken:
    """Revoke a token at once; it stops working on the next request."""
    token = session.get(ApiToken, token_id)
    if token is None or not (actor.is_admin or actor.user_id == token.user_id):
        raise NotFound("Token %(id)s does not exist.", id=token_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(
            session,
            actor_id=actor.user_id,
            actor_name=actor.name,
            action="revoke",
            entity="api_token",
            entity_id=token.id,
        )
    return token


_TOKEN, _USER, _MEMBER = ApiToken.__table__.c, User.__table__.c, TeamMember.__table__.c
# Built once, on the Core tables: building an ORM select of these columns per request and
# running it through the ORM cost ≈ 4× the query itself (docs/benchmarks.md).
_TOKEN_PRINCIPAL = (
    select(
        _TOKEN.id,
        _TOKEN.token_hash,
        _TOKEN.scopes,
        _TOKEN.revoked_at,
        _TOKEN.expires_at,
        _TOKEN.last_used_at,
        _USER.id.label("user_id"),
        _USER.display_name,
        _USER.role,
        _USER.ticket_scope,
        _USER.contact_id,
        _USER.locale,
        _USER.is_active,
        _MEMBER.team_id,
    )
    .join_from(ApiToken.__table__, User.__table__, _USER.id == _TOKEN.user_id)
    .outerjoin(TeamMember.__table__, _MEMBER.user_id == _USER.id)
    .where(_TOKEN.prefix == bindparam("prefix"))
)


def token_principal(session: Session, plain: str, default_locale: str) -> Principal | None:
    """The principal behind a bearer token, or None when it is unknown, revoked or expired.

    One statement per API request: the token, its user and the user's teams come back as
    plain columns (a row per team), not as ORM objects.
    """
    parts = plain.split("_")
    if len(parts) < 3 or parts[0] != "fuwu":
        return None
    prefix, secret = parts[1], "_".join(parts[2:])
    rows = session.execute(_TOKEN_PRINCIPAL, {"prefix": prefix}).all()
    if not rows:
        return None
    (
        token_id,
        token_hash,
        scopes,
        revoked_at,
        expires_at,
        last_used_at,
        user_id,
        name,
        role,
        ticket_scope,
        contact_id,
        locale,
        is_active,
        _team,
    ) = rows[0]
    if not hmac.compare_digest(token_hash, _sha256(secret)):
        return None
    now = utcnow()
    if revoked_at is not None or not is_active or (expires_at and expires_at < now):
        return None
    stale = last_used_at is None or now - last_used_at > TOKEN_TOUCH_EVERY
    return Principal(
        user_id=user_id,
        name=name,
        role=role,
        team_ids=frozenset(r.team_id for r in rows if r.team_id is not None),
        ticket_scope=ticket_scope,
        contact_id=contact_id,
        locale=locale or default_locale,
        scopes=frozenset(scopes),
        token_id=token_id,
        token_touch_due=stale,
    )


def touch_token(session: Session, token_id: int) -> None:
    """Record that a token was used (at most every TOKEN_TOUCH_EVERY, see api_principal)."""
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow()))
