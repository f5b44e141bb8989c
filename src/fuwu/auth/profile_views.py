"""HTML routes for the signed-in user's own page: name, phone, language, password, API tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from fuwu.auth import access
from fuwu.auth import service as auth_service
from fuwu.auth.admin_views import token_form
from fuwu.auth.deps import Csrf, UiUser
from fuwu.auth.principal import ALL_SCOPES, Principal
from fuwu.auth.schemas import TokenCreate, UserUpdate
from fuwu.errors import ValidationFailed
from fuwu.kit.i18n import gettext
from fuwu.kit.ids import Id
from fuwu.web import forms
from fuwu.web.deps import DbSession, SettingsDep, client_ip
from fuwu.web.errors import locale_of
from fuwu.web.forms import FieldErrors, Posted
from fuwu.web.templating import render

router = APIRouter(include_in_schema=False)


def _user_id(me: Principal) -> int:
    assert me.user_id is not None  # browser sessions always belong to a user
    return me.user_id


def _profile_page(
    request: Request,
    session: Session,
    me: Principal,
    *,
    values: dict[str, Any] | None = None,
    errors: FieldErrors | None = None,
    error_form: str | None = None,
    created: str | None = None,
    token_values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    user = auth_service.get_user(session, _user_id(me))
    context = {
        "nav_active": "profile",
        "user": user,
        "errors": errors or {},
        "error_form": error_form,
        "values": values
        or {
            "display_name": user.display_name,
            "phone": user.phone,
            "locale": user.locale,
        },
        "tokens": access.list_tokens(session, actor=me, user_id=user.id),
        "created": created,
        "scopes": ("*", *ALL_SCOPES),
        "base_url": "/profile/tokens",
        "token_values": token_values or {"scopes": ["*"]},
    }
    headers = {"Cache-Control": "no-store"} if context.get("created") else None
    return render(request, "auth/profile.html", context, status_code=status_code, headers=headers)


@router.get("/profile")
def profile_page(request: Request, session: DbSession, me: UiUser) -> Response:
    return _profile_page(request, session, me)


@router.post("/profile", dependencies=[Csrf])
def update_profile(
    request: Request, session: DbSession, settings: SettingsDep, me: UiUser, form: Posted
) -> Response:
    raw = {
        "display_name": forms.text(form, "display_name"),
        "phone": forms.optional(form, "phone"),
        "locale": forms.optional(form, "locale"),
    }
    try:
        data = forms.build(UserUpdate, raw)
        user = auth_service.update_user(
            session, actor=me, user_id=_user_id(me), data=data, ip=client_ip(request)
        )
    except ValidationFailed as exc:
        session.rollback()
        errors = forms.messages(request, exc)
        return _profile_page(
            request, session, me, values=raw, errors=errors, error_form="profile", status_code=422
        )
    response = RedirectResponse("/profile?saved=1", status_code=303)
    if user.locale:
        response.set_cookie(
            "fuwu_lang",
            user.locale,
            max_age=365 * 86400,
            samesite="lax",
            secure=settings.cookies_secure(),
        )
    return response


@router.post("/profile/password", dependencies=[Csrf])
def change_password(request: Request, session: DbSession, me: UiUser, form: Posted) -> Response:
    current, new, repeat = (
        str(form.get(name) or "") for name in ("current_password", "password", "password_confirm")
    )
    try:
        if new != repeat:
            raise ValidationFailed.single("password_confirm", "mismatch")
        auth_service.change_own_password(
            session, actor=me, current_password=current, new_password=new, ip=client_ip(request)
        )
    except ValidationFailed as exc:
        session.rollback()
        errors = forms.messages(request, exc)
        if "password_confirm" in errors:
            errors["password_confirm"] = [
                gettext(locale_of(request), "The two new passwords are not the same.")
            ]
        return _profile_page(
            request, session, me, errors=errors, error_form="password", status_code=422
        )
    return RedirectResponse("/profile?saved=password", status_code=303)


@router.post("/profile/tokens", dependencies=[Csrf])
def create_token(request: Request, session: DbSession, me: UiUser, form: Posted) -> Response:
    raw = token_form(form)
    try:
        data = forms.build(TokenCreate, raw)
        plain, _token = access.create_token(
            session, actor=me, user_id=_user_id(me), name=data.name, scopes=data.scopes
        )
    except ValidationFailed as exc:
        session.rollback()
        errors = forms.messages(request, exc)
        return _profile_page(
            request,
            session,
            me,
            errors=errors,
            error_form="token",
            token_values=raw,
            status_code=422,
        )
    return _profile_page(request, session, me, created=plain)


@router.post("/profile/tokens/{token_id}/revoke", dependencies=[Csrf])
def revoke_token(session: DbSession, me: UiUser, token_id: Id) -> Response:
    access.revoke_token(session, actor=me, token_id=token_id)
    return RedirectResponse("/profile#tokens", status_code=303)
