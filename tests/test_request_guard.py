"""The request guard holds for every route: NUL characters, body sizes, credentials before big
bodies, and a 500 that names a request id and keeps the connection (web/guard.py)."""

from __future__ import annotations

import http.client
import json
import logging
import re
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from fuwu.db import transaction
from fuwu.tickets.models import Ticket
from support_server import serving

ADMIN_ONLY = "/api/v1/users"


def _operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    document = app.openapi()
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "patch", "put", "delete")
    ]


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_nul_in_any_json_body_field_is_a_422_naming_it(
    client: TestClient, app: FastAPI, factory: Any, api_as: Any
) -> None:
    headers = api_as(factory.user("admin"))
    document = app.openapi()
    checked = 0
    for method, path, operation in _operations(app):
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" not in content:
            continue
        schema = _resolve(document, content["application/json"]["schema"])
        for name in schema.get("properties", {}):
            response = client.request(
                method, _concrete(path), json={name: "bad\x00value"}, headers=headers
            )
            assert response.status_code == 422, (method, path, name, response.text)
            fields = [f["field"] for f in response.json()["error"]["fields"]]
            assert fields == [name], (method, path, fields)
            checked += 1
    assert checked > 40  # every JSON body of the API, not a handful


def test_nul_in_any_query_parameter_is_a_422_naming_it(
    client: TestClient, app: FastAPI, factory: Any, api_as: Any
) -> None:
    headers = api_as(factory.user("admin"), lang="zh-CN")
    checked = 0
    for method, path, operation in _operations(app):
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "query":
                continue
            name = parameter["name"]
            response = client.request(method, f"{_concrete(path)}?{name}=a%00b", headers=headers)
            assert response.status_code == 422, (method, path, name, response.text)
            [error] = response.json()["error"]["fields"]
            assert error["field"] == name
            assert "空字符" in error["message"]
            checked += 1
    assert checked > 20


def test_nul_in_the_path_is_a_422(client: TestClient, factory: Any, api_as: Any) -> None:
    response = client.get("/api/v1/views/a%00", headers=api_as(factory.user("admin")))
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "path"


@pytest.mark.parametrize("multipart", [False, True], ids=["urlencoded", "multipart"])
def test_nul_in_a_signed_in_form_is_a_422_page(
    client: TestClient, factory: Any, multipart: bool
) -> None:
    factory.user("agent", username="li")
    login = client.get("/login")
    csrf = client.cookies.get("fuwu_csrf")
    client.post(
        "/login",
        data={"username": "li", "password": "correct-horse-42", "csrf_token": csrf or ""},
    )
    page = client.get("/profile")
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert login.status_code == 200
    assert token is not None
    data = {"csrf_token": token.group(1), "display_name": "Li\x00", "locale": "en"}
    files = {"unused": ("a.txt", b"\x00\x01", "text/plain")} if multipart else None
    response = client.post("/profile", data=data, files=files, follow_redirects=False)
    assert response.status_code == 422, response.text
    assert "NUL" in response.text


def test_a_json_body_over_the_limit_is_refused_before_it_is_read(
    make_app: Callable[..., FastAPI], factory: Any, api_as: Any
) -> None:
    app = make_app(max_json_bytes=2048)

    def body() -> Iterator[bytes]:
        for _ in range(100):
            yield b" " * 1024

    with TestClient(app) as api:
        declared = api.post(
            "/api/v1/tickets",
            content=b"{" + b" " * 4096 + b"}",
            headers={**api_as(factory.user("admin")), "Content-Type": "application/json"},
        )
        chunked = api.post(
            "/api/v1/tickets",
            content=body(),
            headers={**api_as(factory.user("admin")), "Content-Type": "application/json"},
        )
    assert declared.status_code == 413
    assert declared.json()["error"]["code"] == "too_large"
    assert "2048" in declared.json()["error"]["message"]
    assert chunked.status_code == 413  # (TestClient sends the whole body; see the next test)


def test_an_upload_over_the_limit_is_refused_while_streaming(
    make_app: Callable[..., FastAPI], factory: Any, api_as: Any
) -> None:
    app = make_app(max_upload_bytes=64 * 1024)
    agent = factory.user("admin")
    ticket = factory.ticket()
    boundary = "fuwuboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()

    def body() -> Iterator[bytes]:
        yield head
        for _ in range(1000):
            yield b"x" * 1024

    with TestClient(app) as api:
        response = api.post(
            f"/api/v1/tickets/{ticket.id}/attachments",
            content=body(),
            headers={
                **api_as(agent),
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
        )
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "too_large"


@pytest.mark.parametrize("credentials", ["none", "unknown-token", "garbage-cookie"])
def test_a_large_body_without_valid_credentials_is_refused_before_it_is_read(
    client: TestClient, factory: Any, credentials: str
) -> None:
    ticket = factory.ticket()
    pulled = []

    def body() -> Iterator[bytes]:
        for _ in range(200):
            pulled.append(1)
            yield b"x" * 1024

    headers = {"Content-Type": "multipart/form-data; boundary=b"}
    if credentials == "unknown-token":
        headers["Authorization"] = "Bearer fuwu_000000000000_nope"
    if credentials == "garbage-cookie":
        headers["Cookie"] = "fuwu_session=nope"
    response = client.post(
        f"/api/v1/tickets/{ticket.id}/attachments", content=body(), headers=headers
    )
    assert response.status_code == 401
    assert len(pulled) <= 1  # at most what the transport sent before the answer


# ---------------------------------------------------------------- the 500


@pytest.fixture
def server(make_app: Callable[..., FastAPI]) -> Iterator[int]:
    """The app behind a real uvicorn on a free loopback port (keep-alive is uvicorn's), with
    uploads limited to 256 KiB."""
    app = make_app(max_upload_bytes=256 * 1024)

    def boom() -> None:
        raise RuntimeError("a bug nobody foresaw")

    app.add_api_route("/api/v1/boom", boom, include_in_schema=False)
    app.add_api_route("/boom", boom, include_in_schema=False)
    with serving(app) as port:
        yield port


@pytest.mark.parametrize("path", ["/api/v1/boom", "/boom"])
def test_an_unexpected_error_is_a_500_with_a_request_id_and_the_connection_lives_on(
    server: int, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    caplog.set_level(logging.ERROR, logger="fuwu.errors")
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    connection.request("GET", path, headers={"Accept-Language": "en"})
    failed = connection.getresponse()
    text = failed.read().decode()
    request_id = failed.getheader("x-request-id")
    assert failed.status == 500
    assert request_id
    assert request_id in caplog.text
    assert "a bug nobody foresaw" in caplog.text  # the traceback is logged
    assert "Traceback" not in text
    assert "RuntimeError" not in text
    if path.startswith("/api/"):
        assert json.loads(text)["error"]["request_id"] == request_id
    else:
        assert request_id in text
        assert "<html" in text
    connection.request("GET", "/healthz")  # the same socket
    again = connection.getresponse()
    assert again.status == 200
    assert json.loads(again.read())["status"] == "ok"
    connection.close()


def test_no_ticket_is_half_written_by_a_refused_body(
    client: TestClient, app: FastAPI, factory: Any, api_as: Any
) -> None:
    client.post(
        "/api/v1/tickets", json={"subject": "x\x00y"}, headers=api_as(factory.user("admin"))
    )
    with transaction(app.state.reader) as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 0


def _stream(port: int, head: str, chunks: int) -> tuple[int, bytes]:
    """Send a chunked body 1 KiB at a time; (chunks sent before the answer came, the answer)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(head.encode() + b"Transfer-Encoding: chunked\r\n\r\n")
    if "multipart" in head:
        part = UPLOAD_HEAD.encode()
        sock.sendall(f"{len(part):x}\r\n".encode() + part + b"\r\n")
    sock.setblocking(False)
    answer = b""
    sent = 0
    for sent in range(chunks):  # noqa: B007 - the count is the result
        try:
            answer = sock.recv(65536)
        except BlockingIOError:
            answer = b""
        if answer:
            break
        try:
            sock.sendall(b"400\r\n" + b"x" * 1024 + b"\r\n")
        except (BlockingIOError, BrokenPipeError, ConnectionResetError):
            break
        time.sleep(0.002)
    sock.setblocking(True)
    if not answer:
        answer = sock.recv(65536)
    sock.close()
    return sent, answer


UPLOAD_HEAD = (
    '--b\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
    "Content-Type: application/octet-stream\r\n\r\n"
)


@pytest.mark.parametrize(
    ("path", "content_type", "auth"),
    [
        ("/api/v1/tickets", "application/json", True),
        ("/api/v1/tickets/1/attachments", "multipart/form-data; boundary=b", True),
        ("/api/v1/tickets/1/attachments", "multipart/form-data; boundary=b", False),
    ],
    ids=["json", "upload", "anonymous-upload"],
)
def test_a_chunked_body_is_cut_off_at_its_limit_or_before_it_starts(
    server: int, factory: Any, path: str, content_type: str, auth: bool
) -> None:
    token = factory.token(factory.user("admin")) if auth else "none"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
        f"Authorization: Bearer {token}\r\n"
    )
    sent, answer = _stream(server, head, 20_000)  # 20 MiB offered
    status = 413 if auth else 401
    assert answer.startswith(f"HTTP/1.1 {status}".encode()), answer[:200]
    # limits in this app: 1 MiB JSON, 256 KiB uploads (chunks of 1 KiB)
    assert sent < (1100 if "json" in content_type else 300 if auth else 5)


@pytest.mark.parametrize(
    "raw",
    [
        "[" * 5000 + "]" * 5000,
        '{"not": ' * 50 + '{"field": "priority", "op": "eq", "value": "high"}' + "}" * 50,
        "x" * 30_000,
        '{"all": [' + ",".join(['{"field": "priority", "op": "eq", "value": "high"}'] * 300) + "]}",
    ],
    ids=["brackets", "nots", "oversized", "too-many-leaves"],
)
def test_a_deep_or_oversized_filter_is_a_422(
    client: TestClient, factory: Any, api_as: Any, raw: str
) -> None:
    response = client.get(
        "/api/v1/tickets", params={"filter": raw}, headers=api_as(factory.user("admin"))
    )
    assert response.status_code == 422, response.text
    fields = response.json()["error"]["fields"]
    assert all(f["field"].startswith("filter") for f in fields)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("limit=0", "不能小于 1"),
        ("limit=500", "不能大于 200"),
        ("limit=abc", "应为整数"),
        ("created_after=soon", "应为日期时间"),
    ],
)
def test_validation_messages_are_chinese_through_and_through(
    client: TestClient, factory: Any, api_as: Any, query: str, expected: str
) -> None:
    response = client.get(
        f"/api/v1/tickets?{query}", headers=api_as(factory.user("admin"), lang="zh-CN")
    )
    assert response.status_code == 422, response.text
    [error] = response.json()["error"]["fields"]
    assert expected in error["message"]
    assert "Input should" not in error["message"]
    assert "valid" not in error["message"]
