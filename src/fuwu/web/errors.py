"""One place that turns errors into responses: JSON under /api, a page or fragment elsewhere."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import Receive, Scope, Send

from fuwu.errors import (
    FIELD_LABELS,
    FIELD_MESSAGES,
    DomainError,
    FieldError,
    NotAuthenticated,
    ValidationFailed,
    field_error,
)
from fuwu.kit.i18n import gettext, negotiate
from fuwu.kit.indexes import custom_field_of
from fuwu.web.guard import BodyTooLarge
from fuwu.web.templating import is_htmx, render

log = logging.getLogger("fuwu.errors")

PYDANTIC_CODES = {
    "missing": "missing",
    "extra_forbidden": "extra_forbidden",
    "string_too_long": "too_long",
    "too_long": "too_long",
    "string_too_short": "too_short",
    "too_short": "too_short",
    "literal_error": "invalid_choice",
    "enum": "invalid_choice",
    "string_pattern_mismatch": "invalid",
    "value_error": "invalid",
    "greater_than_equal": "too_small",
    "less_than_equal": "too_big",
    "greater_than": "too_small",
    "less_than": "too_big",
    "null_not_allowed": "null_not_allowed",
}
STATUS_MESSAGES = {
    404: "Not found.",
    405: "Method not allowed.",
    400: "Bad request.",
    413: "The request is too large (at most %(limit)s bytes).",
}
INTERNAL_ERROR = "Something went wrong on our side. Nothing was saved; please try again."


def locale_of(request: Request) -> str:
    found: str | None = getattr(request.state, "locale", None)
    if found:
        return found
    return negotiate(
        request.headers.get("accept-language"), request.app.state.settings.default_locale
    )


def field_message(locale: str, field: str, code: str, params: dict[str, Any]) -> str:
    """The message for one field error; admin-defined fields carry their own labels, and an
    error may carry its own message (`msgid`, e.g. a condition's "all[2]: unknown field")."""
    if isinstance(params.get("msgid"), str):
        own_params = {k: v for k, v in params.items() if k not in ("msgid", "detail", "label")}
        return gettext(locale, params["msgid"], **own_params)
    own = params.get("label")
    if isinstance(own, dict):
        label = str(own.get(locale) or own.get("en") or field)
    else:
        label = gettext(locale, FIELD_LABELS.get(field, field)) if field else ""
    template = FIELD_MESSAGES.get(code) or FIELD_MESSAGES["invalid"]
    safe = {k: ("" if v is None else v) for k, v in params.items() if k != "label"}
    safe.setdefault("max", "")
    safe.setdefault("min", "")
    safe.setdefault("choices", "")
    safe.setdefault("detail", "")
    expected = str(safe.get("expected") or "")
    safe["expected"] = gettext(locale, expected) if expected else ""
    return gettext(locale, template, field=label or field, **safe).strip()


def from_pydantic(error: Mapping[str, Any]) -> FieldError:
    loc = [str(p) for p in error.get("loc", ())]
    if loc and loc[0] in ("body", "query", "path", "header", "form"):  # where, not which field
        loc = loc[1:]
    field = ".".join(loc)
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    code = PYDANTIC_CODES.get(kind, "type")
    params: dict[str, Any] = {"detail": error.get("msg", "")}
    if "max_length" in ctx:
        params["max"] = ctx["max_length"]
    if "min_length" in ctx:
        params["min"] = ctx["min_length"]
    if "expected" in ctx:
        params["choices"] = ctx["expected"]
    for bound, name in (("ge", "min"), ("gt", "min"), ("le", "max"), ("lt", "max")):
        if bound in ctx:
            params[name] = ctx[bound]
    if kind.endswith("_parsing") or kind.endswith("_type"):
        code = "type"
        params["expected"] = EXPECTED.get(kind.split("_", 1)[0], "a value of another kind")
    return {"field": field, "code": code, "params": params}


# What a value of the wrong kind should have been, by pydantic's error type (its own message is
# English whatever the user's language: "Input should be a valid integer, unable to parse…").
EXPECTED = {
    "int": "a whole number",
    "float": "a number",
    "decimal": "a number",
    "bool": "true or false",
    "string": "text",
    "list": "a list",
    "dict": "an object",
    "model": "an object",
    "date": "a date (YYYY-MM-DD)",
    "datetime": "a date and time",
    "time": "a time (HH:MM)",
    "uuid": "a UUID",
}


def _json_error(
    request: Request,
    status: int,
    code: str,
    message: str,
    fields: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["error"]["request_id"] = request_id.decode()
    if fields is not None:
        body["error"]["fields"] = fields
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def _page_error(
    request: Request, status: int, message: str, fields: list[dict[str, Any]] | None = None
) -> Response:
    template = "errors/fragment.html" if is_htmx(request) else "errors/page.html"
    response = render(
        request,
        template,
        {"status": status, "message": message, "fields": fields or []},
        status_code=status,
    )
    if is_htmx(request):
        response.headers["HX-Retarget"] = "#flash"
        response.headers["HX-Reswap"] = "innerHTML"
    return response


def _respond(
    request: Request,
    status: int,
    code: str,
    message: str,
    fields: list[dict[str, Any]] | None = None,
) -> Response:
    if request.url.path.startswith("/api/") or request.url.path == "/healthz":
        return _json_error(request, status, code, message, fields)
    if status == 401:
        if is_htmx(request):
            return Response(status_code=204, headers={"HX-Redirect": "/login"})
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    return _page_error(request, status, message, fields)


def _translated_fields(locale: str, errors: Sequence[FieldError]) -> list[dict[str, Any]]:
    return [
        {
            "field": e["field"],
            "code": e["code"],
            "message": field_message(locale, e["field"], e["code"], e.get("params", {})),
        }
        for e in errors
    ]


def describe(locale: str, exc: DomainError) -> dict[str, Any]:
    """An error as the API reports it, in `locale`: its code, message and, for invalid
    fields, one message per field. Also for errors reported inside a body (bulk results)."""
    said: dict[str, Any] = {"code": exc.code, "message": gettext(locale, exc.message, **exc.params)}
    if isinstance(exc, ValidationFailed):
        said["fields"] = _translated_fields(locale, exc.errors)
    return said


def install(app: FastAPI) -> None:
    """Register the handlers on an app."""

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        said = describe(locale_of(request), exc)
        if isinstance(exc, NotAuthenticated):
            return _respond(request, 401, exc.code, said["message"])
        return _respond(request, exc.status_code, exc.code, said["message"], said.get("fields"))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        locale = locale_of(request)
        errors = [from_pydantic(e) for e in exc.errors()]
        message = gettext(locale, "Some fields are not valid.")
        return _respond(
            request, 422, "validation_failed", message, _translated_fields(locale, errors)
        )

    @app.exception_handler(IntegrityError)
    async def integrity_error(request: Request, exc: IntegrityError) -> Response:
        """A unique custom field taken by a concurrent write (the service's own check passed
        in both transactions; the unique index decided): 409 naming the field."""
        found = custom_field_of(str(exc.orig))
        if found is None:
            raise exc  # not ours to explain: the request guard logs it as a 500
        locale = locale_of(request)
        errors = [field_error(f"custom.{found[1]}", "taken")]
        message = gettext(locale, "Someone else saved the same value a moment ago.")
        return _respond(request, 409, "conflict", message, _translated_fields(locale, errors))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        locale = locale_of(request)
        if isinstance(exc, BodyTooLarge):
            return _too_large(request, exc.limit)
        text = STATUS_MESSAGES.get(exc.status_code, "Request failed.")
        return _respond(request, exc.status_code, "http_error", gettext(locale, text, limit=""))


def _too_large(request: Request, limit: int) -> Response:
    """413, whether the guard saw it in the declared length or while streaming."""
    text = gettext(locale_of(request), STATUS_MESSAGES[413], limit=limit)
    return _respond(request, 413, "too_large", text)


async def guard_response(
    scope: Scope, receive: Receive, send: Send, status: int, info: dict[str, Any]
) -> None:
    """The answers of the request guard (web.guard), as JSON under /api or as a page."""
    request = Request(scope, receive)
    locale = locale_of(request)
    if status == 422:
        errors = [field_error(f, "nul_character") for f in info["nul_fields"]]
        message = gettext(locale, "Some fields are not valid.")
        fields = _translated_fields(locale, errors)
        response = _respond(request, 422, "validation_failed", message, fields)
    elif status == 413:
        response = _too_large(request, info["limit"])
    elif status == 401:
        response = _respond(request, 401, "not_authenticated", gettext(locale, "Please sign in."))
    elif status == 500:
        text = gettext(locale, INTERNAL_ERROR)
        request_id = getattr(request.state, "request_id", b"").decode()
        if request_id and not request.url.path.startswith("/api/"):
            text = f"{text} ({gettext(locale, 'Request')} {request_id})"
        response = _respond(request, 500, "internal_error", text)
    else:
        response = _respond(request, status, "http_error", gettext(locale, "Bad request."))
    await response(scope, receive, send)
