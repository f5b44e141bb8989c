"""The asset pages: the list with search and export, a new asset under its customer with the
admin's custom fields, bad input named under its inputs in the agent's language with what was
typed kept, the owners shown by name (never `#id`) on the detail page and in the edit form."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi import FastAPI

from fuwu.auth.principal import Principal
from fuwu.customers import service as customers_service
from fuwu.customers.schemas import ContactCreate, OrganisationCreate
from fuwu.db import transaction
from support_fields import add_field

from .conftest import Login, csrf_of


def _contact(app: FastAPI, name: str) -> int:
    with transaction(app.state.writer) as session:
        made = customers_service.create_contact(
            session, actor=Principal.system(), data=ContactCreate(name=name)
        )
        return made.id


def test_an_asset_is_added_under_its_customer_checked_shown_and_edited(
    app: FastAPI, login: Login, make_user: Callable[..., int]
) -> None:
    add_field(app, "asset", "refrigerant", "text", "冷媒", required=True)
    owner = _contact(app, "陈静")
    make_user("li", role="agent", locale="zh_CN")
    agent = login("li", locale="zh-CN")
    customer_page = agent.get(f"/customers/{owner}").text
    assert f"/assets/new?customer={owner}" in customer_page
    form = agent.get(f"/assets/new?customer={owner}").text
    assert 'name="refrigerant"' in form
    assert 'value="陈静"' in form  # the picker shows the customer's name
    csrf = csrf_of(agent)
    posted = {"csrf_token": csrf, "product": "空调", "serial_number": "SN-77",
              "contact_id": str(owner), "warranty_until": "明年"}  # fmt: skip
    bad = agent.post("/assets/new", data=posted)
    assert bad.status_code == 422, bad.text
    assert "冷媒" in bad.text
    [message] = re.findall(r'id="e-warranty_until" role="alert">([^<]*)<', bad.text)
    assert message.startswith("保修截止"), message  # named by its label, not its key
    assert 'value="SN-77"' in bad.text  # what was typed stays
    assert 'value="陈静"' in bad.text
    good = {**posted, "warranty_until": "2027-05-01", "refrigerant": "R32"}
    created = agent.post("/assets/new", data=good, follow_redirects=False)
    assert created.status_code == 303, created.text
    detail = agent.get(created.headers["location"]).text
    assert "R32" in detail
    assert "陈静" in detail
    assert "2027-05-01" in detail
    asset_url = created.headers["location"].split("?")[0]
    edit = agent.get(f"{asset_url}/edit").text
    assert 'value="陈静"' in edit
    assert "#" + str(owner) not in edit
    changed = agent.post(f"{asset_url}/edit", data={**good, "model": "KFR-35GW"},
                         follow_redirects=False)  # fmt: skip
    assert changed.status_code == 303, changed.text
    assert "KFR-35GW" in agent.get(asset_url).text
    listing = agent.get("/assets?q=SN-77").text
    assert asset_url in listing
    assert "陈静" in listing
    assert "/assets/export.csv?q=SN-77" in listing
    exported = agent.get("/assets/export.csv?q=SN-77").text
    assert "SN-77" in exported
    assert "R32" in exported


def test_customers_never_reach_the_asset_pages(
    app: FastAPI, login: Login, make_user: Callable[..., int]
) -> None:
    owner = _contact(app, "陈静")
    make_user("chen", role="customer", contact_id=owner)
    customer = login("chen")
    for url in ("/assets", "/assets/new", "/assets/1", "/assets/1/edit"):
        assert customer.get(url, follow_redirects=False).status_code in (403, 404), url


def test_a_new_asset_under_a_customer_starts_with_their_company_and_address(
    app: FastAPI, login: Login, make_user: Callable[..., int]
) -> None:
    with transaction(app.state.writer) as session:
        system = Principal.system()
        org = customers_service.create_organisation(
            session, actor=system, data=OrganisationCreate(name="上海电力")
        )
        owner = customers_service.create_contact(session, actor=system, data=ContactCreate(
            name="陈静", organisation_id=org.id, address="浦东新区张杨路 500 号"
        )).id  # fmt: skip
    make_user("li", role="agent")
    form = login("li").get(f"/assets/new?customer={owner}").text
    assert 'value="上海电力"' in form
    assert 'value="浦东新区张杨路 500 号"' in form
