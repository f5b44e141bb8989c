"""Jinja2 environment with translations; one call renders a full page or an htmx fragment."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse, RedirectResponse, Response

from fuwu.kit.i18n import Translator

WEB_DIR = Path(__file__).resolve().parent
ASSET_VERSION = "1"


def make_templates(timezone: str) -> Jinja2Templates:
    """The template environment; `t.env` gets i18n callables per render."""
    templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))
    env = templates.env
    env.add_extension("jinja2.ext.i18n")
    env.autoescape = True
    tz = ZoneInfo(timezone)

    def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return value.astimezone(tz).strftime(fmt) if value else ""

    env.filters["localtime"] = local_time
    env.globals["asset_version"] = ASSET_VERSION
    return templates


def is_htmx(request: Request) -> bool:
    """True for requests made by htmx (they get a fragment, not a whole page)."""
    return (
        request.headers.get("hx-request") == "true" and request.headers.get("hx-boosted") != "true"
    )


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render with the caller's locale, principal and CSRF token in the context."""
    templates: Jinja2Templates = request.app.state.templates
    locale = getattr(request.state, "locale", None) or request.app.state.settings.default_locale
    translator = Translator(locale)
    principal = getattr(request.state, "principal", None)
    csrf = principal.csrf_token if principal else getattr(request.state, "anon_csrf", "")
    base: dict[str, Any] = {
        "request": request,
        "locale": locale,
        "me": principal,
        "csrf_token": csrf,
        "htmx": is_htmx(request),
        "_": translator.gettext,
        "gettext": translator.gettext,
        "ngettext": translator.ngettext,
    }
    base.update(context or {})
    return templates.TemplateResponse(
        request, template, base, status_code=status_code, headers=headers
    )


VARY = {"Vary": "HX-Request"}  # the same URL answers a page or a fragment: caches keep both


def page(
    request: Request,
    full: str,
    fragment: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The whole page, or only its fragment when htmx asks for it (netbox's htmx_partial): the
    one way an HTML route answers both, always with `Vary: HX-Request`."""
    template = fragment if is_htmx(request) else full
    return render(
        request, template, context, status_code=status_code, headers={**(headers or {}), **VARY}
    )


def redirect(request: Request, url: str) -> Response:
    """Go to `url` after a post: htmx follows `HX-Redirect` (a 303 would be swapped into the
    page), a browser without JavaScript the 303."""
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url, **VARY})
    return RedirectResponse(url, status_code=303, headers=VARY)


def fragment_or_redirect(
    request: Request,
    url: str,
    fragment: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> Response:
    """After a post that changed part of a page: htmx gets that part drawn again, a browser
    without JavaScript a 303 back to the page (post/redirect/get)."""
    if not is_htmx(request):
        return RedirectResponse(url, status_code=303, headers=VARY)
    return render(request, fragment, context, status_code=status_code, headers=VARY)
