"""Admin, customer and profile pages through the browser routes (forms, CSRF, roles, i18n)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi import FastAPI

from fuwu.auth import service as auth_service
from fuwu.auth.principal import Principal
from fuwu.customers import service as customers_service
from fuwu.customers.schemas import ContactCreate
from fuwu.db import transaction

from .conftest import PASSWORD, Login, csrf_of


def field_errors(html: str) -> dict[str, str]:
    """field → the message rendered next to it."""
    found = re.findall(r'class="field-error" id="e-([\w.]+)" role="alert">([^<]*)<', html)
    return dict(found)


def new_user_form(csrf: str, **overrides: str | list[str]) -> dict[str, str | list[str]]:
    form: dict[str, str | list[str]] = {
        "csrf_token": csrf,
        "username": "wang.fang",
        "display_name": "王芳",
        "email": "wang.fang@example.com",
        "role": "agent",
        "phone": "",
        "district": "浦东",
        "password": "",
    }
    form.update(overrides)
    return form


def test_admin_creates_user_and_sees_it_in_list_and_audit(
    login: Login, make_user: Callable[..., int]
) -> None:
    make_user("root", role="admin")
    admin = login("root")
    csrf = csrf_of(admin)

    created = admin.post("/admin/users/new", data=new_user_form(csrf), follow_redirects=False)

    assert created.status_code == 303
    user_url = created.headers["location"].split("?")[0]
    listing = admin.get("/admin/users?q=wang")
    assert "wang.fang" in listing.text
    assert "王芳" in listing.text
    edited = admin.post(
        user_url,
        data={**new_user_form(csrf, display_name="王芳芳", role="supervisor"), "is_active": "on"},
        follow_redirects=False,
    )
    assert edited.status_code == 303
    user_id = user_url.rsplit("/", 1)[1]
    audit = admin.get(f"/admin/audit?entity=user&entity_id={user_id}").text
    assert "wang.fang@example.com" in audit  # the creation, with its values
    assert re.search(r"display_name</code>:\s*<del>王芳</del> → <ins>王芳芳</ins>", audit)
    assert re.search(r"role</code>:\s*<del>agent</del> → <ins>supervisor</ins>", audit)


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("en", "Email is not a valid email address"), ("zh_CN", "邮箱不是有效的邮箱地址")],
)
def test_bad_email_is_shown_next_to_the_field_with_input_kept(
    login: Login, make_user: Callable[..., int], locale: str, expected: str
) -> None:
    make_user("root", role="admin", locale=locale)
    admin = login("root")

    page = admin.post("/admin/users/new", data=new_user_form(csrf_of(admin), email="not-an-email"))

    assert page.status_code == 422
    assert field_errors(page.text) == {"email": expected}
    assert 'value="not-an-email"' in page.text
    assert 'value="王芳"' in page.text
    assert 'value="wang.fang"' in page.text


def test_service_errors_are_per_field_too(login: Login, make_user: Callable[..., int]) -> None:
    make_user("root", role="admin")
    admin = login("root")

    page = admin.post(
        "/admin/users/new",
        data=new_user_form(csrf_of(admin), username="root", display_name="", password="short"),
    )

    assert page.status_code == 422
    errors = field_errors(page.text)
    assert errors["display_name"] == "Display name is required"


@pytest.mark.parametrize(
    ("role", "url", "status"),
    [
        ("agent", "/admin/users", 403),
        ("agent", "/admin/teams", 403),
        ("agent", "/admin/audit", 403),
        ("supervisor", "/admin/audit", 200),
        ("supervisor", "/admin/users", 403),
        ("agent", "/customers", 200),
        ("customer", "/customers", 403),
        ("customer", "/organisations", 403),
        ("customer", "/profile", 200),
        ("admin", "/admin/users", 200),
    ],
)
def test_pages_by_role(
    login: Login, make_user: Callable[..., int], role: str, url: str, status: int
) -> None:
    make_user("someone", role=role)
    assert login("someone").get(url).status_code == status


def test_anonymous_is_sent_to_login(app: FastAPI) -> None:
    from .conftest import TestClient

    with TestClient(app) as client:
        response = client.get("/admin/users", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_post_without_csrf_token_is_refused(login: Login, make_user: Callable[..., int]) -> None:
    make_user("root", role="admin")
    admin = login("root")

    without = admin.post("/admin/users/new", data=new_user_form(""), follow_redirects=False)
    forged = admin.post("/admin/teams/new", data={"csrf_token": "x" * 43, "name": "Evil"})

    assert without.status_code == 403
    assert forged.status_code == 403
    assert "wang.fang" not in admin.get("/admin/users").text
    assert "Evil" not in admin.get("/admin/teams").text


def test_profile_language_switches_the_ui(login: Login, make_user: Callable[..., int]) -> None:
    make_user("li", role="agent")
    agent = login("li", locale="en")
    assert "My profile" in agent.get("/profile").text

    saved = agent.post(
        "/profile",
        data={"csrf_token": csrf_of(agent), "display_name": "李雷", "locale": "zh_CN"},
        follow_redirects=False,
    )

    assert saved.status_code == 303
    page = agent.get("/profile").text
    assert "个人资料" in page
    assert "My profile" not in page
    assert "李雷" in page


def test_profile_password_change_needs_the_current_one(
    login: Login, make_user: Callable[..., int], app: FastAPI
) -> None:
    make_user("li", role="agent")
    agent = login("li")
    csrf = csrf_of(agent)
    form = {"csrf_token": csrf, "password": "new-secret-42", "password_confirm": "new-secret-42"}

    wrong = agent.post("/profile/password", data={**form, "current_password": "guess"})
    right = agent.post(
        "/profile/password",
        data={**form, "current_password": "correct-horse-9"},
        follow_redirects=False,
    )

    assert wrong.status_code == 422
    assert field_errors(wrong.text) == {"current_password": "Current password is not valid"}
    assert right.status_code == 303
    login("li", password="new-secret-42")


def test_token_created_on_the_profile_works_against_the_api(
    login: Login, make_user: Callable[..., int], app: FastAPI
) -> None:
    make_user("li", role="agent")
    agent = login("li")

    page = agent.post(
        "/profile/tokens", data={"csrf_token": csrf_of(agent), "name": "CLI", "scopes": ["*"]}
    )

    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"  # the secret is not cached anywhere
    token = re.search(r'id="new-token"[^>]*value="(fuwu_[^"]+)"', page.text)
    assert token is not None
    from .conftest import TestClient

    with TestClient(app) as api:
        me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {token.group(1)}"})
    assert me.status_code == 200
    assert me.json()["username"] == "li"
    assert token.group(1) not in agent.get("/profile").text  # shown once only


def test_admin_token_revoke_stops_the_token(
    login: Login, make_user: Callable[..., int], app: FastAPI
) -> None:
    make_user("root", role="admin")
    target = make_user("bot", role="agent")
    admin = login("root")
    csrf = csrf_of(admin)
    page = admin.post(
        f"/admin/users/{target}/tokens",
        data={"csrf_token": csrf, "name": "ERP", "scopes": ["tickets:read"]},
    )
    token = re.search(r'value="(fuwu_[^"]+)"', page.text)
    revoke = re.search(r'action="(/admin/users/\d+/tokens/\d+/revoke)"', page.text)
    assert token is not None
    assert revoke is not None

    admin.post(revoke.group(1), data={"csrf_token": csrf})

    from .conftest import TestClient

    with TestClient(app) as api:
        me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {token.group(1)}"})
    assert me.status_code == 401


def test_team_with_members_shows_its_count(login: Login, make_user: Callable[..., int]) -> None:
    make_user("root", role="admin")
    members = [make_user("a1"), make_user("a2")]
    admin = login("root")

    created = admin.post(
        "/admin/teams/new",
        data={
            "csrf_token": csrf_of(admin),
            "name": "二线支持",
            "member_ids": [str(m) for m in members],
        },
        follow_redirects=False,
    )

    assert created.status_code == 303
    listing = admin.get("/admin/teams").text
    assert re.search(r'二线支持</strong>.*?<span class="count">2</span>', listing, re.S)


def test_customer_pages_create_show_and_validate(
    login: Login, make_user: Callable[..., int]
) -> None:
    make_user("li", role="agent", locale="zh_CN")
    agent = login("li")
    csrf = csrf_of(agent)
    org = agent.post(
        "/organisations/new", data={"csrf_token": csrf, "name": "上海电力", "tags": "大客户, 华东"}
    )
    assert org.status_code == 200
    assert "上海电力" in org.text

    bad = agent.post("/customers/new", data={"csrf_token": csrf, "name": "张三", "email": "x@"})
    created = agent.post(
        "/customers/new",
        data={"csrf_token": csrf, "name": "张三", "phone": "138 0013 8000", "organisation_id": "1"},
        follow_redirects=False,
    )

    assert bad.status_code == 422
    assert field_errors(bad.text) == {"email": "邮箱不是有效的邮箱地址"}
    assert created.status_code == 303
    detail = agent.get(created.headers["location"]).text
    assert "+8613800138000" in detail
    assert "上海电力" in detail
    assert 'hx-get="/customers/1/tickets"' in detail
    assert agent.get("/customers?q=张").text.count("张三") >= 1
    assert agent.get("/customers/1/tickets").status_code == 200


def test_customer_ticket_fragment_lists_their_tickets(
    app: FastAPI, login: Login, make_user: Callable[..., int]
) -> None:
    from fuwu.tickets import service as tickets_service
    from fuwu.tickets.schemas import TicketCreate

    make_user("li", role="agent", ticket_scope="all")
    with transaction(app.state.writer) as session:
        system = Principal.system()
        contact = customers_service.create_contact(
            session, actor=system, data=ContactCreate(name="赵六", email="zhao@example.com")
        )
        tickets_service.create_ticket(
            session,
            actor=system,
            data=TicketCreate(subject="空调不制冷", customer_id=contact.id),
            number_pattern="SR{seq:05}",
            timezone="Asia/Shanghai",
        )
        contact_id = contact.id
    agent = login("li")

    fragment = agent.get(f"/customers/{contact_id}/tickets", headers={"HX-Request": "true"})

    assert fragment.status_code == 200
    assert "空调不制冷" in fragment.text
    assert "<html" not in fragment.text


def test_htmx_list_filter_returns_only_the_table(
    login: Login, make_user: Callable[..., int]
) -> None:
    make_user("root", role="admin")
    admin = login("root")

    fragment = admin.get("/admin/users?role=admin", headers={"HX-Request": "true"})

    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "root" in fragment.text


def test_unknown_ids_are_404_pages_not_tracebacks(
    login: Login, make_user: Callable[..., int]
) -> None:
    make_user("root", role="admin")
    admin = login("root")
    for url in ("/admin/users/999", "/admin/teams/999", "/customers/999", "/organisations/999"):
        page = admin.get(url)
        assert page.status_code == 404, url
        assert "Traceback" not in page.text


def test_admin_cannot_lock_themselves_out(
    login: Login, make_user: Callable[..., int], app: FastAPI
) -> None:
    root = make_user("root", role="admin")
    admin = login("root")

    page = admin.post(
        f"/admin/users/{root}",
        data={"csrf_token": csrf_of(admin), "display_name": "Root", "role": "admin"},
    )

    assert page.status_code == 422
    with transaction(app.state.reader) as session:
        assert auth_service.get_user(session, root).is_active


def test_changing_the_password_ends_the_other_sessions_and_tokens_but_not_this_one(
    login: Login, make_user: Callable[..., int], app: FastAPI
) -> None:
    make_user("li", role="agent")
    here, elsewhere = login("li"), login("li")
    page = here.post(
        "/profile/tokens", data={"csrf_token": csrf_of(here), "name": "CLI", "scopes": ["*"]}
    )
    found = re.search(r'id="new-token"[^>]*value="(fuwu_[^"]+)"', page.text)
    assert found is not None
    bearer = {"Authorization": f"Bearer {found.group(1)}"}
    assert here.get("/api/v1/me", headers=bearer).status_code == 200

    changed = here.post(
        "/profile/password",
        data={
            "csrf_token": csrf_of(here),
            "current_password": PASSWORD,
            "password": "new-secret-42",
            "password_confirm": "new-secret-42",
        },
        follow_redirects=False,
    )

    assert changed.status_code == 303
    assert here.get("/profile", follow_redirects=False).status_code == 200
    assert elsewhere.get("/profile", follow_redirects=False).status_code in (302, 303)
    assert here.get("/api/v1/me", headers=bearer).status_code == 401
