"""The public web form: anonymous tickets, spam defences, files, the status link, framing.

Runs on SQLite and PostgreSQL. The forms are the demo company's (报修 repair is public; its
web form lays out product, fault type … and photos, not the agents' serial number; 保养
maintenance is not public).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import delete, func, select

from fuwu.auth.principal import Principal
from fuwu.channels import webform, webform_views
from fuwu.config import Settings
from fuwu.customers.models import Contact
from fuwu.db import transaction
from fuwu.demo import forms as demo_forms
from fuwu.fields.forms import render as fields_render
from fuwu.kit.time import utcnow
from fuwu.tickets import messages as messages_service
from fuwu.tickets import service as tickets_service
from fuwu.tickets.models import Attachment, StatusLink, Ticket, TicketEvent
from fuwu.tickets.schemas import TicketUpdate
from fuwu.tickets.types import service as ticket_types
from fuwu.tickets.types.schemas import TicketTypeUpdate
from support_images import image_bytes

FILLED = {
    "subject": "洗衣机脱水时异响",
    "description": "脱水时声音很大，像是有东西在撞。",
    "_name": "陈静",
    "_email": "chen.jing@example.com",
    "_phone": "",
    "product": "滚筒洗衣机",
    "fault_type": "noise",
}
JPEG = image_bytes("JPEG")
DONE = re.compile(r"^/forms/repair/done/([^?]+)\?")


@pytest.fixture
def make_webform_app(make_app: Callable[..., FastAPI]) -> Callable[..., FastAPI]:
    """An app with the web form's routes (mounted here until app.py mounts them)."""

    def build(**overrides: Any) -> FastAPI:
        application = make_app(**overrides)
        if not any(getattr(r, "path", "") == "/forms/{type_key}" for r in application.routes):
            application.include_router(webform_views.router)
        with transaction(application.state.writer) as session:
            demo_forms.load(session, timezone=application.state.settings.timezone)
        return application

    return build


@pytest.fixture
def app(make_webform_app: Callable[..., FastAPI]) -> FastAPI:
    return make_webform_app()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, headers={"Accept-Language": "zh-CN"}) as test_client:
        yield test_client


def token_of(app: FastAPI, key: str = "repair") -> str:
    return webform.form_token(app.state.settings.secret_key, key)


def send(
    client: TestClient,
    app: FastAPI,
    data: dict[str, str] | None = None,
    *,
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
    key: str = "repair",
    headers: dict[str, str] | None = None,
    query: str = "lang=zh_CN",
) -> Response:
    body = {**FILLED, "_token": token_of(app, key), **(data or {})}
    return client.post(
        f"/forms/{key}?{query}", data=body, files=files, headers=headers, follow_redirects=False
    )


def tickets(app: FastAPI) -> list[Ticket]:
    with transaction(app.state.reader) as session:
        return list(session.scalars(select(Ticket).order_by(Ticket.id)))


def count(app: FastAPI, model: type[Any]) -> int:
    with transaction(app.state.reader) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def error_under(html: str, element_id: str) -> str:
    """The message shown under one input (the element the input's aria-describedby names)."""
    found = re.search(rf'id="{re.escape(element_id)}"[^>]*>([^<]*)<', html)
    assert found, f"no message #{element_id} on the page"
    return found.group(1).strip()


# ---------------------------------------------------------------- opening a ticket


def test_form_page_shows_the_web_form_layout_only(client: TestClient) -> None:
    page = client.get("/forms/repair")
    assert page.status_code == 200
    assert 'name="product"' in page.text
    assert 'name="fault_type"' in page.text
    assert 'name="serial_number"' not in page.text  # laid out for agents only
    assert 'name="error_code"' not in page.text  # shown by logic when the fault is a code
    assert 'name="photos"' in page.text
    assert 'type="file"' in page.text
    assert re.search(r'id="wf-cf-subject"[^>]*aria-required="true"', page.text)
    assert 'name="website"' in page.text  # the trap, hidden from people
    assert "报修" in page.text


def test_happy_path_creates_a_web_ticket_with_the_contact_and_fields(
    client: TestClient, app: FastAPI
) -> None:
    response = send(client, app)
    assert response.status_code == 303, response.text
    assert DONE.match(response.headers["location"])
    [ticket] = tickets(app)
    assert ticket.channel == "web"
    assert ticket.type_key == "repair"
    assert ticket.subject == FILLED["subject"]
    assert ticket.custom == {"product": "滚筒洗衣机", "fault_type": "noise"}
    assert ticket.form_version is not None
    with transaction(app.state.reader) as session:
        contact = session.get(Contact, ticket.customer_id)
        assert contact is not None
        assert (contact.name, contact.email) == ("陈静", "chen.jing@example.com")
    done = client.get(response.headers["location"])
    assert done.status_code == 200
    assert ticket.number in done.text
    assert done.headers["cache-control"] == "no-store"


def test_htmx_submit_redirects_with_a_header(client: TestClient, app: FastAPI) -> None:
    response = send(client, app, headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert DONE.match(response.headers["HX-Redirect"])


def test_crafted_agent_only_field_is_ignored(client: TestClient, app: FastAPI) -> None:
    response = send(client, app, {"serial_number": "SN-CRAFTED-1", "assignee_id": "1"})
    assert response.status_code == 303, response.text
    [ticket] = tickets(app)
    assert "serial_number" not in ticket.custom
    assert ticket.assignee_id is None


def test_missing_required_field_names_it_in_chinese_and_creates_nothing(
    client: TestClient, app: FastAPI
) -> None:
    response = send(client, app, {"product": "", "subject": ""})
    assert response.status_code == 422
    assert error_under(response.text, "wf-cf-product-error") == "产品为必填项"
    subject = fields_render.system_fields()["subject"].label["zh_CN"]  # as the input is labelled
    assert error_under(response.text, "wf-cf-subject-error") == f"{subject}为必填项"
    assert 'value="chen.jing@example.com"' in response.text  # what was typed is kept
    assert "selected" in re.search(r'<option value="noise"[^>]*>', response.text).group(0)  # type: ignore[union-attr]
    assert tickets(app) == []
    assert count(app, Contact) == 0


def test_htmx_errors_come_back_as_the_form_fragment(client: TestClient, app: FastAPI) -> None:
    response = send(client, app, {"product": ""}, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert response.text.lstrip().startswith("<form")
    assert "产品为必填项" in response.text


def test_a_way_to_answer_is_required(client: TestClient, app: FastAPI) -> None:
    response = send(client, app, {"_email": "", "_phone": ""})
    assert response.status_code == 422
    assert "请留下邮箱或电话" in response.text
    bad = send(client, app, {"_email": "not-an-address"})
    assert error_under(bad.text, "wf_email-error") == "邮箱不是有效的邮箱地址"
    assert tickets(app) == []


def test_logic_round_trip_shows_and_requires_the_error_code(
    client: TestClient, app: FastAPI
) -> None:
    shown = client.post("/forms/repair/logic?lang=zh_CN", data={"fault_type": "error_code"})
    assert shown.status_code == 200
    assert shown.text.lstrip().startswith('<div id="wf-fields">')
    assert 'name="error_code"' in shown.text
    assert re.search(r'id="wf-cf-error_code"[^>]*aria-required="true"', shown.text)
    hidden = client.post("/forms/repair/logic?lang=zh_CN", data={"fault_type": "noise"})
    assert 'name="error_code"' not in hidden.text
    response = send(client, app, {"fault_type": "error_code"})
    assert response.status_code == 422
    assert error_under(response.text, "wf-cf-error_code-error") == "故障代码为必填项"


def test_an_expired_form_asks_to_send_again(client: TestClient, app: FastAPI) -> None:
    old = webform.form_token(
        app.state.settings.secret_key, "repair", utcnow() - webform.FORM_TOKEN_MAX_AGE * 2
    )
    response = send(client, app, {"_token": old})
    assert response.status_code == 422
    assert 'value="滚筒洗衣机"' in response.text
    assert token_of(app) != old
    assert 'name="_token"' in response.text
    other_type = send(client, app, {"_token": token_of(app, "install")})
    assert other_type.status_code == 422
    assert tickets(app) == []


# ---------------------------------------------------------------- spam


def test_honeypot_answers_like_a_success_but_creates_nothing(
    client: TestClient, app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="fuwu.webform"):
        response = send(client, app, {"website": "http://spam.example.com"})
    assert response.status_code == 303
    assert DONE.match(response.headers["location"])
    assert tickets(app) == []
    assert count(app, Contact) == 0
    assert "trap field" in caplog.text
    done = client.get(response.headers["location"])
    assert done.status_code == 200
    assert 'class="wf-number"' not in done.text


def test_rate_limit_per_address(app: FastAPI) -> None:
    limit = webform.RATE_LIMIT
    with TestClient(app, client=("203.0.113.7", 40000)) as first:
        for n in range(limit):
            assert send(first, app, {"subject": f"第 {n} 次"}).status_code == 303
        refused = send(first, app, {"subject": "再来一次"})
        assert refused.status_code == 429
        assert "请在 10 分钟后再试" in refused.text
        assert 'value="再来一次"' in refused.text
    with TestClient(app, client=("198.51.100.9", 40000)) as other:
        assert send(other, app).status_code == 303
    assert len(tickets(app)) == limit + 1


def test_rate_limit_window_forgets_old_submissions(app: FastAPI) -> None:
    with transaction(app.state.writer) as session:
        for _ in range(webform.RATE_LIMIT):
            webform._count_submission(session, ip="192.0.2.1", window=webform.RATE_WINDOW)
    with transaction(app.state.writer) as session:
        with pytest.raises(webform.RateLimited):
            webform.check_rate(
                session, ip="192.0.2.1", limit=webform.RATE_LIMIT, window=webform.RATE_WINDOW
            )
        webform.check_rate(
            session, ip="192.0.2.1", limit=webform.RATE_LIMIT, window=timedelta(seconds=0)
        )
        webform.check_rate(
            session, ip="192.0.2.2", limit=webform.RATE_LIMIT, window=webform.RATE_WINDOW
        )


# ---------------------------------------------------------------- files


def test_files_become_attachments_and_the_photo_field(client: TestClient, app: FastAPI) -> None:
    files = [
        ("photos", ("机器.jpg", image_bytes("JPEG"), "image/jpeg")),
        ("photos", ("铭牌.png", image_bytes("PNG"), "image/png")),
    ]
    response = send(client, app, files=files)
    assert response.status_code == 303, response.text
    [ticket] = tickets(app)
    with transaction(app.state.reader) as session:
        stored = list(session.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id)))
    assert sorted(a.filename for a in stored) == ["机器.jpg", "铭牌.png"]
    assert sorted(ticket.custom["photos"]) == sorted(a.id for a in stored)
    assert {a.content_type for a in stored} == {"image/jpeg", "image/png"}
    # One submission is one change: one history row, no second "updated" for the files.
    with transaction(app.state.reader) as session:
        history = session.scalars(
            select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket.id)
        )
        assert list(history) == ["created"]


def test_an_image_field_takes_only_real_images(client: TestClient, app: FastAPI) -> None:
    """A text file named .jpg and sent as image/jpeg is not a photo: decided by decoding it."""
    files = [("photos", ("机器.jpg", b"<html><script>alert(1)</script>", "image/jpeg"))]
    response = send(client, app, files=files)
    assert response.status_code == 422
    assert "机器.jpg 不是图片" in response.text
    assert tickets(app) == []
    assert count(app, Attachment) == 0


def test_oversize_file_is_refused_by_name_and_nothing_is_created(
    make_webform_app: Callable[..., FastAPI],
) -> None:
    app = make_webform_app(attachment_max_bytes=1024)
    files = [
        ("photos", ("small.jpg", JPEG, "image/jpeg")),
        ("photos", ("big-photo.jpg", JPEG + b"x" * 2048, "image/jpeg")),
        ("photos", ("setup.exe", b"MZ", "application/octet-stream")),
    ]
    with TestClient(app) as client:
        response = send(client, app, files=files)
    assert response.status_code == 422
    assert "big-photo.jpg 太大" in response.text
    assert "setup.exe" in response.text
    assert "small.jpg" not in response.text
    assert tickets(app) == []
    assert count(app, Attachment) == 0
    assert count(app, Contact) == 0


def test_a_body_larger_than_all_files_together_is_not_read(
    make_webform_app: Callable[..., FastAPI],
) -> None:
    app = make_webform_app(attachment_max_bytes=1024)
    huge = [
        ("photos", ("huge.jpg", b"x" * (webform_views.FORM_FIELDS_SLACK + 10_000), "image/jpeg"))
    ]
    with TestClient(app) as client:
        response = send(client, app, files=huge, query="lang=zh_CN&embed=1")
    assert response.status_code == 413
    assert "文件总大小超出限制" in response.text
    assert "frame-ancestors 'none'" not in response.headers["content-security-policy"]
    assert tickets(app) == []


def test_too_many_files_are_refused(client: TestClient, app: FastAPI) -> None:
    files = [("photos", (f"p{n}.jpg", b"jpeg", "image/jpeg")) for n in range(webform.MAX_FILES + 1)]
    response = send(client, app, files=files)
    assert response.status_code == 422
    assert f"最多发送 {webform.MAX_FILES} 个文件" in response.text
    assert tickets(app) == []


# ---------------------------------------------------------------- status link


def test_status_link_shows_public_replies_but_never_notes(client: TestClient, app: FastAPI) -> None:
    response = send(client, app)
    token = DONE.match(response.headers["location"]).group(1)  # type: ignore[union-attr]
    [ticket] = tickets(app)
    with transaction(app.state.writer) as session:
        for body, kind in (("师傅明天上午上门检查。", "reply"), ("客户脾气急，注意沟通", "note")):
            messages_service.add_message(
                session, actor=Principal.system(), ticket_id=ticket.id, body=body, kind=kind
            )
    page = client.get(f"/forms/status/{token}")
    assert page.status_code == 200
    assert ticket.number in page.text
    assert FILLED["subject"] in page.text
    assert "新建" in page.text  # the status, in Chinese
    assert "师傅明天上午上门检查。" in page.text
    assert "客户脾气急" not in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        lambda t: t[:-1],
        lambda t: "x" + t,
        lambda t: t[:-1] + "é",
        lambda t: t * 3,
    ],
    ids=["one-character-changed", "shortened", "prefixed", "not-ascii", "overlong"],
)
def test_tampered_status_token_is_not_found(
    client: TestClient, app: FastAPI, tamper: Callable[[str], str]
) -> None:
    response = send(client, app)
    token = DONE.match(response.headers["location"]).group(1)  # type: ignore[union-attr]
    assert client.get(f"/forms/status/{token}").status_code == 200
    page = client.get(f"/forms/status/{tamper(token)}")
    assert page.status_code == 404
    assert "<html" in page.text
    assert "链接无效" in page.text


def test_status_link_cannot_be_forged_from_the_ticket_id_and_the_secret(
    client: TestClient, app: FastAPI
) -> None:
    """The old link was id.HMAC(secret, id): whoever knew the secret read every ticket."""
    token = DONE.match(send(client, app).headers["location"]).group(1)  # type: ignore[union-attr]
    [ticket] = tickets(app)
    assert len(token) >= 32
    secret = app.state.settings.secret_key  # even an attacker who knows the secret
    key = hashlib.sha256(f"fuwu:webform-status:{secret}".encode()).digest()
    mac = hmac.new(key, str(ticket.id).encode(), hashlib.sha256).digest()[:18]
    forged = f"{ticket.id}.{base64.urlsafe_b64encode(mac).decode()}"
    assert client.get(f"/forms/status/{forged}").status_code == 404
    assert client.get(f"/forms/status/{ticket.id}").status_code == 404


def test_status_link_is_stored_only_as_a_hash(client: TestClient, app: FastAPI) -> None:
    token = DONE.match(send(client, app).headers["location"]).group(1)  # type: ignore[union-attr]
    with transaction(app.state.reader) as session:
        [link] = session.scalars(select(StatusLink)).all()
    assert token not in link.token_hash
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()


def test_status_link_ends_when_the_ticket_moves_to_another_customer(
    client: TestClient, app: FastAPI, factory: Any
) -> None:
    token = DONE.match(send(client, app).headers["location"]).group(1)  # type: ignore[union-attr]
    [ticket] = tickets(app)
    other = factory.contact("王强")
    with transaction(app.state.writer) as session:
        tickets_service.update_ticket(
            session, actor=Principal.system(), ticket_id=ticket.id,
            data=TicketUpdate(customer_id=other.id),
        )  # fmt: skip
    assert client.get(f"/forms/status/{token}").status_code == 404
    with transaction(app.state.writer) as session:
        tickets_service.update_ticket(
            session, actor=Principal.system(), ticket_id=ticket.id,
            data=TicketUpdate(customer_id=ticket.customer_id),
        )  # fmt: skip
    assert client.get(f"/forms/status/{token}").status_code == 200  # back with its customer


def test_status_link_ends_when_the_customer_or_the_ticket_is_deleted(
    client: TestClient, app: FastAPI
) -> None:
    first = DONE.match(send(client, app).headers["location"]).group(1)  # type: ignore[union-attr]
    second = DONE.match(  # type: ignore[union-attr]
        send(client, app, {"_email": "li.na@example.com"}).headers["location"]
    ).group(1)
    one, two = tickets(app)
    with transaction(app.state.writer) as session:
        session.execute(delete(Contact).where(Contact.id == one.customer_id))
        session.execute(delete(Ticket).where(Ticket.id == two.id))
    assert client.get(f"/forms/status/{first}").status_code == 404
    assert client.get(f"/forms/status/{second}").status_code == 404
    assert count(app, StatusLink) == 0


def test_each_submission_gets_its_own_link(client: TestClient, app: FastAPI) -> None:
    links = {
        DONE.match(send(client, app).headers["location"]).group(1)  # type: ignore[union-attr]
        for _ in range(3)
    }
    assert len(links) == 3
    for token in links:
        assert client.get(f"/forms/status/{token}").status_code == 200


# ---------------------------------------------------------------- who may see which form


@pytest.mark.parametrize("path", ["/forms/maintenance", "/forms/maintenance/embed", "/forms/nope"])
def test_non_public_or_unknown_type_is_not_found(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_posting_to_a_non_public_or_inactive_type_is_not_found(
    client: TestClient, app: FastAPI
) -> None:
    assert send(client, app, key="maintenance").status_code == 404
    with transaction(app.state.writer) as session:
        ticket_types.update_type(
            session, actor=Principal.system(), key="repair", data=TicketTypeUpdate(active=False)
        )
    assert client.get("/forms/repair").status_code == 404
    assert send(client, app).status_code == 404
    assert tickets(app) == []


# ---------------------------------------------------------------- framing


def test_embed_page_can_be_framed_and_the_plain_page_cannot(client: TestClient) -> None:
    embed = client.get("/forms/repair/embed")
    assert embed.status_code == 200
    csp = embed.headers["content-security-policy"]
    assert "frame-ancestors *" in csp, "any site may embed by default"
    assert "frame-ancestors 'none'" not in csp
    assert "x-frame-options" not in embed.headers, "it would contradict frame-ancestors"
    assert 'action="/forms/repair?lang=zh_CN&amp;embed=1"' in embed.text
    assert 'class="wf wf-embed"' in embed.text
    plain = client.get("/forms/repair")
    assert "frame-ancestors 'none'" in plain.headers["content-security-policy"]
    assert plain.headers["x-frame-options"] == "DENY"


def test_the_sites_that_may_embed_are_a_setting(make_webform_app: Callable[..., FastAPI]) -> None:
    app = make_webform_app(webform_frame_ancestors="'self' https://shop.example.cn")
    with TestClient(app) as client:
        csp = client.get("/forms/repair/embed").headers["content-security-policy"]
    assert "frame-ancestors 'self' https://shop.example.cn" in csp
    with pytest.raises(ValueError, match="no ; , or line breaks"):
        Settings(_env_file=None, webform_frame_ancestors="* ; script-src *")  # type: ignore[call-arg]


def test_embedded_answers_stay_frameable(client: TestClient, app: FastAPI) -> None:
    failed = send(client, app, {"product": ""}, query="lang=zh_CN&embed=1")
    assert "frame-ancestors 'none'" not in failed.headers["content-security-policy"]
    sent = send(client, app, query="lang=zh_CN&embed=1")
    assert "embed=1" in sent.headers["location"]
    done = client.get(sent.headers["location"])
    assert "frame-ancestors 'none'" not in done.headers["content-security-policy"]
    assert 'target="_blank"' in done.text  # the status page itself is never framed


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("机器.jpg", b"%PDF-1.7 not a picture", "不是图片"),
        ("setup.exe.", b"harmless text", "不接受此类文件"),
        ("照片.jpg", b"MZ\x90\x00 a program called a photo", "不接受此类文件"),
    ],
    ids=["pdf-as-photo", "trailing-dot", "program-as-photo"],
)
def test_a_photo_field_takes_pictures_only_whatever_the_name(
    client: TestClient, app: FastAPI, name: str, content: bytes, message: str
) -> None:
    response = send(client, app, files=[("photos", (name, content, "image/jpeg"))])
    assert response.status_code == 422
    assert message in response.text
    assert tickets(app) == []
    assert count(app, Attachment) == 0


@pytest.mark.parametrize("with_file", [False, True], ids=["urlencoded", "multipart"])
def test_a_nul_character_from_an_anonymous_caller_is_a_422_and_nothing_is_kept(
    client: TestClient, app: FastAPI, with_file: bool
) -> None:
    files = [("photos", ("机器.jpg", JPEG + b"\x00\x00", "image/jpeg"))] if with_file else None
    response = send(client, app, {"subject": "洗衣机\x00异响"}, files=files)
    assert response.status_code == 422
    assert "subject" in response.text
    assert "空字符" in response.text
    assert tickets(app) == []
    assert count(app, Contact) == 0
