"""Helpers shared by the designer's views: field labels and readable definition errors."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from fuwu.conditions.exceptions import InvalidCondition
from fuwu.conditions.schema import Kind
from fuwu.errors import FIELD_MESSAGES, DomainError, ValidationFailed
from fuwu.fields.designer import edits as designer
from fuwu.fields.registry import entities, types
from fuwu.fields.registry.catalog import catalog
from fuwu.kit.i18n import gettext
from fuwu.tickets.types import service as ticket_types
from fuwu.web.errors import field_message, from_pydantic

SURFACE_WORDS = {
    "agent_create": "Agent: new ticket",
    "agent_edit": "Agent: edit ticket",
    "portal": "Customer portal",
    "web_form": "Public web form",
}
LAYOUT = re.compile(r"^layouts\.(\w+)\[(\d+)\](?:\.fields\[(\d+)\])?")
INDEXED = re.compile(r"^(fields|logic)\[(\d+)\]")


def kinds_of(session: Session) -> dict[str, Kind | None]:
    """Key → condition kind of every system and custom ticket field."""
    entity = entities.get("ticket")
    found: dict[str, Kind | None] = {
        k: f.kind for k, f in (entity.system.items() if entity else [])
    }
    for spec in catalog(session, "ticket").active_specs():
        found[spec.key] = types.kind_of(spec)
    return found


def labels_of(session: Session, locale: str) -> dict[str, str]:
    """Key → label of every system and custom ticket field (archived ones too)."""
    entity = entities.get("ticket")
    found = {k: f.label.get(locale) or k for k, f in (entity.system.items() if entity else [])}
    for key, spec in catalog(session, "ticket").specs.items():
        found[key] = spec.label.get(locale) or spec.label.get("en") or key
    return found


# parts of a definition an edit can name, → label msgid
PARTS = {
    "rule": "Rule",
    "section": "Section",
    "field": "Field",
    "order": "Layout",
    "when": "Condition",
    "then": "Then",
    "op": "Action",
}
PRIORITIES = {"low": "Low", "normal": "Normal", "high": "High", "urgent": "Urgent"}


def option_labels_of(
    session: Session, locale: str, translate: Callable[[str], str]
) -> dict[str, dict[str, str]]:
    """Field key → option key → label, for choice fields (and the ticket's priority)."""
    found = {"priority": {k: translate(v) for k, v in PRIORITIES.items()}}
    for key, spec in catalog(session, "ticket").specs.items():
        choices = spec.options.get("choices", [])
        if choices:
            found[key] = {
                str(c["key"]): c.get("label", {}).get(locale)
                or c.get("label", {}).get("en")
                or c["key"]
                for c in choices
            }
    return found


def _where(locale: str, path: str) -> str:
    """Where in the definition an error is, in words ("Customer portal, section 2")."""
    layout = LAYOUT.match(path)
    if layout:
        surface = gettext(locale, SURFACE_WORDS.get(layout.group(1), layout.group(1)))
        return gettext(
            locale,
            "%(surface)s, section %(section)s",
            surface=surface,
            section=int(layout.group(2)) + 1,
        )
    indexed = INDEXED.match(path)
    if indexed and indexed.group(1) == "logic":
        return gettext(locale, "Rule %(number)s", number=int(indexed.group(2)) + 1)
    if indexed:
        return gettext(locale, "Form field %(number)s", number=int(indexed.group(2)) + 1)
    return ""


def _one(locale: str, error: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    params = dict(error.get("params") or {})
    path = str(error.get("field", ""))
    detail = str(params.get("detail") or "")
    part = path.rsplit(".", 1)[-1]
    subject = labels.get(detail) or detail or gettext(locale, PARTS.get(part, part))
    code = str(error.get("code", "invalid"))
    message = field_message(locale, subject, code if code in FIELD_MESSAGES else "invalid", params)
    where = _where(locale, path)
    return f"{where}: {message}" if where else message


def definition_messages(
    locale: str, exc: DomainError | ValidationError, labels: Mapping[str, str]
) -> list[str]:
    """Readable, translated messages for a definition that does not save or compile."""
    if isinstance(exc, ValidationError):
        return [_one(locale, from_pydantic(dict(e)), labels) for e in exc.errors()]
    if isinstance(exc, InvalidCondition):
        return exc.messages(locale)
    found = []
    if not isinstance(exc, ValidationFailed) or exc.message != "Some fields are not valid.":
        found.append(gettext(locale, exc.message, **exc.params))
    if isinstance(exc, ValidationFailed):
        found += [_one(locale, e, labels) for e in exc.errors]
    return list(dict.fromkeys(found))


def rule_problems(
    session: Session, key: str, definition: designer.Definition, timezone: str, locale: str
) -> dict[int, list[str]]:
    """Rule index → why it does not compile, testing each rule on its own."""
    labels = labels_of(session, locale)
    found: dict[int, list[str]] = {}
    for index, rule in enumerate(definition["logic"]):
        alone = {"fields": definition["fields"], "layouts": {}, "logic": [rule]}
        try:
            ticket_types.check_definition(session, key, alone, timezone)
        except (DomainError, ValidationError) as exc:
            found[index] = definition_messages(locale, exc, labels)
    return found
