"""The designer's logic editor: add or change a rule with the condition builder, reorder, delete.

A rule is saved only when the whole draft still compiles; otherwise the builder comes back
with what was typed and the server's reasons (an unknown field, an operator that does not fit
the field, a bad value) next to it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from fuwu.auth.deps import Csrf, UiAdmin
from fuwu.auth.principal import Principal
from fuwu.conditions.exceptions import InvalidCondition
from fuwu.conditions.schema import Kind
from fuwu.errors import DomainError, ValidationFailed
from fuwu.fields.designer import edits as designer
from fuwu.kit.i18n import gettext
from fuwu.tickets.types.views_designer import custom_keys, editable, respond, save, surface_of
from fuwu.tickets.types.views_support import definition_messages, kinds_of, labels_of
from fuwu.web import forms
from fuwu.web.deps import DbSession, SettingsDep
from fuwu.web.errors import locale_of
from fuwu.web.forms import Posted

router = APIRouter(include_in_schema=False)
ROW = re.compile(r"^([ca])-(\d+)-(field|action)$")
LEAF = re.compile(r"^(?:all|any)\[(\d+)\]")


def _indexes(form: FormData, prefix: str) -> list[int]:
    return sorted({int(m.group(2)) for k in form if (m := ROW.match(k)) and m.group(1) == prefix})


def posted_builder(form: FormData) -> dict[str, Any]:
    """The builder as posted: name, index, match, condition rows, action rows, JSON."""
    index = forms.text(form, "index")
    rows = [
        designer.ConditionRow(
            forms.text(form, f"c-{i}-field"),
            forms.text(form, f"c-{i}-op"),
            ", ".join(forms.many(form, f"c-{i}-value")),  # a multiple select posts each
        )
        for i in _indexes(form, "c")
    ]
    actions = [
        designer.ActionRow(
            forms.text(form, f"a-{i}-action"),
            forms.many(form, f"a-{i}-fields"),
            forms.text(form, f"a-{i}-value"),
            forms.text(form, f"a-{i}-options"),
        )
        for i in _indexes(form, "a")
    ]
    return {
        "index": int(index) if index.isdigit() else None,
        "name": forms.text(form, "name"),
        "match": "any" if forms.text(form, "match") == "any" else "all",
        "rows": [r for r in rows if r.field],
        "actions": [a for a in actions if a.fields],
        "json": forms.text(form, "json"),
    }


def build_rule(builder: dict[str, Any], kinds: dict[str, Kind | None]) -> dict[str, Any]:
    """The rule JSON from the builder (the JSON box wins when it is filled)."""
    if builder["json"]:
        try:
            when = json.loads(builder["json"])
        except ValueError:
            raise ValidationFailed.single("when", "invalid") from None
        if not isinstance(when, dict):
            raise ValidationFailed.single("when", "invalid")
    else:
        when = designer.build_when(builder["match"], builder["rows"], kinds)
    then = designer.build_then(builder["actions"], kinds)
    return {"name": builder["name"][:100], "when": when, "then": then}


def _rule_error(request: Request, session: Session, exc: DomainError) -> list[str]:
    locale = locale_of(request)
    if isinstance(exc, ValidationFailed) and exc.errors:
        head, code = str(exc.errors[0].get("field", "")), exc.errors[0].get("code")
        if head in ("when", "then") and code == "empty":
            message = (
                "Add at least one condition." if head == "when" else "Add at least one action."
            )
            return [gettext(locale, message)]
        if head == "when" and code == "invalid":
            return [gettext(locale, "The condition is not valid JSON.")]
    return definition_messages(locale, exc, labels_of(session, locale))


@router.post("/admin/forms/{key}/logic", dependencies=[Csrf])
def save_rule(
    request: Request, session: DbSession, me: UiAdmin, settings: SettingsDep, form: Posted, key: str
) -> Response:
    """Add a rule (or replace rule `index`) and save the draft, or show why not."""
    surface = surface_of(form)
    builder = posted_builder(form)
    definition, _ = editable(session, key)
    try:
        rule = build_rule(builder, kinds_of(session))
        designer.put_rule(definition, builder["index"], rule)
        designer.with_rule_fields(definition, rule, custom_keys(session))
        save(session, me, key, definition, settings.timezone)
    except DomainError as exc:
        session.rollback()
        return _builder_again(request, session, me, key, surface, builder, exc)
    return respond(request, session, me, key, surface, anchor="logic", saved=True)


def _builder_again(
    request: Request,
    session: Session,
    me: Principal,
    key: str,
    surface: str,
    builder: dict[str, Any],
    exc: DomainError,
) -> Response:
    errors = _rule_error(request, session, exc)
    by_row: dict[int, list[str]] = {}
    if isinstance(exc, InvalidCondition) and not builder["json"]:
        errors, by_row = _by_row(locale_of(request), exc)
    return respond(
        request,
        session,
        me,
        key,
        surface,
        status_code=422,
        anchor="logic",
        rule_errors=errors,
        row_errors=by_row,
        builder=builder,
        builder_open=True,
    )


def _by_row(locale: str, exc: InvalidCondition) -> tuple[list[str], dict[int, list[str]]]:
    """Problems of a flat condition next to the builder row they are about."""
    general: list[str] = []
    rows: dict[int, list[str]] = {}
    for problem in exc.problems:
        found = LEAF.match(problem.path)
        if found:
            row = int(found.group(1))
            where = gettext(locale, "Condition %(number)s", number=row + 1)
            text = gettext(locale, problem.message, **{**problem.params, "path": where})
            rows.setdefault(row, []).append(text)
        else:
            general.append(problem.text(locale))
    return general, rows


@router.post("/admin/forms/{key}/logic/item", dependencies=[Csrf])
def change_rule(
    request: Request, session: DbSession, me: UiAdmin, settings: SettingsDep, form: Posted, key: str
) -> Response:
    """The buttons next to a rule: up, down, delete."""
    surface, op = surface_of(form), forms.text(form, "op")
    index_text = forms.text(form, "index")
    index = int(index_text) if index_text.isdigit() else -1
    definition, _ = editable(session, key)
    try:
        if op == "delete":
            designer.delete_rule(definition, index, custom_keys(session))
        elif op in ("up", "down"):
            designer.move_rule(definition, index, -1 if op == "up" else 1)
        else:
            raise ValidationFailed.single("op", "invalid")
        save(session, me, key, definition, settings.timezone)
    except DomainError as exc:
        session.rollback()
        locale = locale_of(request)
        errors = definition_messages(locale, exc, labels_of(session, locale))
        return respond(
            request, session, me, key, surface, status_code=422, anchor="logic", problems=errors
        )
    return respond(request, session, me, key, surface, anchor="logic", saved=True)
