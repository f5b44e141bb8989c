"""Validate submitted custom values against a form: types, logic, required, read-only.

Runs the same on every save, whatever the surface: a crafted request cannot skip a required
field, fill a hidden one, change a read-only one or post an agent-only field on the web form.
Database checks (referenced ids exist, unique values, auto-numbers) come after, in service.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from fuwu.errors import FIELD_MESSAGES, FieldError, ValidationFailed
from fuwu.fields.forms.compile import Form
from fuwu.fields.registry import types
from fuwu.kit.time import utcnow
from fuwu.kit.workdays import WorkdayCalendar
from fuwu.web.errors import from_pydantic


@dataclass
class FormState:
    """What logic decided for one set of values: the UI draws it, validation enforces it."""

    hidden: set[str] = field(default_factory=set)
    cleared: set[str] = field(default_factory=set)
    # Cleared field → the rule that hid it ("" when it is hidden until a rule shows it).
    cleared_by: dict[str, str] = field(default_factory=dict)
    required: set[str] = field(default_factory=set)
    read_only: set[str] = field(default_factory=set)
    set_values: dict[str, Any] = field(default_factory=dict)
    allowed: dict[str, frozenset[str]] = field(default_factory=dict)


def variables_for(user_id: int | None, timezone: str) -> dict[str, Any]:
    """What form conditions may refer to: the current user, now and today (local)."""
    now = utcnow()
    return {"current_user": user_id, "now": now, "today": now.astimezone(ZoneInfo(timezone)).date()}


def evaluate(form: Form, record: dict[str, Any], variables: Mapping[str, Any]) -> FormState:
    """Run the form's logic rules in order over a record (system values + loaded custom)."""
    state = FormState(required=set(form.required))
    shown: set[str] = set()
    for rule in form.rules:
        if not rule.condition.evaluate(record, variables=variables):
            continue
        for action in rule.actions:
            _apply(action, state, shown, record)
            if action.action == "hide" and action.clear:
                state.cleared_by.update(dict.fromkeys(action.fields, rule.name))
    for key, clear in form.hidden_by_default.items():
        if key not in shown:
            state.hidden.add(key)
            if clear:
                state.cleared.add(key)
                state.cleared_by.setdefault(key, _shown_by(form, key))
    for key in state.hidden:
        state.required.discard(key)
    return state


def _shown_by(form: Form, key: str) -> str:
    """The rule that shows a field hidden until shown: what its clearing is blamed on."""
    for rule in form.rules:
        if any(a.action == "show" and key in a.fields for a in rule.actions):
            return rule.name
    return ""


def _apply(action: Any, state: FormState, shown: set[str], record: dict[str, Any]) -> None:
    keys = action.fields
    if action.action == "show":
        shown.update(keys)
        state.hidden.difference_update(keys)
    elif action.action == "hide":
        state.hidden.update(keys)
        if action.clear:
            state.cleared.update(keys)
    elif action.action == "require":
        state.required.update(keys)
    elif action.action == "read_only":
        state.read_only.update(keys)
    elif action.action == "set_value":
        for key in keys:
            state.set_values[key] = action.value
            record[key] = action.value
    elif action.action == "restrict_options":
        for key in keys:
            state.allowed[key] = frozenset(action.options)


def clearing(
    form: Form, record: Mapping[str, Any], previous: Mapping[str, Any], variables: Mapping[str, Any]
) -> dict[str, str]:
    """Fields whose stored value the form's logic clears for this record → the rule that
    clears it ("" for a field hidden until a rule shows it): what the agent is told before
    saving and what history records."""
    return cleared_of(form, evaluate(form, dict(record), variables), previous)


def cleared_of(form: Form, state: FormState, previous: Mapping[str, Any]) -> dict[str, str]:
    """Of the fields logic clears in `state`, those holding a value in `previous` → the rule
    that clears each ("" when hidden until shown): the one answer the edit form's warning
    and the history share."""
    return {
        key: state.cleared_by.get(key, "")
        for key in state.cleared
        if key in form.specs and not _empty(previous.get(key))
    }


def _error(form: Form, key: str, code: str, **params: Any) -> FieldError:
    spec = form.specs.get(key)
    label = dict(spec.label) if spec else {"en": key}
    return {"field": f"custom.{key}", "code": code, "params": {**params, "label": label}}


def _pydantic_errors(form: Form, exc: ValidationError) -> list[FieldError]:
    found = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        key = loc[0] if loc else ""
        mapped = from_pydantic(dict(err))
        code = err.get("type", "")
        if code not in FIELD_MESSAGES:
            code = mapped["code"]
        params = {**mapped["params"], **(err.get("ctx") or {})}
        params = {k: v for k, v in params.items() if isinstance(v, str | int | float)}
        if "ge" in params or "le" in params:
            params["detail"] = f"{params.get('ge', '')} … {params.get('le', '')}"
        entry = _error(form, key, code, **params)
        entry["field"] = "custom." + ".".join(loc)
        found.append(entry)
    return found


def _empty(value: Any) -> bool:
    return value is None or (type(value) in (str, list, dict) and not value)


def validate(
    form: Form,
    surface: str,
    submitted: Mapping[str, Any],
    *,
    system: Mapping[str, Any],
    previous: Mapping[str, Any] | None = None,
    variables: Mapping[str, Any],
    calendar: WorkdayCalendar | None = None,
    today: date | None = None,
    creating: bool = False,
) -> dict[str, Any]:
    """The custom values to store (JSON form), or ValidationFailed naming each bad field."""
    specs = form.specs
    inputs = form.inputs(surface)
    errors = [_error(form, k, "extra_forbidden") for k in submitted if k not in specs]
    accepted = {k: v for k, v in submitted.items() if k in inputs}
    try:
        parsed = form.model(surface).model_validate(accepted).__dict__
    except ValidationError as exc:
        # Go on without the bad values, so logic and required errors come in the same answer.
        errors += _pydantic_errors(form, exc)
        bad = {str(e["loc"][0]) for e in exc.errors() if e.get("loc")}
        accepted = {k: v for k, v in accepted.items() if k not in bad}
        parsed = form.model(surface).model_validate(accepted).__dict__
    if previous:
        values = {k: types.load(s, previous.get(k)) for k, s in specs.items()}
    else:
        values = dict.fromkeys(specs)
        previous = {}
    if creating:
        for key, spec in form.defaults.items():
            values[key] = types.load(spec, spec.default)
    base = dict(values)  # what a read-only field keeps: the stored value, or the default
    for key in accepted:
        value = parsed[key]
        values[key] = None if _empty(value) else value
    record = {**system, **values}
    state = evaluate(form, record, variables)
    errors += _enforce(form, state, accepted, values, base)
    for key, value in state.set_values.items():
        if key in specs:
            values[key] = types.load(specs[key], value)
    for key in state.cleared:
        if key in values:
            values[key] = None
    if form.computed:
        _compute(form, values, calendar, today)
    for key in form.custom_keys(surface):
        if key in state.required and _empty(values[key]) and specs[key].type != "auto_number":
            errors.append(_error(form, key, "missing"))
    if errors:
        raise ValidationFailed(errors)
    found = {}
    for key, value in values.items():
        if value is None or (type(value) in (str, list, dict) and not value):
            continue
        dumper = form.dumpers.get(key)
        found[key] = value if dumper is None else dumper(value)
    return found


def _enforce(
    form: Form,
    state: FormState,
    accepted: Mapping[str, Any],
    values: dict[str, Any],
    base: Mapping[str, Any],
) -> list[FieldError]:
    """Read-only and set-once fields keep their value (stored, or the default on create);
    restricted options are checked."""
    errors: list[FieldError] = []
    for key in accepted:
        spec = form.specs[key]
        locked = spec.read_only or key in state.read_only
        if not (locked or spec.set_once or key in state.allowed):
            continue
        old = base.get(key)
        if locked and values[key] != old:
            values[key] = old  # a read-only field silently keeps its value, as on the page
        elif spec.set_once and not _empty(old) and values[key] != old:
            errors.append(_error(form, key, "set_once"))
        allowed = state.allowed.get(key)
        if allowed is not None and not _empty(values[key]):
            chosen = values[key] if isinstance(values[key], list) else [values[key]]
            if any(c not in allowed for c in chosen):
                errors.append(
                    _error(form, key, "invalid_choice", choices=", ".join(sorted(allowed)))
                )
    return errors


def _compute(
    form: Form, values: dict[str, Any], calendar: WorkdayCalendar | None, today: date | None
) -> None:
    for key, formula in form.computed:
        values[key] = formula.evaluate(values, calendar=calendar, today=today)
