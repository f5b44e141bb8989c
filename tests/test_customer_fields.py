"""Custom fields on customers and organisations: the admin's fields are checked like a ticket
form's (types, options, required, unique), reported with the other fields' errors at once,
stored in the record's `custom` object and shown by the API."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from fuwu.audit.models import AuditEntry
from fuwu.db import transaction
from support_fields import add_field

TIERS = {"choices": [{"key": k, "label": {"zh_CN": z, "en": k}} for k, z in
                     (("gold", "金卡"), ("silver", "银卡"))]}  # fmt: skip


@pytest.fixture
def contact_fields(app: Any) -> None:
    add_field(app, "contact", "member_no", "text", required=True, unique=True)
    add_field(app, "contact", "tier", "select", options=TIERS)
    add_field(app, "contact", "since", "date")


def test_a_customer_carries_its_custom_values(
    client: TestClient, app: Any, factory: Any, api_as: Any, contact_fields: None
) -> None:
    headers = api_as(factory.user("agent"))
    body = {"name": "陈静", "custom": {"member_no": "M-001", "tier": "gold", "since": "2024-03-01"}}
    created = client.post("/api/v1/customers", json=body, headers=headers)
    assert created.status_code == 201, created.text
    contact_id = created.json()["id"]
    assert created.json()["custom"] == {"member_no": "M-001", "tier": "gold", "since": "2024-03-01"}
    changed = client.patch(
        f"/api/v1/customers/{contact_id}", json={"custom": {"tier": "silver"}}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["custom"] == {
        "member_no": "M-001",
        "tier": "silver",
        "since": "2024-03-01",
    }
    assert (
        client.get(f"/api/v1/customers/{contact_id}", headers=headers).json()["custom"]["tier"]
        == "silver"
    )
    with transaction(app.state.reader) as session:
        audit = session.scalars(
            select(AuditEntry).where(
                AuditEntry.entity == "contact", AuditEntry.entity_id == str(contact_id),
                AuditEntry.action == "update",
            )
        ).one()  # fmt: skip
    assert (audit.before["custom"]["tier"], audit.after["custom"]["tier"]) == ("gold", "silver")


def test_every_error_at_once_and_nothing_written(
    client: TestClient, factory: Any, api_as: Any, contact_fields: None
) -> None:
    factory.contact("王芳", email="wang@example.com", custom={"member_no": "M-0"})
    headers = api_as(factory.user("agent"), lang="zh-CN")
    body = {"name": "李雷", "email": "wang@example.com",
            "custom": {"tier": "platinum", "since": "昨天", "shoe_size": 42}}  # fmt: skip
    response = client.post("/api/v1/customers", json=body, headers=headers)
    assert response.status_code == 422, response.text
    fields = {f["field"]: f for f in response.json()["error"]["fields"]}
    assert set(fields) == {"email", "custom.member_no", "custom.tier", "custom.since",
                           "custom.shoe_size"}  # fmt: skip
    assert all("value is not" not in f["message"] for f in fields.values())
    listed = client.get("/api/v1/customers?q=李雷", headers=headers).json()
    assert listed == []


def test_unique_custom_values_are_refused_naming_the_field(
    client: TestClient, factory: Any, api_as: Any, contact_fields: None
) -> None:
    headers = api_as(factory.user("agent"))
    first = client.post(
        "/api/v1/customers", json={"name": "陈静", "custom": {"member_no": "M-7"}}, headers=headers
    )
    assert first.status_code == 201, first.text
    second = client.post(
        "/api/v1/customers", json={"name": "李雷", "custom": {"member_no": "M-7"}}, headers=headers
    )
    assert second.status_code == 422
    assert [(f["field"], f["code"]) for f in second.json()["error"]["fields"]] == [
        ("custom.member_no", "taken")
    ]
    other = client.post(
        "/api/v1/customers", json={"name": "李雷", "custom": {"member_no": "M-8"}}, headers=headers
    ).json()
    clash = client.patch(
        f"/api/v1/customers/{other['id']}", json={"custom": {"member_no": "M-7"}}, headers=headers
    )
    assert clash.status_code == 422
    keep = client.patch(
        f"/api/v1/customers/{first.json()['id']}", json={"custom": {"member_no": "M-7"}},
        headers=headers,
    )  # fmt: skip
    assert keep.status_code == 200, keep.text  # its own value is no clash


def test_without_custom_fields_a_custom_value_is_refused(
    client: TestClient, factory: Any, api_as: Any
) -> None:
    headers = api_as(factory.user("agent"))
    response = client.post(
        "/api/v1/customers", json={"name": "陈静", "custom": {"tier": "gold"}}, headers=headers
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "custom.tier"
    plain = client.post("/api/v1/customers", json={"name": "陈静"}, headers=headers)
    assert plain.status_code == 201, plain.text
    assert plain.json()["custom"] == {}


def test_organisations_carry_custom_values(
    client: TestClient, app: Any, factory: Any, api_as: Any
) -> None:
    add_field(app, "organisation", "contract_no", "text", required=True)
    add_field(app, "organisation", "seats", "integer")
    headers = api_as(factory.user("agent"))
    missing = client.post("/api/v1/organisations", json={"name": "星河物业"}, headers=headers)
    assert missing.status_code == 422
    assert missing.json()["error"]["fields"][0]["field"] == "custom.contract_no"
    body = {"name": "星河物业", "custom": {"contract_no": "HT-2026-01", "seats": 12}}
    created = client.post("/api/v1/organisations", json=body, headers=headers)
    assert created.status_code == 201, created.text
    org_id = created.json()["id"]
    bad = client.patch(
        f"/api/v1/organisations/{org_id}", json={"custom": {"seats": "many"}}, headers=headers
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"][0]["field"] == "custom.seats"
    got = client.get(f"/api/v1/organisations/{org_id}", headers=headers).json()
    assert got["custom"] == {"contract_no": "HT-2026-01", "seats": 12}


@pytest.mark.parametrize(
    ("who", "scopes", "status"),
    [("customer", ("*",), 403), ("agent", ("customers:read",), 403), ("agent", ("*",), 200)],
)
def test_who_may_change_custom_values(
    client: TestClient,
    factory: Any,
    api_as: Any,
    app: Any,
    who: str,
    scopes: Any,
    status: int,
) -> None:
    contact = factory.contact("陈静")
    add_field(app, "contact", "member_no", "text")
    user = factory.customer_user(contact) if who == "customer" else factory.user(who)
    response = client.patch(
        f"/api/v1/customers/{contact.id}", json={"custom": {"member_no": "M-9"}},
        headers=api_as(user, scopes=scopes),
    )  # fmt: skip
    assert response.status_code == status, response.text


def test_customers_and_organisations_are_filtered_by_custom_fields(
    client: TestClient, app: Any, factory: Any, api_as: Any
) -> None:
    add_field(app, "contact", "tier", "select", options=TIERS, filterable=True)
    add_field(app, "contact", "visits", "integer")
    add_field(app, "organisation", "seats", "integer")
    headers = api_as(factory.user("agent"), lang="zh-CN")
    for name, tier, visits in (("陈静", "gold", 3), ("李雷", "silver", 9), ("王芳", "gold", 12)):
        body = {"name": name, "custom": {"tier": tier, "visits": visits}}
        assert client.post("/api/v1/customers", json=body, headers=headers).status_code == 201
    for name, seats in (("星河物业", 12), ("蓝天酒店", 80)):
        body = {"name": name, "custom": {"seats": seats}}
        assert client.post("/api/v1/organisations", json=body, headers=headers).status_code == 201

    def names(url: str, condition: dict[str, Any]) -> list[str]:
        response = client.get(url, params={"filter": json.dumps(condition)}, headers=headers)
        assert response.status_code == 200, response.text
        return [row["name"] for row in response.json()]

    gold = {"all": [{"field": "tier", "op": "eq", "value": "gold"}]}
    assert names("/api/v1/customers", gold) == ["陈静", "王芳"]
    busy_gold = {"all": [gold["all"][0], {"field": "visits", "op": "gte", "value": 10}]}
    assert names("/api/v1/customers", busy_gold) == ["王芳"]
    big = {"all": [{"field": "seats", "op": "gt", "value": 50}]}
    assert names("/api/v1/organisations", big) == ["蓝天酒店"]
    bad = client.get(
        "/api/v1/customers",
        params={"filter": json.dumps({"all": [{"field": "shoe", "op": "eq", "value": 1}]})},
        headers=headers,
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"][0]["field"].startswith("filter.")
    broken = client.get("/api/v1/customers", params={"filter": "{"}, headers=headers)
    assert broken.status_code == 422


def test_customers_export_to_csv_with_custom_columns(
    client: TestClient, app: Any, factory: Any, api_as: Any
) -> None:
    add_field(app, "contact", "tier", "select", options=TIERS)
    add_field(app, "contact", "member_no", "text")
    headers = api_as(factory.user("agent"), lang="zh-CN")
    for name, tier, member in (("陈静", "gold", "=1+1"), ("李雷", "silver", "M-2")):
        body = {"name": name, "custom": {"tier": tier, "member_no": member}}
        assert client.post("/api/v1/customers", json=body, headers=headers).status_code == 201
    gold = json.dumps({"all": [{"field": "tier", "op": "eq", "value": "gold"}]})
    response = client.get("/api/v1/customers/export.csv", params={"filter": gold}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].split(",")[:3] == ["姓名", "邮箱", "电话"]
    assert lines[0].endswith(",tier,member_no")  # their labels (zh here)
    assert len(lines) == 2
    assert lines[1].startswith("陈静,")
    assert ",金卡,'=1+1" in lines[1]  # the option's label; a formula is quoted, not run
    customer = factory.customer_user(factory.contact("王芳"))
    denied = client.get("/api/v1/customers/export.csv", headers=api_as(customer))
    assert denied.status_code == 403


def test_organisations_export_to_csv(
    client: TestClient, app: Any, factory: Any, api_as: Any
) -> None:
    add_field(app, "organisation", "seats", "integer")
    headers = api_as(factory.user("agent"))
    body = {"name": "星河物业", "custom": {"seats": 12}}
    assert client.post("/api/v1/organisations", json=body, headers=headers).status_code == 201
    lines = (
        client.get("/api/v1/organisations/export.csv", headers=headers)
        .content.decode("utf-8-sig")
        .splitlines()
    )
    assert lines[0].split(",")[0] == "Name"
    assert lines[0].endswith(",Seats")
    assert lines[1].startswith("星河物业,")
    assert lines[1].endswith(",12")


@pytest.mark.parametrize(
    ("entity", "key"),
    [("contact", "address"), ("contact", "notes"), ("organisation", "tags"),
     ("ticket", "team_id"), ("ticket", "customer_email"), ("asset", "csrf_token")],
)  # fmt: skip
def test_a_custom_field_cannot_take_a_name_the_records_own_form_uses(
    client: TestClient, factory: Any, api_as: Any, entity: str, key: str
) -> None:
    """Its input would clash with the built-in one on the page (two `address` boxes)."""
    body = {"entity": entity, "key": key, "type": "text", "label": {"zh_CN": key}}
    response = client.post("/api/v1/fields", json=body, headers=api_as(factory.user("admin")))
    assert response.status_code == 422, response.text
    assert [(f["field"], f["code"]) for f in response.json()["error"]["fields"]] == [
        ("key", "taken")
    ]


@pytest.mark.parametrize("entity", ["contact", "organisation", "asset"])
@pytest.mark.parametrize("type_", ["attachment", "image", "signature"])
def test_customer_records_keep_no_files_so_file_fields_are_refused(
    client: TestClient, factory: Any, api_as: Any, entity: str, type_: str
) -> None:
    headers = api_as(factory.user("admin"), lang="zh-CN")
    body = {"entity": entity, "key": "photo", "type": type_, "label": {"zh_CN": "照片"}}
    refused = client.post("/api/v1/fields", json=body, headers=headers)
    assert refused.status_code == 422, refused.text
    [error] = refused.json()["error"]["fields"]
    assert error["field"] == "type"
    assert "不保存文件" in error["message"]
    made = client.post("/api/v1/fields", json={**body, "type": "text"}, headers=headers).json()
    retype = {"version": made["version"], "type": type_, "dry_run": True}
    retyped = client.post(f"/api/v1/fields/{made['id']}/retype", headers=headers, json=retype)
    assert retyped.status_code == 422
    ticket_field = client.post("/api/v1/fields", json={**body, "entity": "ticket"}, headers=headers)
    assert ticket_field.status_code == 201  # tickets keep files
