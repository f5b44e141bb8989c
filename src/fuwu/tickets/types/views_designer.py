"""The form designer page: the draft's layout per surface, the palette and the live preview.

Every edit loads the draft (or starts one from the published form), applies one change with
`fields.designer.edits`, and saves it through `ticket_types.save_draft`, which validates it. With
htmx the workspace fragment comes back; without JavaScript the browser is redirected back.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from fuwu.auth.deps import Csrf, UiAdmin
from fuwu.auth.principal import Principal
from fuwu.configs import service as configs
from fuwu.errors import DomainError, ValidationFailed
from fuwu.fields.designer import edits as designer
from fuwu.fields.designer import preview as designer_preview
from fuwu.fields.designer.field_editor import TYPE_LABELS
from fuwu.fields.forms.schemas import SURFACES
from fuwu.fields.forms.validation import variables_for
from fuwu.fields.registry import entities
from fuwu.fields.registry import service as fields_service
from fuwu.fields.registry.models import ACTIVE
from fuwu.kit.i18n import Translator
from fuwu.tickets.types import service as ticket_types
from fuwu.tickets.types.views_support import (
    SURFACE_WORDS,
    definition_messages,
    kinds_of,
    labels_of,
    option_labels_of,
    rule_problems,
)
from fuwu.web import forms
from fuwu.web.deps import DbSession, SettingsDep
from fuwu.web.errors import from_pydantic, locale_of
from fuwu.web.forms import Posted
from fuwu.web.templating import is_htmx, page, redirect

router = APIRouter(include_in_schema=False)
Surface = Literal["agent_create", "agent_edit", "portal", "web_form"]
RuleIndex = Annotated[int | None, Query(ge=0, le=200)]


def editable(session: Session, key: str) -> tuple[designer.Definition, int | None]:
    """The definition to edit: the draft, else a copy of the published form; its draft number."""
    ticket_types.get_type(session, key)
    draft = configs.draft(session, ticket_types.FORM, key)
    if draft is not None:
        return designer.clone(draft.definition), draft.version
    current = configs.current(session, ticket_types.FORM, key)
    return designer.clone(current.definition if current else {}), None


def custom_keys(session: Session) -> set[str]:
    """Keys of the active custom ticket fields (the ones a form may add)."""
    return {f.key for f in fields_service.list_fields(session, "ticket")}


def save(
    session: Session, me: Principal, key: str, definition: designer.Definition, timezone: str
) -> None:
    """Validate and store the draft; pydantic errors of the definition become ValidationFailed."""
    try:
        ticket_types.save_draft(
            session, actor=me, key=key, definition=definition, timezone=timezone
        )
    except ValidationError as exc:
        raise ValidationFailed([from_pydantic(dict(e)) for e in exc.errors()]) from None


def _sections(
    definition: designer.Definition, surface: str, labels: dict[str, str], session: Session
) -> list[dict[str, Any]]:
    entity = entities.get("ticket")
    system = entity.system if entity else {}
    rows = {f.key: f for f in fields_service.list_fields(session, "ticket", archived=True)}
    required = {f["key"] for f in definition["fields"] if f.get("required")}
    found = []
    for index, section in enumerate(designer.sections(definition, surface)):
        items = []
        for key in section["fields"]:
            row = rows.get(key)
            items.append(
                {
                    "key": key,
                    "label": labels.get(key, key),
                    "custom": row is not None,
                    "type": TYPE_LABELS.get(row.type, row.type) if row else "",
                    "required": key in required or bool(row and row.required),
                    "form_required": key in required,
                    "missing": (row is None and key not in system)
                    or bool(row and row.status != ACTIVE),
                }
            )
        title = section.get("title") or {}
        found.append(
            {
                "index": index,
                "title_zh": title.get("zh_CN", ""),
                "title_en": title.get("en", ""),
                "columns": section.get("columns", 1),
                "members": items,
            }
        )
    return found


def _palette(session: Session, on_surface: set[str], locale: str) -> list[dict[str, Any]]:
    entity = entities.get("ticket")
    found = [
        {"key": f.key, "label": f.label.get(locale) or f.key, "custom": False, "type": ""}
        for f in (entity.system.values() if entity else [])
        if f.writable and f.key not in on_surface
    ]
    found += [
        {
            "key": f.key,
            "label": f.label.get(locale) or f.label.get("en") or f.key,
            "custom": True,
            "type": TYPE_LABELS.get(f.type, f.type),
        }
        for f in fields_service.list_fields(session, "ticket")
        if f.key not in on_surface
    ]
    return found


def _preview(
    request: Request,
    session: Session,
    me: Principal,
    key: str,
    definition: designer.Definition,
    surface: str,
    posted: FormData | None,
) -> dict[str, Any]:
    locale = locale_of(request)
    timezone = request.app.state.settings.timezone
    entity = entities.get("ticket")
    try:
        form = ticket_types.check_definition(session, key, definition, timezone)
    except (DomainError, ValidationError) as exc:
        return {"preview": None, "preview_errors": definition_messages(locale, exc, {})}
    preview = designer_preview.run(
        form,
        entity.system if entity else {},
        surface,
        posted,
        variables=variables_for(me.user_id, timezone),
        locale=locale,
        translate=Translator(locale).gettext,
    )
    return {"preview": preview, "preview_errors": []}


def workspace(
    request: Request,
    session: Session,
    me: Principal,
    key: str,
    surface: str,
    *,
    posted: FormData | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Everything the designer draws for one type and surface."""
    locale = locale_of(request)
    translate = Translator(locale).gettext
    ttype = ticket_types.get_type(session, key)
    definition, draft_version = editable(session, key)
    published, _ = ticket_types.versions_of(session, key)
    labels = labels_of(session, locale)
    words = designer.Words(labels, option_labels_of(session, locale, translate), translate)
    on_surface = set(designer.laid_out(definition, surface))
    rules = [
        {
            "index": i,
            "name": r.get("name", ""),
            "summary": designer.describe(r.get("when"), words),
            "actions": [designer.describe_action(a, words) for a in r.get("then", [])],
        }
        for i, r in enumerate(definition["logic"])
    ]
    context: dict[str, Any] = {
        "nav_active": "forms",
        "ttype": ttype,
        "key": key,
        "surface": surface,
        "surfaces": [(s, SURFACE_WORDS[s]) for s in SURFACES],
        "published": published,
        "draft_version": draft_version,
        "sections": _sections(definition, surface, labels, session),
        "palette": _palette(session, on_surface, locale),
        "rules": rules,
        "rule_problems": {},
        "problems": [],
        "rule_errors": [],
        "saved": False,
        "name": ttype.name.get(locale) or ttype.name.get("en") or key,
    }
    context.update(_preview(request, session, me, key, definition, surface, posted))
    if context["preview_errors"]:
        timezone = request.app.state.settings.timezone
        context["rule_problems"] = rule_problems(session, key, definition, timezone, locale)
    context.update(builder_context(session, definition, locale, extra.pop("rule", None)))
    context.update(extra)
    return context


def builder_context(
    session: Session, definition: designer.Definition, locale: str, rule: int | None
) -> dict[str, Any]:
    """The condition builder's choices, prefilled with rule `rule` when one is being edited."""
    entity = entities.get("ticket")
    system = list(entity.system.values()) if entity else []
    rows = fields_service.list_fields(session, "ticket")
    custom = [(f.key, f.label.get(locale) or f.label.get("en") or f.key) for f in rows]
    builder: dict[str, Any] = {
        "index": None,
        "name": "",
        "match": "all",
        "rows": [],
        "actions": [],
        "json": "",
    }
    if rule is not None and 0 <= rule < len(definition["logic"]):
        found = definition["logic"][rule]
        flat = designer.rows_of(found.get("when", {}))
        builder.update(
            index=rule,
            name=found.get("name", ""),
            actions=designer.action_rows(found.get("then", [])),
        )
        if flat is None:
            builder["json"] = json.dumps(found.get("when"), ensure_ascii=False, indent=2)
        else:
            builder["match"], builder["rows"] = flat
    return {
        "builder": builder,
        "condition_fields": [(f.key, f.label.get(locale) or f.key) for f in system] + custom,
        "target_fields": [(f.key, f.label.get(locale) or f.key) for f in system if f.writable]
        + custom,
        "operators": designer.OPERATORS,
        "actions": designer.ACTIONS,
        # What the builder offers per field: the operators its type takes, and the labels of
        # its options (chosen by label, stored by key).
        "rule_meta": {
            "ops": designer.operators_by_field(kinds_of(session)),
            "choices": {
                f.key: designer.option_labels(f.options, locale)
                for f in rows
                if f.type in ("select", "multi_select")
            },
        },
    }


def respond(
    request: Request,
    session: Session,
    me: Principal,
    key: str,
    surface: str,
    *,
    status_code: int = 200,
    anchor: str = "layout",
    **extra: Any,
) -> Response:
    """The workspace fragment for htmx, a redirect (or, after an error, the page) otherwise."""
    url = f"/admin/forms/{key}?surface={surface}#{anchor}"
    if status_code < 400 and not is_htmx(request):
        return redirect(request, url)
    context = workspace(request, session, me, key, surface, **extra)
    return page(
        request, "fields/designer.html", "fields/_workspace.html", context, status_code=status_code
    )


def edit(
    request: Request,
    session: Session,
    me: Principal,
    settings: Any,
    key: str,
    surface: str,
    change: Any,
) -> Response:
    """Apply one change to the draft, save it and answer; errors are shown in the workspace."""
    definition, _ = editable(session, key)
    try:
        change(definition, custom_keys(session))
        save(session, me, key, definition, settings.timezone)
    except DomainError as exc:
        session.rollback()
        errors = definition_messages(
            locale_of(request), exc, labels_of(session, locale_of(request))
        )
        return respond(
            request, session, me, key, surface, status_code=_status(exc), problems=errors
        )
    return respond(request, session, me, key, surface, saved=True)


def _status(exc: DomainError) -> int:
    return exc.status_code if exc.status_code >= 400 else 422


def surface_of(form: FormData) -> str:
    found = forms.text(form, "surface")
    return found if found in SURFACES else "agent_create"


# ------------------------------------------------------------------------------ routes


@router.get("/admin/forms/{key}")
def designer_page(
    request: Request,
    session: DbSession,
    me: UiAdmin,
    key: str,
    surface: Surface = "agent_create",
    rule: RuleIndex = None,
) -> Response:
    context = workspace(request, session, me, key, surface, rule=rule)
    return page(request, "fields/designer.html", "fields/_workspace.html", context)


@router.post("/admin/forms/{key}/layout/order", dependencies=[Csrf])
def save_order(
    request: Request, session: DbSession, me: UiAdmin, settings: SettingsDep, form: Posted, key: str
) -> Response:
    """After a drag and drop: every section's keys in their new order, one `order` per section."""
    surface = surface_of(form)
    orders = [o.split(",") if o else [] for o in form.getlist("order") if isinstance(o, str)]
    return edit(
        request,
        session,
        me,
        settings,
        key,
        surface,
        lambda d, custom: designer.set_order(d, surface, orders, custom),
    )


@router.post("/admin/forms/{key}/layout/item", dependencies=[Csrf])
def change_item(
    request: Request, session: DbSession, me: UiAdmin, settings: SettingsDep, form: Posted, key: str
) -> Response:
    """The buttons next to a laid-out field: up, down, remove, required, optional."""
    surface, field, op = surface_of(form), forms.text(form, "field"), forms.text(form, "op")

    def change(definition: designer.Definition, custom: set[str]) -> None:
        if op in ("up", "down"):
            designer.move(definition, surface, field, -1 if op == "up" else 1)
        elif op == "remove":
            designer.remove_field(definition, surface, field, custom)
        elif op in ("required", "optional"):
            designer.set_required(definition, field, op == "required")
        else:
            raise ValidationFailed.single("op", "invalid")

    return edit(request, session, me, settings, key, surface, change)


@router.post("/admin/forms/{key}/layout/add", dependencies=[Csrf])
def add_item(
    request: Request, session: DbSession, me: UiAdmin, settings: SettingsDep, form: Posted, key: str
) -> Response:
    """A field from the palette into a section (the last one unless chosen)."""
    surface, field = surface_of(form), forms.text(form, "field")
    section = forms.text(form, "section")

    def change(definition: designer.Definition, custom: set[str]) -> None:
        count = len(designer.sections(definition, surface))
        index = int(section) if section.isdigit() else max(count - 1, 0)
        designer.add_field(definition, surface, index, field, custom)

    return edit(request, session, me, settings, key, surface, change)


@router.post("/admin/forms/{key}/sections/add", dependencies=[Csrf])
def add_section(
    request: Request, session: DbSession, me: UiAdmin, settings: SettingsDep, form: Posted, key: str
) -> Response:
    surface = surface_of(form)
    return edit(
        request,
        session,
        me,
        settings,
        key,
        surface,
        lambda d, _custom: designer.add_section(d, surface),
    )


@router.post("/admin/forms/{key}/sections/{index:int}", dependencies=[Csrf])
def change_section(
    request: Request,
    session: DbSession,
    me: UiAdmin,
    settings: SettingsDep,
    form: Posted,
    key: str,
    index: int,
) -> Response:
    """Save a section's title and columns, or delete it (op=delete)."""
    surface = surface_of(form)
    columns = forms.text(form, "columns")
    title = {"zh_CN": forms.text(form, "title_zh"), "en": forms.text(form, "title_en")}

    def change(definition: designer.Definition, custom: set[str]) -> None:
        if forms.text(form, "op") == "delete":
            designer.remove_section(definition, surface, index, custom)
        else:
            designer.update_section(
                definition,
                surface,
                index,
                title=title,
                columns=int(columns) if columns.isdigit() else 1,
            )

    return edit(request, session, me, settings, key, surface, change)


@router.post("/admin/forms/{key}/preview", dependencies=[Csrf])
def preview(request: Request, session: DbSession, me: UiAdmin, form: Posted, key: str) -> Response:
    """Re-evaluate the draft's logic over the sample values and draw the surface again."""
    surface = surface_of(form)
    if not is_htmx(request):
        context = workspace(request, session, me, key, surface, posted=form)
    else:
        definition, _ = editable(session, key)
        context = {
            "key": key,
            "surface": surface,
            **_preview(request, session, me, key, definition, surface, form),
        }
    return page(request, "fields/designer.html", "fields/_preview.html", context)


@router.post("/admin/forms/{key}/publish", dependencies=[Csrf])
def publish(
    request: Request, session: DbSession, me: UiAdmin, settings: SettingsDep, form: Posted, key: str
) -> Response:
    """Publish the draft, or show why it does not compile."""
    surface = surface_of(form)
    note = forms.text(form, "note")
    try:
        if not note:  # the version history says what each version changed
            raise ValidationFailed.single("note", "missing")
        row = ticket_types.publish(
            session, actor=me, key=key, timezone=settings.timezone, note=note
        )
    except (DomainError, ValidationError) as exc:
        session.rollback()
        locale = locale_of(request)
        errors = definition_messages(locale, exc, labels_of(session, locale))
        status = _status(exc) if isinstance(exc, DomainError) else 422
        return respond(request, session, me, key, surface, status_code=status, problems=errors)
    if not is_htmx(request):
        return redirect(request, f"/admin/forms/{key}?surface={surface}&published={row.version}")
    return respond(request, session, me, key, surface, published_now=row.version)


@router.post("/admin/forms/{key}/discard", dependencies=[Csrf])
def discard(request: Request, session: DbSession, me: UiAdmin, form: Posted, key: str) -> Response:
    """Throw the draft away; the designer shows the published form again."""
    ticket_types.get_type(session, key)
    configs.discard_draft(session, ticket_types.FORM, key)
    return respond(request, session, me, key, surface_of(form))
