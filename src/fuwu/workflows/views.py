"""Admin pages of workflows (流程): the list, and one workflow's editor — the statuses it uses,
the transition table, a graph of statuses and steps, the advanced JSON, and publishing with
every problem named."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from fuwu.auth import service as auth_service
from fuwu.auth.deps import Csrf, UiAdmin
from fuwu.auth.models import STAFF_ROLES
from fuwu.configs import service as configs
from fuwu.configs.models import DRAFT
from fuwu.errors import ValidationFailed
from fuwu.web import forms
from fuwu.web.deps import DbSession
from fuwu.web.errors import describe, locale_of
from fuwu.web.forms import Posted
from fuwu.web.templating import page, redirect, render
from fuwu.workflows import editor, service, statuses
from fuwu.workflows.definition import KIND, Definition

router = APIRouter(include_in_schema=False)
Key = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


def _keys(form: FormData, name: str) -> list[str]:
    return [v.strip() for v in form.getlist(name) if isinstance(v, str) and v.strip()]


def _words(raw: str) -> list[str]:
    return [w for w in raw.replace("，", ",").replace(" ", ",").split(",") if w]


@router.get("/admin/workflows")
def workflows_page(request: Request, session: DbSession, me: UiAdmin) -> Response:
    rows = []
    for key in service.keys(session):
        current = configs.current(session, KIND, key)
        draft = configs.draft(session, KIND, key)
        shown = draft or current
        assert shown is not None
        rows.append({"key": key, "name": shown.definition["name"], "types": shown.definition
                     .get("types", []), "published": current.version if current else None,
                     "draft": draft is not None})  # fmt: skip
    context = {"nav_active": "workflows", "rows": rows,
               "statuses": statuses.catalogue(session).active()}  # fmt: skip
    return render(request, "workflows/list.html", context)


@router.post("/admin/workflows", dependencies=[Csrf])
def create_workflow(request: Request, session: DbSession, me: UiAdmin, form: Posted) -> Response:
    key = forms.text(form, "key")
    editor.create(
        session, actor=me, key=key, name_zh=forms.text(form, "name_zh"),
        name_en=forms.text(form, "name_en"), types=_words(forms.text(form, "types")),
        initial=forms.text(form, "initial"),
    )  # fmt: skip
    return redirect(request, f"/admin/workflows/{key}")


def _editor_context(
    request: Request, session: Session, key: str, problems: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    row = service.get_draft_or_current(session, key)
    definition = Definition.model_validate(row.definition)
    catalogue = statuses.catalogue(session)
    locale = locale_of(request)
    placed = editor.layout(definition)
    graph = {
        "nodes": [{"key": s, "label": catalogue.label(s, locale), "x": placed[s][0],
                   "y": placed[s][1], "colour": catalogue.statuses[s].colour
                   if s in catalogue.statuses else "#6b7280",
                   "approval": s in definition.approvals, "initial": s == definition.initial}
                  for s in definition.statuses],
        "edges": [{"key": t.key, "from": f, "to": t.to, "label": t.label.of(locale),
                   "automatic": t.automatic}
                  for t in definition.transitions for f in t.from_
                  if f in placed and t.to in placed],
    }  # fmt: skip
    return {
        "nav_active": "workflows",
        "key": key,
        "row": row,
        "is_draft": row.status == DRAFT,
        "history": configs.history(session, KIND, key),
        "definition": definition,
        "catalogue": catalogue.active(),
        "status_label": lambda s: catalogue.label(s, locale),
        "roles": STAFF_ROLES,
        "teams": auth_service.list_teams(session, active_only=True),
        "graph": graph,
        "raw": json.dumps(row.definition, ensure_ascii=False, indent=2),
        "problems": problems or [],
        "has_published": configs.current(session, KIND, key) is not None,
    }


@router.get("/admin/workflows/{key}")
def workflow_page(key: Key, request: Request, session: DbSession, me: UiAdmin) -> Response:
    context = _editor_context(request, session, key)
    return page(request, "workflows/editor.html", "workflows/_editor_body.html", context)


def _saved(request: Request, session: Session, key: str) -> Response:
    session.flush()
    context = {**_editor_context(request, session, key), "saved": True}
    return page(request, "workflows/editor.html", "workflows/_editor_body.html", context)


@router.post("/admin/workflows/{key}/statuses", dependencies=[Csrf])
def save_statuses(
    key: Key, request: Request, session: DbSession, me: UiAdmin, form: Posted
) -> Response:
    editor.set_statuses(
        session, actor=me, key=key, statuses=_keys(form, "statuses"),
        initial=forms.text(form, "initial"), reopen=forms.text(form, "reopen") or None,
    )  # fmt: skip
    return _saved(request, session, key)


@router.post("/admin/workflows/{key}/transitions", dependencies=[Csrf])
def save_transition(
    key: Key, request: Request, session: DbSession, me: UiAdmin, form: Posted
) -> Response:
    """Add a step, or change the one with this key."""
    guard_text = forms.text(form, "guard")
    guard = None
    if guard_text:
        try:
            guard = json.loads(guard_text)
        except ValueError:
            raise ValidationFailed.single("guard", "invalid_json") from None
    transition: dict[str, Any] = {
        "key": forms.text(form, "key"),
        "from": _keys(form, "from"),
        "to": forms.text(form, "to"),
        "label": {"zh_CN": forms.text(form, "label_zh"),
                  "en": forms.text(form, "label_en") or forms.text(form, "label_zh")},
        "who": {"roles": _keys(form, "roles"),
                "teams": [int(t) for t in _keys(form, "teams") if t.isdigit()],
                "assignee": forms.text(form, "assignee") == "on",
                "customer": forms.text(form, "customer") == "on"},
        "require": _words(forms.text(form, "require")),
        "automatic": forms.text(form, "automatic") == "on",
    }  # fmt: skip
    if guard is not None:
        transition["guard"] = guard
    editor.put_transition(session, actor=me, key=key, transition=transition)
    return _saved(request, session, key)


@router.post("/admin/workflows/{key}/transitions/{step}/delete", dependencies=[Csrf])
def delete_transition(
    key: Key, step: Key, request: Request, session: DbSession, me: UiAdmin
) -> Response:
    editor.delete_transition(session, actor=me, key=key, step=step)
    return _saved(request, session, key)


@router.post("/admin/workflows/{key}/definition", dependencies=[Csrf])
def save_definition(
    key: Key, request: Request, session: DbSession, me: UiAdmin, form: Posted
) -> Response:
    """The whole definition as JSON: approvals, timers and children are edited here."""
    try:
        raw = json.loads(forms.text(form, "definition"))
    except ValueError:
        raise ValidationFailed.single("definition", "invalid_json") from None
    editor.replace(session, actor=me, key=key, raw=raw)
    return _saved(request, session, key)


@router.post("/admin/workflows/{key}/publish", dependencies=[Csrf])
def publish_workflow(
    key: Key, request: Request, session: DbSession, me: UiAdmin, form: Posted
) -> Response:
    """Publish the draft; refused, the page lists every problem by where it is."""
    try:
        service.publish(session, actor=me, key=key, note=forms.text(form, "note"))
    except ValidationFailed as exc:
        session.rollback()
        problems = describe(locale_of(request), exc).get("fields", [])
        context = _editor_context(request, session, key, problems)
        return page(request, "workflows/editor.html", "workflows/_editor_body.html", context,
                    status_code=422)  # fmt: skip
    return _saved(request, session, key)
