"""Files in the same request as the create (issue 16): `POST /api/v1/tickets` as multipart with
the JSON in `data`, files in `attachments` and the files of file fields in `custom.<key>`.
One request is one ticket with one history row; bad parts are refused together, by name, and
nothing is left behind."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from fuwu.customers.models import Asset
from fuwu.db import transaction
from fuwu.demo import forms as demo_forms
from fuwu.tickets.models import Attachment, Ticket, TicketEvent
from support_images import image_bytes
from support_web import signed_in

REPAIR = {"subject": "洗衣机不脱水", "type": "repair", "custom": {"product": "washer",
          "fault_type": "noise"}}  # fmt: skip


@pytest.fixture
def forms(app: FastAPI) -> None:
    with transaction(app.state.writer) as session:
        demo_forms.load(session, timezone=app.state.settings.timezone)


def _count(app: FastAPI, model: Any) -> int:
    with transaction(app.state.reader) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _post(client: TestClient, headers: dict[str, str], files: list[Any], data: Any = REPAIR) -> Any:
    parts = [("data", (None, json.dumps(data), "application/json")), *files]
    return client.post("/api/v1/tickets", files=parts, headers=headers)


@pytest.mark.usefixtures("forms")
def test_one_request_opens_the_ticket_with_its_files(
    client: TestClient, app: FastAPI, factory: Any, api_as: Any
) -> None:
    headers = api_as(factory.user("agent"))
    response = _post(
        client,
        headers,
        [
            ("attachments", ("发票.pdf", b"%PDF-1.4 invoice", "application/pdf")),
            ("custom.photos", ("正面.jpg", image_bytes("JPEG"), "image/jpeg")),
            ("custom.photos", ("铭牌.png", image_bytes("PNG"), "image/png")),
        ],
    )
    assert response.status_code == 201, response.text
    ticket = response.json()
    files = client.get(f"/api/v1/tickets/{ticket['id']}/attachments", headers=headers).json()
    assert sorted(f["filename"] for f in files) == ["发票.pdf", "正面.jpg", "铭牌.png"]
    photos = {f["id"]: f for f in files if f["filename"] != "发票.pdf"}
    assert sorted(ticket["custom"]["photos"]) == sorted(photos)
    assert {f["content_type"] for f in photos.values()} == {"image/jpeg", "image/png"}
    history = client.get(f"/api/v1/tickets/{ticket['id']}/history", headers=headers).json()
    assert [h["kind"] for h in history] == ["created"]
    download = client.get(f"/api/v1/attachments/{min(photos)}", headers=headers)
    assert download.content == image_bytes("JPEG")


@pytest.mark.usefixtures("forms")
def test_bad_parts_are_refused_together_and_nothing_is_kept(
    client: TestClient, app: FastAPI, factory: Any, api_as: Any
) -> None:
    headers = api_as(factory.user("agent"))
    response = _post(
        client,
        headers,
        [
            ("custom.photos", ("现场.jpg", b"<svg onload=alert(1)>", "image/jpeg")),
            ("attachments", ("setup.exe", b"MZ\x90\x00", "application/octet-stream")),
            ("custom.product", ("x.txt", b"text", "text/plain")),  # not a file field
            ("junk", ("y.txt", b"text", "text/plain")),
        ],
    )
    assert response.status_code == 422
    found = {(f["field"], f["code"]) for f in response.json()["error"]["fields"]}
    assert found == {
        ("custom.photos", "file_not_image"),
        ("attachments", "file_blocked_type"),
        ("custom.product", "extra_forbidden"),
        ("junk", "extra_forbidden"),
    }
    messages = " ".join(f["message"] for f in response.json()["error"]["fields"])
    assert "现场.jpg" in messages
    assert "setup.exe" in messages
    assert (_count(app, Ticket), _count(app, Attachment)) == (0, 0)


@pytest.mark.usefixtures("forms")
def test_a_form_error_keeps_no_staged_file(
    client: TestClient, app: FastAPI, factory: Any, api_as: Any
) -> None:
    headers = {**api_as(factory.user("agent")), "Accept-Language": "zh-CN"}
    no_product = {**REPAIR, "custom": {"fault_type": "noise"}}
    photo = ("custom.photos", ("正面.jpg", image_bytes("JPEG"), "image/jpeg"))
    response = _post(client, headers, [photo], data=no_product)
    assert response.status_code == 422
    assert [f["field"] for f in response.json()["error"]["fields"]] == ["custom.product"]
    assert (_count(app, Ticket), _count(app, Attachment), _count(app, TicketEvent)) == (0, 0, 0)
    missing = client.post("/api/v1/tickets", files=[photo], headers=headers)
    assert missing.status_code == 422
    assert missing.json()["error"]["fields"][0]["field"] == "data"


@pytest.mark.usefixtures("forms")
def test_a_file_field_cannot_name_another_tickets_attachment(
    client: TestClient, app: FastAPI, factory: Any, api_as: Any
) -> None:
    """An attachment id is not a capability: naming one of someone else's ticket would show
    its file on the new ticket."""
    headers = api_as(factory.user("agent"))
    photo = ("custom.photos", ("正面.jpg", image_bytes("JPEG"), "image/jpeg"))
    first = _post(client, headers, [photo]).json()
    [theirs] = first["custom"]["photos"]
    stolen = {**REPAIR, "custom": {**REPAIR["custom"], "photos": [theirs]}}  # type: ignore[dict-item]
    response = client.post("/api/v1/tickets", json=stolen, headers=headers)
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0] == {
        **response.json()["error"]["fields"][0],
        "field": "custom.photos",
        "code": "not_found",
    }


@pytest.mark.usefixtures("forms")
def test_customers_send_photos_from_the_portal_layout(
    client: TestClient, app: FastAPI, factory: Any, api_as: Any
) -> None:
    headers = api_as(factory.customer_user())
    photo = ("custom.photos", ("漏水.webp", image_bytes("WEBP"), "image/webp"))
    response = _post(client, headers, [photo])
    assert response.status_code == 201, response.text
    assert len(response.json()["custom"]["photos"]) == 1
    serial = ("custom.serial_number", ("s.jpg", image_bytes("JPEG"), "image/jpeg"))
    refused = _post(client, headers, [serial])  # an agent-only field, and not a file field
    assert refused.status_code == 422


@pytest.mark.usefixtures("forms")
def test_editing_details_adds_photos_and_keeps_the_old_ones(
    client: TestClient, app: FastAPI, factory: Any, api_as: Any
) -> None:
    agent = factory.user("agent")
    photo = ("custom.photos", ("正面.jpg", image_bytes("JPEG"), "image/jpeg"))
    ticket = _post(client, api_as(agent), [photo]).json()
    token = signed_in(client, agent.username)
    response = client.post(
        f"/tickets/{ticket['id']}/details",
        data={"csrf_token": token, "version": str(ticket["version"]), "product": "washer",
              "fault_type": "noise"},
        files=[("photos", ("背面.png", image_bytes("PNG"), "image/png")),
               ("photos", ("假图.jpg", b"not a picture", "image/jpeg"))],
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 422  # the fake photo is named; nothing is saved
    assert "假图.jpg" in response.text
    response = client.post(
        f"/tickets/{ticket['id']}/details",
        data={"csrf_token": token, "version": str(ticket["version"]), "product": "washer",
              "fault_type": "noise"},
        files=[("photos", ("背面.png", image_bytes("PNG"), "image/png"))],
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303, response.text
    with transaction(app.state.reader) as session:
        stored = session.get(Ticket, ticket["id"])
        assert stored is not None
        assert len(stored.custom["photos"]) == 2
        assert stored.custom["photos"][0] == ticket["custom"]["photos"][0]
        owners = session.scalars(
            select(Attachment.ticket_id).where(Attachment.id.in_(stored.custom["photos"]))
        )
        assert set(owners) == {ticket["id"]}
        kinds = session.scalars(
            select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket["id"])
        )
        assert list(kinds) == ["created", "updated"]


@pytest.mark.usefixtures("forms")
def test_reference_fields_show_names_not_numbers(
    client: TestClient, app: FastAPI, factory: Any, api_as: Any
) -> None:
    agent = factory.user("agent")
    with transaction(app.state.writer) as session:
        asset = Asset(serial_number="XY19117408690602", product="洗衣机", model="XQB90-36SP")
        session.add(asset)
        session.flush()
        asset_id = asset.id
    data = {**REPAIR, "custom": {**REPAIR["custom"], "asset_id": asset_id}}  # type: ignore[dict-item]
    ticket = client.post("/api/v1/tickets", json=data, headers=api_as(agent)).json()
    signed_in(client, agent.username)
    page = client.get(f"/tickets/{ticket['id']}")
    assert "洗衣机 XQB90-36SP · XY19117408690602" in page.text
    assert f"#{asset_id}<" not in page.text
