"""The public web form's pages: the form (a plain URL and an iframe), its live logic, the
confirmation and the status link. Nobody signs in here; the rules live in channels/webform.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from fuwu.channels import webform
from fuwu.channels.webform import SURFACE, Submission
from fuwu.config import Settings
from fuwu.errors import FieldError, RateLimited, ValidationFailed
from fuwu.fields.forms import render as fields_render
from fuwu.fields.forms.compile import Form
from fuwu.kit.i18n import LOCALES, gettext, negotiate
from fuwu.tickets.types.models import TicketType
from fuwu.tickets.uploads import Upload, posted_files
from fuwu.web import forms as web_forms
from fuwu.web import templating
from fuwu.web.deps import DbSession, SettingsDep, client_ip
from fuwu.web.errors import field_message
from fuwu.web.security import CSP
from fuwu.web.templating import render
from fuwu.workflows import statuses

router = APIRouter(include_in_schema=False)

FORM_FIELDS_SLACK = 1024 * 1024  # room for the text fields next to the largest allowed files
# Where an error about the submitter shows: the inputs of the contact block.
CONTACT_INPUTS = {
    "customer": "_customer",
    "customer.name": "_name",
    "name": "_name",
    "customer.email": "_email",
    "email": "_email",
    "customer.phone": "_phone",
    "phone": "_phone",
}
CONTACT_LABELS = {"_name": "Your name", "_email": "Email", "_phone": "Phone"}
FILE_MESSAGES = {
    "too_many_files": "Send at most %(max)s files.",
    "file_too_large": "%(file)s is too large: at most %(size)s per file.",
    "file_blocked_type": "%(file)s cannot be sent: this type of file is not accepted.",
    "file_not_image": "%(file)s is not a picture (JPEG, PNG, GIF, WebP or BMP).",
    "file_empty": "%(file)s is empty.",
}


# ---------------------------------------------------------------- helpers


def _locale(request: Request, settings: Settings, lang: str | None) -> str:
    """?lang= (the embed snippet may fix it), then the language cookie, then the browser's."""
    cookie = request.cookies.get("fuwu_lang")
    if lang in LOCALES:
        chosen = str(lang)
    elif cookie in LOCALES:
        chosen = str(cookie)
    else:
        chosen = negotiate(request.headers.get("accept-language"), settings.default_locale)
    request.state.locale = chosen
    return chosen


def _frameable(response: Response, settings: Settings) -> Response:
    """Let other sites show this response in an iframe (the security middleware keeps the
    headers a route sets; browsers ignore X-Frame-Options when CSP has frame-ancestors)."""
    response.headers["Content-Security-Policy"] = CSP.replace(
        "frame-ancestors 'none'", f"frame-ancestors {settings.webform_frame_ancestors}"
    )
    if settings.webform_frame_ancestors == "'self'":
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def _query(lang: str, embed: bool) -> str:
    params = {"lang": lang} | ({"embed": "1"} if embed else {})
    return "?" + urlencode(params)


def _policy(settings: Settings) -> webform.Policy:
    return webform.Policy(
        number_pattern=settings.ticket_number_pattern,
        timezone=settings.timezone,
        max_bytes=settings.attachment_max_bytes,
        blocked_extensions=settings.attachment_blocked_extensions,
        rate_limit=settings.webform_rate_limit,
    )


def _size(count: int) -> str:
    return f"{count / 1024 / 1024:.0f} MB" if count >= 1024 * 1024 else f"{count // 1024} KB"


async def _posted(request: Request) -> FormData | None:
    """The posted form; None when its size shows it cannot keep the file limits (the page
    says so instead of reading megabytes it would refuse anyway)."""
    settings: Settings = request.app.state.settings
    most = webform.MAX_FILES * settings.attachment_max_bytes + FORM_FIELDS_SLACK
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > most:
        return None
    return web_forms.without_nul(
        await request.form(max_files=webform.MAX_FILES * 4, max_fields=1000)
    )


Posted = Annotated[FormData | None, Depends(_posted)]


def _text(posted: FormData, name: str) -> str:
    value = posted.get(name)
    return value.strip() if isinstance(value, str) else ""


def _uploads(form: Form, posted: FormData) -> list[Upload]:
    """The files posted for the form's file fields and as plain attachments (`_files`)."""
    names: dict[str, str | None] = {k: k for k in webform.file_fields(form)}
    return posted_files(posted, {**names, "_files": None})


def _submission(form: Form, posted: FormData) -> Submission:
    return Submission(
        subject=_text(posted, "subject"),
        description=_text(posted, "description"),
        priority=_text(posted, "priority"),
        name=_text(posted, "_name"),
        email=_text(posted, "_email"),
        phone=_text(posted, "_phone"),
        custom=fields_render.parse_posted(form, SURFACE, posted),
        uploads=_uploads(form, posted),
        honeypot=_text(posted, webform.honeypot_name(form)),
    )


# ---------------------------------------------------------------- errors


def _file_message(locale: str, code: str, params: Mapping[str, Any]) -> str:
    template = FILE_MESSAGES.get(code, "%(file)s could not be stored.")
    return gettext(
        locale,
        template,
        file=params.get("file", ""),
        max=params.get("max", webform.MAX_FILES),
        size=_size(int(params.get("max") or 0)),
    )


def _contact_message(locale: str, key: str, code: str, params: Mapping[str, Any]) -> str:
    if code == "need_reach":
        return gettext(locale, "Leave an email address or a phone number so that we can answer.")
    return field_message(locale, gettext(locale, CONTACT_LABELS.get(key, "")), code, dict(params))


def _messages(
    locale: str, errors: list[FieldError]
) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """(field key → message, contact input → message, file messages) for a page."""
    system = fields_render.system_fields()
    fields: list[dict[str, Any]] = []
    contact: dict[str, str] = {}
    files: list[str] = []
    for error in errors:
        field, code = str(error.get("field", "")), str(error.get("code", "invalid"))
        params = error.get("params") or {}
        if field == "attachments" or code in FILE_MESSAGES:  # the message names the file
            files.append(_file_message(locale, code, params))
        elif field in CONTACT_INPUTS:
            key = CONTACT_INPUTS[field]
            contact.setdefault(key, _contact_message(locale, key, code, params))
        else:
            if code == "too_short" and params.get("min") == 1:
                code = "missing"  # an empty required text field
            head = field.split(".")[0]
            if head in system:  # name a system field as its input is labelled (标题, not 主题)
                params = {**params, "label": dict(system[head].label)}
            fields.append({**error, "code": code, "params": params})
    return fields_render.messages(locale, fields), contact, files


# ---------------------------------------------------------------- the form


def _sections(
    form: Form,
    *,
    custom: Mapping[str, Any],
    system: Mapping[str, Any],
    locale: str,
    errors: Mapping[str, str],
) -> tuple[list[fields_render.SectionView], list[fields_render.Input]]:
    """(sections to draw, file inputs): system inputs the public may not set are left out,
    file fields are drawn apart so that a live update never drops the chosen files."""
    drawn = fields_render.render(
        form, SURFACE, custom, locale=locale, system=system, errors=errors, variables={}
    )
    uploadable = set(webform.file_fields(form))
    sections: list[fields_render.SectionView] = []
    files: list[fields_render.Input] = []
    for section in drawn:
        kept = []
        for item in section.inputs:
            if item.widget == "file":
                if item.key in uploadable:  # a signature is drawn on paper, not sent here
                    files.append(item)
            elif not item.system or item.key in webform.SYSTEM_INPUTS:
                item.required = item.required or item.key == "subject"  # a ticket needs one
                kept.append(item)
        if kept:
            sections.append(fields_render.SectionView(section.title, section.columns, kept))
    return sections, files


@dataclass(frozen=True)
class _Page:
    """One drawing of the form: the type, its form, the reader's language, whether it sits in
    an iframe, and what was posted (None for a fresh form)."""

    found: TicketType
    form: Form
    locale: str
    embed: bool
    posted: FormData | None = None


def _context(
    settings: Settings, page: _Page, errors: list[FieldError], notice: str
) -> dict[str, Any]:
    found, form, locale, posted = page.found, page.form, page.locale, page.posted
    if posted is None:
        custom = fields_render.defaults(form, SURFACE)
        posted = FormData()
    else:
        custom = fields_render.parse_posted(form, SURFACE, posted)
    values = {k: _text(posted, k) for k in ("subject", "description", "priority", *CONTACT_LABELS)}
    system = {
        "subject": values["subject"],
        "description": values["description"],
        "priority": values["priority"] or "normal",
        "type": found.key,
        "channel": "web",
    }
    field_errors, contact_errors, file_errors = _messages(locale, errors)
    sections, files = _sections(
        form, custom=custom, system=system, locale=locale, errors=field_errors
    )
    drawn = fields_render.drawn_keys(sections) | {f.key for f in files}
    return {
        "title": webform.type_name(found, locale),
        "intro": (found.description or {}).get(locale, ""),
        "key": found.key,
        "embed": page.embed,
        "lang": locale,
        "sections": sections,
        "files": files,
        "images": {k for k in webform.file_fields(form) if form.specs[k].type == "image"},
        "values": values,
        "contact_errors": contact_errors,
        "file_errors": file_errors,
        "other_errors": [m for k, m in field_errors.items() if k not in drawn],
        "notice": notice,
        "form_token": webform.form_token(settings.secret_key, found.key),
        "honeypot": webform.honeypot_name(form),
        "max_files": webform.MAX_FILES,
        "max_size": _size(settings.attachment_max_bytes),
        "query": _query(locale, page.embed),
        "live_url": f"/forms/{found.key}/logic{_query(locale, page.embed)}",
    }


def _form_response(
    request: Request,
    settings: Settings,
    page: _Page,
    *,
    errors: list[FieldError] | None = None,
    notice: str = "",
    status_code: int = 200,
    fragment: bool = False,
) -> Response:
    """The form page (or, for htmx, the form or its fields alone), values kept after a post."""
    context = _context(settings, page, errors or [], notice)
    if fragment:  # the logic round trip: always only the fields
        response = render(request, "webform/_fields.html", context, headers=templating.VARY)
    else:
        response = templating.page(
            request, "webform/page.html", "webform/_form.html", context, status_code=status_code
        )
    return _frameable(response, settings) if page.embed else response


@router.get("/forms/{type_key}")
def form_page(
    type_key: str,
    request: Request,
    session: DbSession,
    settings: SettingsDep,
    lang: str | None = None,
) -> Response:
    """The public form of a ticket type: the plain URL to link to."""
    locale = _locale(request, settings, lang)
    found, form = webform.public_form(session, type_key, settings.timezone)
    return _form_response(request, settings, _Page(found, form, locale, embed=False))


@router.get("/forms/{type_key}/embed")
def embed_page(
    type_key: str,
    request: Request,
    session: DbSession,
    settings: SettingsDep,
    lang: str | None = None,
) -> Response:
    """The same form with minimal chrome, for an <iframe> on another site."""
    locale = _locale(request, settings, lang)
    found, form = webform.public_form(session, type_key, settings.timezone)
    return _form_response(request, settings, _Page(found, form, locale, embed=True))


@router.post("/forms/{type_key}/logic")
def form_logic(
    type_key: str,
    request: Request,
    session: DbSession,
    settings: SettingsDep,
    posted: Posted,
    lang: str | None = None,
    embed: bool = False,
) -> Response:
    """The fields again after a change: form logic shows, hides and requires fields live."""
    locale = _locale(request, settings, lang)
    found, form = webform.public_form(session, type_key, settings.timezone)
    page = _Page(found, form, locale, embed=embed, posted=posted or FormData())
    return _form_response(request, settings, page, fragment=True)


@router.post("/forms/{type_key}")
def submit(
    type_key: str,
    request: Request,
    session: DbSession,
    settings: SettingsDep,
    posted: Posted,
    lang: str | None = None,
    embed: bool = False,
) -> Response:
    """Open the ticket and go to the confirmation; a page with the problems otherwise.

    The language and whether the form sits in an iframe come in the query string, so that
    even an answer to a body too large to read is in the right language and frameable."""
    locale = _locale(request, settings, lang)
    found, form = webform.public_form(session, type_key, settings.timezone)
    page = _Page(found, form, locale, embed=embed, posted=posted)
    if posted is None:
        notice = gettext(
            locale, "The files are too large together: send at most %(count)s files of %(size)s.",
            count=webform.MAX_FILES, size=_size(settings.attachment_max_bytes),
        )  # fmt: skip
        return _form_response(request, settings, page, notice=notice, status_code=413)
    if not webform.form_token_ok(settings.secret_key, type_key, _text(posted, "_token")):
        notice = gettext(
            locale, "This form was open for a long time. Check your entries and send it again."
        )
        return _form_response(request, settings, page, notice=notice, status_code=422)
    try:
        token = webform.submit(
            session, ticket_type=found, form=form,
            data=_submission(form, posted), ip=client_ip(request),
            policy=_policy(settings), store=request.app.state.store, locale=locale,
        )  # fmt: skip
    except RateLimited as exc:
        notice = gettext(locale, exc.message, **exc.params)
        return _form_response(request, settings, page, notice=notice, status_code=429)
    except ValidationFailed as exc:
        session.rollback()  # the contact, the ticket, its files: nothing is kept
        notice = gettext(locale, "Some fields are not valid.")
        return _form_response(
            request, settings, page, errors=exc.errors, notice=notice, status_code=422
        )
    return templating.redirect(request, f"/forms/{type_key}/done/{token}{_query(locale, embed)}")


# ---------------------------------------------------------------- after sending


def _private(response: Response) -> Response:
    """Pages behind a secret link: never cached by others, never indexed."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@router.get("/forms/{type_key}/done/{token}")
def done_page(
    type_key: str,
    token: str,
    request: Request,
    session: DbSession,
    settings: SettingsDep,
    lang: str | None = None,
    embed: bool = False,
) -> Response:
    """The confirmation: the ticket number and the status link to keep."""
    locale = _locale(request, settings, lang)
    found = webform.public_type(session, type_key)
    ticket = webform.confirmed(session, token=token)
    context = {
        "title": webform.type_name(found, locale),
        "key": type_key,
        "embed": embed,
        "lang": locale,
        "ticket": ticket,
        "status_path": f"/forms/status/{token}?lang={locale}",
        "status_url": f"{settings.base_url.rstrip('/')}/forms/status/{token}?lang={locale}",
        "again_url": f"/forms/{type_key}{'/embed' if embed else ''}{_query(locale, False)}",
    }
    response = _private(render(request, "webform/done.html", context))
    return _frameable(response, settings) if embed else response


@router.get("/forms/status/{token}")
def status_page(
    token: str, request: Request, session: DbSession, settings: SettingsDep, lang: str | None = None
) -> Response:
    """A ticket's number, subject, status and public replies, for whoever holds the link."""
    locale = _locale(request, settings, lang)
    view = webform.status_view(session, token=token)
    context = {
        "ticket": view.ticket,
        "replies": view.replies,
        "status_label": statuses.catalogue(session).label(view.ticket.status, locale),
        "lang": locale,
        "embed": False,
    }
    return _private(render(request, "webform/status.html", context))
