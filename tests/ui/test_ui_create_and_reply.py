"""Creating a ticket from the form, replying with htmx, the edit sidebar and its 409."""

from __future__ import annotations

import re

from .conftest import Browser


def create(agent: Browser, **fields: str) -> str:
    data = {"subject": "Printer on fire", "description": "Smoke from tray 2", "priority": "high"}
    response = agent.post("/tickets/new", {**data, **fields})
    assert response.status_code == 303, response.text
    return response.headers["location"]


def test_create_form_redirects_to_the_new_ticket_page(
    agent: Browser, people: dict[str, int]
) -> None:
    url = create(
        agent,
        customer_name="Han Meimei",
        customer_email="han@example.com",
        team_id=str(people["team"]),
        assignee_id=str(people["agent2"]),
        tags="printer, hardware",
    )
    assert re.fullmatch(r"/tickets/\d+", url)
    page = agent.get(url)
    assert page.status_code == 200
    assert "Printer on fire" in page.text
    assert "Smoke from tray 2" in page.text
    assert "Han Meimei" in page.text
    assert 'class="badge prio-high"' in page.text
    assert 'value="hardware"' not in page.text
    assert "printer, hardware" in page.text


def test_invalid_create_keeps_input_and_names_the_fields(agent: Browser) -> None:
    response = agent.post(
        "/tickets/new",
        {
            "subject": "",
            "description": "kept text",
            "customer_email": "not-an-email",
            "tags": "a" * 60,
        },
    )
    assert response.status_code == 422
    assert "kept text" in response.text
    assert 'value="not-an-email"' in response.text
    assert 'id="err-subject"' in response.text
    assert "Subject" in response.text
    assert "is too short" in response.text
    assert 'id="err-tags"' in response.text


def test_service_validation_error_is_shown_next_to_the_customer_email(agent: Browser) -> None:
    response = agent.post("/tickets/new", {"subject": "Hi", "customer_email": "nope@"})
    assert response.status_code == 422
    assert 'id="err-customer_email"' in response.text
    assert 'value="nope@"' in response.text


def test_htmx_create_error_returns_only_the_form_and_success_redirects(agent: Browser) -> None:
    bad = agent.post("/tickets/new", {"subject": ""}, htmx=True)
    assert bad.status_code == 422
    assert bad.text.lstrip().startswith("<form")
    assert "<html" not in bad.text
    good = agent.post("/tickets/new", {"subject": "Via htmx"}, htmx=True)
    assert good.headers["HX-Redirect"].startswith("/tickets/")


def test_invalid_create_in_chinese(agent: Browser) -> None:
    agent.post("/lang", {"locale": "zh_CN", "next": "/tickets/new"})
    response = agent.post("/tickets/new", {"subject": ""})
    assert response.status_code == 422
    assert "主题" in response.text
    assert "新建工单" in response.text


def test_post_without_csrf_token_is_refused(agent: Browser) -> None:
    response = agent.post("/tickets/new", {"subject": "No token"}, with_token=False)
    assert response.status_code == 403
    assert "/tickets/" not in response.headers.get("location", "")


def test_htmx_reply_returns_the_timeline_and_keeps_the_sidebar_saveable(agent: Browser) -> None:
    url = create(agent)
    before = re.search(r'name="version" id="ticket-version" value="(\d+)"', agent.get(url).text)
    assert before
    response = agent.post(
        f"{url}/messages", {"body": "We are on our way", "kind": "reply"}, htmx=True
    )
    assert response.status_code == 200
    assert 'id="timeline"' in response.text
    assert "We are on our way" in response.text
    assert "<html" not in response.text
    after = re.search(r'id="ticket-version" value="(\d+)" hx-swap-oob="true"', response.text)
    assert after
    # A reply is not an edit of the ticket's fields: the sidebar's version stays valid, so
    # saving the sidebar right after replying is not refused as stale.
    assert int(after.group(1)) == int(before.group(1))
    saved = agent.post(url, {"version": after.group(1), "status": "pending", "priority": "high"})
    assert saved.status_code in (200, 303), saved.text[:300]


def test_empty_reply_is_refused_with_a_message(agent: Browser) -> None:
    url = create(agent)
    response = agent.post(f"{url}/messages", {"body": "   ", "kind": "reply"}, htmx=True)
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#flash"
    assert "Message" in response.text


def test_sidebar_saves_changes_and_shows_them_in_the_timeline(
    agent: Browser, people: dict[str, int]
) -> None:
    url = create(agent)
    page = agent.get(url).text
    version = re.search(r'id="ticket-version" value="(\d+)"', page)
    assert version
    response = agent.post(
        url,
        {
            "status": "pending",
            "priority": "urgent",
            "team_id": str(people["team"]),
            "assignee_id": str(people["agent1"]),
            "tags": "vip",
            "version": version.group(1),
        },
        htmx=True,
    )
    assert response.status_code == 200, response.text
    assert "Changes saved." in response.text
    assert "Wang Fang changed" in response.text
    assert "Status: New → Pending" in response.text
    assert "Wang Fang" in response.text


def test_stale_version_is_refused_with_a_reload_message(
    agent: Browser, people: dict[str, int]
) -> None:
    url = create(agent)
    version = re.search(r'id="ticket-version" value="(\d+)"', agent.get(url).text)
    assert version
    first = agent.post(url, {"status": "pending", "priority": "high", "version": version.group(1)})
    assert first.status_code == 303
    second = agent.post(
        url, {"status": "resolved", "priority": "low", "version": version.group(1)}, htmx=True
    )
    assert second.status_code == 409
    assert second.headers["HX-Retarget"] == "#flash"
    assert "Someone else changed this ticket" in second.text
    assert f'href="{url}"' in second.text
    page = agent.get(url).text
    assert "selected>Pending" in page.replace('"pending" selected', '"pending" selected')
    assert "badge cat-pending" in page
    assert "badge prio-high" in page


def test_attachment_upload_and_download(agent: Browser) -> None:
    url = create(agent)
    response = agent.post(
        f"{url}/attachments",
        {},
        htmx=True,
        files={"file": ("notes.txt", b"hello there", "text/plain")},
    )
    assert response.status_code == 200, response.text
    link = re.search(r'href="(/attachments/\d+)">notes.txt<', response.text)
    assert link
    download = agent.get(link.group(1))
    assert download.status_code == 200
    assert download.content == b"hello there"
    assert "attachment" in download.headers["content-disposition"]


def test_an_agent_records_the_channel_the_ticket_came_in_by(agent: Browser) -> None:
    form = agent.get("/tickets/new").text
    assert 'name="channel"' in form
    assert ">Walk-in<" in form
    phoned = agent.get(create(agent, channel="phone")).text
    walked = agent.get(create(agent, channel="walk_in")).text
    forged = agent.get(create(agent, channel="iot")).text  # not one an agent may pick
    assert "created the ticket via Phone" in phoned
    assert "created the ticket via Walk-in" in walked
    assert "created the ticket via Web" in forged
