"""The condition builder of lists (the inbox, customers, organisations, assets): field /
operator / value rows joined by all or any, posted with the list's GET form (`match`,
`c-0-field`, `c-0-op`, `c-0-value` …) so it works without JS, and made into a condition tree
(ADR 0007) that `fuwu.conditions` validates; a wrong row comes back with a message naming it.
Choice fields are offered by their options' labels, operators narrowed to the field's kind.
The template is `fields/_filter_builder.html`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, false
from sqlalchemy.orm import Session

from fuwu.conditions import tree as conditions
from fuwu.conditions.exceptions import InvalidCondition
from fuwu.conditions.nodes import KINDS, PYTHON_ONLY, Op
from fuwu.conditions.schema import FieldRef, Kind
from fuwu.fields.designer import edits as designer
from fuwu.fields.forms import filters as entity_filters
from fuwu.fields.forms.validation import variables_for
from fuwu.fields.registry import entities, types
from fuwu.fields.registry.catalog import catalog
from fuwu.kit.i18n import gettext

ROW = re.compile(r"^c-(\d+)-field$")
LEAF = re.compile(r"^(?:all|any)\[(\d+)\]")
MAX_ROWS = 20


# The builder offers what lists can filter on: no regex, no change operators.
OPERATORS = {op: label for op, label in designer.OPERATORS.items() if Op(op) not in PYTHON_ONLY}


def ops_for(kind: Kind | str | None) -> list[str]:
    """The builder's operators that apply to a kind (all of them for an unknown field)."""
    found = Kind(kind) if kind else None
    return [op for op in OPERATORS if found is None or found in KINDS[Op(op)]]


# operator → the kinds it applies to, as the builder's script reads them
OP_KINDS = {op: " ".join(sorted(k.value for k in KINDS[Op(op)])) for op in OPERATORS}


@dataclass
class FieldChoice:
    """A field the builder offers: key, label in the reader's language, kind, sortable."""

    key: str
    label: str
    kind: Kind
    sortable: bool = False
    options: tuple[tuple[str, str], ...] = ()  # a choice field's (key, label): picked by label


def field_choices(session: Session, locale: str, entity_name: str) -> list[FieldChoice]:
    """System fields lists of the entity can filter on, then its active custom fields."""
    entity = entities.get(entity_name)
    found = [
        FieldChoice(k, f.label.get(locale) or f.label.get("en") or k, f.kind)
        for k, f in (entity.system.items() if entity else [])
        if f.column is not None
    ]
    for spec in catalog(session, entity_name).active_specs():
        kind = types.kind_of(spec)
        if kind is not None:
            label = spec.label.get(locale) or spec.label.get("en") or spec.key
            options = tuple(designer.option_labels(spec.options, locale))
            found.append(FieldChoice(spec.key, label, kind, spec.filterable, options))
    return found


def sort_choices(choices: list[FieldChoice], locale: str) -> list[tuple[str, str]]:
    """(value, label) of the custom fields marked filterable, both directions."""
    found: list[tuple[str, str]] = []
    for c in choices:
        if c.sortable:
            found.append((c.key, gettext(locale, "%(field)s, ascending", field=c.label)))
            found.append((f"-{c.key}", gettext(locale, "%(field)s, descending", field=c.label)))
    return found


@dataclass
class Builder:
    """The builder as the query string (or a saved view) fills it."""

    match: str = "all"
    rows: list[designer.ConditionRow] = field(default_factory=list)

    def params(self) -> str:
        if not self.rows:
            return ""
        pairs = [("match", self.match)]
        for i, r in enumerate(self.rows):
            pairs += [(f"c-{i}-field", r.field), (f"c-{i}-op", r.op), (f"c-{i}-value", r.value)]
        return urlencode(pairs)


def _joined(params: Mapping[str, str], name: str) -> str:
    """A value as typed, or the options of a multiple select joined by commas."""
    getlist = getattr(params, "getlist", None)
    values = getlist(name) if getlist is not None else [params.get(name, "")]
    return ", ".join(v.strip() for v in values if v.strip())


def read_builder(params: Mapping[str, str]) -> Builder | None:
    """The builder rows of the query string; None when the builder was not submitted."""
    if "match" not in params:
        return None
    indexes = sorted({int(m.group(1)) for k in params if (m := ROW.match(k))})[:MAX_ROWS]
    rows = [
        designer.ConditionRow(
            params.get(f"c-{i}-field", "").strip()[:40],
            params.get(f"c-{i}-op", "eq").strip()[:20],
            _joined(params, f"c-{i}-value")[:1000],
        )
        for i in indexes
    ]
    return Builder("any" if params.get("match") == "any" else "all", [r for r in rows if r.field])


@dataclass
class ListFilter:
    """What the builder adds to a list: the rows, the SQL, the problems."""

    builder: Builder
    where: ColumnElement[bool] | None = None
    tree: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)
    row_errors: dict[int, list[str]] = field(default_factory=dict)

    @property
    def condition_json(self) -> str:
        return json.dumps(self.tree or {"all": []}, ensure_ascii=False)


def by_row(locale: str, exc: InvalidCondition) -> tuple[list[str], dict[int, list[str]]]:
    """Each problem next to its row, named "Condition 2", in the reader's language."""
    general: list[str] = []
    rows: dict[int, list[str]] = {}
    for problem in exc.problems:
        found = LEAF.match(problem.path)
        if not found:
            general.append(problem.text(locale))
            continue
        row = int(found.group(1))
        where = gettext(locale, "Condition %(number)s", number=row + 1)
        text = gettext(locale, problem.message, **{**problem.params, "path": where})
        rows.setdefault(row, []).append(text)
        general.append(text)
    return general, rows


def list_filter(
    session: Session,
    params: Mapping[str, str],
    *,
    entity: str,
    locale: str,
    user_id: int | None,
    timezone: str,
    schema: Mapping[str, FieldRef] | None = None,
) -> ListFilter:
    """The builder of a list's query string as SQL on `entity`'s rows (its fields, or
    `schema`), or the reasons it is refused — then the list shows nothing rather than all."""
    found = ListFilter(read_builder(params) or Builder())
    if not found.builder.rows:
        return found
    kinds = {c.key: c.kind for c in field_choices(session, locale, entity)}
    found.tree = designer.build_when(found.builder.match, found.builder.rows, dict(kinds))
    return applied(found, session, entity=entity, locale=locale, user_id=user_id,
                   timezone=timezone, schema=schema)  # fmt: skip


def applied(
    found: ListFilter,
    session: Session,
    *,
    entity: str,
    locale: str,
    user_id: int | None,
    timezone: str,
    schema: Mapping[str, FieldRef] | None = None,
) -> ListFilter:
    """`found` with its tree made SQL, or with the problems by row."""
    if found.tree is None:
        return found
    try:
        fields = schema if schema is not None else entity_filters.schema(session, entity)
        condition = conditions.parse(found.tree, fields, for_sql=True)
    except InvalidCondition as exc:
        found.errors, found.row_errors = by_row(locale, exc)
        found.where = false()
        return found
    found.where = condition.to_sql(variables_for(user_id, timezone))
    return found


def template_context(session: Session, locale: str, entity: str) -> dict[str, Any]:
    """What `fields/_filter_builder.html` needs besides the filter itself."""
    return {
        "filter_fields": field_choices(session, locale, entity),
        "operators": OPERATORS,
        "ops_for": ops_for,
        "op_kinds": OP_KINDS,
    }
