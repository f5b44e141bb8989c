"""The demo company: loads into an empty database, people can sign in, data is consistent."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.conftest import DB_KINDS, TestDatabases

from fuwu import migrate
from fuwu.audit.models import AuditEntry
from fuwu.auth import access
from fuwu.auth import service as auth_service
from fuwu.auth.models import Team, User
from fuwu.auth.principal import Principal
from fuwu.config import Settings
from fuwu.customers.models import Asset, Contact, ContactIdentity, Organisation
from fuwu.db import make_engine, make_sessionmakers, transaction
from fuwu.demo import catalogue, loader
from fuwu.demo import workflows as demo_workflows
from fuwu.errors import ValidationFailed
from fuwu.fields.forms import records as entity_forms
from fuwu.fields.forms.validation import validate, variables_for
from fuwu.jobs.models import DomainEvent
from fuwu.kit.time import utcnow
from fuwu.tickets import engines, numbering
from fuwu.tickets import service as tickets_service
from fuwu.tickets.models import Message, Ticket, TicketEvent, TicketTag
from fuwu.tickets.repository import TicketFilter, list_tickets
from fuwu.tickets.schemas import TicketCreate
from fuwu.tickets.types import service as ticket_types
from fuwu.tickets.views_support import ticket_system
from fuwu.workflows import approvals

TZ = "Asia/Shanghai"
TICKETS = 200
DAYS = 30
NOW = utcnow()  # one instant for every load in this module, so two loads can be compared


@dataclass(frozen=True)
class Demo:
    settings: Settings
    reader: sessionmaker[Session]
    writer: sessionmaker[Session]


@pytest.fixture(scope="module", params=DB_KINDS)
def demo(
    request: pytest.FixtureRequest,
    databases: TestDatabases,
    tmp_path_factory: pytest.TempPathFactory,
) -> Demo:
    """The demo company, loaded once per database for this module's tests, which only read
    it (a test that writes rolls back)."""
    url = databases.new(request.param)
    migrate.upgrade(url)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        env="test",
        data_dir=tmp_path_factory.mktemp("demo"),
        database_url=url,
        embedded_worker=False,
    )
    reader, writer = make_sessionmakers(databases.engine(url), info=engines.session_info())
    with transaction(writer) as session:
        assert loader.is_empty(session)
        summary = loader.load(session, settings=settings, tickets=TICKETS, days=DAYS, now=NOW)
    assert catalogue.DEMO_PASSWORD in summary
    assert "customer1" in summary
    return Demo(settings, reader, writer)


def test_counts_and_not_empty_afterwards(demo: Demo) -> None:
    with transaction(demo.reader) as session:
        assert not loader.is_empty(session)
        count = {
            model.__name__: session.scalar(select(func.count()).select_from(model))
            for model in (User, Team, Organisation, Contact, Asset, Ticket, Message, TicketEvent)
        }
        children = session.scalar(select(func.count()).where(Ticket.parent_id.is_not(None)))
        identities = session.scalar(select(func.count()).select_from(ContactIdentity))
        tags = session.scalar(select(func.count()).select_from(TicketTag))
    assert count["User"] == len(catalogue.STAFF) + 2  # + admin and customer1
    assert count["Team"] == 6
    assert count["Organisation"] == len(catalogue.ORGANISATIONS)
    assert count["Contact"] == loader.DEFAULT_CONTACTS
    assert count["Asset"] >= loader.DEFAULT_CONTACTS
    assert children  # spare-parts requests opened under repairs
    assert count["Ticket"] == TICKETS + children
    assert count["Message"] >= 2 * TICKETS
    assert count["TicketEvent"] >= 2 * TICKETS
    assert identities is not None
    assert identities >= loader.DEFAULT_CONTACTS
    assert tags is not None
    assert tags >= 2 * TICKETS


@pytest.mark.parametrize("username", ["admin", "supervisor1", "agent1", "engineer8", "customer1"])
def test_everyone_signs_in_with_the_demo_password(demo: Demo, username: str) -> None:
    with transaction(demo.writer) as session:
        user = access.authenticate(
            session, username=username, password=catalogue.DEMO_PASSWORD, ip=None, max_failures=10
        )
        assert user.username == username
        assert user.is_active


def test_state_mix_follows_age_and_timestamps_agree(demo: Demo) -> None:
    """By category: repairs go through their workflow's statuses (待受理 … 已完结), the other
    types through the five default ones; the timestamps agree with the category either way."""
    now = NOW
    with transaction(demo.reader) as session:
        tickets = session.scalars(
            select(Ticket).where(Ticket.parent_id.is_(None)).order_by(Ticket.created_at)
        ).all()  # the customers' tickets (spare-parts requests: test_spare_parts_…)
        states = Counter(t.status_category for t in tickets)
        assert states["closed"] > TICKETS * 0.6
        assert states["new"] + states["open"] + states["pending"] >= 5
        newest = tickets[-20:]
        assert sum(t.is_open for t in newest) > sum(t.is_open for t in tickets[:20])
        for t in tickets:
            assert t.created_at <= t.updated_at <= now
            assert t.is_open == (t.status_category in ("new", "open", "pending"))
            if t.type_key not in demo_workflows.WORKFLOWS:
                assert t.status_category == t.status
            if t.status_category == "new":
                assert t.assignee_id is None
                assert t.first_response_at is None
            else:
                assert t.assignee_id is not None
                assert t.team_id is not None
                assert t.first_response_at is not None
                assert t.created_at <= t.first_response_at
            if t.status_category in ("resolved", "closed"):
                assert t.resolved_at is not None
                assert t.first_response_at is not None
                assert t.first_response_at <= t.resolved_at <= t.updated_at
            else:
                assert t.resolved_at is None
            if t.status_category == "closed":
                assert t.closed_at is not None
                assert t.resolved_at is not None
                assert t.resolved_at <= t.closed_at
            else:
                assert t.closed_at is None
        stray = session.scalar(
            select(func.count())
            .select_from(Message)
            .join(Ticket, Ticket.id == Message.ticket_id)
            .where(Message.created_at < Ticket.created_at)
        )
        assert stray == 0


def test_repairs_follow_the_repair_workflow_step_by_step(demo: Demo) -> None:
    """Every repair is in one of its workflow's statuses, and its history moves only along
    the workflow's steps, each change naming the step that made it."""
    steps = {(src, t["to"]): t["key"] for t in demo_workflows.REPAIR["transitions"]
             for src in t["from"]}  # fmt: skip
    with transaction(demo.reader) as session:
        repairs = session.scalars(select(Ticket).where(Ticket.type_key == "repair")).all()
        assert len(repairs) > 20
        reached = Counter(t.status for t in repairs)
        assert set(reached) <= set(demo_workflows.REPAIR["statuses"])
        assert "done" in reached
        assert len(reached) >= 4, reached  # repairs at several points of the loop
        for ticket in repairs:
            events = session.scalars(
                select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                .order_by(TicketEvent.created_at, TicketEvent.id)
            ).all()  # fmt: skip
            for event in events:
                if "status" in event.changes and event.kind != "created":
                    old, new = event.changes["status"]
                    assert (old, new) in steps, (ticket.number, old, new)
                    assert (event.reasons or {}).get("status", "").startswith("workflow:")


def test_complaints_close_only_with_a_supervisors_approval(demo: Demo) -> None:
    """Every complaint past 待审批 has an approved round decided by the supervisor; those in
    待审批 wait in the supervisor's approvals; some were sent back once before."""
    with transaction(demo.reader) as session:
        complaints = session.scalars(select(Ticket).where(Ticket.type_key == "complaint")).all()
        assert len(complaints) > 5
        assert {t.status for t in complaints} <= set(demo_workflows.COMPLAINT["statuses"])
        supervisor = session.scalar(select(User).where(User.username == "supervisor1"))
        assert supervisor is not None
        for ticket in complaints:
            rounds = approvals.rounds_of(session, ticket.id)
            states = [r.state for r in rounds]
            if ticket.status in ("callback", "done"):
                assert states[-1] == "approved", (ticket.number, states)
                assert set(states[:-1]) <= {"rejected"}
            if ticket.status == "review":
                assert states[-1] == "pending"
        waiting = approvals.waiting_for(session, supervisor.id)
        assert waiting, "the supervisor has complaints to approve"
        assert all(r.status_key == "review" for r in waiting)


def test_spare_parts_requests_run_under_their_repairs(demo: Demo) -> None:
    """Some repairs order a part: a 备件申请 opens under the repair with the part asked for,
    the manager approves, the desk ships, the engineer signs; the repair then went back to
    处理中 by itself. Requests still awaiting approval sit in the manager's approvals."""
    with transaction(demo.reader) as session:
        parts = session.scalars(select(Ticket).where(Ticket.type_key == "spare_parts")).all()
        assert len(parts) >= 3
        statuses = {t.status for t in parts}
        assert statuses <= set(demo_workflows.SPARE_PARTS["statuses"])
        assert "parts_received" in statuses
        for child in parts:
            parent = session.get(Ticket, child.parent_id)
            assert parent is not None
            assert parent.type_key == "repair"
            assert child.custom["part_no"] == parent.custom["part_no"]
            assert child.subject.startswith("备件申请：")
            if child.status == "parts_review":
                assert parent.status == "waiting_parts"
            else:
                assert parent.status != "waiting_parts"
        arrived = session.scalars(
            select(TicketEvent).where(TicketEvent.kind == "children")
        ).all()  # fmt: skip
        assert arrived
        assert all(e.reasons["status"] == "workflow:parts_arrived" for e in arrived)


def test_assignees_belong_to_the_ticket_team(demo: Demo) -> None:
    with transaction(demo.reader) as session:
        members = {
            (team.id, member.id)
            for team in auth_service.list_teams(session)
            for member in team.members
        }
        pairs = session.execute(
            select(Ticket.team_id, Ticket.assignee_id).where(Ticket.assignee_id.is_not(None))
        ).all()
    assert pairs
    assert all((team_id, user_id) in members for team_id, user_id in pairs)


def test_numbers_follow_the_pattern_and_new_tickets_continue_them(
    demo: Demo,
) -> None:
    settings = demo.settings
    pattern = settings.ticket_number_pattern
    with transaction(demo.reader) as session:
        numbers = session.scalars(select(Ticket.number)).all()
    assert len(set(numbers)) == len(numbers) >= TICKETS  # spare-parts requests have theirs
    assert all(re.fullmatch(r"SR\d{8}-\d{5}", n) for n in numbers)
    per_day: dict[str, list[int]] = {}
    for n in numbers:
        day, seq = n.rsplit("-", 1)
        per_day.setdefault(day, []).append(int(seq))
    assert all(sorted(seqs) == list(range(1, len(seqs) + 1)) for seqs in per_day.values())

    with demo.writer() as session:  # rolled back: the other tests see the demo as loaded
        ticket = tickets_service.create_ticket(
            session,
            actor=Principal.system(),
            data=TicketCreate(subject="空调不制冷（演示后新建）"),
            number_pattern=pattern,
            timezone=settings.timezone,
        )
        number = ticket.number
        session.rollback()
    assert number not in numbers
    day = numbering.render(pattern, ticket.created_at.astimezone(_zone(settings)), None)
    day = day.rsplit("-", 1)[0]
    assert number == f"{day}-{len(per_day.get(day, [])) + 1:05d}"


def test_portal_customer_sees_only_their_own_tickets(demo: Demo) -> None:
    with transaction(demo.reader) as session:
        user = auth_service.get_user_by_username(session, "customer1")
        assert user is not None
        assert user.contact_id is not None
        principal = auth_service.principal_for(session, user)
        rows, _ = list_tickets(session, actor=principal, filters=TicketFilter(), limit=200)
        own = session.scalar(
            select(func.count()).select_from(Ticket).where(Ticket.customer_id == user.contact_id)
        )
    assert own, "the demo gives customer1 tickets"
    assert rows
    assert len(rows) == own
    assert {t.customer_id for t in rows} == {user.contact_id}


def test_loading_twice_gives_the_same_data(
    demo: Demo, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Seeded: a second load into another empty database makes the same tickets."""
    url = f"sqlite:///{tmp_path_factory.mktemp('demo-again') / 'again.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url, pool_size=1)
    _, writer = make_sessionmakers(engine, info=engines.session_info())
    try:
        with transaction(writer) as session:
            loader.load(session, settings=demo.settings, tickets=TICKETS, days=DAYS, now=NOW)
        query = select(Ticket.subject, Ticket.status, Ticket.priority, Ticket.channel).order_by(
            Ticket.id
        )
        with transaction(writer) as session:
            again = session.execute(query).all()
        with transaction(demo.reader) as session:
            first = session.execute(query).all()
    finally:
        engine.dispose()
    assert again == first


def _zone(settings: Settings) -> ZoneInfo:
    return ZoneInfo(settings.timezone)


def test_every_demo_ticket_is_valid_against_its_published_form(demo: Demo) -> None:
    """What "编辑详情" checks on save: the demo's records pass their own forms."""
    failures: dict[str, list[str]] = {}
    with transaction(demo.writer) as session:
        rows = session.execute(select(Ticket.id, Ticket.number, Ticket.type_key)).all()
        for ticket_id, number, type_key in rows:
            ticket = tickets_service.get_ticket(
                session, actor=Principal.system(), ticket_id=ticket_id
            )
            form = ticket_types.form(session, type_key, TZ, ticket.form_version)
            if form is None:
                continue
            try:
                validate(
                    form, "agent_edit", dict(ticket.custom), system=ticket_system(ticket),
                    previous=dict(ticket.custom), variables=variables_for(None, TZ),
                )  # fmt: skip
            except ValidationFailed as exc:
                failures[f"{number} ({type_key})"] = [
                    f"{e['field']}: {e['code']}" for e in exc.errors
                ]
        session.rollback()
    assert len(rows) > TICKETS  # with the spare-parts requests opened under repairs
    assert failures == {}, dict(list(failures.items())[:5])


def test_every_demo_change_left_its_history_event_and_audit_row(demo: Demo) -> None:
    """The demo goes through the change pipeline: each history row of a ticket has its domain
    event and its audit row, and staff changes are signed by the person who made them."""

    def count(model: type, *where: Any) -> int:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    with transaction(demo.reader) as session:
        created = count(TicketEvent, TicketEvent.kind == "created")
        # "approval": moved by an approver's decision (the approval's step); "children": a
        # repair back to 处理中 when its spare-parts request was signed for
        updated = count(TicketEvent, TicketEvent.kind.in_(("updated", "approval", "children")))
        assert count(TicketEvent, TicketEvent.kind == "approval") > 0
        assert created == count(Ticket)
        assert updated > TICKETS  # assigned, resolved, closed …
        assert count(DomainEvent, DomainEvent.name == "ticket.created") == created
        assert count(DomainEvent, DomainEvent.name == "ticket.updated") == updated
        tickets = AuditEntry.entity == "ticket"
        assert count(AuditEntry, tickets, AuditEntry.action == "create") == created
        assert count(AuditEntry, tickets, AuditEntry.action == "update") == updated
        signers = set(
            session.scalars(select(TicketEvent.actor_name).where(TicketEvent.kind == "updated"))
        )
    staff_names = {name for _user, name, *_ in catalogue.STAFF}
    assert len(signers & staff_names) > 5


def test_every_demo_customer_organisation_and_asset_is_valid_against_its_form(demo: Demo) -> None:
    """The customer, organisation and asset fields of the demo hold values their forms accept."""
    failures: dict[str, list[str]] = {}
    with transaction(demo.reader) as session:
        for entity, model in (("contact", Contact), ("organisation", Organisation),
                              ("asset", Asset)):  # fmt: skip
            form = entity_forms.form_of(session, entity, TZ)
            assert form is not None, f"the demo has {entity} fields"
            filled = 0
            for record in session.scalars(select(model)):
                filled += bool(record.custom)
                try:
                    validate(
                        form, "agent_edit", dict(record.custom), system={},
                        previous=dict(record.custom), variables=variables_for(None, TZ),
                    )  # fmt: skip
                except ValidationFailed as exc:
                    failures[f"{entity} {record.id}"] = [e["code"] for e in exc.errors]
            assert filled > 10, f"demo {entity}s carry custom values"
    assert failures == {}
