"""The form designer's edits of a form definition: layouts, the form's fields, logic rules.

Pure functions over the definition JSON (no database, no HTTP): the views load the draft,
apply one edit and hand the result to `ticket_types.save_draft`, which validates it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from fuwu.conditions.nodes import KINDS, Op
from fuwu.conditions.schema import Kind
from fuwu.errors import ValidationFailed
from fuwu.fields.forms.display import label_in

Definition = dict[str, Any]
Translate = Callable[[str], str]

# operator → label msgid, in the order the condition builder offers them
OPERATORS: dict[str, str] = {
    "eq": "equals",
    "ne": "does not equal",
    "in": "is one of",
    "not_in": "is none of",
    "contains": "contains",
    "contains_any": "contains any of",
    "contains_all": "contains all of",
    "starts_with": "starts with",
    "ends_with": "ends with",
    "empty": "is empty",
    "not_empty": "is not empty",
    "gt": "greater than",
    "gte": "at least",
    "lt": "less than",
    "lte": "at most",
    "between": "between",
    "before": "before",
    "after": "after",
}
NO_VALUE = frozenset({"empty", "not_empty"})


def operators_by_field(kinds: Mapping[str, Kind | None]) -> dict[str, list[str]]:
    """Field key → the builder's operators its kind takes (all of them for an unknown kind)."""
    allowed: dict[str, list[str]] = {}
    for key, kind in kinds.items():
        allowed[key] = [
            op for op in OPERATORS if kind is None or kind in KINDS.get(Op(op), frozenset())
        ]
    return allowed


def option_labels(options: Mapping[str, Any], locale: str) -> list[tuple[str, str]]:
    """(key, label) of a choice field's active options, in the reader's language."""
    return [
        (str(c["key"]), label_in(c.get("label", {}), locale, str(c["key"])))
        for c in options.get("choices", [])
        if c.get("active", True)
    ]


LIST_VALUE = frozenset({"in", "not_in", "contains_any", "contains_all", "between"})
# action → label msgid
ACTIONS: dict[str, str] = {
    "show": "Show",
    "hide": "Hide",
    "require": "Require",
    "read_only": "Make read-only",
    "set_value": "Set value",
    "restrict_options": "Limit options to",
}
MATCHES = ("all", "any")
TRUE_WORDS = frozenset({"true", "yes", "1", "是", "真", "on"})
FALSE_WORDS = frozenset({"false", "no", "0", "否", "假", "off"})


def clone(definition: Mapping[str, Any]) -> Definition:
    """A deep copy with every part present (fields, layouts, logic)."""
    found: Definition = json.loads(json.dumps(dict(definition), ensure_ascii=False))
    found.setdefault("fields", [])
    found.setdefault("layouts", {})
    found.setdefault("logic", [])
    return found


def sections(definition: Definition, surface: str) -> list[dict[str, Any]]:
    """The sections of one surface (created empty when missing)."""
    found: list[dict[str, Any]] = definition["layouts"].setdefault(surface, [])
    for section in found:
        section.setdefault("fields", [])
        section.setdefault("title", {})
        section.setdefault("columns", 1)
    return found


def laid_out(definition: Definition, surface: str) -> list[str]:
    """Every key on a surface, in order."""
    return [k for s in sections(definition, surface) for k in s["fields"]]


def mentioned_in_logic(definition: Definition, key: str) -> bool:
    """True when a rule tests or changes the field."""
    for rule in definition["logic"]:
        targets = {k for action in rule.get("then", []) for k in action.get("fields", [])}
        if key in targets or f'"{key}"' in json.dumps(rule.get("when", {})):
            return True
    return False


def _form_field(definition: Definition, key: str) -> dict[str, Any] | None:
    return next((f for f in definition["fields"] if f["key"] == key), None)


def _sync_fields(definition: Definition, custom: set[str]) -> None:
    """Custom fields on a layout join the form; ones on no layout and in no rule leave it."""
    on_layouts = {k for s in definition["layouts"] for k in laid_out(definition, s)}
    for key in sorted(on_layouts & custom):
        if _form_field(definition, key) is None:
            definition["fields"].append({"key": key, "required": False})
    definition["fields"] = [
        f
        for f in definition["fields"]
        if f["key"] in on_layouts or mentioned_in_logic(definition, f["key"])
    ]


def set_order(
    definition: Definition, surface: str, orders: Sequence[Sequence[str]], custom: set[str]
) -> None:
    """Replace each section's keys (a drop may move keys between sections or add new ones)."""
    found = sections(definition, surface)
    if len(orders) != len(found):
        raise ValidationFailed.single("order", "invalid")
    seen: set[str] = set()
    for section, keys in zip(found, orders, strict=True):
        section["fields"] = [k for k in dict.fromkeys(keys) if k and k not in seen]
        seen.update(section["fields"])
    _sync_fields(definition, custom)


def move(definition: Definition, surface: str, key: str, step: int) -> None:
    """Move a key one place up (-1) or down (+1), crossing into the next section at an edge."""
    found = sections(definition, surface)
    where = next(
        ((s, sec["fields"].index(key)) for s, sec in enumerate(found) if key in sec["fields"]), None
    )
    if where is None:
        raise ValidationFailed.single("field", "not_found", detail=key)
    s, i = where
    keys = found[s]["fields"]
    target = i + step
    if 0 <= target < len(keys):
        keys[i], keys[target] = keys[target], keys[i]
    elif step < 0 and s > 0:
        found[s - 1]["fields"].append(keys.pop(i))
    elif step > 0 and s < len(found) - 1:
        found[s + 1]["fields"].insert(0, keys.pop(i))


def add_field(
    definition: Definition, surface: str, section: int, key: str, custom: set[str]
) -> None:
    """Put a key at the end of a section (taking it out of wherever it was on the surface)."""
    found = sections(definition, surface)
    if not found:
        found.append({"title": {}, "fields": [], "columns": 1})
    if not 0 <= section < len(found):
        raise ValidationFailed.single("section", "not_found")
    for sec in found:
        if key in sec["fields"]:
            sec["fields"].remove(key)
    found[section]["fields"].append(key)
    _sync_fields(definition, custom)


def remove_field(definition: Definition, surface: str, key: str, custom: set[str]) -> None:
    """Take a key off a surface; it leaves the form when no surface or rule uses it."""
    for sec in sections(definition, surface):
        sec["fields"] = [k for k in sec["fields"] if k != key]
    _sync_fields(definition, custom)


def set_required(definition: Definition, key: str, required: bool) -> None:
    """Mark a custom field of the form required (or not) on every surface."""
    found = _form_field(definition, key)
    if found is None:
        raise ValidationFailed.single("field", "not_found", detail=key)
    found["required"] = required


def add_section(definition: Definition, surface: str) -> None:
    sections(definition, surface).append({"title": {}, "fields": [], "columns": 1})


def _section(definition: Definition, surface: str, index: int) -> dict[str, Any]:
    found = sections(definition, surface)
    if not 0 <= index < len(found):
        raise ValidationFailed.single("section", "not_found")
    return found[index]


def update_section(
    definition: Definition, surface: str, index: int, *, title: dict[str, str], columns: int
) -> None:
    """A section's title (per language) and its 1–3 columns."""
    section = _section(definition, surface, index)
    section["title"] = {k: v for k, v in title.items() if v}
    section["columns"] = min(3, max(1, columns))


def remove_section(definition: Definition, surface: str, index: int, custom: set[str]) -> None:
    """Drop a section; its fields leave the surface."""
    _section(definition, surface, index)
    del sections(definition, surface)[index]
    _sync_fields(definition, custom)


# ------------------------------------------------------------------------------ logic rules


@dataclass
class ConditionRow:
    """One line of the condition builder: field, operator, value as typed."""

    field: str = ""
    op: str = "eq"
    value: str = ""


@dataclass
class ActionRow:
    """One action of a rule as the builder shows it."""

    action: str = "show"
    fields: list[str] | None = None
    value: str = ""
    options: str = ""


def _number(text: str) -> int | float | str:
    try:
        number = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        return text  # the condition parser names the bad value
    return int(number) if number == number.to_integral_value() else float(number)


def typed(text: str, kind: Kind | None) -> Any:
    """A value typed into the builder, as the condition language expects it for a kind."""
    text = text.strip()
    if kind is Kind.NUMBER:
        return _number(text)
    if kind is Kind.REF:
        return int(text) if text.isdigit() else text
    if kind is Kind.BOOL:
        lowered = text.lower()
        if lowered in TRUE_WORDS:
            return True
        if lowered in FALSE_WORDS:
            return False
    return text


def _values(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"[,，、]", text) if p.strip()]


def leaf(row: ConditionRow, kind: Kind | None) -> dict[str, Any]:
    """One `{field, op, value}` leaf from a builder row."""
    found: dict[str, Any] = {"field": row.field, "op": row.op}
    if row.op in LIST_VALUE:
        found["value"] = [typed(v, kind) for v in _values(row.value)]
    elif row.op not in NO_VALUE:
        found["value"] = typed(row.value, kind)
    return found


def build_when(
    match: str, rows: Sequence[ConditionRow], kinds: Mapping[str, Kind | None]
) -> dict[str, Any]:
    """The condition tree of a flat builder: all/any of its filled rows."""
    leaves = [leaf(r, kinds.get(r.field)) for r in rows if r.field]
    if not leaves:
        raise ValidationFailed.single("when", "empty")
    return {"any" if match == "any" else "all": leaves}


def build_then(rows: Sequence[ActionRow], kinds: Mapping[str, Kind | None]) -> list[dict[str, Any]]:
    """The actions of a rule from the builder's action rows (rows without fields are skipped)."""
    found: list[dict[str, Any]] = []
    for row in rows:
        if not row.fields:
            continue
        action: dict[str, Any] = {"action": row.action, "fields": list(row.fields)}
        if row.action == "set_value":
            action["value"] = typed(row.value, kinds.get(row.fields[0]))
        if row.action == "restrict_options":
            action["options"] = _values(row.options)
        found.append(action)
    if not found:
        raise ValidationFailed.single("then", "empty")
    return found


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def rows_of(when: Mapping[str, Any]) -> tuple[str, list[ConditionRow]] | None:
    """A condition tree as builder rows, or None when it is nested deeper than all/any."""
    if "field" in when:
        when = {"all": [when]}
    for match in MATCHES:
        leaves = when.get(match)
        if isinstance(leaves, list) and len(when) == 1:
            if not all(isinstance(x, dict) and "field" in x for x in leaves):
                return None
            return match, [
                ConditionRow(str(x["field"]), str(x.get("op", "eq")), _text(x.get("value")))
                for x in leaves
            ]
    return None


def action_rows(then: Sequence[Mapping[str, Any]]) -> list[ActionRow]:
    """A rule's actions as builder rows."""
    return [
        ActionRow(
            action=str(a.get("action", "show")),
            fields=list(a.get("fields", [])),
            value=_text(a.get("value")),
            options=_text(a.get("options", [])),
        )
        for a in then
    ]


def put_rule(definition: Definition, index: int | None, rule: dict[str, Any]) -> None:
    """Add a rule at the end, or replace rule `index`."""
    rules = definition["logic"]
    if index is None:
        rules.append(rule)
    elif 0 <= index < len(rules):
        rules[index] = rule
    else:
        raise ValidationFailed.single("rule", "not_found")


def delete_rule(definition: Definition, index: int, custom: set[str]) -> None:
    if not 0 <= index < len(definition["logic"]):
        raise ValidationFailed.single("rule", "not_found")
    del definition["logic"][index]
    _sync_fields(definition, custom)


def move_rule(definition: Definition, index: int, step: int) -> None:
    """Rules run in order; move one up (-1) or down (+1)."""
    rules = definition["logic"]
    target = index + step
    if 0 <= index < len(rules) and 0 <= target < len(rules):
        rules[index], rules[target] = rules[target], rules[index]


def with_rule_fields(definition: Definition, rule: Mapping[str, Any], custom: set[str]) -> None:
    """A rule may use custom fields the form does not lay out yet: they join the form."""
    used = {k for a in rule.get("then", []) for k in a.get("fields", [])}
    used |= {k for k in custom if f'"{k}"' in json.dumps(rule.get("when", {}))}
    for key in sorted(used & custom):
        if _form_field(definition, key) is None:
            definition["fields"].append({"key": key, "required": False})


@dataclass(frozen=True)
class Words:
    """How rules read in the admin's language: field and option labels, and the translator."""

    labels: Mapping[str, str]
    options: Mapping[str, Mapping[str, str]]
    translate: Translate

    def field(self, key: Any) -> str:
        return self.labels.get(str(key), str(key))

    def value(self, key: Any, value: Any) -> str:
        """A value as the admin knows it: option keys become their labels."""
        names = self.options.get(str(key), {})
        if isinstance(value, list):
            return ", ".join(names.get(str(v), _text(v)) for v in value)
        return names.get(str(value), _text(value))


def describe(when: Any, words: Words) -> str:
    """A condition tree in words, for the rule list ("Fault type equals Shows an error code")."""
    _ = words.translate
    if not isinstance(when, dict):
        return _text(when)
    if "field" in when:
        op = _(OPERATORS.get(str(when.get("op")), str(when.get("op"))))
        value = (
            ""
            if when.get("op") in NO_VALUE
            else " " + words.value(when["field"], when.get("value"))
        )
        return f"{words.field(when['field'])} {op}{value}"
    for match, word in (("all", _("and")), ("any", _("or"))):
        if isinstance(when.get(match), list):
            parts = [describe(x, words) for x in when[match]]
            joined = f" {word} ".join(parts)
            return f"({joined})" if len(parts) > 1 else joined
    if "not" in when:
        return f"{_('not')} {describe(when['not'], words)}"
    return json.dumps(when, ensure_ascii=False)


def describe_action(action: Mapping[str, Any], words: Words) -> str:
    """One action in words ("Require: Error code")."""
    fields = [str(k) for k in action.get("fields", [])]
    name = str(action.get("action"))
    text = f"{words.translate(ACTIONS.get(name, name))}: {', '.join(map(words.field, fields))}"
    if name == "set_value" and fields:
        text += f" = {words.value(fields[0], action.get('value'))}"
    if name == "restrict_options" and fields:
        text += f" ({words.value(fields[0], action.get('options'))})"
    return text
