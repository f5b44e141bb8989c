"""REST routes for the field registry, and China's regions for cascading selects."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from fuwu.auth.deps import scoped
from fuwu.auth.principal import Principal, require_admin, require_staff
from fuwu.fields.registry import cascade
from fuwu.fields.registry import service as fields_service
from fuwu.fields.registry.schemas import FieldCreate, FieldRead, FieldRetype, FieldUpdate, Usage
from fuwu.kit.ids import Id
from fuwu.web.deps import DbSession

router = APIRouter(prefix="/api/v1", tags=["forms"])
ConfigRead = Annotated[Principal, Depends(scoped("config:read"))]
ConfigWrite = Annotated[Principal, Depends(scoped("config:write"))]


@router.get("/fields", response_model=list[FieldRead])
def list_fields(
    session: DbSession, actor: ConfigRead, entity: str = "ticket", archived: bool = False
) -> object:
    require_staff(actor)
    return fields_service.list_fields(session, entity, archived=archived)


@router.post("/fields", response_model=FieldRead, status_code=201)
def create_field(session: DbSession, actor: ConfigWrite, data: FieldCreate) -> object:
    return fields_service.create_field(session, actor=require_admin(actor), data=data)


@router.get("/fields/{field_id}", response_model=FieldRead)
def get_field(session: DbSession, actor: ConfigRead, field_id: Id) -> object:
    require_staff(actor)
    return fields_service.get_field(session, field_id)


@router.patch("/fields/{field_id}", response_model=FieldRead)
def update_field(session: DbSession, actor: ConfigWrite, field_id: Id, data: FieldUpdate) -> object:
    return fields_service.update_field(
        session, actor=require_admin(actor), field_id=field_id, data=data
    )


@router.get("/fields/{field_id}/usages", response_model=list[Usage])
def field_usages(session: DbSession, actor: ConfigRead, field_id: Id) -> object:
    require_staff(actor)
    return fields_service.usages(session, fields_service.get_field(session, field_id))


@router.post("/fields/{field_id}/archive", response_model=FieldRead)
def archive_field(session: DbSession, actor: ConfigWrite, field_id: Id) -> object:
    return fields_service.archive_field(session, actor=require_admin(actor), field_id=field_id)


@router.post("/fields/{field_id}/restore", response_model=FieldRead)
def restore_field(session: DbSession, actor: ConfigWrite, field_id: Id) -> object:
    return fields_service.restore_field(session, actor=require_admin(actor), field_id=field_id)


@router.delete("/fields/{field_id}", status_code=204)
def delete_field(session: DbSession, actor: ConfigWrite, field_id: Id) -> None:
    fields_service.delete_field(session, actor=require_admin(actor), field_id=field_id)


@router.post("/fields/{field_id}/retype")
def retype_field(
    session: DbSession, actor: ConfigWrite, field_id: Id, data: FieldRetype
) -> dict[str, Any]:
    return fields_service.retype(session, actor=require_admin(actor), field_id=field_id, data=data)


@router.get("/regions/cn")
def cn_regions(path: Annotated[list[str] | None, Query()] = None) -> list[dict[str, Any]]:
    """The children of a path in China's province → city → district tree (public data)."""
    return [
        {"key": n["key"], "label": n["label"], "leaf": not n["children"]}
        for n in cascade.children({"source": cascade.CN_REGION}, path or [])
    ]
