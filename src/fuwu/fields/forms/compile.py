"""A published form compiled once: its fields, Pydantic models per surface and its logic.

Forms are immutable per (type, version), so a compiled `Form` is cached for the life of the
process and costs nothing on the hot path after the first ticket of that version.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any

from pydantic import BaseModel, ConfigDict, create_model

from fuwu.conditions import tree as conditions
from fuwu.conditions.schema import FieldRef, Schema
from fuwu.errors import ValidationFailed
from fuwu.fields.forms.schemas import SURFACES, FormDefinition, LogicAction
from fuwu.fields.formulas.language import Formula, order_computed
from fuwu.fields.formulas.language import parse as parse_formula
from fuwu.fields.registry import types
from fuwu.fields.registry.entities import Entity
from fuwu.fields.registry.types import FieldSpec


@dataclass(frozen=True)
class Rule:
    """One compiled logic rule: a condition and what it does when true."""

    condition: conditions.Condition
    actions: tuple[LogicAction, ...]
    name: str = ""  # as the admin named it: history says which rule cleared a value


@dataclass
class Form:
    """Everything validation needs for one (ticket type, form version)."""

    type_key: str
    version: int
    specs: dict[str, FieldSpec]
    layouts: dict[str, list[list[str]]]  # surface → sections → keys (system and custom)
    sections: dict[str, list[dict[str, Any]]]  # surface → section titles/columns for display
    required: frozenset[str]
    rules: list[Rule]
    hidden_by_default: dict[str, bool]  # targets of "show": key → clear the value when hidden
    computed: list[tuple[str, Formula]]
    timezone: str
    schema: Schema = field(default_factory=dict)
    _models: dict[str, type[BaseModel]] = field(default_factory=dict)
    _custom_keys: dict[str, list[str]] = field(default_factory=dict)
    _inputs: dict[str, frozenset[str]] = field(default_factory=dict)

    def keys(self, surface: str) -> list[str]:
        """Every key laid out on a surface, in order."""
        return [k for section in self.layouts.get(surface, []) for k in section]

    def custom_keys(self, surface: str) -> list[str]:
        found = self._custom_keys.get(surface)
        if found is None:
            found = self._custom_keys[surface] = [k for k in self.keys(surface) if k in self.specs]
        return found

    def inputs(self, surface: str) -> frozenset[str]:
        """The custom keys a surface accepts from the caller (not computed, not numbered)."""
        found = self._inputs.get(surface)
        if found is None:
            found = self._inputs[surface] = frozenset(
                k
                for k in self.custom_keys(surface)
                if types.TYPES[self.specs[k].type].accepts_input
            )
        return found

    @cached_property
    def dumpers(self) -> dict[str, Callable[[Any], Any]]:
        """Per key, how a value is stored; keys whose value is stored as is are left out."""
        return {
            k: partial(types.dump, s)
            for k, s in self.specs.items()
            if s.type == "computed" or types.TYPES[s.type].storage is not types.as_is
        }

    @cached_property
    def defaults(self) -> dict[str, FieldSpec]:
        return {k: s for k, s in self.specs.items() if s.default is not None}

    @cached_property
    def all_layout_keys(self) -> frozenset[str]:
        return frozenset(k for s in SURFACES for k in self.keys(s))

    def model(self, surface: str) -> type[BaseModel]:
        """A Pydantic model of the custom fields a surface accepts, every one optional."""
        found = self._models.get(surface)
        if found is None:
            fields: dict[str, Any] = {}
            for key in self.custom_keys(surface):
                spec = self.specs[key]
                if types.TYPES[spec.type].accepts_input:
                    fields[key] = (spec_annotation(spec, self.timezone) | None, None)
            found = create_model(
                f"Form_{self.type_key}_{self.version}_{surface}",
                __config__=ConfigDict(extra="ignore"),
                **fields,
            )
            self._models[surface] = found
        return found


def spec_annotation(spec: FieldSpec, timezone: str) -> Any:
    """The Pydantic annotation of one field's value."""
    return types.TYPES[spec.type].build(spec, timezone)


def custom_refs(entity: Entity, specs: Mapping[str, FieldSpec]) -> dict[str, FieldRef]:
    """Condition refs for custom fields, filtering on the JSON column."""
    from fuwu.kit.jsonsql import json_field

    found: dict[str, FieldRef] = {}
    for key, spec in specs.items():
        kind = types.kind_of(spec)
        if kind is None:
            continue
        options = None
        if spec.type in ("select", "multi_select"):
            options = frozenset(str(c["key"]) for c in spec.options.get("choices", []))
        found[key] = FieldRef(
            key=key,
            kind=kind,
            label=spec.text("en"),
            column=json_field(entity.custom, key, kind),
            options=options,
        )
    return found


def _rule(index: int, rule: Any, schema: Schema) -> Rule:
    """Compile one logic rule; a wrong condition names its place: logic[1].when.all[0]."""
    try:
        return Rule(conditions.parse(rule.when, schema), tuple(rule.then), rule.name)
    except ValidationFailed as exc:
        for error in exc.errors:
            error["field"] = f"logic[{index}].when." + str(error["field"])
            if "path" in error.get("params", {}):
                error["params"]["path"] = error["field"]
        raise


def compile_form(
    *,
    type_key: str,
    version: int,
    definition: Mapping[str, Any],
    specs: Mapping[str, FieldSpec],
    entity: Entity,
    timezone: str,
) -> Form:
    """Build a Form; raises ValidationFailed when the definition does not fit the registry."""
    parsed = FormDefinition.model_validate(definition)
    own = {f.key: specs[f.key] for f in parsed.fields if f.key in specs}
    schema: dict[str, FieldRef] = {**entity.system_refs(), **custom_refs(entity, own)}
    rules = [_rule(i, r, schema) for i, r in enumerate(parsed.logic)]
    hidden: dict[str, bool] = {}
    for rule in rules:
        for action in rule.actions:
            if action.action == "show":
                for key in action.fields:
                    hidden[key] = hidden.get(key, True) and action.clear
    kinds = {k: types.kind_of(s) for k, s in own.items()}
    layouts: dict[str, list[Any]] = {str(k): v for k, v in parsed.layouts.items()}
    formulas = {
        k: parse_formula(
            str(s.options.get("formula", "")),
            {n: kd for n, kd in kinds.items() if kd is not None and n != k},
        )
        for k, s in own.items()
        if s.type == "computed"
    }
    order = order_computed(formulas)
    return Form(
        type_key=type_key,
        version=version,
        specs=own,
        layouts={s: [list(sec.fields) for sec in layouts.get(s, [])] for s in SURFACES},
        sections={
            s: [
                {"title": sec.title, "columns": sec.columns, "fields": list(sec.fields)}
                for sec in layouts.get(s, [])
            ]
            for s in SURFACES
        },
        required=frozenset(f.key for f in parsed.fields if f.required)
        | frozenset(k for k, s in own.items() if s.required),
        rules=rules,
        hidden_by_default=hidden,
        computed=[(k, formulas[k]) for k in order],
        timezone=timezone,
        schema=schema,
    )
