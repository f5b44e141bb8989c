"""An explicit `null` in any PATCH: it clears what may be empty, and is a 422 naming the field
everywhere else (never a NOT NULL violation and a 500), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from fuwu.auth.schemas import TeamUpdate, UserUpdate
from fuwu.customers.schemas import AssetUpdate, ContactUpdate, OrganisationUpdate
from fuwu.fields.registry.schemas import FieldUpdate
from fuwu.tickets.saved_views_schemas import SavedViewUpdate
from fuwu.tickets.schemas import TicketUpdate
from fuwu.tickets.types.schemas import TicketTypeUpdate
from fuwu.workflows.schemas import StatusUpdate

SCHEMAS: dict[str, type[BaseModel]] = {
    "/api/v1/users/{user_id}": UserUpdate,
    "/api/v1/teams/{team_id}": TeamUpdate,
    "/api/v1/customers/{contact_id}": ContactUpdate,
    "/api/v1/organisations/{organisation_id}": OrganisationUpdate,
    "/api/v1/assets/{asset_id}": AssetUpdate,
    "/api/v1/views/{view_id}": SavedViewUpdate,
    "/api/v1/tickets/{ticket_id}": TicketUpdate,
    "/api/v1/fields/{field_id}": FieldUpdate,
    "/api/v1/ticket-types/{key}": TicketTypeUpdate,
    "/api/v1/statuses/{key}": StatusUpdate,
}


def _l(text: str) -> dict[str, str]:
    return {"zh_CN": text, "en": text}


@pytest.fixture
def world(client: TestClient, factory: Any, api_as: Any) -> dict[str, Any]:
    admin = factory.user("admin")
    headers = api_as(admin)

    def made(path: str, body: dict[str, Any]) -> Any:
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 201, response.text
        return response.json()

    field = made("/api/v1/fields", {"key": "model", "type": "text", "label": _l("Model")})
    made("/api/v1/ticket-types", {"key": "repair", "name": _l("Repair")})
    view = {"name": "Mine", "condition": {"all": [{"field": "priority", "op": "eq",
                                                   "value": "high"}]}}  # fmt: skip
    return {
        "headers": headers,
        "user_id": factory.user("agent").id,
        "team_id": factory.team().id,
        "contact_id": factory.contact(email="a@example.com").id,
        "organisation_id": made("/api/v1/organisations", {"name": "Acme"})["id"],
        "asset_id": made("/api/v1/assets", {"serial_number": "SN-1", "product": "空调"})["id"],
        "view_id": made("/api/v1/views", view)["id"],
        "ticket_id": factory.ticket().id,
        "field_id": field["id"],
        "field_version": field["version"],
        "key": "repair",
    }


def test_every_patch_of_the_api_is_listed_here(app: FastAPI) -> None:
    patches = {p for p, item in app.openapi()["paths"].items() if "patch" in item}
    assert patches == set(SCHEMAS)


@pytest.mark.parametrize("path", sorted(SCHEMAS))
def test_null_clears_or_is_refused_by_name(
    client: TestClient, world: dict[str, Any], path: str
) -> None:
    schema = SCHEMAS[path]
    nullable: frozenset[str] = getattr(schema, "NULLABLE", frozenset())
    url = path.format(**world)
    for name in schema.model_fields:
        body: dict[str, Any] = {name: None}
        if schema is FieldUpdate and name != "version":
            body["version"] = world["field_version"]
        response = client.patch(url, json=body, headers=world["headers"])
        if name in nullable:
            assert response.status_code in (200, 409), (path, name, response.text)
            if schema is FieldUpdate and response.status_code == 200:
                world["field_version"] = response.json()["version"]
        else:
            assert response.status_code == 422, (path, name, response.text)
            fields = [f["field"] for f in response.json()["error"]["fields"]]
            assert name in fields, (path, name, fields)


BAD_DRAFTS: list[tuple[Any, str]] = [
    ({"fields": [{"key": "Not A Key"}]}, "definition.fields.0.key"),
    ({"fields": "everything"}, "definition.fields"),
    ({"layouts": {"nowhere": []}}, "definition.layouts.nowhere"),
    ({"layouts": {"portal": [{"fields": ["nope"]}]}}, "layouts.portal[0].fields[0]"),
    ({"logic": [{"when": {}, "then": []}]}, "definition.logic.0.then"),
    ({"surprise": 1}, "definition.surprise"),
    ({"fields": [{"key": "model", "required": "sometimes"}]}, "definition.fields.0.required"),
]


@pytest.mark.parametrize(("definition", "part"), BAD_DRAFTS)
def test_a_form_draft_that_does_not_validate_is_a_422_naming_the_part(
    client: TestClient, world: dict[str, Any], definition: Any, part: str
) -> None:
    response = client.put(
        "/api/v1/ticket-types/repair/form/draft",
        json={"definition": definition},
        headers=world["headers"],
    )
    assert response.status_code == 422, response.text
    fields = [f["field"] for f in response.json()["error"]["fields"]]
    assert any(f.startswith(part) for f in fields), fields
