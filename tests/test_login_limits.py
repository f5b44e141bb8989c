"""Sign-in limits count each failure once and lock a (user, address) pair: an anonymous caller
cannot lock a user out everywhere (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest

from fuwu.auth import access
from fuwu.db import transaction
from fuwu.errors import NotAuthenticated, RateLimited

PASSWORD = "correct-horse-42"
LIMIT = 5


def attempt(app: Any, username: str, password: str, ip: str) -> str:
    """'ok', 'wrong' or 'locked'; failures are kept, as the sign-in page keeps them."""
    with transaction(app.state.writer) as session:
        try:
            access.authenticate(
                session, username=username, password=password, ip=ip, max_failures=LIMIT
            )
        except NotAuthenticated:
            return "wrong"
        except RateLimited:
            return "locked"
    return "ok"


def test_each_failure_counts_once(app: Any, factory: Any) -> None:
    factory.user("agent", username="li")
    for _ in range(LIMIT - 1):
        assert attempt(app, "li", "guess", "10.0.0.1") == "wrong"
    assert attempt(app, "li", PASSWORD, "10.0.0.1") == "ok"  # the fifth try still counts


def test_failures_lock_the_pair_not_the_user(app: Any, factory: Any) -> None:
    factory.user("agent", username="li")
    for _ in range(LIMIT):
        assert attempt(app, "li", "guess", "203.0.113.9") == "wrong"
    assert attempt(app, "li", PASSWORD, "203.0.113.9") == "locked"
    assert attempt(app, "li", PASSWORD, "10.0.0.7") == "ok"  # the user, from their own desk


def test_one_address_trying_many_users_is_locked_too(app: Any, factory: Any) -> None:
    factory.user("agent", username="li")
    for n in range(LIMIT * access.ADDRESS_FAILURES_FACTOR):
        assert attempt(app, f"user{n}", "guess", "198.51.100.4") == "wrong"
    assert attempt(app, "li", PASSWORD, "198.51.100.4") == "locked"
    assert attempt(app, "li", PASSWORD, "10.0.0.7") == "ok"


@pytest.mark.parametrize("username", ["li", "LI", "Li"])
def test_a_success_clears_the_pairs_failures(app: Any, factory: Any, username: str) -> None:
    factory.user("agent", username="li")
    for _ in range(LIMIT - 1):
        attempt(app, username, "guess", "10.0.0.1")
    assert attempt(app, "li", PASSWORD, "10.0.0.1") == "ok"
    for _ in range(LIMIT - 1):
        assert attempt(app, "li", "guess", "10.0.0.1") == "wrong"
    assert attempt(app, "li", PASSWORD, "10.0.0.1") == "ok"
