"""Customers, organisations and assets as CSV for Excel, their custom fields as columns
(`fields.forms.csv_export`), filtered like their lists."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from fuwu.auth.principal import Principal
from fuwu.customers import assets
from fuwu.customers import service as customers_service
from fuwu.customers.models import Asset, Contact, Organisation
from fuwu.fields.forms import csv_export
from fuwu.kit.i18n import gettext

MAX_ROWS = csv_export.MAX_ROWS


@dataclass(frozen=True)
class Kind:
    """How one kind of record is listed and which of its own columns the file has."""

    filename: str
    headers: tuple[str, ...]
    listed: Callable[..., Sequence[Any]]
    own: Callable[[Any], list[Any]]


KINDS = {
    "contact": Kind(
        "customers",
        ("Full name", "Email", "Phone", "Organisation", "VIP level", "Province", "City",
         "District", "Address", "Tags", "Created"),
        customers_service.list_contacts,
        lambda c: [c.name, c.email, c.phone, c.organisation.name if c.organisation else None,
                   c.vip_level, c.province, c.city, c.district, c.address, c.tags,
                   c.created_at],
    ),
    "organisation": Kind(
        "organisations",
        ("Name", "VIP level", "Phone", "Address", "Tags", "Created"),
        customers_service.list_organisations,
        lambda o: [o.name, o.vip_level, o.phone, o.address, o.tags, o.created_at],
    ),
    "asset": Kind(
        "assets",
        ("Product", "Model", "Serial number", "Customer", "Organisation", "Installed",
         "Warranty until", "Address", "Created"),
        assets.list_assets,
        lambda a: [a.product, a.model, a.serial_number, a.contact.name if a.contact else None,
                   a.organisation.name if a.organisation else None, a.install_date,
                   a.warranty_until, a.address, a.created_at],
    ),
}  # fmt: skip


def records_csv(
    session: Session,
    *,
    entity: str,
    actor: Principal,
    q: str | None,
    where: ColumnElement[bool] | None,
    locale: str,
    timezone: str,
) -> str:
    """The records of `entity` that match, as CSV with their custom fields."""
    kind = KINDS[entity]
    records: Sequence[Contact | Organisation | Asset] = kind.listed(
        session, actor=actor, q=q, where=where, limit=MAX_ROWS
    )
    rows = ((kind.own(r), r.custom or {}) for r in records)
    headers = [gettext(locale, h) for h in kind.headers]
    specs = csv_export.custom_specs(session, entity)
    return csv_export.write(headers, specs, rows, locale=locale, timezone=timezone)
