"""Assets through the API: staff add and change them with their custom fields, every error in
one answer and nothing written; customers see only their own; lists filter and export."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from fuwu.audit.models import AuditEntry
from fuwu.db import transaction
from support_fields import add_field

KINDS = {"choices": [
    {"key": "split", "label": {"zh_CN": "分体机", "en": "Split unit"}},
    {"key": "central", "label": {"zh_CN": "中央空调", "en": "Central"}},
]}  # fmt: skip


@pytest.fixture
def asset_fields(app: Any) -> None:
    add_field(app, "asset", "unit_kind", "select", "机型类别", options=KINDS, required=True)
    add_field(app, "asset", "refrigerant", "text", "冷媒")


def _asset(client: TestClient, headers: dict[str, str], **extra: Any) -> Any:
    body = {"serial_number": "SN-1001", "product": "空调", "model": "KFR-35GW",
            "install_date": "2024-05-01", "warranty_until": "2027-05-01",
            "custom": {"unit_kind": "split"}, **extra}  # fmt: skip
    return client.post("/api/v1/assets", json=body, headers=headers)


def test_an_asset_carries_its_custom_values_and_its_changes_are_audited(
    client: TestClient, app: Any, factory: Any, api_as: Any, asset_fields: None
) -> None:
    headers = api_as(factory.user("agent"))
    owner = factory.contact("陈静")
    created = _asset(client, headers, contact_id=owner.id)
    assert created.status_code == 201, created.text
    asset_id = created.json()["id"]
    assert created.json()["custom"] == {"unit_kind": "split"}
    change = {"custom": {"refrigerant": "R32"}, "model": "KFR-50LW"}
    changed = client.patch(f"/api/v1/assets/{asset_id}", headers=headers, json=change)
    assert changed.status_code == 200, changed.text
    assert changed.json()["custom"] == {"unit_kind": "split", "refrigerant": "R32"}
    assert changed.json()["model"] == "KFR-50LW"
    listed = client.get(f"/api/v1/customers/{owner.id}/assets", headers=headers).json()
    assert [a["serial_number"] for a in listed] == ["SN-1001"]
    with transaction(app.state.reader) as session:
        audit = session.scalars(select(AuditEntry).where(
            AuditEntry.entity == "asset", AuditEntry.entity_id == str(asset_id),
            AuditEntry.action == "update",
        )).one()  # fmt: skip
    assert (audit.before["model"], audit.after["model"]) == ("KFR-35GW", "KFR-50LW")


def test_every_error_at_once_and_nothing_written(
    client: TestClient, factory: Any, api_as: Any, asset_fields: None
) -> None:
    headers = api_as(factory.user("agent"), lang="zh-CN")
    assert _asset(client, headers).status_code == 201
    again = _asset(client, headers, contact_id=999_999, warranty_until="明年",
                   custom={"unit_kind": "window", "colour": "白"})  # fmt: skip
    assert again.status_code == 422, again.text
    fields = {f["field"]: f["message"] for f in again.json()["error"]["fields"]}
    assert set(fields) == {"warranty_until"}  # the shape is checked first, as for every body
    wrong = _asset(client, headers, contact_id=999_999, custom={"unit_kind": "window", "colour": 1})
    assert wrong.status_code == 422, wrong.text
    fields = {f["field"]: f["message"] for f in wrong.json()["error"]["fields"]}
    assert set(fields) == {"serial_number", "contact_id", "custom.unit_kind", "custom.colour"}
    assert all("value is" not in m for m in fields.values())  # Chinese, no raw validator text
    assert len(client.get("/api/v1/assets", headers=headers).json()) == 1


def test_a_changed_serial_number_may_not_be_another_assets(
    client: TestClient, factory: Any, api_as: Any, asset_fields: None
) -> None:
    headers = api_as(factory.user("agent"))
    _asset(client, headers)
    other = _asset(client, headers, serial_number="SN-2002").json()
    taken = client.patch(f"/api/v1/assets/{other['id']}", json={"serial_number": "SN-1001"},
                         headers=headers)  # fmt: skip
    assert taken.status_code == 422
    assert [f["field"] for f in taken.json()["error"]["fields"]] == ["serial_number"]
    cleared = client.patch(f"/api/v1/assets/{other['id']}", json={"product": None},
                           headers=headers)  # fmt: skip
    assert cleared.status_code == 422  # product may not be emptied


def test_assets_filter_on_custom_fields_and_export_with_their_columns(
    client: TestClient, factory: Any, api_as: Any, asset_fields: None
) -> None:
    headers = api_as(factory.user("agent"), lang="en")
    owner = factory.contact("陈静")
    _asset(client, headers, contact_id=owner.id)
    _asset(client, headers, serial_number="SN-2002", custom={"unit_kind": "central"})
    condition = '{"all":[{"field":"unit_kind","op":"eq","value":"central"}]}'
    found = client.get("/api/v1/assets", params={"filter": condition}, headers=headers).json()
    assert [a["serial_number"] for a in found] == ["SN-2002"]
    exported = client.get("/api/v1/assets/export.csv", headers=headers)
    assert exported.status_code == 200
    assert "assets" in exported.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert rows[0][:4] == ["Product", "Model", "Serial number", "Customer"]
    assert "Unit_Kind" in rows[0]  # the custom field's English label
    by_serial = {r[2]: r for r in rows[1:]}
    assert by_serial["SN-1001"][3] == "陈静"
    assert "Split unit" in by_serial["SN-1001"]  # the option's label, not its key


CASES = [
    # who, what, expected status
    ("agent", "create", 201),
    ("agent", "update", 200),
    ("agent", "read_other", 200),
    ("customer", "read_own", 200),
    ("customer", "read_other", 404),
    ("customer", "create", 403),
    ("customer", "update", 403),
    ("nobody", "read_own", 401),
]


@pytest.mark.parametrize(("who", "what", "expected"), CASES)
def test_who_may_see_and_change_assets(
    client: TestClient, factory: Any, api_as: Any, who: str, what: str, expected: int
) -> None:
    staff = api_as(factory.user("agent"))
    mine, theirs = factory.contact("陈静"), factory.contact("王芳")
    own = _asset(client, staff, contact_id=mine.id, custom={}).json()
    other = _asset(client, staff, serial_number="SN-9", contact_id=theirs.id, custom={}).json()
    headers = {
        "agent": staff,
        "customer": api_as(factory.customer_user(mine)),
        "nobody": {},
    }[who]
    response = {
        "create": lambda: _asset(client, headers, serial_number="SN-NEW", custom={}),
        "update": lambda: client.patch(f"/api/v1/assets/{own['id']}", json={"model": "X"},
                                       headers=headers),
        "read_own": lambda: client.get(f"/api/v1/assets/{own['id']}", headers=headers),
        "read_other": lambda: client.get(f"/api/v1/assets/{other['id']}", headers=headers),
    }[what]()  # fmt: skip
    assert response.status_code == expected, response.text
    if who == "customer":
        listed = client.get("/api/v1/assets", headers=headers).json()
        assert [a["id"] for a in listed] == [own["id"]]  # never another customer's
