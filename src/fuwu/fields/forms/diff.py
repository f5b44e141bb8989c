"""What changed between two versions of a form, in words an admin reads: fields added, removed
or made (not) required, fields placed on or taken off a layout, logic rules added, removed or
changed — instead of JSON paths."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Line:
    """One change: added, removed or changed; what it is about; a detail (translated)."""

    kind: str
    subject: str
    detail: str = ""


def summary(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    labels: Mapping[str, str],
    surfaces: Mapping[str, str],
    translate: Callable[[str], str],
) -> list[Line]:
    """The changes from `before` to `after` (two form definitions), fields first."""
    _ = translate
    lines: list[Line] = []
    old = {f["key"]: f for f in before.get("fields", [])}
    new = {f["key"]: f for f in after.get("fields", [])}
    for key in new.keys() - old.keys():
        lines.append(Line("added", labels.get(key, key), _("Field added to the form")))
    for key in old.keys() - new.keys():
        lines.append(Line("removed", labels.get(key, key), _("Field removed from the form")))
    for key in sorted(old.keys() & new.keys()):
        if bool(old[key].get("required")) != bool(new[key].get("required")):
            detail = _("Now required") if new[key].get("required") else _("No longer required")
            lines.append(Line("changed", labels.get(key, key), detail))
    lines += _layouts(before, after, labels, surfaces, _)
    lines += _rules(before, after, _)
    return lines


def _placed(definition: Mapping[str, Any], surface: str) -> list[str]:
    sections = definition.get("layouts", {}).get(surface, [])
    return [k for section in sections for k in section.get("fields", [])]


def _layouts(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    labels: Mapping[str, str],
    surfaces: Mapping[str, str],
    _: Callable[[str], str],
) -> list[Line]:
    lines: list[Line] = []
    for surface, name in surfaces.items():
        old, new = _placed(before, surface), _placed(after, surface)
        for key in [k for k in new if k not in old]:
            lines.append(Line("added", labels.get(key, key), _("Shown on: %(surface)s") % {
                "surface": name}))  # fmt: skip
        for key in [k for k in old if k not in new]:
            lines.append(Line("removed", labels.get(key, key), _("No longer on: %(surface)s") % {
                "surface": name}))  # fmt: skip
        kept_old = [k for k in old if k in new]
        kept_new = [k for k in new if k in old]
        if kept_old != kept_new:
            lines.append(Line("changed", name, _("Fields in another order")))
    return lines


def _rules(
    before: Mapping[str, Any], after: Mapping[str, Any], _: Callable[[str], str]
) -> list[Line]:
    def named(definition: Mapping[str, Any]) -> dict[str, Any]:
        rules = definition.get("logic", [])
        return {(r.get("name") or f"#{i + 1}"): r for i, r in enumerate(rules)}

    old, new = named(before), named(after)
    lines = [Line("added", name, _("Logic rule added")) for name in new if name not in old]
    lines += [Line("removed", name, _("Logic rule removed")) for name in old if name not in new]
    lines += [
        Line("changed", name, _("Logic rule changed"))
        for name in new
        if name in old and old[name] != new[name]
    ]
    return lines
