"""Custom fields as HTML: inputs drawn from a form's layout, posts read back, values shown.

One module knows how a field type becomes an input and how a posted HTML form becomes the
values `validation.validate` expects, so the ticket pages, the customer portal, the public web
form and the designer's live preview draw and read fields the same way. Input names are the
field keys; multi-selects post one checkbox per choice (plus an empty marker, so "none ticked"
can be told from "not on the page"), a cascade one select per level under the same name,
table cells `key.<row>.<column>` and a location `key.lat`, `key.lon`, `key.address`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData

from fuwu.conditions.schema import Kind
from fuwu.errors import DomainError
from fuwu.fields.forms.compile import Form
from fuwu.fields.forms.display import display as display  # re-exported: the read-only side
from fuwu.fields.forms.display import label_in, plain
from fuwu.fields.forms.display import text_of as text_of
from fuwu.fields.forms.validation import FormState, cleared_of, evaluate
from fuwu.fields.registry import cascade, entities, types
from fuwu.fields.registry.entities import SystemField
from fuwu.fields.registry.types import FieldSpec
from fuwu.kit.i18n import Translator
from fuwu.web.errors import field_message
from fuwu.web.forms import label as field_label

Choice = tuple[str, str]
PRIORITY_LABELS = {"low": "Low", "normal": "Normal", "high": "High", "urgent": "Urgent"}
WIDGETS = {
    "text": "text",
    "textarea": "textarea",
    "rich_text": "textarea",
    "integer": "number",
    "decimal": "number",
    "money": "number",
    "percent": "number",
    "duration": "number",
    "date": "date",
    "datetime": "datetime",
    "select": "select",
    "multi_select": "checkboxes",
    "cascade": "cascade",
    "boolean": "boolean",
    "phone": "tel",
    "email": "email",
    "url": "url",
    "user": "id",
    "team": "id",
    "customer": "id",
    "asset": "id",
    "ticket": "id",
    "attachment": "file",
    "image": "file",
    "signature": "file",
    "location": "location",
    "table": "table",
    "auto_number": "auto",
    "computed": "computed",
}
SYSTEM_WIDGETS = {"description": "textarea", "tags": "text"}
_INTEGER = re.compile(r"[+-]?\d+")
_LOCAL_MINUTE = "%Y-%m-%dT%H:%M"


@dataclass
class Column:
    """One column of a table field."""

    key: str
    label: str
    widget: str
    choices: list[Choice] = field(default_factory=list)
    required: bool = False


@dataclass
class Input:
    """One input to draw: its widget, current value (as the input shows it) and state."""

    key: str
    label: str
    widget: str
    value: Any = ""
    required: bool = False
    read_only: bool = False
    choices: list[Choice] = field(default_factory=list)
    levels: list[tuple[list[Choice], str]] = field(default_factory=list)
    columns: list[Column] = field(default_factory=list)
    rows: list[dict[str, str]] = field(default_factory=list)
    help: str = ""
    placeholder: str = ""
    step: str = "any"
    error: str = ""
    system: bool = False  # a ticket column (subject, priority …): the page may draw its own
    live: bool = False  # form logic or a formula reads it: a change re-evaluates the form
    file_kind: str = ""  # attachment, image or signature: what a file input takes
    multiple: bool = False  # a file input that takes more than one file
    ref: str = ""  # an id input: what it refers to (user, team, customer, asset, ticket)
    text: str = ""  # … and the name of what it holds now, shown instead of the number


@dataclass
class SectionView:
    """One section of a layout with the inputs logic leaves visible."""

    title: str
    columns: int
    inputs: list[Input]


# ------------------------------------------------------------------------------ reading a post


def parse_posted(
    form: Form, surface: str, posted: FormData, *, keep_read_only: bool = False
) -> dict[str, Any]:
    """The custom values of a surface from an HTML post, as JSON would send them.

    A field on the page but left blank comes back as None (so an edit clears it); a field
    not on the page (hidden by logic, a file field) is left out (so an edit keeps it), and
    so is a read-only field (the page shows it, nobody may send it; a default still applies).
    """
    found: dict[str, Any] = {}
    accepted = form.inputs(surface)
    for key in form.custom_keys(surface):
        spec = form.specs[key]
        widget = WIDGETS.get(spec.type, "text")
        if key not in accepted or widget == "file" or (spec.read_only and not keep_read_only):
            continue
        present, value = _read(spec, widget, posted)
        if present:
            found[key] = value
    return found


def _text(posted: FormData, name: str) -> str:
    value = posted.get(name)
    return value.strip() if isinstance(value, str) else ""


def _strings(posted: FormData, name: str) -> list[str]:
    return [v.strip() for v in posted.getlist(name) if isinstance(v, str)]


def _read(spec: FieldSpec, widget: str, posted: FormData) -> tuple[bool, Any]:
    key = spec.key
    if widget == "table":
        return _read_table(spec, posted)
    if widget == "location":
        return _read_location(key, posted)
    if key not in posted:
        return False, None
    if widget == "checkboxes":
        return True, [v for v in _strings(posted, key) if v] or None
    if widget == "cascade":
        path: list[str] = []
        for part in _strings(posted, key):
            if not part:
                break
            path.append(part)
        return True, path or None
    raw = _text(posted, key)
    if not raw:
        return True, None
    return True, _scalar(spec.type, widget, raw)


def _scalar(type_name: str, widget: str, raw: str) -> Any:
    """A posted string as JSON would carry it; what does not parse stays a string, so the
    validator names the field in its message."""
    if widget == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    if (type_name in ("integer", "duration") or widget == "id") and _INTEGER.fullmatch(raw):
        return int(raw)
    return raw


def _read_table(spec: FieldSpec, posted: FormData) -> tuple[bool, Any]:
    prefix = spec.key + "."
    columns = {str(c["key"]): str(c.get("type", "text")) for c in spec.options.get("columns", [])}
    rows: dict[int, dict[str, Any]] = {}
    present = False
    for name in posted:
        if not name.startswith(prefix):
            continue
        present = True
        row, _, column = name[len(prefix) :].partition(".")
        raw = _text(posted, name)
        if not row.isdigit() or column not in columns:
            continue
        cells = rows.setdefault(int(row), {})
        if raw:
            cells[column] = _scalar(columns[column], WIDGETS.get(columns[column], "text"), raw)
    found = [rows[i] for i in sorted(rows) if rows[i]]
    return present, found or None


def _read_location(key: str, posted: FormData) -> tuple[bool, Any]:
    names = {part: f"{key}.{part}" for part in ("lat", "lon", "address")}
    if not any(n in posted for n in names.values()):
        return False, None
    raw = {part: _text(posted, name) for part, name in names.items()}
    if not any(raw.values()):
        return True, None
    found: dict[str, Any] = {"address": raw["address"]}
    for part in ("lat", "lon"):
        if raw[part]:
            try:
                found[part] = float(raw[part])
            except ValueError:
                found[part] = raw[part]
    return True, found


# ------------------------------------------------------------------------------ drawing


def defaults(form: Form, surface: str) -> dict[str, Any]:
    """The default values of a surface's fields, to fill a new, empty form with."""
    return {
        k: form.specs[k].default
        for k in form.custom_keys(surface)
        if form.specs[k].default is not None
    }


def live_keys(form: Form) -> frozenset[str]:
    """Keys whose change can change the form: read by logic or formulas, or cascades."""
    found: set[str] = set()
    for rule in form.rules:
        found.update(rule.condition.fields_used)
    for _key, formula in form.computed:
        found.update(formula.fields_used)
    found.update(k for k, s in form.specs.items() if s.type == "cascade")
    return frozenset(found)


def system_fields() -> Mapping[str, SystemField]:
    """The ticket's system fields (subject, priority …) as the registry knows them."""
    entity = entities.get("ticket")
    return entity.system if entity else {}


def state_of(
    form: Form,
    values: Mapping[str, Any],
    *,
    system: Mapping[str, Any],
    variables: Mapping[str, Any],
    system_fields_: Mapping[str, SystemField] | None = None,
) -> tuple[FormState, dict[str, Any]]:
    """(what logic decides, the typed record it decided on) for some values."""
    known = system_fields() if system_fields_ is None else system_fields_
    record: dict[str, Any] = {}
    for key, value in system.items():
        found = known.get(key)
        record[key] = _typed(value, found.kind if found else None, form.timezone)
    for key, spec in form.specs.items():
        record[key] = _typed(values.get(key), types.kind_of(spec), form.timezone)
    now = datetime.now(UTC)
    # Time operators (within_last …) need these; a caller that does not give them still draws.
    known_variables = {"now": now, "today": now.astimezone(ZoneInfo(form.timezone)).date()}
    return evaluate(form, dict(record), {**known_variables, **variables}), record


def to_be_cleared(
    form: Form,
    values: Mapping[str, Any],
    stored: Mapping[str, Any],
    *,
    locale: str,
    system: Mapping[str, Any],
    variables: Mapping[str, Any],
) -> list[tuple[str, str]]:
    """(label, stored value as text) of each stored value the form's logic clears for these
    values: shown on the edit form so that saving never loses a value unannounced."""
    state, _ = state_of(form, values, system=system, variables=variables)
    translate = Translator(locale).gettext
    cleared = cleared_of(form, state, stored)
    return [
        (spec.text(locale), text_of(spec, stored[key], locale, form.timezone, translate))
        for key, spec in form.specs.items()
        if key in cleared
    ]


def render(
    form: Form,
    surface: str,
    values: Mapping[str, Any],
    *,
    locale: str,
    system: Mapping[str, Any],
    errors: Mapping[str, str] | None = None,
    variables: Mapping[str, Any],
    system_fields_: Mapping[str, SystemField] | None = None,
    texts: Mapping[str, str] | None = None,
) -> list[SectionView]:
    """The sections of a surface, evaluated by the form's logic over these values.

    `values` are custom values as posted (`parse_posted`) or stored (`ticket.custom`);
    `system` the ticket's own values (subject, priority …) that logic may test and system
    inputs show. Hidden fields are left out, required ones marked, read-only ones locked,
    restricted choices shrunk; `errors` (key → message) go under their inputs; `texts` (key →
    name) name what reference fields hold, for their search pickers.
    """
    known = system_fields() if system_fields_ is None else system_fields_
    state, record = state_of(form, values, system=system, variables=variables, system_fields_=known)
    shown = dict(values)
    for key, value in state.set_values.items():
        shown[key] = value
    for key in state.cleared:
        shown[key] = None
    for key, value in _computed(form, record).items():
        shown[key] = value
    live = live_keys(form)
    translate = Translator(locale).gettext
    drawn: list[SectionView] = []
    for section in form.sections.get(surface, []):
        inputs: list[Input] = []
        for key in section["fields"]:
            if key in state.hidden:
                continue
            if key in form.specs:
                found = _custom_input(form.specs[key], shown.get(key), state, locale, form.timezone)
            elif key in known:
                found = _system_input(known[key], system.get(key), locale, translate)
            else:
                found = Input(key, key, "text", plain(system.get(key)), system=True)
            found.required = key in state.required
            found.read_only = found.read_only or key in state.read_only
            found.live = key in live
            found.error = (errors or {}).get(key, "")
            if found.widget == "id" and not found.system:
                found.ref = form.specs[key].type
                found.text = (texts or {}).get(key, "")
            inputs.append(found)
        title = section.get("title") or {}
        drawn.append(
            SectionView(label_in(title, locale, ""), int(section.get("columns", 1)), inputs)
        )
    return drawn


def drawn_keys(sections: Iterable[SectionView]) -> set[str]:
    """Every key the sections draw."""
    return {i.key for s in sections for i in s.inputs}


def messages(locale: str, errors: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """A ValidationFailed's errors → key → message in the reader's language.

    `custom.<key>…` errors go to the custom field's key, others to their first part
    (`subject`, `customer.email` → `customer`); the first message of a key wins.
    """
    found: dict[str, str] = {}
    for error in errors:
        name = str(error.get("field", ""))
        parts = name.split(".")
        key = parts[1] if parts[0] == "custom" and len(parts) > 1 else parts[0]
        code = str(error.get("code", "invalid"))
        if code == "type":  # pydantic's English detail would leak into a Chinese page
            code = "invalid"
        params = dict(error.get("params") or {})
        found.setdefault(key, field_message(locale, field_label(name), code, params))
    return found


# ------------------------------------------------------------------------------ one input


def label_of(form: Form, system: Mapping[str, SystemField], key: str, locale: str) -> str:
    """The label of a custom or system key in the reader's language."""
    spec = form.specs.get(key)
    if spec is not None:
        return spec.text(locale)
    return label_in(system[key].label, locale, key) if key in system else key


def _system_input(
    found: SystemField, value: Any, locale: str, translate: Callable[[str], str]
) -> Input:
    widget = SYSTEM_WIDGETS.get(found.key, "text")
    choices: list[Choice] = []
    if found.key == "priority":
        widget = "select"
        choices = [(o, translate(label)) for o, label in PRIORITY_LABELS.items()]
    elif found.options:
        widget = "select"
        choices = [(o, translate(PRIORITY_LABELS.get(o, o))) for o in sorted(found.options)]
    elif found.kind is Kind.REF:
        widget = "id"
    shown = ", ".join(value) if isinstance(value, list) else plain(value)
    return Input(
        found.key,
        label_in(found.label, locale, found.key),
        widget,
        shown,
        choices=choices,
        read_only=not found.writable,
        system=True,
    )


def _choices(
    spec: FieldSpec, locale: str, value: Any, allowed: frozenset[str] | None
) -> list[Choice]:
    chosen = set(value) if isinstance(value, list) else {value}
    return [
        (str(c["key"]), label_in(c.get("label", {}), locale, str(c["key"])))
        for c in spec.options.get("choices", [])
        if (c.get("active", True) or c["key"] in chosen)
        and (allowed is None or c["key"] in allowed)
    ]


def levels(spec: FieldSpec, path: list[str], locale: str) -> list[tuple[list[Choice], str]]:
    """One select per level of a cascade: the chosen path and the level below it."""
    found: list[tuple[list[Choice], str]] = []
    walked: list[str] = []
    while True:
        nodes = cascade.children(spec.options, walked)
        if not nodes:
            return found
        choices = [(n["key"], label_in(n["label"], locale, n["key"])) for n in nodes]
        depth = len(walked)
        chosen = path[depth] if depth < len(path) else ""
        valid = any(k == chosen for k, _ in choices)
        found.append((choices, chosen if valid else ""))
        if not valid:
            return found
        walked.append(chosen)


def _columns(spec: FieldSpec, locale: str) -> list[Column]:
    found = []
    for col in spec.options.get("columns", []):
        col_type = str(col.get("type", "text"))
        col_spec = FieldSpec(
            key=col["key"], type=col_type, label={}, options=col.get("options", {})
        )
        found.append(
            Column(
                key=str(col["key"]),
                label=label_in(col.get("label", {}), locale, str(col["key"])),
                widget=WIDGETS.get(col_type, "text"),
                choices=_choices(col_spec, locale, None, None) if col_type == "select" else [],
                required=bool(col.get("required")),
            )
        )
    return found


def _custom_input(
    spec: FieldSpec, value: Any, state: FormState, locale: str, timezone: str
) -> Input:
    widget = WIDGETS.get(spec.type, "text")
    drawn = Input(
        spec.key,
        spec.text(locale),
        widget,
        _shown(spec, widget, value, timezone),
        read_only=spec.read_only,
        help=label_in(spec.help, locale, ""),
        placeholder=label_in(spec.placeholder, locale, ""),
        step=_step(spec),
    )
    if spec.type in ("select", "multi_select"):
        drawn.choices = _choices(spec, locale, drawn.value, state.allowed.get(spec.key))
    elif widget == "cascade":
        drawn.levels = levels(spec, list(drawn.value), locale)
    elif widget == "file":
        drawn.file_kind = spec.type
        drawn.multiple = spec.type != "signature" and int(spec.options.get("max_files") or 10) > 1
    elif widget == "table":
        drawn.columns = _columns(spec, locale)
        drawn.rows = list(drawn.value)
        if len(drawn.rows) < int(spec.options.get("max_rows") or 50):
            drawn.rows.append({})  # one blank row to type a new line into
    return drawn


def _step(spec: FieldSpec) -> str:
    if spec.type in ("integer", "duration"):
        return "1"
    if spec.type in ("money", "decimal", "percent"):
        places = int(spec.options.get("precision", 2))
        return "1" if places <= 0 else "0." + "0" * (places - 1) + "1"
    return "any"


def _shown(spec: FieldSpec, widget: str, value: Any, timezone: str) -> Any:
    """A value (posted or stored) as its input shows it."""
    if widget in ("checkboxes", "cascade"):
        if isinstance(value, list):
            return [str(v) for v in value]
        return [str(value)] if value not in (None, "") else []
    if widget == "location":
        value = value if isinstance(value, Mapping) else {}
        return {p: plain(value.get(p)) for p in ("lat", "lon", "address")}
    if widget == "table":
        rows = value if isinstance(value, list) else []
        return [
            {str(k): plain(v) for k, v in row.items()} for row in rows if isinstance(row, Mapping)
        ]
    if widget == "datetime" and isinstance(value, str | datetime) and value:
        return _local_input(value, timezone)
    if isinstance(value, Decimal):
        return format(value, "f")
    return plain(value)


def _local_input(value: str | datetime, timezone: str) -> str:
    """A stored UTC datetime as a datetime-local input's value; posted text stays as typed."""
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        return moment.strftime(_LOCAL_MINUTE)
    return moment.astimezone(ZoneInfo(timezone)).strftime(_LOCAL_MINUTE)


def _typed(value: Any, kind: Kind | None, timezone: str) -> Any:
    """A value as the Python value conditions compare; None when blank or invalid."""
    if value in ("", [], None) or kind is None:
        return None if value in ("", []) else value
    try:
        if kind is Kind.NUMBER:
            return Decimal(str(value))
        if kind is Kind.BOOL:
            return value if isinstance(value, bool) else {"true": True, "false": False}.get(value)
        if kind is Kind.DATE:
            return value if isinstance(value, date) else date.fromisoformat(str(value))
        if kind is Kind.DATETIME:
            moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
            return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(timezone))
        if kind is Kind.REF:
            return int(str(value))
    except (ValueError, InvalidOperation, TypeError):
        return None
    if kind is Kind.MULTI:
        if isinstance(value, str):
            return [p.strip() for p in value.replace("，", ",").split(",") if p.strip()]
        return [str(v) for v in value] if isinstance(value, list) else None
    if kind in (Kind.TEXT, Kind.CHOICE):
        return value if isinstance(value, str) else str(value)
    return value


def _computed(form: Form, record: Mapping[str, Any]) -> dict[str, Any]:
    values = {k: record.get(k) for k in form.specs}
    found: dict[str, Any] = {}
    for key, formula in form.computed:
        try:
            values[key] = found[key] = formula.evaluate(values)
        except (DomainError, ArithmeticError, TypeError, ValueError):
            values[key] = found[key] = None
    return found
