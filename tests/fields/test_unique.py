"""Unique means unique: turning it on over duplicates is refused with the list, otherwise a
unique index holds the line, and a write that loses a race gets a 409 naming the field
(SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from fuwu.fields.forms import checks as form_checks

from .test_forms_api import _l, field


@pytest.fixture
def admin(factory: Any, api_as: Any) -> dict[str, str]:
    return api_as(factory.user("admin"), lang="en")


def _serial_form(client: TestClient, headers: dict[str, str], *, unique: bool) -> dict[str, Any]:
    made = field(client, headers, key="serial", type="text", label=_l("序列号", "Serial number"),
                 unique=unique)  # fmt: skip
    assert client.post("/api/v1/ticket-types", json={"key": "repair", "name": _l("报修", "Repair")},
                       headers=headers).status_code == 201  # fmt: skip
    definition = {"fields": [{"key": "serial"}],
                  "layouts": {"agent_create": [{"fields": ["subject", "serial"]}],
                              "agent_edit": [{"fields": ["serial"]}]}}  # fmt: skip
    put = client.put("/api/v1/ticket-types/repair/form/draft", json={"definition": definition},
                     headers=headers)  # fmt: skip
    assert put.status_code == 200, put.text
    assert (
        client.post("/api/v1/ticket-types/repair/form/publish", headers=headers).status_code == 200
    )
    return made


def _create(client: TestClient, headers: dict[str, str], serial: str) -> Any:
    return client.post(
        "/api/v1/tickets",
        json={"subject": "空调不制冷", "type": "repair", "custom": {"serial": serial}},
        headers=headers,
    )


def test_turning_unique_on_over_duplicates_is_refused_with_the_list(
    client: TestClient, admin: dict[str, str]
) -> None:
    made = _serial_form(client, admin, unique=False)
    for serial in ("SN-1", "SN-1", "SN-2", "SN-2", "SN-2", "SN-3"):
        assert _create(client, admin, serial).status_code == 201
    refused = client.patch(
        f"/api/v1/fields/{made['id']}", json={"version": made["version"], "unique": True},
        headers=admin,
    )  # fmt: skip
    assert refused.status_code == 422, refused.text
    [error] = refused.json()["error"]["fields"]
    assert error["field"] == "unique"
    assert "SN-2 ×3" in error["message"]
    assert "SN-1 ×2" in error["message"]
    assert "SN-3" not in error["message"]
    again = client.get(f"/api/v1/fields/{made['id']}", headers=admin).json()
    assert again["unique"] is False  # nothing half-done


def test_a_unique_index_holds_the_line_when_the_check_is_raced(
    client: TestClient, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _serial_form(client, admin, unique=False)
    assert _create(client, admin, "SN-9").status_code == 201
    turned = client.patch(
        f"/api/v1/fields/{made['id']}", json={"version": made["version"], "unique": True},
        headers=admin,
    )  # fmt: skip
    assert turned.status_code == 200, turned.text
    checked = _create(client, admin, "SN-9")
    assert checked.status_code == 422  # the service's own check, when nobody races it
    # Two transactions that both passed that check: the second insert meets the index.
    monkeypatch.setattr(form_checks, "_check_unique", lambda *args, **kwargs: [])
    raced = _create(client, admin, "SN-9")
    assert raced.status_code == 409, raced.text
    [error] = raced.json()["error"]["fields"]
    assert error["field"] == "custom.serial"
    assert _create(client, admin, "SN-10").status_code == 201
