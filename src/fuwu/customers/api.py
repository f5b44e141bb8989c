"""REST routes for contacts (customers), organisations and assets."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from fuwu.auth.deps import scoped
from fuwu.auth.principal import Principal
from fuwu.config import Settings
from fuwu.customers import assets, export
from fuwu.customers import service as customers_service
from fuwu.customers.schemas import (
    AssetCreate,
    AssetRead,
    AssetUpdate,
    ContactCreate,
    ContactRead,
    ContactUpdate,
    OrganisationCreate,
    OrganisationRead,
    OrganisationUpdate,
)
from fuwu.fields.forms import filters as fields_filters
from fuwu.kit.ids import Cursor, Id
from fuwu.web.deps import DbSession, SettingsDep
from fuwu.web.downloads import csv_response
from fuwu.web.errors import locale_of

router = APIRouter(prefix="/api/v1", tags=["customers"])
Reader = Annotated[Principal, Depends(scoped("customers:read"))]
Writer = Annotated[Principal, Depends(scoped("customers:write"))]
Limit = Annotated[int, Query(ge=1, le=500)]
Filter = Annotated[
    str | None,
    Query(alias="filter", max_length=fields_filters.MAX_FILTER,
          description='A condition on any field, custom ones included, e.g. '
                      '{"all":[{"field":"tier","op":"eq","value":"gold"}]}'),
]  # fmt: skip


def _where(
    session: Session, entity: str, raw: str | None, actor: Principal, settings: Settings
) -> Any:
    if not raw:
        return None
    return fields_filters.where(
        session, entity, raw, user_id=actor.user_id, timezone=settings.timezone
    )


@router.get("/customers", response_model=list[ContactRead])
def list_customers(
    session: DbSession,
    actor: Reader,
    settings: SettingsDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    organisation: Id | None = None,
    after_id: Cursor | None = None,
    limit: Limit = 50,
    filter_: Filter = None,
) -> object:
    return customers_service.list_contacts(
        session, actor=actor, q=q, organisation_id=organisation, after_id=after_id, limit=limit,
        where=_where(session, "contact", filter_, actor, settings),
    )  # fmt: skip


def _export(
    request: Request,
    session: Session,
    actor: Principal,
    settings: Settings,
    entity: str,
    q: str | None,
    raw_filter: str | None,
) -> Response:
    body = export.records_csv(
        session, entity=entity, actor=actor, q=q,
        where=_where(session, entity, raw_filter, actor, settings),
        locale=locale_of(request), timezone=settings.timezone,
    )  # fmt: skip
    return csv_response(body, export.KINDS[entity].filename)


@router.get("/customers/export.csv", response_class=Response)
def export_customers(
    request: Request,
    session: DbSession,
    actor: Reader,
    settings: SettingsDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    filter_: Filter = None,
) -> Response:
    """The matching customers as CSV (UTF-8 with BOM, for Excel), custom fields as columns."""
    return _export(request, session, actor, settings, "contact", q, filter_)


@router.post("/customers", status_code=201, response_model=ContactRead)
def create_customer(
    data: ContactCreate, session: DbSession, actor: Writer, settings: SettingsDep
) -> object:
    return customers_service.create_contact(
        session, actor=actor, data=data, timezone=settings.timezone
    )


@router.get("/customers/{contact_id}", response_model=ContactRead)
def get_customer(contact_id: Id, session: DbSession, actor: Reader) -> object:
    return customers_service.get_contact(session, actor=actor, contact_id=contact_id)


@router.patch("/customers/{contact_id}", response_model=ContactRead)
def update_customer(
    contact_id: Id, data: ContactUpdate, session: DbSession, actor: Writer, settings: SettingsDep
) -> object:
    return customers_service.update_contact(
        session, actor=actor, contact_id=contact_id, data=data, timezone=settings.timezone
    )


@router.get("/customers/{contact_id}/assets", response_model=list[AssetRead])
def customer_assets(contact_id: Id, session: DbSession, actor: Reader) -> object:
    customers_service.get_contact(session, actor=actor, contact_id=contact_id)
    return assets.list_assets(session, actor=actor, contact_id=contact_id)


@router.get("/assets", response_model=list[AssetRead])
def list_assets(
    session: DbSession,
    actor: Reader,
    settings: SettingsDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    customer: Id | None = None,
    organisation: Id | None = None,
    after_id: Cursor | None = None,
    limit: Limit = 50,
    filter_: Filter = None,
) -> object:
    """Assets by id; `q` matches serial number, product or model (customers: their own)."""
    return assets.list_assets(
        session, actor=actor, q=q, contact_id=customer, organisation_id=organisation,
        after_id=after_id, limit=limit, where=_where(session, "asset", filter_, actor, settings),
    )  # fmt: skip


@router.get("/assets/export.csv", response_class=Response)
def export_assets(
    request: Request,
    session: DbSession,
    actor: Reader,
    settings: SettingsDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    filter_: Filter = None,
) -> Response:
    """The matching assets as CSV (UTF-8 with BOM, for Excel), custom fields as columns."""
    return _export(request, session, actor, settings, "asset", q, filter_)


@router.post("/assets", status_code=201, response_model=AssetRead)
def create_asset(
    data: AssetCreate, session: DbSession, actor: Writer, settings: SettingsDep
) -> object:
    return assets.create_asset(session, actor=actor, data=data, timezone=settings.timezone)


@router.get("/assets/{asset_id}", response_model=AssetRead)
def get_asset(asset_id: Id, session: DbSession, actor: Reader) -> object:
    return assets.get_asset(session, actor=actor, asset_id=asset_id)


@router.patch("/assets/{asset_id}", response_model=AssetRead)
def update_asset(
    asset_id: Id, data: AssetUpdate, session: DbSession, actor: Writer, settings: SettingsDep
) -> object:
    return assets.update_asset(
        session, actor=actor, asset_id=asset_id, data=data, timezone=settings.timezone
    )


@router.get("/organisations", response_model=list[OrganisationRead])
def list_organisations(
    session: DbSession,
    actor: Reader,
    settings: SettingsDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    after_id: Cursor | None = None,
    limit: Limit = 50,
    filter_: Filter = None,
) -> object:
    return customers_service.list_organisations(
        session, actor=actor, q=q, after_id=after_id, limit=limit,
        where=_where(session, "organisation", filter_, actor, settings),
    )  # fmt: skip


@router.get("/organisations/export.csv", response_class=Response)
def export_organisations(
    request: Request,
    session: DbSession,
    actor: Reader,
    settings: SettingsDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    filter_: Filter = None,
) -> Response:
    """The matching organisations as CSV (UTF-8 with BOM, for Excel), custom fields as columns."""
    return _export(request, session, actor, settings, "organisation", q, filter_)


@router.post("/organisations", status_code=201, response_model=OrganisationRead)
def create_organisation(
    data: OrganisationCreate, session: DbSession, actor: Writer, settings: SettingsDep
) -> object:
    return customers_service.create_organisation(
        session, actor=actor, data=data, timezone=settings.timezone
    )


@router.get("/organisations/{organisation_id}", response_model=OrganisationRead)
def get_organisation(organisation_id: Id, session: DbSession, actor: Reader) -> object:
    return customers_service.get_organisation(session, actor=actor, organisation_id=organisation_id)


@router.patch("/organisations/{organisation_id}", response_model=OrganisationRead)
def update_organisation(
    organisation_id: Id,
    data: OrganisationUpdate,
    session: DbSession,
    actor: Writer,
    settings: SettingsDep,
) -> object:
    return customers_service.update_organisation(
        session, actor=actor, organisation_id=organisation_id, data=data,
        timezone=settings.timezone,
    )  # fmt: skip
