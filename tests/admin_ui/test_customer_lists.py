"""The customer, organisation and asset lists: the condition builder on any field (choice
fields by their labels), a refused condition named and nothing listed, and an export button
that downloads what the list shows."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from fastapi import FastAPI

from fuwu.auth.principal import Principal
from fuwu.customers import service as customers_service
from fuwu.customers.schemas import ContactCreate, OrganisationCreate
from fuwu.db import transaction
from support_fields import add_field

from .conftest import Login

TIERS = {"choices": [{"key": "gold", "label": {"zh_CN": "金卡", "en": "Gold"}},
                     {"key": "silver", "label": {"zh_CN": "银卡", "en": "Silver"}}]}  # fmt: skip
GOLD = {"match": "all", "c-0-field": "tier", "c-0-op": "eq", "c-0-value": "gold"}


def _contacts(app: FastAPI) -> None:
    """陈静 and 李雷 gold members, 王芳 silver (the `tier` field made here)."""
    add_field(app, "contact", "tier", "select", "会员等级", options=TIERS)
    with transaction(app.state.writer) as session:
        for name, tier in (("陈静", "gold"), ("王芳", "silver"), ("李雷", "gold")):
            data = ContactCreate(name=name, custom={"tier": tier})
            customers_service.create_contact(session, actor=Principal.system(), data=data)


def test_the_customer_list_filters_on_a_custom_field_and_exports_what_it_shows(
    app: FastAPI, login: Login, make_user: Callable[..., int]
) -> None:
    _contacts(app)
    make_user("li", role="agent", locale="zh_CN")
    agent = login("li", locale="zh-CN")
    page = agent.get("/customers", params=GOLD).text
    assert "显示满足以下条件的客户" in page
    assert "会员等级" in page
    assert "\\u91d1\\u5361" in page  # its options by label, in the builder's data
    assert "陈静" in page
    assert "李雷" in page
    assert "王芳" not in page
    assert "/customers/export.csv?match=all&amp;c-0-field=tier" in page
    exported = agent.get("/customers/export.csv", params=GOLD)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert "会员等级" in rows[0]
    assert sorted(r[0] for r in rows[1:]) == ["李雷", "陈静"]
    assert all("金卡" in r for r in rows[1:])
    searched = agent.get("/customers/export.csv", params={**GOLD, "q": "陈"}).text
    assert "陈静" in searched
    assert "李雷" not in searched


def test_a_refused_condition_is_named_and_lists_nothing(
    app: FastAPI, login: Login, make_user: Callable[..., int]
) -> None:
    add_field(app, "contact", "since", "date", "入会日期")
    _contacts(app)
    make_user("li", role="agent", locale="en")
    agent = login("li")
    bad = {"match": "all", "c-0-field": "since", "c-0-op": "gt", "c-0-value": "last spring"}
    page = agent.get("/customers", params=bad).text
    assert "Condition 1" in page
    assert "陈静" not in page
    fragment = agent.get("/customers", params=bad, headers={"HX-Request": "true"}).text
    assert "Condition 1" in fragment  # the htmx answer carries the message too


def test_organisations_and_assets_lists_take_conditions_too(
    app: FastAPI, login: Login, make_user: Callable[..., int]
) -> None:
    with transaction(app.state.writer) as session:
        for name, vip in (("上海电力", 3), ("杭州水务", 0)):
            data = OrganisationCreate(name=name, vip_level=vip)
            customers_service.create_organisation(session, actor=Principal.system(), data=data)
    make_user("li", role="agent", locale="en")
    agent = login("li")
    vip = {"match": "all", "c-0-field": "vip_level", "c-0-op": "gte", "c-0-value": "1"}
    page = agent.get("/organisations", params=vip).text
    assert "上海电力" in page
    assert "杭州水务" not in page
    exported = agent.get("/organisations/export.csv", params=vip).text
    assert "上海电力" in exported
    assert "杭州水务" not in exported
    assets = agent.get("/assets", params={"match": "all", "c-0-field": "product", "c-0-op": "eq",
                                          "c-0-value": "空调"})  # fmt: skip
    assert assets.status_code == 200
    assert "Show assets where" in assets.text


def test_customers_cannot_export_the_lists(
    app: FastAPI, login: Login, make_user: Callable[..., int]
) -> None:
    _contacts(app)
    make_user("chen", role="customer")
    customer = login("chen")
    for url in ("/customers/export.csv", "/organisations/export.csv", "/assets/export.csv"):
        answer = customer.get(url, follow_redirects=False)
        assert answer.status_code in (403, 404), url
        assert "陈静" not in answer.text
