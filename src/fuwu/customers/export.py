"""Customers and organisations as CSV for Excel, their custom fields as columns
(`fields.csv_export`), filtered like their lists."""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from fuwu.auth.principal import Principal
from fuwu.customers import service as customers_service
from fuwu.fields import csv_export
from fuwu.kit.i18n import gettext

MAX_ROWS = csv_export.MAX_ROWS
CONTACT_HEADERS = ("Full name", "Email", "Phone", "Organisation", "VIP level", "Province", "City",
                   "District", "Address", "Tags", "Created")  # fmt: skip
ORG_HEADERS = ("Name", "VIP level", "Phone", "Address", "Tags", "Created")


def contacts_csv(
    session: Session,
    *,
    actor: Principal,
    q: str | None,
    where: ColumnElement[bool] | None,
    locale: str,
    timezone: str,
) -> str:
    contacts = customers_service.list_contacts(
        session, actor=actor, q=q, where=where, limit=MAX_ROWS
    )
    rows = (
        ([c.name, c.email, c.phone, c.organisation.name if c.organisation else None,
          c.vip_level, c.province, c.city, c.district, c.address, c.tags, c.created_at],
         c.custom or {})
        for c in contacts
    )  # fmt: skip
    headers = [gettext(locale, h) for h in CONTACT_HEADERS]
    specs = csv_export.custom_specs(session, "contact")
    return csv_export.write(headers, specs, rows, locale=locale, timezone=timezone)


def organisations_csv(
    session: Session,
    *,
    actor: Principal,
    q: str | None,
    where: ColumnElement[bool] | None,
    locale: str,
    timezone: str,
) -> str:
    orgs = customers_service.list_organisations(
        session, actor=actor, q=q, where=where, limit=MAX_ROWS
    )
    rows = (
        ([o.name, o.vip_level, o.phone, o.address, o.tags, o.created_at], o.custom or {})
        for o in orgs
    )
    headers = [gettext(locale, h) for h in ORG_HEADERS]
    specs = csv_export.custom_specs(session, "organisation")
    return csv_export.write(headers, specs, rows, locale=locale, timezone=timezone)
