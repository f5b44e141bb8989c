"""Records as CSV that opens cleanly in Excel (UTF-8 with BOM), custom fields included.

Shared by every list that exports (tickets, customers, organisations): the entity's own
columns first, then its active custom fields in registry order, headed by their labels in the
reader's language. Values are shown as a person reads them: option labels rather than keys,
cascades as "广东省 / 深圳市", times in the company's time zone. A value that a spreadsheet would
run as a formula is quoted (CSV injection).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fuwu.fields.registry import cascade
from fuwu.fields.registry.catalog import catalog
from fuwu.fields.registry.types import FieldSpec
from fuwu.kit.i18n import gettext

MAX_ROWS = 50_000


def custom_specs(
    session: Session, entity: str, readable: Collection[str] | None = None
) -> list[FieldSpec]:
    """The entity's active custom fields in registry order (only `readable` ones if given)."""
    return catalog(session, entity).active_specs(readable)


def write(
    headers: Sequence[str],
    specs: Sequence[FieldSpec],
    rows: Iterable[tuple[Sequence[Any], Mapping[str, Any]]],
    *,
    locale: str,
    timezone: str,
) -> str:
    """The CSV text: `headers` (already translated) and the custom fields' labels, then one
    line per (own values, custom values)."""
    zone = ZoneInfo(timezone)
    out = io.StringIO()
    out.write("\ufeff")  # Excel reads UTF-8 only with a BOM
    writer = csv.writer(out)
    writer.writerow([*headers, *(s.text(locale) for s in specs)])
    for own, custom in rows:
        writer.writerow(
            [plain(v, zone) for v in own] + [shown(s, custom.get(s.key), locale) for s in specs]
        )
    return out.getvalue()


def plain(value: Any, zone: ZoneInfo) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, list):
        return safe("; ".join(str(v) for v in value))
    return safe(str(value))


def shown(spec: FieldSpec, value: Any, locale: str) -> str:
    """A stored custom value as a person reads it."""
    if value is None:
        return ""
    if spec.type in ("select", "multi_select"):
        labels = _choice_labels(spec.options, locale)
        values = value if isinstance(value, list) else [value]
        return safe("; ".join(labels.get(v, str(v)) for v in values))
    if spec.type == "cascade":
        return safe(" / ".join(cascade.labels(spec.options, list(value), locale)))
    if spec.type == "boolean":
        return gettext(locale, "Yes") if value else gettext(locale, "No")
    if isinstance(value, list | dict):
        return safe(json.dumps(value, ensure_ascii=False))
    return safe(str(value))


def _choice_labels(options: Mapping[str, Any], locale: str) -> dict[str, str]:
    return {
        c["key"]: c["label"].get(locale) or c["label"].get("en") or c["key"]
        for c in options.get("choices", [])
    }


def safe(text: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection): a leading =, +, - or @ is quoted."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
