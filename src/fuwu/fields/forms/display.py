"""Stored custom values as text: option labels, region names, local times, 2-decimal money.

The read-only side of `fields.forms.render` (which re-exports `display` and `text_of`): the ticket
page's details panel and the customer portal show a ticket's custom fields with it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from fuwu.fields.forms.compile import Form
from fuwu.fields.registry import cascade
from fuwu.fields.registry.types import FieldSpec
from fuwu.kit.i18n import Translator


def label_in(labels: Mapping[str, str], locale: str, key: str) -> str:
    """A label in the reader's language, else English, else Chinese, else the key."""
    return labels.get(locale) or labels.get("en") or labels.get("zh_CN") or key


def plain(value: Any) -> str:
    """A scalar as an input's value: blank for None, booleans as true/false."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return str(value)


def display(
    form: Form,
    values: Mapping[str, Any],
    *,
    locale: str,
    timezone: str,
    surface: str | None = None,
    others: bool = False,
    texts: Mapping[str, str] | None = None,
) -> list[tuple[str, str]]:
    """(label, text) of each stored value worth showing: a surface's fields in layout order
    (then, with `others`, the form's remaining fields), or every field of the form when no
    surface is given. Empty values are skipped; `texts` (key → text) are shown as given: the
    names of the users, customers, assets … that reference fields hold, read by the caller."""
    translate = Translator(locale).gettext
    keys = form.custom_keys(surface) if surface else list(form.specs)
    if others:
        keys = [*keys, *form.specs]
    found = []
    for key in dict.fromkeys(keys):
        value = values.get(key)
        if value is None or value in ("", [], {}):
            continue
        spec = form.specs[key]
        text = (texts or {}).get(key) or text_of(spec, value, locale, timezone, translate)
        found.append((spec.text(locale), text))
    return found


def text_of(
    spec: FieldSpec, value: Any, locale: str, timezone: str, translate: Callable[[str], str]
) -> str:
    """One stored value as text: option labels, region names, local times, 2-decimal money."""
    joiner = "、" if locale == "zh_CN" else ", "
    kind = spec.type
    if kind == "select":
        return _optionlabel_in(spec, str(value), locale)
    if kind == "multi_select":
        items = value if isinstance(value, list) else [value]
        return joiner.join(_optionlabel_in(spec, str(v), locale) for v in items)
    if kind == "cascade":
        path = [str(v) for v in value] if isinstance(value, list) else [str(value)]
        return " / ".join(cascade.labels(spec.options, path, locale))
    if kind == "boolean":
        return translate("Yes") if value is True or value == "true" else translate("No")
    if kind in ("money", "decimal", "percent"):
        return _number(spec, value)
    if kind == "datetime":
        return _local_text(value, timezone)
    if kind == "duration":
        return translate("%(n)s min") % {"n": value}
    if kind in ("user", "team", "customer", "asset", "ticket", "signature"):
        return f"#{value}"
    if kind in ("attachment", "image"):
        ids = value if isinstance(value, list) else [value]
        return translate("%(n)s files") % {"n": len(ids)}
    if kind == "location" and isinstance(value, Mapping):
        point = f"{value.get('lat', '')}, {value.get('lon', '')}"
        return f"{value.get('address')} ({point})" if value.get("address") else point
    if kind == "table" and isinstance(value, list):
        return "\n".join(_row_text(spec, row, locale, translate) for row in value)
    if kind == "computed":
        return _computed_text(spec, value)
    return plain(value)


def _optionlabel_in(spec: FieldSpec, key: str, locale: str) -> str:
    for choice in spec.options.get("choices", []):
        if str(choice["key"]) == key:
            return label_in(choice.get("label", {}), locale, key)
    return key


def _number(spec: FieldSpec, value: Any) -> str:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    places = int(spec.options.get("precision", 2))
    text = f"{number:,.{max(places, 0)}f}"
    if spec.type == "percent":
        return f"{text}%"
    if spec.type == "money":
        currency = str(spec.options.get("currency") or "CNY")
        return f"¥{text}" if currency == "CNY" else f"{currency} {text}"
    return text


def _local_text(value: Any, timezone: str) -> str:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(ZoneInfo(timezone))
    return moment.strftime("%Y-%m-%d %H:%M")


def _computed_text(spec: FieldSpec, value: Any) -> str:
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        number = Decimal(str(value))
        return format(number, "f") if number != number.to_integral_value() else str(int(number))
    return plain(value)


def _row_text(spec: FieldSpec, row: Any, locale: str, translate: Callable[[str], str]) -> str:
    if not isinstance(row, Mapping):
        return str(row)
    cells = []
    for col in spec.options.get("columns", []):
        cell = row.get(col["key"])
        if cell is None or cell == "":
            continue
        col_spec = FieldSpec(
            key=str(col["key"]), type=str(col.get("type", "text")),
            label=col.get("label", {}), options=col.get("options", {}),
        )  # fmt: skip
        text = text_of(col_spec, cell, locale, "UTC", translate)
        cells.append(f"{col_spec.text(locale)}: {text}")
    return " · ".join(cells)


def changes(
    form: Form | None,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    *,
    locale: str,
    timezone: str,
) -> list[tuple[str, str, str]]:
    """(label, old text, new text) of each custom field whose value changed, in the form's
    order (fields it no longer has last, by key); an empty side is ''."""
    old, new = before or {}, after or {}
    translate = Translator(locale).gettext
    specs = form.specs if form is not None else {}
    keys = [k for k in dict.fromkeys([*specs, *sorted({*old, *new})]) if old.get(k) != new.get(k)]

    def shown(key: str, value: Any) -> str:
        if value is None or value in ("", [], {}):
            return ""
        spec = specs.get(key)
        return text_of(spec, value, locale, timezone, translate) if spec else plain(value)

    return [
        (specs[k].text(locale) if k in specs else k, shown(k, old.get(k)), shown(k, new.get(k)))
        for k in keys
    ]
