"""The registry's catalog: each entity's field specs built once per version of its fields and
reused, yet every change — a new label, an archived field, a new field — is seen on the next
read (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from fuwu.db import transaction
from fuwu.fields.registry.catalog import catalog

from .test_forms_api import _l, field


def _read(app: Any, entity: str) -> Any:
    with transaction(app.state.reader) as session:
        return catalog(session, entity)


def test_a_catalog_is_reused_until_a_field_of_its_entity_changes(
    app: Any, client: TestClient, factory: Any, api_as: Any
) -> None:
    admin = api_as(factory.user("admin"), lang="en")
    made = field(client, admin, key="model", type="text", label=_l("型号", "Model"))
    first = _read(app, "ticket")
    assert first is _read(app, "ticket")  # nothing changed: the same object, not rebuilt
    assert first.active == ("model",)
    assert first.specs["model"].label["en"] == "Model"

    relabel = {"version": made["version"], "label": _l("机型", "Unit")}
    renamed = client.patch(f"/api/v1/fields/{made['id']}", headers=admin, json=relabel)
    assert renamed.status_code == 200, renamed.text
    second = _read(app, "ticket")
    assert second is not first
    assert second.specs["model"].label == {"zh_CN": "机型", "en": "Unit"}

    field(client, admin, key="serial", type="text", label=_l("序列号", "Serial"))
    archived = client.post(f"/api/v1/fields/{made['id']}/archive", headers=admin)
    assert archived.status_code == 200, archived.text
    third = _read(app, "ticket")
    assert third.active == ("serial",)
    assert set(third.specs) == {"model", "serial"}  # archived fields are still known by label
    assert _read(app, "contact").specs == {}  # another entity's catalog is its own


def test_an_export_shows_a_renamed_field_at_once(
    client: TestClient, factory: Any, api_as: Any
) -> None:
    admin = api_as(factory.user("admin"), lang="en")
    made = field(client, admin, entity="contact", key="wechat", type="text",
                 label=_l("微信号", "WeChat ID"))  # fmt: skip
    before = client.get("/api/v1/customers/export.csv", headers=admin)
    assert "WeChat ID" in before.text.splitlines()[0]
    client.patch(f"/api/v1/fields/{made['id']}", headers=admin,
                 json={"version": made["version"], "label": _l("微信", "WeChat")})  # fmt: skip
    after = client.get("/api/v1/customers/export.csv", headers=admin)
    header = after.text.splitlines()[0]
    assert "WeChat" in header
    assert "WeChat ID" not in header
