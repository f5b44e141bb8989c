"""Ticket lists filtered and sorted by custom fields, written in the condition language."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select, text

from fuwu.tickets import filters as ticket_filters
from fuwu.tickets.models import Ticket


def _l(zh: str, en: str) -> dict[str, str]:
    return {"zh_CN": zh, "en": en}


@pytest.fixture
def admin(factory: Any, api_as: Any) -> dict[str, str]:
    return api_as(factory.user("admin"))


@pytest.fixture
def parts(client: Any, admin: dict[str, str]) -> list[dict[str, Any]]:
    """A type with a filterable model, a quantity and a date; six tickets."""
    for data in (
        {"key": "model", "type": "text", "label": _l("型号", "Model"), "filterable": True},
        {"key": "qty", "type": "integer", "label": _l("数量", "Qty"), "filterable": True},
        {"key": "due", "type": "date", "label": _l("到期", "Due")},
    ):
        assert client.post("/api/v1/fields", json=data, headers=admin).status_code == 201
    client.post("/api/v1/ticket-types", json={"key": "parts", "name": _l("备件", "Parts")},
                headers=admin)  # fmt: skip
    keys = ["model", "qty", "due"]
    definition = {"fields": [{"key": k} for k in keys],
                  "layouts": {"agent_create": [{"fields": keys}]}}  # fmt: skip
    client.put("/api/v1/ticket-types/parts/form/draft", json={"definition": definition},
               headers=admin)  # fmt: skip
    client.post("/api/v1/ticket-types/parts/form/publish", headers=admin)
    made = []
    for model, qty, due in [("KFR-35", 3, "2026-12-01"), ("KFR-35", 10, None), ("BCD-500", 1,
                            "2026-11-30"), ("BCD-500", None, None), ("XQG-80", 7, "2027-01-05"),
                            ("kfr-35", 2, None)]:  # fmt: skip
        custom = {"model": model, **({"qty": qty} if qty else {}), **({"due": due} if due else {})}
        response = client.post("/api/v1/tickets", json={"subject": f"{model} {qty}",
                               "type": "parts", "custom": custom}, headers=admin)  # fmt: skip
        assert response.status_code == 201, response.text
        made.append(response.json())
    return made


def listed(client: Any, headers: dict[str, str], **params: Any) -> Any:
    if "filter" in params:
        params["filter"] = json.dumps(params["filter"])
    return client.get("/api/v1/tickets", params=params, headers=headers)


def test_filter_by_custom_fields(client, admin, parts):
    tree = {"all": [{"field": "model", "op": "eq", "value": "KFR-35"},
                    {"field": "qty", "op": "gte", "value": 5}]}  # fmt: skip
    found = listed(client, admin, filter=tree).json()["items"]
    assert [t["subject"] for t in found] == ["KFR-35 10"], "case-sensitive eq, number compare"
    none = listed(client, admin, filter={"field": "qty", "op": "empty"}).json()["items"]
    assert [t["subject"] for t in none] == ["BCD-500 None"]
    mixed = {"any": [{"field": "due", "op": "before", "value": "2026-12-01"},
                     {"field": "priority", "op": "eq", "value": "urgent"}]}  # fmt: skip
    assert [t["subject"] for t in listed(client, admin, filter=mixed).json()["items"]] == [
        "BCD-500 1"
    ]


def test_a_bad_filter_names_the_wrong_leaf(client, admin, parts):
    bad = listed(
        client,
        admin,
        filter={
            "all": [
                {"field": "model", "op": "eq", "value": "x"},
                {"field": "colour", "op": "eq", "value": 1},
            ]
        },
    )
    assert bad.status_code == 422
    error = bad.json()["error"]["fields"][0]
    assert error["field"] == "filter.all[1]"
    assert "colour" in error["message"]
    broken = client.get("/api/v1/tickets?filter={nope", headers=admin)
    assert broken.status_code == 422
    assert broken.json()["error"]["fields"][0]["message"] == "Filter is not valid JSON"


def test_sort_by_a_custom_field_pages_with_empty_values_last(client, admin, parts):
    seen: list[Any] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"sort": "-qty", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = listed(client, admin, **params).json()
        seen += [t["custom"].get("qty") for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [10, 7, 3, 2, 1, None]
    ascending = listed(client, admin, sort="due", limit=10).json()["items"]
    assert [t["custom"].get("due") for t in ascending][:3] == [
        "2026-11-30",
        "2026-12-01",
        "2027-01-05",
    ]


def test_the_custom_filter_uses_the_expression_index(app, client, admin, parts, db_kind):
    with app.state.writer() as session:
        where = ticket_filters.where(
            session, json.dumps({"field": "model", "op": "eq", "value": "KFR-35"}),
            user_id=None, timezone="Asia/Shanghai",
        )  # fmt: skip
        stmt = select(Ticket.id).where(where)
        sql = stmt.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
        if db_kind == "postgresql":
            session.execute(text("SET LOCAL enable_seqscan = off"))  # 6 rows: force the choice
            plan = "\n".join(session.execute(text(f"EXPLAIN {sql}")).scalars())
        else:
            plan = "\n".join(str(r[-1]) for r in session.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
    assert "ix_ticket_cf_model" in plan


def test_export_has_custom_columns_labels_and_excel_bom(client, factory, api_as, parts):
    headers = api_as(factory.user("admin"), lang="zh-CN")
    client.post("/api/v1/tickets", json={"subject": '=HYPERLINK("http://evil")'}, headers=headers)
    tree = json.dumps({"field": "model", "op": "starts_with", "value": "KFR"})
    response = client.get("/api/v1/tickets/export.csv", params={"filter": tree}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    text_body = response.content.decode("utf-8")
    assert text_body.startswith("\ufeff")
    lines = text_body.lstrip("\ufeff").splitlines()
    assert lines[0].split(",")[:2] == ["工单号", "主题"]
    assert lines[0].split(",")[-3:] == ["型号", "数量", "到期"]
    assert len(lines) == 3, "two KFR tickets; kfr-35 is another model"
    everything = client.get("/api/v1/tickets/export.csv", headers=headers).content.decode()
    assert "'=HYPERLINK" in everything, "formulas are neutralised"
