"""Custom fields and ticket type forms through the REST API, as an admin would set them up."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient


def _l(zh: str, en: str) -> dict[str, str]:
    return {"zh_CN": zh, "en": en}


FAULTS = {"choices": [
    {"key": "no_power", "label": _l("不通电", "No power")},
    {"key": "error_code", "label": _l("显示故障代码", "Error code")},
]}  # fmt: skip


@pytest.fixture
def admin(factory: Any, api_as: Any) -> dict[str, str]:
    return api_as(factory.user("admin"))


def field(client: TestClient, headers: dict[str, str], **data: Any) -> dict[str, Any]:
    response = client.post("/api/v1/fields", json=data, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def repair_type(client: TestClient, headers: dict[str, str], *, publish: bool = True) -> None:
    field(client, headers, key="fault_type", type="select", label=_l("故障类型", "Fault type"),
          options=FAULTS)  # fmt: skip
    field(client, headers, key="error_code", type="text", label=_l("故障代码", "Error code"),
          options={"pattern": "^E[0-9]{1,3}$"})  # fmt: skip
    field(client, headers, key="visit_date", type="date", label=_l("上门日期", "Visit date"))
    response = client.post(
        "/api/v1/ticket-types", json={"key": "repair", "name": _l("报修", "Repair")},
        headers=headers,
    )  # fmt: skip
    assert response.status_code == 201, response.text
    definition = {
        "fields": [{"key": "fault_type", "required": True}, {"key": "error_code"},
                   {"key": "visit_date"}],
        "layouts": {
            "agent_create": [{"fields": ["subject", "fault_type", "error_code", "visit_date"]}],
            "agent_edit": [{"fields": ["fault_type", "error_code", "visit_date"]}],
            "web_form": [{"fields": ["subject", "fault_type", "error_code"]}],
        },
        "logic": [{"when": {"field": "fault_type", "op": "eq", "value": "error_code"},
                   "then": [{"action": "show", "fields": ["error_code"]},
                            {"action": "require", "fields": ["error_code"]}]}],
    }  # fmt: skip
    response = client.put(
        "/api/v1/ticket-types/repair/form/draft", json={"definition": definition}, headers=headers
    )
    assert response.status_code == 200, response.text
    if publish:
        response = client.post("/api/v1/ticket-types/repair/form/publish", headers=headers)
        assert response.status_code == 200, response.text


def create(client: TestClient, headers: dict[str, str], **data: Any) -> Any:
    return client.post("/api/v1/tickets", json={"subject": "洗衣机不转", **data}, headers=headers)


def test_a_field_needs_a_known_type_and_a_free_key(client, admin):
    bad = client.post(
        "/api/v1/fields", json={"key": "x1", "type": "hologram", "label": _l("x", "x")},
        headers=admin,
    )  # fmt: skip
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"][0]["field"] == "type"
    field(client, admin, key="model", type="text", label=_l("型号", "Model"))
    again = client.post(
        "/api/v1/fields", json={"key": "model", "type": "text", "label": _l("型号", "Model")},
        headers=admin,
    )  # fmt: skip
    assert again.status_code == 422
    assert "already taken" in again.json()["error"]["fields"][0]["message"]
    system = client.post(
        "/api/v1/fields", json={"key": "subject", "type": "text", "label": _l("主题", "S")},
        headers=admin,
    )  # fmt: skip
    assert system.status_code == 422


def test_a_ticket_is_validated_by_its_type_form_and_records_the_version(client, admin):
    repair_type(client, admin)
    missing = create(client, admin, type="repair", custom={})
    assert missing.status_code == 422
    assert missing.json()["error"]["fields"][0]["message"] == "Fault type is required"
    ok = create(
        client, admin, type="repair", custom={"fault_type": "no_power", "visit_date": "2026-12-01"}
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["custom"] == {"fault_type": "no_power", "visit_date": "2026-12-01"}


def test_errors_name_the_field_label_in_the_users_language(client, factory, api_as):
    headers = api_as(factory.user("admin"), lang="zh-CN")
    repair_type(client, headers)
    response = create(client, headers, type="repair", custom={"fault_type": "error_code"})
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == [
        {"field": "custom.error_code", "code": "missing", "message": "故障代码为必填项"}
    ]
    wrong = create(client, headers, type="repair",
                   custom={"fault_type": "melted", "visit_date": "soon"})  # fmt: skip
    messages = {f["field"]: f["message"] for f in wrong.json()["error"]["fields"]}
    assert set(messages) == {"custom.fault_type", "custom.visit_date"}
    assert messages["custom.fault_type"].startswith("故障类型")
    assert messages["custom.visit_date"].startswith("上门日期")


def test_logic_clears_a_hidden_field_and_requires_a_shown_one(client, admin):
    repair_type(client, admin)
    hidden = create(client, admin, type="repair",
                    custom={"fault_type": "no_power", "error_code": "E4"})  # fmt: skip
    assert hidden.status_code == 201
    assert "error_code" not in hidden.json()["custom"], "hidden fields are cleared on save"
    shown = create(client, admin, type="repair",
                   custom={"fault_type": "error_code", "error_code": "E4"})  # fmt: skip
    assert shown.json()["custom"]["error_code"] == "E4"
    bad = create(client, admin, type="repair",
                 custom={"fault_type": "error_code", "error_code": "four"})  # fmt: skip
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"][0]["field"] == "custom.error_code"


def test_unknown_custom_keys_are_refused(client, admin):
    repair_type(client, admin)
    response = create(client, admin, type="repair", custom={"fault_type": "no_power", "vip": 1})
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "custom.vip"
    plain = create(client, admin, custom={"anything": "x"})
    assert plain.status_code == 422
    unknown_type = create(client, admin, type="teleport")
    assert unknown_type.status_code == 422
    assert unknown_type.json()["error"]["fields"][0]["field"] == "type"


def test_published_versions_are_immutable_and_old_tickets_keep_their_version(client, admin):
    repair_type(client, admin)
    first = create(client, admin, type="repair", custom={"fault_type": "no_power"}).json()
    draft = client.get("/api/v1/ticket-types/repair/form/versions/1", headers=admin).json()
    definition = draft["definition"]
    definition["fields"].append({"key": "visit_date", "required": True})
    definition["fields"] = [f for f in definition["fields"] if f["key"] != "visit_date"] + [
        {"key": "visit_date", "required": True}
    ]
    assert (
        client.put(
            "/api/v1/ticket-types/repair/form/draft", json={"definition": definition}, headers=admin
        ).json()["version"]
        == 2
    )
    assert client.post("/api/v1/ticket-types/repair/form/publish", headers=admin).status_code == 200
    versions = client.get("/api/v1/ticket-types/repair/form/versions", headers=admin).json()
    assert [(v["version"], v["status"]) for v in versions] == [(2, "published"), (1, "archived")]
    old = client.get("/api/v1/ticket-types/repair/form/versions/1", headers=admin).json()
    assert {"key": "visit_date", "required": False} in old["definition"]["fields"]
    new = create(client, admin, type="repair", custom={"fault_type": "no_power"})
    assert new.status_code == 422, "version 2 requires the visit date"
    edit = client.patch(
        f"/api/v1/tickets/{first['id']}",
        json={"version": first["version"], "custom": {"fault_type": "error_code",
                                                      "error_code": "E9"}},
        headers=admin,
    )  # fmt: skip
    assert edit.status_code == 200, edit.text
    diff = client.get("/api/v1/ticket-types/repair/form/diff?from=1&to=2", headers=admin).json()
    assert {"path": "fields.visit_date.required", "change": "changed", "before": False,
            "after": True} in diff  # fmt: skip


def test_option_keys_cannot_be_removed(client, admin):
    row = field(client, admin, key="fault", type="select", label=_l("故障", "Fault"),
                options=FAULTS)  # fmt: skip
    relabelled = {"choices": [
        {"key": "no_power", "label": _l("完全不通电", "Dead")},
        {"key": "error_code", "label": _l("故障码", "Code")},
        {"key": "noise", "label": _l("异响", "Noise")},
    ]}  # fmt: skip
    ok = client.patch(
        f"/api/v1/fields/{row['id']}",
        json={"version": row["version"], "options": relabelled},
        headers=admin,
    )
    assert ok.status_code == 200, ok.text
    removed = client.patch(
        f"/api/v1/fields/{row['id']}",
        json={"version": ok.json()["version"], "options": {"choices": relabelled["choices"][:1]}},
        headers=admin,
    )  # fmt: skip
    assert removed.status_code == 422
    assert "error_code" in removed.json()["error"]["fields"][0]["message"]


def test_a_field_in_use_cannot_be_archived_and_the_places_are_listed(client, admin):
    repair_type(client, admin)
    rows = client.get("/api/v1/fields", headers=admin).json()
    code = next(r for r in rows if r["key"] == "error_code")
    usages = client.get(f"/api/v1/fields/{code['id']}/usages", headers=admin).json()
    assert {(u["kind"], u["key"], u["version"]) for u in usages} >= {
        ("form", "repair", 1),
        ("logic", "repair", 1),
    }
    refused = client.post(f"/api/v1/fields/{code['id']}/archive", headers=admin)
    assert refused.status_code == 409
    assert "repair" in refused.json()["error"]["message"]
    unused = field(client, admin, key="spare", type="text", label=_l("备用", "Spare"))
    assert client.post(f"/api/v1/fields/{unused['id']}/archive", headers=admin).status_code == 200


def test_retype_dry_run_lists_the_records_that_would_not_convert(client, admin):
    row = field(client, admin, key="qty", type="text", label=_l("数量", "Qty"))
    client.post("/api/v1/ticket-types", json={"key": "parts", "name": _l("备件", "Parts")},
                headers=admin)  # fmt: skip
    definition = {"fields": [{"key": "qty"}], "layouts": {"agent_create": [{"fields": ["qty"]}]}}
    client.put("/api/v1/ticket-types/parts/form/draft", json={"definition": definition},
               headers=admin)  # fmt: skip
    client.post("/api/v1/ticket-types/parts/form/publish", headers=admin)
    good = create(client, admin, type="parts", custom={"qty": "12"}).json()
    bad = create(client, admin, type="parts", custom={"qty": "a dozen"}).json()
    report = client.post(
        f"/api/v1/fields/{row['id']}/retype",
        json={"version": row["version"], "type": "integer", "dry_run": True}, headers=admin,
    ).json()  # fmt: skip
    assert report["converts"] == 1
    assert report["fails"] == 1
    assert report["failures"] == [
        {
            "id": bad["id"],
            "value": "a dozen",
            "title": bad["number"],
            "url": f"/tickets/{bad['id']}",
        }
    ]
    assert (report["page"], report["pages"]) == (1, 1)
    assert good["id"] not in {f["id"] for f in report["failures"]}


def test_filterable_fields_get_an_expression_index(client, admin, db_kind, app):
    from fuwu.kit.indexes import index_names

    row = field(client, admin, key="model", type="text", label=_l("型号", "Model"),
                filterable=True)  # fmt: skip
    with app.state.writer() as session:
        assert "ix_ticket_cf_model" in index_names(session.connection(), "ticket")
    off = client.patch(
        f"/api/v1/fields/{row['id']}",
        json={"version": row["version"], "filterable": False},
        headers=admin,
    )
    assert off.status_code == 200, off.text
    with app.state.writer() as session:
        assert "ix_ticket_cf_model" not in index_names(session.connection(), "ticket")


def test_computed_and_auto_number_fields_are_filled_on_save(client, admin):
    field(client, admin, key="part_qty", type="integer", label=_l("数量", "Qty"))
    field(client, admin, key="unit_price", type="money", label=_l("单价", "Unit price"))
    field(client, admin, key="total", type="computed", label=_l("合计", "Total"),
          options={"formula": "ROUND(part_qty * unit_price, 2)"})  # fmt: skip
    field(client, admin, key="request_no", type="auto_number", label=_l("单号", "No."),
          options={"pattern": "BJ-{seq:04}"})  # fmt: skip
    client.post("/api/v1/ticket-types", json={"key": "parts", "name": _l("备件", "Parts")},
                headers=admin)  # fmt: skip
    keys = ["request_no", "part_qty", "unit_price", "total"]
    definition = {"fields": [{"key": k} for k in keys],
                  "layouts": {"agent_create": [{"fields": keys}]}}  # fmt: skip
    client.put("/api/v1/ticket-types/parts/form/draft", json={"definition": definition},
               headers=admin)  # fmt: skip
    client.post("/api/v1/ticket-types/parts/form/publish", headers=admin)
    one = create(client, admin, type="parts",
                 custom={"part_qty": 3, "unit_price": "19.99", "total": 1}).json()  # fmt: skip
    two = create(client, admin, type="parts", custom={"part_qty": 1}).json()
    assert one["custom"]["total"] == 59.97, "computed, whatever the caller sent"
    assert one["custom"]["request_no"] == "BJ-0001"
    assert two["custom"]["request_no"] == "BJ-0002"
    assert "total" not in two["custom"], "blank when an input is blank"


def test_the_openapi_document_lists_each_types_custom_fields(client, admin):
    repair_type(client, admin)
    schemas = client.get("/api/openapi.json").json()["components"]["schemas"]
    repair = schemas["TicketCustom_repair"]
    assert set(repair["properties"]) == {"fault_type", "error_code", "visit_date"}
    assert repair["properties"]["fault_type"]["x-label-zh"] == "故障类型"


def test_a_formula_that_reads_a_field_counts_as_a_use(client, admin):
    qty = field(client, admin, key="qty", type="integer", label=_l("数量", "Qty"))
    field(client, admin, key="price", type="money", label=_l("单价", "Price"))
    field(client, admin, key="total", type="computed", label=_l("合计", "Total"),
          options={"formula": "qty * price"})  # fmt: skip
    usages = client.get(f"/api/v1/fields/{qty['id']}/usages", headers=admin).json()
    assert [(u["kind"], u["key"]) for u in usages] == [("computed", "total")]
    refused = client.post(f"/api/v1/fields/{qty['id']}/archive", headers=admin)
    assert refused.status_code == 409
