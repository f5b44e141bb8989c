"""Assets: the devices customers own (product, model, serial number, install date, warranty),
with the custom fields of the asset form. Staff list, add and change them; a customer sees
only their own."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session, joinedload

from fuwu.audit import service as audit
from fuwu.auth.principal import Principal, require_staff
from fuwu.customers.models import Asset, Contact, Organisation
from fuwu.customers.schemas import AssetCreate, AssetUpdate
from fuwu.customers.service import TZ, checked_custom, custom_values
from fuwu.errors import FieldError, NotFound, ValidationFailed

ASSET_FIELDS = (
    "serial_number",
    "product",
    "model",
    "contact_id",
    "organisation_id",
    "install_date",
    "warranty_until",
    "address",
    "custom",
)


OWNERS = (joinedload(Asset.contact), joinedload(Asset.organisation))


def get_asset(session: Session, *, actor: Principal, asset_id: int) -> Asset:
    """An asset with its owners; customers see only their own."""
    asset = session.get(Asset, asset_id, options=OWNERS)
    if asset is None or (not actor.is_staff and asset.contact_id != actor.contact_id):
        raise NotFound("Asset %(id)s does not exist.", id=asset_id)
    return asset


def list_assets(
    session: Session,
    *,
    actor: Principal,
    contact_id: int | None = None,
    organisation_id: int | None = None,
    q: str | None = None,
    after_id: int | None = None,
    limit: int = 200,
    where: ColumnElement[bool] | None = None,
) -> Sequence[Asset]:
    """Assets by id, of a contact or organisation when given (customers: only their own); q
    matches the serial number, product or model; `where` is a `filter` on any field."""
    if not actor.is_staff:
        contact_id, organisation_id = actor.contact_id, None
    stmt = select(Asset).options(*OWNERS).order_by(Asset.id)
    if q and q.strip():
        columns = (Asset.serial_number, Asset.product, Asset.model)
        stmt = stmt.where(or_(*(c.contains(q.strip(), autoescape=True) for c in columns)))
    if contact_id is not None:
        stmt = stmt.where(Asset.contact_id == contact_id)
    if organisation_id is not None:
        stmt = stmt.where(Asset.organisation_id == organisation_id)
    if after_id is not None:
        stmt = stmt.where(Asset.id > after_id)
    if where is not None:
        stmt = stmt.where(where)
    return session.scalars(stmt.limit(limit)).all()


def _owner_errors(session: Session, values: dict[str, Any]) -> list[FieldError]:
    """The owner named must exist, and the serial number must be free."""
    errors: list[FieldError] = []
    contact_id, organisation_id = values.get("contact_id"), values.get("organisation_id")
    if contact_id is not None and session.get(Contact, contact_id) is None:
        errors.append({"field": "contact_id", "code": "not_found", "params": {}})
    if organisation_id is not None and session.get(Organisation, organisation_id) is None:
        errors.append({"field": "organisation_id", "code": "not_found", "params": {}})
    return errors


def _serial_taken(session: Session, serial: str, asset_id: int | None) -> bool:
    stmt = select(Asset.id).where(Asset.serial_number == serial)
    if asset_id is not None:
        stmt = stmt.where(Asset.id != asset_id)
    return session.scalar(stmt) is not None


def create_asset(
    session: Session, *, actor: Principal, data: AssetCreate, timezone: str = TZ
) -> Asset:
    """Add an asset; every error (its own fields and the custom ones) in one answer."""
    require_staff(actor)
    values = data.model_dump()
    custom, errors = checked_custom(session, actor, "asset", data.custom, timezone)
    errors = _owner_errors(session, values) + errors
    if _serial_taken(session, data.serial_number, None):
        errors.append({"field": "serial_number", "code": "taken", "params": {}})
    if errors:
        raise ValidationFailed(errors)
    asset = Asset(**{**values, "custom": custom})
    session.add(asset)
    session.flush()
    audit.record(
        session, actor_id=actor.user_id, actor_name=actor.name, action="create",
        entity="asset", entity_id=asset.id, after=_snapshot(asset),
    )  # fmt: skip
    return asset


def update_asset(
    session: Session, *, actor: Principal, asset_id: int, data: AssetUpdate, timezone: str = TZ
) -> Asset:
    """Change an asset; custom values merge into the stored ones."""
    require_staff(actor)
    asset = get_asset(session, actor=actor, asset_id=asset_id)
    changes = data.model_dump(exclude_unset=True)
    errors = _owner_errors(session, changes)
    serial = changes.get("serial_number")
    if serial is not None and _serial_taken(session, serial, asset.id):
        errors.append({"field": "serial_number", "code": "taken", "params": {}})
    if "custom" in changes:
        try:
            changes["custom"] = custom_values(session, actor, "asset", changes["custom"] or {},
                                        asset.custom or {}, asset.id, timezone)  # fmt: skip
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    before = _snapshot(asset)
    for key, value in changes.items():
        setattr(asset, key, value)
    session.flush()
    audit.record_update(session, actor=actor, entity="asset", entity_id=asset.id,
                        before=before, after=_snapshot(asset))  # fmt: skip
    return asset


def _snapshot(asset: Asset) -> dict[str, Any]:
    found = {k: getattr(asset, k) for k in ASSET_FIELDS}
    for key in ("install_date", "warranty_until"):  # the audit log stores JSON
        found[key] = found[key].isoformat() if found[key] else None
    return found
