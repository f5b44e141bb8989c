"""A search box takes what is typed literally: % and _ are characters, not LIKE wildcards, in
the customer, organisation, asset, ticket and user searches (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def test_percent_and_underscore_are_searched_for_as_typed(
    client: TestClient, factory: Any, api_as: Any
) -> None:
    headers = api_as(factory.user("admin", display_name="王_经理"))
    factory.contact("陈静")
    factory.contact("100%满意客户")
    factory.ticket("空调不制冷")
    factory.ticket("满意度 100% 回访")
    client.post("/api/v1/organisations", json={"name": "上海电力"}, headers=headers)
    client.post("/api/v1/assets", json={"serial_number": "KT-1", "product": "空调"},
                headers=headers)  # fmt: skip

    def names(url: str, q: str, key: str) -> list[str]:
        answer = client.get(url, params={"q": q}, headers=headers)
        assert answer.status_code == 200, answer.text
        return [row[key] for row in answer.json()]

    assert names("/api/v1/customers", "%", "name") == ["100%满意客户"]
    assert names("/api/v1/customers", "陈_", "name") == []
    assert names("/api/v1/organisations", "%", "name") == []
    assert names("/api/v1/assets", "_", "serial_number") == []
    listed = client.get("/api/v1/tickets", params={"q": "100%"}, headers=headers).json()
    assert [t["subject"] for t in listed["items"]] == ["满意度 100% 回访"]
    assert names("/api/v1/users", "_", "display_name") == ["王_经理"]
