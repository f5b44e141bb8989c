"""Tickets as a CSV file that opens cleanly in Excel (UTF-8 with BOM), custom fields included.

Columns: the ticket's own fields, then every active custom field of tickets in registry order,
headed by its label in the caller's language. Values are shown as a person reads them: option
labels rather than keys, cascades as "广东省 / 深圳市", times in the company's time zone.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from fuwu.auth.principal import Principal
from fuwu.fields import cascade
from fuwu.fields.forms import spec_of
from fuwu.fields.models import ACTIVE, FieldDef
from fuwu.fields.types import FieldSpec
from fuwu.kit.i18n import gettext
from fuwu.tickets import custom as custom_fields
from fuwu.tickets import repository
from fuwu.tickets.models import Ticket

MAX_ROWS = 50_000
COLUMNS = (
    ("number", "Number"), ("subject", "Subject"), ("type_key", "Type"), ("status", "Status"),
    ("priority", "Priority"), ("channel", "Channel"), ("customer_name", "Customer"),
    ("organisation_name", "Organisation"), ("assignee_name", "Assignee"), ("team_name", "Team"),
    ("created_at", "Created"), ("updated_at", "Updated"),
)  # fmt: skip


def export_csv(
    session: Session,
    *,
    actor: Principal,
    filters: repository.TicketFilter,
    locale: str,
    timezone: str,
    limit: int = MAX_ROWS,
) -> str:
    """The CSV text of the tickets the actor may see that match the filters, oldest first."""
    zone = ZoneInfo(timezone)
    specs = [
        spec_of(f)
        for f in session.scalars(
            select(FieldDef)
            .where(FieldDef.entity == "ticket", FieldDef.status == ACTIVE)
            .order_by(FieldDef.position, FieldDef.id)
        )
        if filters.readable is None or f.key in filters.readable
    ]
    out = io.StringIO()
    out.write("\ufeff")  # Excel reads UTF-8 only with a BOM
    writer = csv.writer(out)
    writer.writerow(
        [gettext(locale, label) for _, label in COLUMNS] + [s.text(locale) for s in specs]
    )
    stmt = (
        repository.list_select()
        .where(and_(*repository.conditions(filters, actor)))
        .order_by(Ticket.id)
        .limit(min(limit, MAX_ROWS))
    )
    for row in session.execute(stmt).mappings():
        plain = [_plain(row[key], zone) for key, _ in COLUMNS]
        custom = row["custom"] or {}
        if not actor.is_staff:  # only what the portal layout of this ticket's form shows
            custom = custom_fields.customer_view(
                session, custom, type_key=row["type_key"], form_version=row["form_version"],
                timezone=timezone,
            )  # fmt: skip
        writer.writerow(plain + [_shown(s, custom.get(s.key), locale) for s in specs])
    return out.getvalue()


def _plain(value: Any, zone: ZoneInfo) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    return _safe(str(value))


def _shown(spec: FieldSpec, value: Any, locale: str) -> str:
    """A stored custom value as a person reads it."""
    if value is None:
        return ""
    if spec.type in ("select", "multi_select"):
        labels = _choice_labels(spec.options, locale)
        values = value if isinstance(value, list) else [value]
        return _safe("; ".join(labels.get(v, str(v)) for v in values))
    if spec.type == "cascade":
        return _safe(" / ".join(cascade.labels(spec.options, list(value), locale)))
    if spec.type == "boolean":
        return gettext(locale, "Yes") if value else gettext(locale, "No")
    if isinstance(value, list | dict):
        return _safe(json.dumps(value, ensure_ascii=False))
    return _safe(str(value))


def _choice_labels(options: Mapping[str, Any], locale: str) -> dict[str, str]:
    return {
        c["key"]: c["label"].get(locale) or c["label"].get("en") or c["key"]
        for c in options.get("choices", [])
    }


def _safe(text: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection): a leading =, +, - or @ is quoted."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
