"""HTML routes for signing in and out and choosing a language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from fuwu.auth import access
from fuwu.auth import service as auth_service
from fuwu.auth.deps import SESSION_COOKIE, Csrf, OptionalUser
from fuwu.auth.models import User
from fuwu.auth.schemas import UserUpdate
from fuwu.errors import NotAuthenticated, RateLimited
from fuwu.kit.i18n import LOCALES, gettext
from fuwu.web.deps import DbSession, SettingsDep, client_ip
from fuwu.web.templating import render

router = APIRouter(include_in_schema=False)


def safe_next(url: str | None) -> str:
    """Only same-site relative paths; anything else goes home."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/"
    return url


@router.get("/")
def home(me: OptionalUser) -> Response:
    return RedirectResponse("/inbox" if me else "/login", status_code=303)


@router.get("/login")
def login_page(request: Request, me: OptionalUser, next: str | None = None) -> Response:
    if me is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "auth/login.html", {"next_url": safe_next(next), "error": None})


@router.post("/login", dependencies=[Csrf])
def login(
    request: Request,
    session: DbSession,
    settings: SettingsDep,
    me: OptionalUser,
    username: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    try:
        user = access.authenticate(
            session,
            username=username.strip(),
            password=password,
            ip=client_ip(request),
            max_failures=settings.login_max_failures,
        )
    except (NotAuthenticated, RateLimited) as exc:
        locale = getattr(request.state, "locale", settings.default_locale)
        # Keep the failure counter: commit happens because we return normally.
        return render(
            request,
            "auth/login.html",
            {
                "next_url": safe_next(next),
                "error": gettext(locale, exc.message, **exc.params),
                "username": username,
            },
            status_code=exc.status_code,
        )
    return _signed_in(
        request, session, settings.session_hours, settings.cookies_secure(), user, next
    )


def _signed_in(
    request: Request, session: DbSession, hours: int, secure: bool, user: User, next_url: str
) -> Response:
    cookie = access.start_session(
        session,
        user=user,
        hours=hours,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
    )
    response = RedirectResponse(safe_next(next_url), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, cookie, max_age=hours * 3600, httponly=True, samesite="lax", secure=secure
    )
    if user.locale:
        response.set_cookie(
            "fuwu_lang", user.locale, max_age=365 * 86400, samesite="lax", secure=secure
        )
    return response


@router.post("/logout", dependencies=[Csrf])
def logout(request: Request, session: DbSession, me: OptionalUser) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        access.end_session(session, cookie)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/lang", dependencies=[Csrf])
def set_language(
    session: DbSession,
    settings: SettingsDep,
    me: OptionalUser,
    locale: Annotated[str, Form(max_length=10)],
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    """Switch the UI language; a signed-in user keeps it as their own preference."""
    chosen = locale if locale in LOCALES else settings.default_locale
    if me is not None and me.user_id is not None:
        data = UserUpdate.model_validate({"locale": chosen})
        auth_service.update_user(session, actor=me, user_id=me.user_id, data=data)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        "fuwu_lang", chosen, max_age=365 * 86400, samesite="lax", secure=settings.cookies_secure()
    )
    return response


@router.get("/lang/{locale}")
def choose_language(
    locale: str,
    session: DbSession,
    settings: SettingsDep,
    me: OptionalUser,
    next: str | None = None,
) -> Response:
    """Remember the language in a cookie (GET: changes only a preference, never data)."""
    chosen = locale if locale in LOCALES else settings.default_locale
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        "fuwu_lang", chosen, max_age=365 * 86400, samesite="lax", secure=settings.cookies_secure()
    )
    return response
