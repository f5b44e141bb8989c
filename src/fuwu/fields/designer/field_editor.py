"""The field editor's form: posted values → field data and options, and back for editing.

Every type's options have their own inputs (choices rows, an indented options tree, table
columns, a formula …); this module reads them into the shape `fields.options.check` takes and
places the service's errors next to the input they are about.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import FormData

from fuwu.errors import FIELD_MESSAGES, ValidationFailed
from fuwu.fields.formulas.parser import FormulaError
from fuwu.fields.registry import cascade, types
from fuwu.fields.registry import service as fields_service
from fuwu.fields.registry.models import FieldDef
from fuwu.kit.i18n import gettext
from fuwu.web.errors import field_message
from fuwu.web.forms import FieldErrors

# type → label msgid, in the order the type picker offers them
TYPE_LABELS: dict[str, str] = {
    "text": "Text",
    "textarea": "Long text",
    "rich_text": "Rich text",
    "integer": "Whole number",
    "decimal": "Decimal number",
    "money": "Money",
    "percent": "Percentage",
    "duration": "Duration (minutes)",
    "date": "Date",
    "datetime": "Date and time",
    "select": "Single choice",
    "multi_select": "Multiple choice",
    "cascade": "Cascading choice",
    "boolean": "Yes / no",
    "user": "User",
    "team": "Team",
    "customer": "Customer",
    "asset": "Asset",
    "ticket": "Ticket",
    "attachment": "Attachments",
    "image": "Images",
    "signature": "Signature",
    "phone": "Phone",
    "email": "Email",
    "url": "Web address",
    "location": "Location",
    "table": "Table",
    "auto_number": "Auto number",
    "computed": "Computed",
}
# option group → the types that show it
GROUPS: dict[str, tuple[str, ...]] = {
    "length": ("text", "textarea", "rich_text"),
    "pattern": ("text", "textarea"),
    "bounds": ("integer", "decimal", "money", "percent", "duration"),
    "precision": ("decimal", "money", "percent"),
    "currency": ("money",),
    "choices": ("select", "multi_select"),
    "max_items": ("multi_select",),
    "cascade": ("cascade",),
    "columns": ("table",),
    "formula": ("computed",),
    "number_pattern": ("auto_number",),
    "region": ("phone",),
    "max_files": ("attachment", "image"),
}
# the types a table column may have (fields.registry.types.TABLE_COLUMN_TYPES), with label msgids
COLUMN_TYPES = [(t, TYPE_LABELS.get(t, t)) for t in types.TABLE_COLUMN_TYPES]
FLAGS = ("required", "unique", "filterable", "read_only", "set_once")
# input name → label msgid, for error messages
INPUT_LABELS: dict[str, str] = {
    "key": "Key",
    "type": "Type",
    "label_zh": "Label",
    "opt_min": "Minimum",
    "opt_max": "Maximum",
    "opt_precision": "Decimal places",
    "opt_max_length": "Maximum length",
    "opt_min_length": "Minimum length",
    "opt_pattern": "Pattern",
    "opt_number_pattern": "Number pattern",
    "opt_max_items": "Most choices",
    "opt_max_files": "Most files",
    "opt_max_rows": "Most rows",
    "opt_formula": "Formula",
    "choices": "Options",
    "tree": "Options tree",
    "columns": "Columns",
    "default": "Default value",
}
# service error codes the shared messages do not cover → msgid
OWN_MESSAGES = {
    "option_removed": "Options cannot be removed once saved; deactivate them instead: %(detail)s",
}
SIMPLE = {
    "length": ("max_length", "min_length"),
    "bounds": ("min", "max"),
    "precision": ("precision",),
    "currency": ("currency",),
    "max_items": ("max_items",),
    "region": ("region",),
    "max_files": ("max_files",),
    "pattern": ("pattern",),
}
ROW = re.compile(r"^(choices|columns)-(\d+)-key$")


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _labels(form: FormData, prefix: str) -> dict[str, str]:
    return {"zh_CN": _text(form, f"{prefix}_zh"), "en": _text(form, f"{prefix}_en")}


def _rows(form: FormData, kind: str) -> list[int]:
    """Indexes of the posted rows of a repeated group, in order."""
    found = sorted({int(m.group(2)) for k in form if (m := ROW.match(k)) and m.group(1) == kind})
    return [i for i in found if any(_text(form, f"{kind}-{i}-{p}") for p in ("key", "zh", "en"))]


def read_choices(form: FormData, kind: str = "choices") -> list[dict[str, Any]]:
    """Choice rows: key, Chinese and English label, active."""
    return [
        {
            "key": _text(form, f"{kind}-{i}-key"),
            "label": {"zh_CN": _text(form, f"{kind}-{i}-zh"), "en": _text(form, f"{kind}-{i}-en")},
            "active": f"{kind}-{i}-active" in form,
        }
        for i in _rows(form, kind)
    ]


def parse_tree(text: str) -> list[dict[str, Any]]:
    """An options tree from indented lines `key | 中文 | English` (two spaces per level)."""
    roots: list[dict[str, Any]] = []
    stack: list[tuple[int, list[dict[str, Any]]]] = [(-1, roots)]
    for number, line in enumerate(text.replace("\t", "  ").splitlines(), start=1):
        if not line.strip():
            continue
        depth = (len(line) - len(line.lstrip(" "))) // 2
        parts = [p.strip() for p in line.strip().split("|")]
        key = parts[0]
        zh = parts[1] if len(parts) > 1 and parts[1] else key
        en = parts[2] if len(parts) > 2 and parts[2] else zh
        while stack[-1][0] >= depth:
            stack.pop()
        if depth > stack[-1][0] + 1:
            raise ValidationFailed.single("options.tree", "invalid", line=number)
        node: dict[str, Any] = {"key": key, "label": {"zh_CN": zh, "en": en}, "children": []}
        stack[-1][1].append(node)
        stack.append((depth, node["children"]))
    return roots


def tree_text(nodes: list[dict[str, Any]], depth: int = 0) -> str:
    """The indented text of an options tree (the inverse of parse_tree)."""
    lines = []
    for node in nodes:
        label = node.get("label", {})
        lines.append(
            f"{'  ' * depth}{node['key']} | {label.get('zh_CN', '')} | {label.get('en', '')}"
        )
        if node.get("children"):
            lines.append(tree_text(node["children"], depth + 1))
    return "\n".join(lines)


def _column_choices(text: str) -> list[dict[str, Any]]:
    found = []
    for part in re.split(r"[,，;；]", text):
        bits = [b.strip() for b in part.split(":")]
        if bits[0]:
            zh = bits[1] if len(bits) > 1 and bits[1] else bits[0]
            found.append(
                {"key": bits[0], "label": {"zh_CN": zh, "en": bits[2] if len(bits) > 2 else zh}}
            )

    return found


def read_columns(form: FormData) -> list[dict[str, Any]]:
    """Table columns: key, type, labels, required and (for choice columns) their options."""
    found = []
    for i in _rows(form, "columns"):
        column_type = _text(form, f"columns-{i}-type") or "text"
        options: dict[str, Any] = {}
        if column_type == "select":
            options["choices"] = _column_choices(_text(form, f"columns-{i}-choices"))
        found.append(
            {
                "key": _text(form, f"columns-{i}-key"),
                "type": column_type,
                "label": {
                    "zh_CN": _text(form, f"columns-{i}-zh"),
                    "en": _text(form, f"columns-{i}-en"),
                },
                "required": f"columns-{i}-required" in form,
                "options": options,
            }
        )
    return found


def read_options(form: FormData, type_name: str) -> dict[str, Any]:
    """The options of a type from the inputs of its groups (other groups are ignored)."""
    found: dict[str, Any] = {}
    for group, names in SIMPLE.items():
        if type_name in GROUPS[group]:
            found.update({n: _text(form, f"opt_{n}") for n in names if _text(form, f"opt_{n}")})
    if type_name in GROUPS["choices"]:
        found["choices"] = read_choices(form)
    if type_name == "cascade":
        found["source"] = _text(form, "opt_source") or "options"
        found["require_leaf"] = "opt_require_leaf" in form
        if found["source"] != cascade.CN_REGION:
            found["tree"] = parse_tree(_text(form, "opt_tree"))
    if type_name == "table":
        found["columns"] = read_columns(form)
        if _text(form, "opt_max_rows"):
            found["max_rows"] = _text(form, "opt_max_rows")
    if type_name == "computed":
        found["formula"] = _text(form, "opt_formula")
    if type_name == "auto_number":
        found["pattern"] = _text(form, "opt_number_pattern")
    return found


def read_field(form: FormData, *, create: bool) -> dict[str, Any]:
    """The posted field form as FieldCreate (or FieldUpdate) input; a label is required."""
    data: dict[str, Any] = {
        "label": _labels(form, "label"),
        "help": _labels(form, "help"),
        "placeholder": _labels(form, "placeholder"),
        **{flag: flag in form for flag in FLAGS},
    }
    if not any(data["label"].values()):
        raise ValidationFailed.single("label", "missing")
    if create:
        data.update(entity=_text(form, "entity") or "ticket", key=_text(form, "key"))
        data["type"] = _text(form, "type")
    else:
        version = _text(form, "version")
        data["version"] = int(version) if version.isdigit() else 0
    return data


def values_of(row: FieldDef) -> dict[str, Any]:
    """A saved field as the editor's input values."""
    opts = row.options or {}
    values: dict[str, Any] = {
        "key": row.key,
        "type": row.type,
        "entity": row.entity,
        "version": row.version,
        **{
            f"{p}_zh": (getattr(row, p) or {}).get("zh_CN", "")
            for p in ("label", "help", "placeholder")
        },
        **{
            f"{p}_en": (getattr(row, p) or {}).get("en", "")
            for p in ("label", "help", "placeholder")
        },
        **{flag: getattr(row, flag) for flag in FLAGS},
    }
    for names in SIMPLE.values():
        values.update({f"opt_{n}": opts[n] for n in names if opts.get(n) not in (None, "")})
    values["choices"] = [
        {
            "key": c["key"],
            "zh": c["label"].get("zh_CN", ""),
            "en": c["label"].get("en", ""),
            "active": c.get("active", True),
            "saved": True,
        }
        for c in opts.get("choices", [])
    ]
    values["opt_source"] = opts.get("source", "options")
    values["opt_require_leaf"] = opts.get("require_leaf", True)
    values["opt_tree"] = tree_text(opts.get("tree", []))
    values["columns"] = [_column_values(c) for c in opts.get("columns", [])]
    values["opt_max_rows"] = opts.get("max_rows", "")
    values["opt_formula"] = opts.get("formula", "")
    if row.type == "auto_number":
        values["opt_number_pattern"] = opts.get("pattern", "")
    return values


def _column_values(column: Mapping[str, Any]) -> dict[str, Any]:
    choices = column.get("options", {}).get("choices", [])
    return {
        "key": column["key"],
        "type": column["type"],
        "zh": column.get("label", {}).get("zh_CN", ""),
        "en": column.get("label", {}).get("en", ""),
        "required": column.get("required", False),
        "choices": ", ".join(
            f"{c['key']}:{c['label'].get('zh_CN', '')}:{c['label'].get('en', '')}" for c in choices
        ),
    }


def posted_values(form: FormData, type_name: str) -> dict[str, Any]:
    """What the admin typed, to show again next to the errors."""
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    for flag in (*FLAGS, "opt_require_leaf"):
        values[flag] = flag in form
    values["type"] = type_name
    values["choices"] = [
        {
            "key": c["key"],
            "zh": c["label"]["zh_CN"],
            "en": c["label"]["en"],
            "active": c["active"],
            "saved": form.get(f"choices-{i}-saved") == "1",
        }
        for i, c in zip(_rows(form, "choices"), read_choices(form), strict=True)
    ]
    values["columns"] = [
        {
            **c,
            "zh": c["label"]["zh_CN"],
            "en": c["label"]["en"],
            "choices": _text(form, f"columns-{i}-choices"),
        }
        for i, c in zip(_rows(form, "columns"), read_columns(form), strict=True)
    ]
    return values


def _input_of(path: str, type_name: str) -> tuple[str, int | None]:
    """The input an error path is about, and the 1-based row for repeated groups."""
    row_match = re.search(r"\[(\d+)\]", path)
    row = int(row_match.group(1)) + 1 if row_match else None
    name = path.removeprefix("options.")
    head = re.split(r"[.\[]", name)[0]
    if not path.startswith("options."):
        return ("label_zh" if head == "label" else head), None
    if head in ("choices", "tree", "columns"):
        return head, row
    if head == "pattern" and type_name == "auto_number":
        return "opt_number_pattern", None
    return f"opt_{head}", None


def place(locale: str, exc: ValidationFailed, type_name: str) -> FieldErrors:
    """Translated messages per input of the field editor."""
    if isinstance(exc, FormulaError):
        return {"opt_formula": [gettext(locale, exc.message, **exc.params)]}
    found: FieldErrors = {}
    for error in exc.errors:
        name, row = _input_of(str(error.get("field", "")), type_name)
        params = dict(error.get("params") or {})
        label = gettext(locale, INPUT_LABELS.get(name, name))
        code = str(error.get("code", "invalid"))
        if code not in FIELD_MESSAGES and code in OWN_MESSAGES:
            message = gettext(locale, OWN_MESSAGES[code], detail=params.get("detail", ""))
        else:
            code = code if code in FIELD_MESSAGES else "invalid"
            message = field_message(locale, label, code, params)
        line = params.get("line") or row
        if line:
            message = gettext(locale, "Row %(row)s: %(text)s", row=line, text=message)
        found.setdefault(name, []).append(message)
    return found


def type_choices(entity: str, *, but: str | None = None) -> list[tuple[str, str]]:
    """(type, label msgid) of every registered type a field of `entity` may have (other than
    `but`, the type it has now), the known ones first."""
    known = [(t, label) for t, label in TYPE_LABELS.items() if t in types.TYPES]
    found = known + [(t, t) for t in types.TYPES if t not in TYPE_LABELS]
    return [(t, label) for t, label in found if t != but and fields_service.type_allowed(entity, t)]
