"""Check the options an admin gives a field, per type, before they are saved."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from fuwu.conditions.schema import Kind
from fuwu.errors import ValidationFailed
from fuwu.fields.registry import cascade, types
from fuwu.fields.registry.schemas import KEY_PATTERN

KEY = re.compile(KEY_PATTERN)
OPTION_KEY = re.compile(r"^[A-Za-z0-9_\-]{1,40}$")
NUMBER_OPTIONS = ("min", "max")
AUTO_NUMBER = re.compile(r"^[A-Za-z0-9\-_/{}:]*\{seq(:0[1-9])?\}[A-Za-z0-9\-_/{}:]*$")


def _fail(name: str, code: str = "invalid", **params: Any) -> ValidationFailed:
    return ValidationFailed.single(f"options.{name}", code, **params)


def check(
    type_name: str, options: Mapping[str, Any], *, kinds: Mapping[str, Kind | None]
) -> dict[str, Any]:
    """Normalised options for a type, or ValidationFailed naming the bad option.

    `kinds` are the other fields of the entity, for formulas.
    """
    if type_name not in types.TYPES:
        raise ValidationFailed.single(
            "type", "invalid_choice", choices=", ".join(sorted(types.TYPES))
        )
    found = dict(options)
    _numbers(found)
    if "pattern" in found:
        _pattern(found)
    if type_name in ("select", "multi_select"):
        found["choices"] = _choices(found.get("choices"))
    elif type_name == "cascade":
        _cascade(found)
    elif type_name == "table":
        found["columns"] = _columns(found.get("columns"), kinds)
    elif type_name == "auto_number":
        pattern = str(found.get("pattern") or "{seq:05}")
        if not AUTO_NUMBER.match(pattern):
            raise _fail("pattern")
        found["pattern"] = pattern
    elif type_name == "computed":
        _formula(found, kinds)
    return found


def _numbers(found: dict[str, Any]) -> None:
    for name in (*NUMBER_OPTIONS, "max_length", "min_length", "precision", "max_items"):
        if found.get(name) in (None, ""):
            found.pop(name, None)
            continue
        try:
            number = Decimal(str(found[name]))
        except InvalidOperation:
            raise _fail(name, "type", detail="number") from None
        found[name] = int(number) if number == number.to_integral_value() else float(number)
    if "min" in found and "max" in found and found["min"] > found["max"]:
        raise _fail("min", "out_of_range", detail="min > max")
    if "precision" in found and not 0 <= found["precision"] <= 8:
        raise _fail("precision", "out_of_range", detail="0 … 8")


def _pattern(found: dict[str, Any]) -> None:
    pattern = str(found["pattern"])
    if len(pattern) > 200:
        raise _fail("pattern", "too_long", max=200)
    try:
        re.compile(pattern)
    except re.error:
        raise _fail("pattern") from None


def _choices(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise _fail("choices", "empty")
    seen: set[str] = set()
    found = []
    for i, item in enumerate(raw):
        key = str(item.get("key", "")) if isinstance(item, dict) else ""
        if not OPTION_KEY.match(key) or key in seen:
            raise _fail(f"choices[{i}].key")
        seen.add(key)
        label = item.get("label") or {}
        if not isinstance(label, dict) or not any(label.values()):
            label = {"zh_CN": key, "en": key}
        found.append({"key": key, "label": label, "active": bool(item.get("active", True))})
    return found


def _cascade(found: dict[str, Any]) -> None:
    if found.get("source") == cascade.CN_REGION:
        found.pop("tree", None)
        return
    found["source"] = "options"
    tree = found.get("tree")
    if not isinstance(tree, list) or not tree:
        raise _fail("tree", "empty")
    _tree(tree, "tree", 0)


def _tree(nodes: list[Any], path: str, depth: int) -> None:
    if depth > 5:
        raise _fail(path, "out_of_range", detail="depth ≤ 6")
    seen: set[str] = set()
    for i, node in enumerate(nodes):
        key = str(node.get("key", "")) if isinstance(node, dict) else ""
        if not OPTION_KEY.match(key) or key in seen:
            raise _fail(f"{path}[{i}].key")
        seen.add(key)
        node.setdefault("label", {"zh_CN": key, "en": key})
        node.setdefault("children", [])
        _tree(node["children"], f"{path}[{i}].children", depth + 1)


def _columns(raw: Any, kinds: Mapping[str, Kind | None]) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise _fail("columns", "empty")
    seen: set[str] = set()
    found = []
    for i, col in enumerate(raw):
        if not isinstance(col, dict) or not KEY.match(str(col.get("key", ""))):
            raise _fail(f"columns[{i}].key")
        if col["key"] in seen:
            raise _fail(f"columns[{i}].key", "taken")
        if col.get("type") not in types.TABLE_COLUMN_TYPES:
            raise _fail(
                f"columns[{i}].type", "invalid_choice", choices=", ".join(types.TABLE_COLUMN_TYPES)
            )
        seen.add(col["key"])
        sub = check(col["type"], col.get("options") or {}, kinds=kinds)
        found.append(
            {
                "key": col["key"],
                "type": col["type"],
                "label": col.get("label") or {"zh_CN": col["key"], "en": col["key"]},
                "required": bool(col.get("required")),
                "options": sub,
            }
        )
    return found


def _formula(found: dict[str, Any], kinds: Mapping[str, Kind | None]) -> None:
    from fuwu.fields.formulas.language import parse

    source = str(found.get("formula") or "")
    formula = parse(source, {k: v for k, v in kinds.items() if v is not None})
    found["formula"] = source
    found["result_kind"] = str(formula.kind)
