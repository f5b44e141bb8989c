"""A scoped API token is a boundary: it never mints wider tokens and never takes over its user.

Tables of (the caller's credential × what it asks for → status), on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from fuwu.auth import passwords
from fuwu.auth.models import ApiToken, User
from fuwu.db import transaction

PASSWORD = "correct-horse-42"  # the factory's (tests/conftest.py)

# caller's scopes            requested scopes                     for    status
MINT_TABLE: list[tuple[tuple[str, ...], list[str], str, int]] = [
    (("*",), ["*"], "self", 201),
    (("*",), ["tickets:read"], "other", 201),
    (("users:write",), ["users:write"], "self", 201),
    (("users:write",), ["*"], "self", 403),
    (("users:write",), ["*"], "other", 403),
    (("users:write",), ["users:write", "tickets:write"], "self", 403),
    (("users:write",), ["config:write"], "other", 403),
    (("users:write", "tickets:read"), ["tickets:read"], "self", 201),
    (("users:write", "tickets:read"), ["tickets:read", "users:write"], "other", 201),
    (("users:write", "tickets:read"), ["tickets:write"], "self", 403),
]


@pytest.mark.parametrize(("own", "asked", "target", "status"), MINT_TABLE)
def test_a_token_mints_no_token_wider_than_itself(
    client: TestClient,
    factory: Any,
    api_as: Any,
    own: tuple[str, ...],
    asked: list[str],
    target: str,
    status: int,
) -> None:
    admin = factory.user("admin")
    other = factory.user("admin")
    user_id = admin.id if target == "self" else other.id
    response = client.post(
        f"/api/v1/users/{user_id}/tokens",
        json={"name": "minted", "scopes": asked},
        headers=api_as(admin, scopes=own),
    )
    assert response.status_code == status, response.text
    if status == 403:
        assert "scopes it does not have" in response.json()["error"]["message"]
        with transaction(factory.writer) as session:
            names = session.scalars(select(ApiToken.name)).all()
        assert "minted" not in names


# what the caller's own token tries to change about its own user → status
SELF_TABLE: list[tuple[dict[str, Any], int]] = [
    ({"display_name": "Renamed"}, 200),
    ({"locale": "en"}, 200),
    ({"password": "a-new-pass-123", "current_password": PASSWORD}, 403),
    ({"password": "a-new-pass-123"}, 403),
    ({"role": "supervisor"}, 403),
    ({"ticket_scope": "all"}, 403),
    ({"is_active": True}, 403),
    ({"email": "taken-over@example.com"}, 403),
]


@pytest.mark.parametrize("role", ["admin", "agent"])
@pytest.mark.parametrize(("change", "status"), SELF_TABLE)
def test_a_token_cannot_change_its_own_users_credentials_or_privileges(
    client: TestClient,
    factory: Any,
    api_as: Any,
    role: str,
    change: dict[str, Any],
    status: int,
) -> None:
    user = factory.user(role)
    expected = 403 if role == "agent" and set(change) & {"role", "ticket_scope", "is_active",
                                                         "email"} else status  # fmt: skip
    headers = api_as(user)
    before = client.get("/api/v1/me", headers=headers).json()
    response = client.patch(f"/api/v1/users/{user.id}", json=change, headers=headers)
    assert response.status_code == expected, response.text
    if expected == 403:
        assert client.get("/api/v1/me", headers=headers).json() == before
        with transaction(factory.writer) as session:
            stored = session.get(User, user.id)
            assert stored is not None
            assert passwords.verify_password(stored.password_hash, PASSWORD)


def test_an_admin_token_still_manages_other_users(
    client: TestClient, factory: Any, api_as: Any
) -> None:
    admin, agent = factory.user("admin"), factory.user("agent")
    response = client.patch(
        f"/api/v1/users/{agent.id}",
        json={"role": "supervisor", "password": "reset-by-admin-1"},
        headers=api_as(admin),
    )
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "supervisor"


def test_a_password_reset_by_an_admin_ends_the_users_tokens(
    client: TestClient, factory: Any, api_as: Any
) -> None:
    admin, agent = factory.user("admin"), factory.user("agent")
    agents_token = api_as(agent)
    assert client.get("/api/v1/me", headers=agents_token).status_code == 200
    response = client.patch(
        f"/api/v1/users/{agent.id}", json={"password": "reset-by-admin-1"}, headers=api_as(admin)
    )
    assert response.status_code == 200
    assert client.get("/api/v1/me", headers=agents_token).status_code == 401


def test_current_password_is_not_read_back_or_audited(
    client: TestClient, factory: Any, api_as: Any
) -> None:
    admin, agent = factory.user("admin"), factory.user("agent")
    client.patch(
        f"/api/v1/users/{agent.id}",
        json={"password": "reset-by-admin-1", "current_password": "whatever-it-is"},
        headers=api_as(admin),
    )
    log = client.get(f"/api/v1/audit?entity=user&entity_id={agent.id}", headers=api_as(admin))
    assert "whatever-it-is" not in log.text
    assert "reset-by-admin-1" not in log.text
