"""The inbox: saved views, filters, htmx fragment, next page; customers see only their own."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient

from fuwu.auth import service as auth_service
from fuwu.auth.principal import Principal
from fuwu.db import transaction
from fuwu.tickets import service as tickets_service
from fuwu.tickets.schemas import CustomerIn, TicketCreate

from .conftest import Browser


def open_ticket(app: FastAPI, subject: str, **fields: object) -> int:
    settings = app.state.settings
    with transaction(app.state.writer) as session:
        ticket = tickets_service.create_ticket(
            session,
            actor=Principal.system(),
            data=TicketCreate(subject=subject, **fields),
            number_pattern=settings.ticket_number_pattern,
            timezone=settings.timezone,
        )
        return ticket.id


def test_saved_views_split_tickets_by_assignee_and_team(
    app: FastAPI, agent: Browser, people: dict[str, int]
) -> None:
    open_ticket(app, "Mine to do", assignee_id=people["agent1"], team_id=people["team"])
    open_ticket(app, "Nobody has it", team_id=people["team"])
    open_ticket(app, "Colleague has it", assignee_id=people["agent2"], team_id=people["team"])
    open_ticket(app, "Billing only", team_id=people["other_team"])

    mine = agent.get("/inbox?view=mine").text
    assert "Mine to do" in mine
    assert "Nobody has it" not in mine
    assert "Colleague has it" not in mine
    unassigned = agent.get("/inbox?view=unassigned").text
    assert "Nobody has it" in unassigned
    assert "Mine to do" not in unassigned
    team = agent.get("/inbox?view=team").text
    assert all(s in team for s in ("Mine to do", "Nobody has it", "Colleague has it"))
    everything = agent.get("/inbox?view=all").text
    assert "Billing only" not in everything  # another team's ticket stays invisible to an agent


def test_filters_and_sort_apply(app: FastAPI, agent: Browser, people: dict[str, int]) -> None:
    open_ticket(app, "Low thing", priority="low", team_id=people["team"], tags=["printer"])
    open_ticket(app, "Urgent thing", priority="urgent", team_id=people["team"])
    urgent = agent.get("/inbox?view=all&priority=urgent").text
    assert "Urgent thing" in urgent
    assert "Low thing" not in urgent
    tagged = agent.get("/inbox?view=all&tag=printer").text
    assert "Low thing" in tagged
    assert "Urgent thing" not in tagged
    searched = agent.get("/inbox?view=all&q=urgent").text
    assert "Urgent thing" in searched
    assert "Low thing" not in searched
    by_priority = agent.get("/inbox?view=all&sort=-priority").text
    assert by_priority.index("Urgent thing") < by_priority.index("Low thing")
    ascending = agent.get("/inbox?view=all&sort=priority").text
    assert ascending.index("Low thing") < ascending.index("Urgent thing")


def test_bad_query_values_fall_back_instead_of_failing(agent: Browser) -> None:
    response = agent.get("/inbox?view=nope&sort=password&status=zzz&assignee=x;drop")
    assert response.status_code == 200
    assert 'aria-current="page">My open tickets' in response.text


def test_status_badge_and_priority_badge_classes(
    app: FastAPI, agent: Browser, people: dict[str, int]
) -> None:
    open_ticket(app, "Badge check", priority="high", team_id=people["team"])
    page = agent.get("/inbox?view=all").text
    assert '<span class="badge cat-new">New</span>' in page
    assert '<span class="badge prio-high">High</span>' in page


def test_htmx_request_gets_only_the_list(
    app: FastAPI, agent: Browser, people: dict[str, int]
) -> None:
    open_ticket(app, "Fragment ticket", team_id=people["team"])
    response = agent.get("/inbox?view=all", htmx=True)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="ticket-list"')
    assert "<html" not in response.text
    assert "Fragment ticket" in response.text
    assert "HX-Request" in response.headers["vary"]


def test_next_page_link_walks_through_all_tickets(
    app: FastAPI, agent: Browser, people: dict[str, int]
) -> None:
    for n in range(30):
        open_ticket(app, f"Bulk ticket {n:02d}", team_id=people["team"])
    first = agent.get("/inbox?view=all&sort=created_at").text
    assert "Bulk ticket 00" in first
    assert "Bulk ticket 29" not in first
    start = first.index('hx-get="/inbox?') + len('hx-get="')
    next_url = first[start : first.index('"', start)].replace("&amp;", "&")
    second = agent.get(next_url).text
    assert "Bulk ticket 29" in second
    assert "Bulk ticket 00" not in second
    assert "Next page" not in second


def test_customer_sees_only_their_own_tickets(
    app: FastAPI, sign_in_as: Callable[[str], Browser], people: dict[str, int]
) -> None:
    open_ticket(app, "Li Lei's laptop", customer=CustomerIn(email="lilei@example.com"))
    open_ticket(app, "Someone else's laptop", customer=CustomerIn(email="other@example.com"))
    customer = sign_in_as("customer1")
    page = customer.get("/inbox").text
    assert "My tickets" in page
    assert "Li Lei's laptop" in page.replace("&#39;", "'")
    assert "Someone else" not in page
    assert "My open tickets" not in page  # no agent views for customers


def test_inbox_requires_sign_in(client: TestClient) -> None:
    response = client.get("/inbox", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_language_switch_stores_the_users_choice(
    agent: Browser, sign_in_as: Callable[[str], Browser], app: FastAPI, people: dict[str, int]
) -> None:
    response = agent.post("/lang", {"locale": "zh_CN", "next": "/inbox?view=all"})
    assert response.status_code == 303
    assert response.headers["location"] == "/inbox?view=all"
    assert "收件箱" in agent.get("/inbox").text
    with transaction(app.state.reader) as session:
        assert auth_service.get_user(session, people["agent1"]).locale == "zh_CN"
    again = sign_in_as("agent1")  # a new browser without the cookie still gets Chinese
    assert "全部未解决" in again.get("/inbox").text


def test_the_default_view_is_my_work_for_agents_and_everything_for_admins(
    app: FastAPI, agent: Browser, sign_in_as: Callable[[str], Browser], people: dict[str, int]
) -> None:
    open_ticket(app, "Mine to do", assignee_id=people["agent1"], team_id=people["team"])
    open_ticket(app, "Colleague has it", assignee_id=people["agent2"], team_id=people["team"])
    agents_inbox = agent.get("/inbox").text
    assert "Mine to do" in agents_inbox
    assert "Colleague has it" not in agents_inbox
    admins_inbox = sign_in_as("admin").get("/inbox").text
    assert "Mine to do" in admins_inbox
    assert "Colleague has it" in admins_inbox
