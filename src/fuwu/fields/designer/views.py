"""Admin pages of the field registry: list, create, edit, archive / restore / delete with the
impact list first, and retype with a dry run."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from fuwu.auth.deps import Csrf, UiAdmin
from fuwu.errors import DomainError, ValidationFailed
from fuwu.fields.designer import field_editor as editor
from fuwu.fields.forms.display import text_of
from fuwu.fields.registry import service as fields_service
from fuwu.fields.registry.entities import ENTITY_NAMES
from fuwu.fields.registry.models import FieldDef
from fuwu.fields.registry.schemas import FieldCreate, FieldRetype, FieldUpdate
from fuwu.fields.registry.types import spec_of
from fuwu.kit.i18n import Translator, gettext
from fuwu.kit.ids import Id, parse_id
from fuwu.web import forms
from fuwu.web.deps import DbSession
from fuwu.web.errors import locale_of
from fuwu.web.forms import FieldErrors, Posted
from fuwu.web.templating import page, render

router = APIRouter(include_in_schema=False)
Entity = Literal["ticket", "contact", "organisation", "asset"]
ENTITY_LABELS = {
    "ticket": "Tickets",
    "contact": "Customers",
    "organisation": "Organisations",
    "asset": "Assets",
}
Flag = Annotated[str | None, Query(max_length=5)]


def _message(request: Request, exc: DomainError) -> str:
    return gettext(locale_of(request), exc.message, **exc.params)


@router.get("/admin/fields")
def fields_page(
    request: Request,
    session: DbSession,
    me: UiAdmin,
    entity: Entity = "ticket",
    archived: Flag = None,
) -> Response:
    rows = fields_service.list_fields(session, entity, archived=bool(archived))
    context = {
        "nav_active": "forms",
        "entity": entity,
        "entities": [(e, ENTITY_LABELS[e]) for e in ENTITY_NAMES],
        "rows": rows,
        "archived": bool(archived),
        "type_labels": editor.TYPE_LABELS,
    }
    return page(request, "fields/fields.html", "fields/_field_table.html", context)


def _editor_page(
    request: Request,
    *,
    row: FieldDef | None,
    values: dict[str, Any],
    errors: FieldErrors | None = None,
    usages: list[Any] | None = None,
    message: str = "",
    status_code: int = 200,
) -> Response:
    context = {
        "nav_active": "forms",
        "row": row,
        "values": values,
        "errors": errors or {},
        "message": message,
        "usages": usages or [],
        "entity": values.get("entity", "ticket"),
        "entity_label": ENTITY_LABELS.get(values.get("entity", "ticket"), ""),
        "type_choices": editor.type_choices(values.get("entity", "ticket")),
        "type_labels": editor.TYPE_LABELS,
        "groups": editor.GROUPS,
        "column_types": editor.COLUMN_TYPES,
    }
    return render(request, "fields/field_form.html", context, status_code=status_code)


@router.get("/admin/fields/new")
def new_field_page(
    request: Request,
    me: UiAdmin,
    entity: Entity = "ticket",
    type_name: Annotated[str, Query(alias="type", max_length=20)] = "text",
) -> Response:
    values = {
        "entity": entity,
        "type": type_name,
        "opt_require_leaf": True,
        "choices": [],
        "columns": [],
    }
    return _editor_page(request, row=None, values=values)


@router.post("/admin/fields/new", dependencies=[Csrf])
def create_field(request: Request, session: DbSession, me: UiAdmin, form: Posted) -> Response:
    type_name = forms.text(form, "type")
    try:
        raw = editor.read_field(form, create=True)
        raw["options"] = editor.read_options(form, type_name)
        data = forms.build(FieldCreate, raw)
        row = fields_service.create_field(session, actor=me, data=data)
    except ValidationFailed as exc:
        session.rollback()
        errors = editor.place(locale_of(request), exc, type_name)
        values = editor.posted_values(form, type_name)
        return _editor_page(request, row=None, values=values, errors=errors, status_code=422)
    return RedirectResponse(f"/admin/fields/{row.id}?saved=1", status_code=303)


@router.get("/admin/fields/{field_id:int}")
def edit_field_page(request: Request, session: DbSession, me: UiAdmin, field_id: Id) -> Response:
    row = fields_service.get_field(session, field_id)
    usages = fields_service.usages(session, row)
    return _editor_page(request, row=row, values=editor.values_of(row), usages=usages)


@router.post("/admin/fields/{field_id:int}", dependencies=[Csrf])
def update_field(
    request: Request, session: DbSession, me: UiAdmin, form: Posted, field_id: Id
) -> Response:
    row = fields_service.get_field(session, field_id)
    type_name, entity, key = row.type, row.entity, row.key
    try:
        raw = editor.read_field(form, create=False)
        raw["options"] = editor.read_options(form, type_name)
        data = forms.build(FieldUpdate, raw)
        fields_service.update_field(session, actor=me, field_id=field_id, data=data)
    except DomainError as exc:
        session.rollback()
        row = fields_service.get_field(session, field_id)
        values = {**editor.posted_values(form, type_name), "entity": entity, "key": key}
        if isinstance(exc, ValidationFailed):
            errors = editor.place(locale_of(request), exc, type_name)
            return _editor_page(request, row=row, values=values, errors=errors, status_code=422)
        return _editor_page(
            request, row=row, values=values, message=_message(request, exc), status_code=409
        )
    return RedirectResponse(f"/admin/fields/{field_id}?saved=1", status_code=303)


# ------------------------------------------------------------ archive, restore, delete


def _confirm_page(
    request: Request,
    session: Session,
    row: FieldDef,
    action: Literal["archive", "delete"],
    *,
    message: str = "",
    status_code: int = 200,
) -> Response:
    usages = fields_service.usages(session, row)
    context = {
        "nav_active": "forms",
        "row": row,
        "action": action,
        "usages": usages,
        "blocking": [u for u in usages if u.active or action == "delete"],
        "values_count": fields_service.values_count(session, row) if action == "delete" else 0,
        "message": message,
        "type_labels": editor.TYPE_LABELS,
    }
    return render(request, "fields/confirm.html", context, status_code=status_code)


@router.get("/admin/fields/{field_id:int}/archive")
def archive_page(request: Request, session: DbSession, me: UiAdmin, field_id: Id) -> Response:
    """The impact list, and the button when nothing active uses the field."""
    return _confirm_page(request, session, fields_service.get_field(session, field_id), "archive")


@router.get("/admin/fields/{field_id:int}/delete")
def delete_page(request: Request, session: DbSession, me: UiAdmin, field_id: Id) -> Response:
    return _confirm_page(request, session, fields_service.get_field(session, field_id), "delete")


@router.post("/admin/fields/{field_id:int}/archive", dependencies=[Csrf])
def archive_field(request: Request, session: DbSession, me: UiAdmin, field_id: Id) -> Response:
    try:
        row = fields_service.archive_field(session, actor=me, field_id=field_id)
    except DomainError as exc:
        session.rollback()
        row = fields_service.get_field(session, field_id)
        message = _message(request, exc)
        return _confirm_page(request, session, row, "archive", message=message, status_code=409)
    return RedirectResponse(f"/admin/fields?entity={row.entity}&archived=1", status_code=303)


@router.post("/admin/fields/{field_id:int}/restore", dependencies=[Csrf])
def restore_field(session: DbSession, me: UiAdmin, field_id: Id) -> Response:
    row = fields_service.restore_field(session, actor=me, field_id=field_id)
    return RedirectResponse(f"/admin/fields/{row.id}?saved=1", status_code=303)


@router.post("/admin/fields/{field_id:int}/delete", dependencies=[Csrf])
def delete_field(request: Request, session: DbSession, me: UiAdmin, field_id: Id) -> Response:
    entity = fields_service.get_field(session, field_id).entity
    try:
        fields_service.delete_field(session, actor=me, field_id=field_id)
    except DomainError as exc:
        session.rollback()
        row = fields_service.get_field(session, field_id)
        message = _message(request, exc)
        return _confirm_page(request, session, row, "delete", message=message, status_code=409)
    return RedirectResponse(f"/admin/fields?entity={entity}", status_code=303)


# ------------------------------------------------------------------------------ retype


def _retype_page(
    request: Request,
    row: FieldDef,
    *,
    values: dict[str, Any],
    report: dict[str, Any] | None = None,
    errors: FieldErrors | None = None,
    message: str = "",
    status_code: int = 200,
) -> Response:
    context = {
        "nav_active": "forms",
        "row": row,
        "values": values,
        "report": report,
        "errors": errors or {},
        "message": message,
        "type_choices": editor.type_choices(row.entity, but=row.type),
        "type_labels": editor.TYPE_LABELS,
        "groups": editor.GROUPS,
        "column_types": editor.COLUMN_TYPES,
    }
    return render(request, "fields/retype.html", context, status_code=status_code)


@router.get("/admin/fields/{field_id:int}/retype")
def retype_page(request: Request, session: DbSession, me: UiAdmin, field_id: Id) -> Response:
    row = fields_service.get_field(session, field_id)
    values = {**editor.values_of(row), "type": "text" if row.type != "text" else "textarea"}
    return _retype_page(request, row, values=values)


@router.post("/admin/fields/{field_id:int}/retype", dependencies=[Csrf])
def retype_field(
    request: Request, session: DbSession, me: UiAdmin, form: Posted, field_id: Id
) -> Response:
    """First a dry run that lists the records that would not convert; then the real change."""
    row = fields_service.get_field(session, field_id)
    type_name = forms.text(form, "type")
    confirm = forms.text(form, "confirm") == "1"
    values = editor.posted_values(form, type_name)
    try:
        data = FieldRetype(
            version=int(forms.text(form, "version") or 0),
            type=type_name,
            options=editor.read_options(form, type_name),
            dry_run=not confirm,
            page=parse_id(forms.text(form, "page")) or 1,
        )
        report = fields_service.retype(session, actor=me, field_id=field_id, data=data)
    except DomainError as exc:
        session.rollback()
        row = fields_service.get_field(session, field_id)
        if isinstance(exc, ValidationFailed):
            errors = editor.place(locale_of(request), exc, type_name)
            return _retype_page(request, row, values=values, errors=errors, status_code=422)
        message = _message(request, exc)
        return _retype_page(request, row, values=values, message=message, status_code=409)
    if confirm:
        return RedirectResponse(f"/admin/fields/{field_id}?saved=1", status_code=303)
    return _retype_page(request, row, values=values, report=_readable(request, row, report))


def _readable(request: Request, row: FieldDef, report: dict[str, Any]) -> dict[str, Any]:
    """The dry run's failures with each value as the field shows it now (an option's label,
    not its key), besides the value as stored."""
    locale, timezone = locale_of(request), request.app.state.settings.timezone
    spec, translate = spec_of(row), Translator(locale).gettext
    failures = []
    for failure in report["failures"]:
        try:
            text = text_of(spec, failure["value"], locale, timezone, translate)
        except (TypeError, ValueError, KeyError, AttributeError):
            text = ""
        failures.append({**failure, "text": text})
    return {**report, "failures": failures}
