"""FastAPI dependencies: who is calling (bearer token or session cookie), scopes, CSRF."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import Scope

from fuwu.auth import access
from fuwu.auth.principal import Principal, require_admin, require_staff
from fuwu.config import Settings
from fuwu.db import transaction
from fuwu.errors import NotAuthenticated, PermissionDenied
from fuwu.kit.i18n import negotiate
from fuwu.web.deps import SAFE_METHODS, DbSession, SettingsDep

SESSION_COOKIE = "fuwu_session"
# Declared as a security scheme so the API docs offer "Authorize"; errors stay ours (401).
BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="API token",
    description="A token from `fuwu token create --user NAME` or Users → Tokens.",
)


class LoginRequired(NotAuthenticated):
    """Raised on UI pages; the error handler turns it into a redirect to /login."""


def _remember(request: Request, principal: Principal) -> Principal:
    request.state.principal = principal
    request.state.locale = principal.locale
    return principal


def api_principal(
    request: Request,
    session: DbSession,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
) -> Principal:
    """The caller of an /api route, by `Authorization: Bearer fuwu_…`."""
    return authenticate(request, session, settings, credentials)


def authenticate(
    request: Request,
    session: Session,
    settings: Settings,
    credentials: HTTPAuthorizationCredentials | None,
    scope: str | None = None,
) -> Principal:
    """The API caller behind the bearer credentials (holding `scope`, when given); raises
    NotAuthenticated or PermissionDenied. Blocking: call it from a worker thread."""
    if credentials is None or not credentials.credentials.strip():
        raise NotAuthenticated("An API token is required: send 'Authorization: Bearer <token>'.")
    value = credentials.credentials
    default = negotiate(request.headers.get("accept-language"), settings.default_locale)
    principal = access.token_principal(session, value.strip(), default)
    if principal is None:
        raise NotAuthenticated("The API token is unknown, revoked or expired.")
    if principal.token_id is None or not principal.token_touch_due:
        pass
    elif request.method not in SAFE_METHODS:
        access.touch_token(session, principal.token_id)  # already a write transaction
    else:
        # Its own short write transaction, so read-only requests stay read-only. (Never from a
        # writer session: on SQLite that one holds the write lock this would wait for.)
        with transaction(request.app.state.writer) as writer:
            access.touch_token(writer, principal.token_id)
    if scope is not None:
        require_scope(principal, scope)
    return _remember(request, principal)


def require_scope(principal: Principal, scope: str) -> None:
    if not principal.has_scope(scope):
        raise PermissionDenied("This API token lacks the scope '%(scope)s'.", scope=scope)


def optional_user(request: Request, session: DbSession, settings: SettingsDep) -> Principal | None:
    """The signed-in browser user, or None."""
    cookie = request.cookies.get(SESSION_COOKIE)
    default = request.cookies.get("fuwu_lang") or negotiate(
        request.headers.get("accept-language"), settings.default_locale
    )
    request.state.locale = default
    if not cookie:
        return None
    principal = access.session_principal(session, cookie, default)
    return _remember(request, principal) if principal else None


async def verify_csrf(
    request: Request, principal: Annotated[Principal | None, Depends(optional_user)]
) -> None:
    """Unsafe UI requests must echo the session's CSRF token (form field or X-CSRF-Token)."""
    # The principal is a sub-dependency: route-level `dependencies=[Csrf]` run before the
    # endpoint's own parameters, so request.state.principal is not set yet at this point.
    if request.method in SAFE_METHODS:
        return
    expected = principal.csrf_token if principal else request.cookies.get("fuwu_csrf")
    # Before sign-in the token is the fuwu_csrf cookie (double submit); after, the session's.
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise PermissionDenied(
            "The form expired or came from another site. Reload the page and try again."
        )


def ui_user(principal: Annotated[Principal | None, Depends(optional_user)]) -> Principal:
    if principal is None:
        raise LoginRequired()
    return principal


def ui_staff(principal: Annotated[Principal, Depends(ui_user)]) -> Principal:
    return require_staff(principal)


def ui_admin(principal: Annotated[Principal, Depends(ui_user)]) -> Principal:
    return require_admin(principal)


def scoped(scope: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the API caller, who must hold `scope` on their token."""

    async def dependency(principal: Annotated[Principal, Depends(api_principal)]) -> Principal:
        require_scope(principal, scope)
        return principal

    return dependency


BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]
ApiCaller = Annotated[Principal, Depends(api_principal)]
UiUser = Annotated[Principal, Depends(ui_user)]
UiStaff = Annotated[Principal, Depends(ui_staff)]
UiAdmin = Annotated[Principal, Depends(ui_admin)]
OptionalUser = Annotated[Principal | None, Depends(optional_user)]
Csrf = Depends(verify_csrf)


async def credentials_ok(scope: Scope) -> bool:
    """Whether a request carries a valid API token or browser session, checked before its
    body is read (the request guard asks this for large or chunked bodies)."""
    request = Request(scope)
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    token = value.strip() if scheme.lower() == "bearer" else ""
    cookie = request.cookies.get(SESSION_COOKIE) or ""
    if not token.startswith("fuwu_") and not cookie:
        return False

    def look_up() -> bool:
        with transaction(request.app.state.reader) as session:
            if token.startswith("fuwu_"):
                return access.token_principal(session, token, "en") is not None
            return access.session_principal(session, cookie, "en") is not None

    return await run_in_threadpool(look_up)
