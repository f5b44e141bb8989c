"""No integer a caller sends can overflow a column: every route answers 404 or 422 to ids past
what the database holds, on SQLite and PostgreSQL, and the API document states the bounds."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from fuwu.kit.ids import MAX_ID

HUGE = (MAX_ID + 1, 2**63, 10**30)


def _integers(document: dict[str, Any], schema: Any, where: str, seen: set[str]) -> list[tuple]:
    """(where, schema) of every integer reachable from `schema`."""
    if not isinstance(schema, dict):
        return []
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        if name in seen:
            return []
        target = document["components"]["schemas"][name]
        return _integers(document, target, f"{where}→{name}", seen | {name})
    found = [(where, schema)] if schema.get("type") == "integer" else []
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            found += _integers(document, option, where, seen)
    for name, sub in schema.get("properties", {}).items():
        found += _integers(document, sub, f"{where}.{name}", seen)
    for key in ("items", "additionalProperties"):
        found += _integers(document, schema.get(key), f"{where}[]", seen)
    return found


def test_every_integer_the_api_takes_is_bounded(app: FastAPI) -> None:
    document = app.openapi()
    unbounded = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            inputs = [(p["name"], p["schema"]) for p in operation.get("parameters", [])]
            for content in operation.get("requestBody", {}).get("content", {}).values():
                inputs.append(("body", content["schema"]))
            for name, schema in inputs:
                for where, found in _integers(document, schema, name, set()):
                    if found.get("maximum", 2**64) > MAX_ID:
                        unbounded.append(f"{method.upper()} {path} {where}")
    assert unbounded == []


def _routes(app: FastAPI) -> list[tuple[str, str]]:
    return sorted(
        (method, route.path)
        for route in app.routes
        if isinstance(route, APIRoute) and "{" in route.path
        for method in route.methods
        if method in ("GET", "POST", "PATCH", "DELETE", "PUT")
    )


def _filled(path: str, number: int) -> str:
    return re.sub(r"\{([^}:]+)(:path)?\}", lambda m: str(number) if m.group(1).endswith(
        ("_id", "version")) or m.group(1) in ("row",) else "repair", path)  # fmt: skip


@pytest.mark.parametrize("number", HUGE)
def test_no_route_overflows_on_a_huge_id(
    client: TestClient, app: FastAPI, factory: Any, number: int
) -> None:
    admin = factory.user("admin", username="root")
    api = {"Authorization": f"Bearer {factory.token(admin)}"}
    page = client.get("/login")
    assert page.status_code == 200
    client.post(
        "/login",
        data={"username": "root", "password": "correct-horse-42",
              "csrf_token": client.cookies.get("fuwu_csrf") or ""},
    )  # fmt: skip
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/profile").text)
    assert csrf is not None
    ui = {"X-CSRF-Token": csrf.group(1)}
    failures = []
    for method, path in _routes(app):
        url = _filled(path, number)
        headers = api if path.startswith("/api/") else ui
        body = {} if method in ("POST", "PATCH", "PUT") else None
        response = client.request(method, url, headers=headers, json=body)
        if response.status_code >= 500:
            failures.append(f"{method} {url}: {response.status_code}")
    assert failures == []


@pytest.mark.parametrize(
    "query",
    [
        "after_id={n}",
        "customer={n}",
        "organisation={n}",
        "team={n}",
        "assignee={n}",
        "view={n}",
    ],
)
def test_list_filters_with_huge_ids_answer_without_error(
    client: TestClient, factory: Any, api_as: Any, query: str
) -> None:
    headers = api_as(factory.user("admin"))
    for path in ("/api/v1/tickets", "/api/v1/users", "/api/v1/customers", "/api/v1/audit"):
        for number in HUGE:
            response = client.get(f"{path}?{query.format(n=number)}", headers=headers)
            assert response.status_code in (200, 422), (path, query, response.text)


def test_a_user_linked_to_a_contact_that_does_not_exist_is_a_422(
    client: TestClient, factory: Any, api_as: Any
) -> None:
    response = client.post(
        "/api/v1/users",
        json={"username": "ghost", "display_name": "Ghost", "role": "customer",
              "contact_id": MAX_ID},
        headers=api_as(factory.user("admin")),
    )  # fmt: skip
    assert response.status_code == 422, response.text
    assert response.json()["error"]["fields"][0]["field"] == "contact_id"
