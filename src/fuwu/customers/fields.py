"""Contacts, organisations and assets as entities of the field registry: their tables,
`custom` columns and the system fields a condition may test.

Registered explicitly (`register`), by `create_app` and the CLI, as tickets are."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table

from fuwu.conditions.schema import Kind
from fuwu.customers.models import Asset, Contact, Organisation
from fuwu.fields.registry import entities
from fuwu.fields.registry.entities import Entity, SystemField


def _f(key: str, kind: Kind, zh: str, en: str, column: object, **kw: Any) -> SystemField:
    return SystemField(key=key, kind=kind, label={"zh_CN": zh, "en": en}, column=column, **kw)


def _entity(name: str, model: Any, system: list[SystemField], title: str, url: str) -> Entity:
    table = cast(Table, model.__table__)
    return Entity(
        name=name,
        table=table,
        custom=table.c.custom,
        system={f.key: f for f in system},
        title=title,
        url=url,
        reserved=frozenset(table.c.keys()),  # every column is an input of its form or API
        files=False,  # decided in issue 16: customer records keep no files (docs/admin-guide.md)
    )


C, ORG, A = Contact.__table__.c, Organisation.__table__.c, Asset.__table__.c
CONTACT = _entity("contact", Contact, [
    _f("name", Kind.TEXT, "姓名", "Name", C.name),
    _f("email", Kind.TEXT, "邮箱", "Email", C.email),
    _f("phone", Kind.TEXT, "电话", "Phone", C.phone),
    _f("organisation", Kind.REF, "组织", "Organisation", C.organisation_id),
    _f("vip_level", Kind.NUMBER, "VIP 等级", "VIP level", C.vip_level),
    _f("city", Kind.TEXT, "城市", "City", C.city),
    _f("district", Kind.TEXT, "区县", "District", C.district),
    _f("created_at", Kind.DATETIME, "创建时间", "Created", C.created_at, writable=False),
], "name", "/customers/{id}")  # fmt: skip
ORGANISATION = _entity("organisation", Organisation, [
    _f("name", Kind.TEXT, "名称", "Name", ORG.name),
    _f("vip_level", Kind.NUMBER, "VIP 等级", "VIP level", ORG.vip_level),
    _f("phone", Kind.TEXT, "电话", "Phone", ORG.phone),
    _f("created_at", Kind.DATETIME, "创建时间", "Created", ORG.created_at, writable=False),
], "name", "/organisations/{id}")  # fmt: skip
ASSET = _entity("asset", Asset, [
    _f("serial_number", Kind.TEXT, "序列号", "Serial number", A.serial_number),
    _f("product", Kind.TEXT, "产品", "Product", A.product),
    _f("model", Kind.TEXT, "型号", "Model", A.model),
    _f("customer", Kind.REF, "客户", "Customer", A.contact_id),
    _f("warranty_until", Kind.DATE, "保修截止", "Warranty until", A.warranty_until),
    _f("created_at", Kind.DATETIME, "创建时间", "Created", A.created_at, writable=False),
], "serial_number", "/assets/{id}")  # fmt: skip


def register() -> None:
    """Make contacts, organisations and assets entities of the field registry."""
    for entity in (CONTACT, ORGANISATION, ASSET):
        entities.register(entity)
