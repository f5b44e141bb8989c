"""The `fuwu` command, run as a real subprocess against the test database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, inspect, select

from fuwu.audit.models import AuditEntry
from fuwu.auth import passwords
from fuwu.auth.models import User
from fuwu.customers.models import Contact
from fuwu.db import transaction
from fuwu.jobs.models import DomainEvent
from fuwu.tickets.models import Ticket, TicketEvent
from support_cli import run_fuwu

FUWU = str(Path(sys.executable).with_name("fuwu"))
sqlite_only = pytest.mark.parametrize("migrated_url", ["sqlite"], indirect=True)


@pytest.fixture
def fuwu(db_url, tmp_path):
    """Run `fuwu ARGS…` with FUWU_DATA_DIR and FUWU_DATABASE_URL pointing at the test database."""

    def run(*args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        return run_fuwu(db_url, tmp_path / "cli", *args, **extra_env)

    return run


@sqlite_only
def test_help_lists_every_command(fuwu):
    result = fuwu("--help")
    assert result.returncode == 0, result.stderr
    for command in ("serve", "worker", "migrate", "demo", "createadmin", "token", "ticket"):
        assert command in result.stdout, command


def test_createadmin_then_token_authenticates(app, client, fuwu):
    created = fuwu(
        "createadmin",
        "--username",
        "boss",
        "--email",
        "boss@example.com",
        "--password",
        "Str0ng-enough!",
    )
    assert created.returncode == 0, created.stderr
    assert "created admin boss" in created.stdout
    with transaction(app.state.reader) as session:
        user = session.scalar(select(User).where(User.username == "boss"))
    assert user is not None
    assert (user.role, user.email) == ("admin", "boss@example.com")
    assert passwords.verify_password(user.password_hash, "Str0ng-enough!")

    issued = fuwu("token", "create", "--user", "boss")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    assert token.startswith("fuwu_")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text
    assert me.json()["username"] == "boss"


@sqlite_only
def test_token_scopes_and_unknown_user(app, client, factory, fuwu):
    factory.user("agent", username="li")
    issued = fuwu("token", "create", "--user", "li", "--scope", "tickets:read")
    assert issued.returncode == 0, issued.stderr
    headers = {"Authorization": f"Bearer {issued.stdout.strip()}"}
    assert client.get("/api/v1/tickets", headers=headers).status_code == 200
    assert client.post("/api/v1/tickets", json={"subject": "x"}, headers=headers).status_code == 403

    missing = fuwu("token", "create", "--user", "nobody")
    assert missing.returncode == 1
    assert "no user named 'nobody'" in missing.stderr
    assert "Traceback" not in missing.stderr


@sqlite_only
def test_createadmin_with_a_weak_password_fails_clearly(app, fuwu):
    result = fuwu(
        "createadmin", "--username", "weak", "--email", "weak@example.com", "--password", "password"
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert "password: Password must have at least 10 characters" in result.stderr, result.stderr
    with transaction(app.state.reader) as session:
        assert session.scalar(select(User).where(User.username == "weak")) is None


@sqlite_only
def test_createadmin_with_a_taken_username_fails_clearly(factory, fuwu):
    factory.user("admin", username="taken")
    taken = fuwu(
        "createadmin",
        "--username",
        "taken",
        "--email",
        "b@example.com",
        "--password",
        "Str0ng-enough!",
    )
    assert taken.returncode == 1
    assert "username: Username is already taken" in taken.stderr, taken.stderr
    assert "Traceback" not in taken.stderr


@sqlite_only
@pytest.mark.parametrize("env", ["production", "development"])
def test_a_published_secret_refuses_to_start(fuwu, env):
    result = fuwu("migrate", FUWU_ENV=env, FUWU_SECRET_KEY="dev-insecure-secret-change-me")
    assert result.returncode == 2
    assert "FUWU_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


@sqlite_only
def test_migrate_builds_an_empty_database(fuwu, tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    result = fuwu("migrate", FUWU_DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    assert "database at head" in result.stdout
    engine = create_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"ticket", "user", "job", "audit_log", "alembic_version"} <= tables


def test_ticket_create_and_update_go_through_the_pipeline(app, factory, fuwu):
    """`fuwu ticket create` opens a ticket with its customer found or created, tags and custom
    values checked by the type's form; `update` by number changes it, leaving the same
    history, event and audit rows as any other entry point."""
    team = factory.team("客服一组")
    created = fuwu(
        "ticket", "create", "--subject", "空调漏水", "--customer-email", "chen@example.com",
        "--customer-name", "陈静", "--team", str(team.id), "--tag", "VIP", "--tag", "保内",
        "--channel", "phone",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    number = created.stdout.split()[0]
    with transaction(app.state.reader) as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket is not None
        assert (ticket.subject, ticket.channel, ticket.team_id) == ("空调漏水", "phone", team.id)
        assert ticket.tags == ["VIP", "保内"]
        customer = session.get(Contact, ticket.customer_id)
        assert customer is not None
        assert (customer.name, customer.email) == ("陈静", "chen@example.com")
    changed = fuwu("ticket", "update", number, "--status", "pending", "--priority", "high")
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout.strip() == f"{number} version 2"
    again = fuwu("ticket", "update", number, "--status", "pending")
    assert again.stdout.strip() == f"{number} unchanged"
    with transaction(app.state.reader) as session:
        history = session.scalars(
            select(TicketEvent.changes).where(
                TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "updated"
            )
        ).all()
        events = session.scalar(
            select(func.count()).select_from(DomainEvent).where(
                DomainEvent.entity_id == ticket.id, DomainEvent.name.like("ticket.%")
            )
        )  # fmt: skip
        audits = session.scalar(
            select(func.count()).select_from(AuditEntry).where(
                AuditEntry.entity == "ticket", AuditEntry.entity_id == str(ticket.id)
            )
        )  # fmt: skip
    assert history == [{"status": ["new", "pending"], "priority": ["normal", "high"]}]
    assert (events, audits) == (2, 2)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("create", "--subject", ""), "subject"),
        (("create", "--subject", "x", "--priority", "soon"), "priority"),
        (("create", "--subject", "x", "--set", "novalue"), "KEY=VALUE"),
        (("create", "--subject", "x", "--team", "999999"), "team_id"),
        (("update", "SR19990101-00001", "--status", "open"), "does not exist"),
        (("update", "1", "--status", "gone"), "status"),
    ],
)
def test_bad_ticket_commands_say_what_is_wrong_and_change_nothing(app, fuwu, args, says):
    result = fuwu("ticket", *args)
    assert result.returncode != 0
    assert says in result.stderr
    assert "Traceback" not in result.stderr
    with transaction(app.state.reader) as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 0
