"""Tickets as a CSV file that opens cleanly in Excel, custom fields included
(`fields.forms.csv_export`): the ticket's own columns, then its custom fields; a customer gets only
what the portal layout of each ticket's form shows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import and_
from sqlalchemy.orm import Session

from fuwu.auth.principal import Principal
from fuwu.fields.forms import csv_export
from fuwu.kit.i18n import gettext
from fuwu.tickets import custom as custom_fields
from fuwu.tickets import repository
from fuwu.tickets.models import Ticket

MAX_ROWS = csv_export.MAX_ROWS
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
    specs = csv_export.custom_specs(session, "ticket", filters.readable)
    stmt = (
        repository.list_select()
        .where(and_(*repository.conditions(filters, actor)))
        .order_by(Ticket.id)
        .limit(min(limit, MAX_ROWS))
    )

    def rows() -> Iterator[tuple[list[Any], dict[str, Any]]]:
        for row in session.execute(stmt).mappings():
            custom = row["custom"] or {}
            if not actor.is_staff:  # only what the portal layout of this ticket's form shows
                custom = custom_fields.customer_view(
                    session, custom, type_key=row["type_key"], form_version=row["form_version"],
                    timezone=timezone,
                )  # fmt: skip
            yield [row[key] for key, _ in COLUMNS], custom

    headers = [gettext(locale, label) for _, label in COLUMNS]
    return csv_export.write(headers, specs, rows(), locale=locale, timezone=timezone)
