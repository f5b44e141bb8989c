"""HTML form helpers: read the posted form, build a schema, turn errors into per-field messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from fuwu.errors import FIELD_LABELS, FieldError, ValidationFailed
from fuwu.kit.ids import parse_id
from fuwu.web.errors import field_message, from_pydantic, locale_of

Model = TypeVar("Model", bound=BaseModel)

# Labels (msgids) for form fields that fuwu.errors.FIELD_LABELS does not name.
EXTRA_LABELS: dict[str, str] = {
    "locale": "Language",
    "district": "District",
    "ticket_scope": "Ticket scope",
    "is_active": "Active",
    "vip_level": "VIP level",
    "province": "Province",
    "city": "City",
    "address": "Address",
    "notes": "Notes",
    "current_password": "Current password",
    "password_confirm": "Repeat new password",
    "contact_id": "Contact",
}

FieldErrors = dict[str, list[str]]


async def posted_form(request: Request) -> FormData:
    """The parsed form body (cached by Starlette, so the CSRF check and the route share it)."""
    return without_nul(await request.form())


def without_nul(form: FormData) -> FormData:
    """The form, or ValidationFailed naming each field (or file name) holding a NUL character.

    The request guard (web.guard) checks url-encoded and JSON bodies; multipart bodies are only
    parsed here, so every parser of a posted form passes through this.
    """
    bad = []
    for name, value in form.multi_items():
        text = value if isinstance(value, str) else (value.filename or "")
        if "\x00" in name or "\x00" in text:
            bad.append(name.replace("\x00", "\\0"))
    if bad:
        raise ValidationFailed([{"field": n, "code": "nul_character", "params": {}} for n in bad])
    return form


Posted = Annotated[FormData, Depends(posted_form)]


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def optional(form: FormData, name: str) -> str | None:
    """The stripped value, or None when the field was left empty."""
    return text(form, name) or None


def many(form: FormData, name: str) -> list[str]:
    return [v.strip() for v in form.getlist(name) if isinstance(v, str) and v.strip()]


def ids(form: FormData, name: str) -> list[int]:
    """Selected ids of a checkbox list; anything that is not a number is ignored."""
    return [n for n in map(parse_id, many(form, name)) if n is not None]


def checked(form: FormData, name: str) -> bool:
    return name in form


def tags(value: str) -> list[str]:
    """Comma-separated tags (ASCII or full-width commas), without blanks or repeats."""
    parts = (p.strip() for p in value.replace("，", ",").split(","))
    return list(dict.fromkeys(p for p in parts if p))


def _normalise(error: FieldError) -> FieldError:
    field = str(error["field"]).split(".")[0]
    code = error["code"]
    if field == "email" and code == "invalid":
        code = "invalid_email"
    if code == "type":  # pydantic's English detail would leak into a Chinese page
        code = "invalid"
    if code == "too_short" and error.get("params", {}).get("min") == 1:
        code = "missing"  # an empty required text field
    return {"field": field, "code": code, "params": error.get("params", {})}


def build(model: type[Model], data: dict[str, Any]) -> Model:
    """Validate form data into a schema; pydantic errors become ValidationFailed."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [_normalise(from_pydantic(dict(e))) for e in exc.errors()]
        raise ValidationFailed(errors) from exc


def label(field: str) -> str:
    """The label msgid of a field."""
    return EXTRA_LABELS.get(field) or FIELD_LABELS.get(field, field)


def place(
    locale: str, errors: list[FieldError], *, where: Mapping[str, str] | None = None
) -> FieldErrors:
    """Form field → translated messages; `where` names the form field of a data field
    (e.g. the service's `customer.email` shows next to the form's `customer_email`)."""
    found: FieldErrors = {}
    for error in errors:
        field = str(error.get("field", ""))
        key = (where or {}).get(field, field.split(".")[0])
        code = error.get("code", "invalid")
        text_ = field_message(locale, label(field), code, error.get("params", {}))
        found.setdefault(key, []).append(text_)
    return found


def messages(request: Request, exc: ValidationFailed) -> FieldErrors:
    """field → translated messages, in the caller's language."""
    return place(locale_of(request), [_normalise(e) for e in exc.errors])
