"""Contacts, organisations and assets; one contact per email/phone identity."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from fuwu.audit import service as audit
from fuwu.auth.principal import Principal, require_staff
from fuwu.customers.models import Contact, ContactIdentity, Organisation
from fuwu.customers.schemas import (
    ContactCreate,
    ContactUpdate,
    OrganisationCreate,
    OrganisationUpdate,
)
from fuwu.db import insert_ignoring_conflicts
from fuwu.errors import FieldError, NotFound, ValidationFailed
from fuwu.fields.forms import records as entity_forms
from fuwu.kit.contact_points import normalise_email, normalise_phone

CONTACT_FIELDS = (
    "name",
    "email",
    "phone",
    "organisation_id",
    "vip_level",
    "province",
    "city",
    "district",
    "address",
    "notes",
    "tags",
    "custom",
)
ORG_FIELDS = ("name", "vip_level", "phone", "address", "notes", "tags", "custom")
TZ = "Asia/Shanghai"  # what custom date defaults are read in unless the caller says


def _clean_points(email: str | None, phone: str | None) -> tuple[str | None, str | None]:
    errors: list[FieldError] = []
    clean_email = clean_phone = None
    if email:
        clean_email = normalise_email(email)
        if clean_email is None:
            errors.append({"field": "email", "code": "invalid_email", "params": {}})
    if phone:
        clean_phone = normalise_phone(phone)
        if clean_phone is None:
            errors.append({"field": "phone", "code": "invalid_phone", "params": {}})
    if errors:
        raise ValidationFailed(errors)
    return clean_email, clean_phone


def contact_by_identity(session: Session, kind: str, value: str) -> Contact | None:
    return session.scalar(
        select(Contact)
        .join(ContactIdentity, ContactIdentity.contact_id == Contact.id)
        .where(ContactIdentity.kind == kind, ContactIdentity.value == value)
    )


def _claim_identity(session: Session, contact: Contact, kind: str, value: str) -> bool:
    """Attach an identity unless another contact holds it (safe under concurrent claims)."""
    row = {"contact_id": contact.id, "kind": kind, "value": value}
    if insert_ignoring_conflicts(
        session, ContactIdentity.__table__, [row], conflict=["kind", "value"]
    ):
        return True
    holder = contact_by_identity(session, kind, value)
    return holder is not None and holder.id == contact.id


def _contacts_by_identity(session: Session, wanted: list[tuple[str, str]]) -> dict[str, Contact]:
    """kind → contact for the identities that exist, in one query."""
    if not wanted:
        return {}
    rows = session.execute(
        select(ContactIdentity.kind, Contact)
        .join(Contact, Contact.id == ContactIdentity.contact_id)
        .where(
            or_(*(and_(ContactIdentity.kind == k, ContactIdentity.value == v) for k, v in wanted))
        )
    ).all()
    return dict(rows)


def find_or_create_organisation(session: Session, *, actor: Principal, name: str) -> Organisation:
    """The organisation with exactly this name, created on the fly when there is none."""
    name = name.strip()[:200]
    org = session.scalar(select(Organisation).where(Organisation.name == name))
    if org is not None:
        return org
    try:
        with session.begin_nested():
            org = Organisation(name=name, tags=[])
            session.add(org)
    except IntegrityError:
        return session.scalars(select(Organisation).where(Organisation.name == name)).one()
    audit.record(
        session,
        actor_id=actor.user_id,
        actor_name=actor.name,
        action="create",
        entity="organisation",
        entity_id=org.id,
        after={"name": name},
    )
    return org


def find_or_create_contact(
    session: Session,
    *,
    actor: Principal,
    name: str | None,
    email: str | None,
    phone: str | None,
    organisation: str | None = None,
) -> Contact:
    """The contact behind an email or phone, created on the fly when there is none."""
    contact = _find_or_create_contact(session, actor=actor, name=name, email=email, phone=phone)
    if organisation and organisation.strip() and contact.organisation_id is None:
        org = find_or_create_organisation(session, actor=actor, name=organisation)
        contact.organisation_id = org.id
    return contact


def _find_or_create_contact(
    session: Session,
    *,
    actor: Principal,
    name: str | None,
    email: str | None,
    phone: str | None,
) -> Contact:
    clean_email, clean_phone = _clean_points(email, phone)
    name = (name or "").strip()
    if not (name or clean_email or clean_phone):
        raise ValidationFailed.single("customer", "need_contact")
    wanted = [(k, v) for k, v in (("email", clean_email), ("phone", clean_phone)) if v]
    found = _contacts_by_identity(session, wanted)
    contact = found.get("email") or found.get("phone")
    if contact is not None:
        if (
            clean_phone
            and not contact.phone
            and _claim_identity(session, contact, "phone", clean_phone)
        ):
            contact.phone = clean_phone
        if (
            clean_email
            and not contact.email
            and _claim_identity(session, contact, "email", clean_email)
        ):
            contact.email = clean_email
        return contact
    display = name or (clean_email.split("@")[0] if clean_email else clean_phone) or "?"
    new: dict[str, Any] = {
        "name": display[:100],
        "email": clean_email,
        "phone": clean_phone,
        "tags": [],
    }
    contact = session.scalars(insert(Contact).returning(Contact), [new]).one()
    for kind, value in (("email", clean_email), ("phone", clean_phone)):
        if value and not _claim_identity(session, contact, kind, value):
            # Lost a race to a concurrent request: use the contact that won.
            winner = contact_by_identity(session, kind, value)
            if winner is not None:
                session.delete(contact)
                session.flush()
                return winner
    audit.record(
        session,
        actor_id=actor.user_id,
        actor_name=actor.name,
        action="create",
        entity="contact",
        entity_id=contact.id,
        after={"name": contact.name, "email": clean_email, "phone": clean_phone},
    )
    return contact


def get_contact(session: Session, *, actor: Principal, contact_id: int) -> Contact:
    """A contact with its organisation; customers see only themselves."""
    if not actor.is_staff and actor.contact_id != contact_id:
        raise NotFound("Contact %(id)s does not exist.", id=contact_id)
    contact = session.scalar(
        select(Contact)
        .where(Contact.id == contact_id)
        .options(selectinload(Contact.organisation), selectinload(Contact.identities))
    )
    if contact is None:
        raise NotFound("Contact %(id)s does not exist.", id=contact_id)
    return contact


def list_contacts(
    session: Session,
    *,
    actor: Principal,
    q: str | None = None,
    organisation_id: int | None = None,
    after_id: int | None = None,
    limit: int = 50,
    where: ColumnElement[bool] | None = None,
) -> Sequence[Contact]:
    """Contacts by id; q matches name, email or phone; `where` is a `filter` on any field
    (`fields.filters.where(…, "contact", …)`)."""
    require_staff(actor)
    stmt = (
        select(Contact)
        .options(selectinload(Contact.organisation))
        .order_by(Contact.id)
        .limit(limit)
    )
    if q:  # autoescape: a typed % or _ is that character, not a wildcard
        columns = (Contact.name, Contact.email, Contact.phone)
        stmt = stmt.where(or_(*(c.contains(q.strip(), autoescape=True) for c in columns)))
    if organisation_id is not None:
        stmt = stmt.where(Contact.organisation_id == organisation_id)
    if after_id is not None:
        stmt = stmt.where(Contact.id > after_id)
    if where is not None:
        stmt = stmt.where(where)
    return session.scalars(stmt).all()


def _contact_snapshot(contact: Contact) -> dict[str, Any]:
    return {k: getattr(contact, k) for k in CONTACT_FIELDS}


def _check_org(session: Session, organisation_id: int | None) -> None:
    if organisation_id is not None and session.get(Organisation, organisation_id) is None:
        raise ValidationFailed.single("organisation_id", "not_found")


def create_contact(
    session: Session, *, actor: Principal, data: ContactCreate, timezone: str = TZ
) -> Contact:
    """Add a contact; its email and phone must not belong to another contact; its custom
    fields are checked by the contact form. Every error is reported at once."""
    require_staff(actor)
    email, phone = _clean_points(data.email, data.phone)
    custom, errors = checked_custom(session, actor, "contact", data.custom, timezone)
    try:
        _check_org(session, data.organisation_id)
    except ValidationFailed as exc:
        errors.extend(exc.errors)
    for kind, value in (("email", email), ("phone", phone)):
        if value and contact_by_identity(session, kind, value) is not None:
            errors.append({"field": kind, "code": "taken", "params": {}})
    if errors:
        raise ValidationFailed(errors)
    contact = Contact(**{**data.model_dump(), "email": email, "phone": phone, "custom": custom})
    session.add(contact)
    session.flush()
    for kind, value in (("email", email), ("phone", phone)):
        if value and not _claim_identity(session, contact, kind, value):
            raise ValidationFailed.single(kind, "taken")
    audit.record(
        session,
        actor_id=actor.user_id,
        actor_name=actor.name,
        action="create",
        entity="contact",
        entity_id=contact.id,
        after=_contact_snapshot(contact),
    )
    return get_contact(session, actor=actor, contact_id=contact.id)


def update_contact(
    session: Session,
    *,
    actor: Principal,
    contact_id: int,
    data: ContactUpdate,
    timezone: str = TZ,
) -> Contact:
    """Change a contact; a new email or phone becomes one of its identities."""
    require_staff(actor)
    contact = get_contact(session, actor=actor, contact_id=contact_id)
    changes = data.model_dump(exclude_unset=True)
    if "custom" in changes:
        changes["custom"] = custom_values(
            session,
            actor,
            "contact",
            changes["custom"] or {},
            contact.custom or {},
            contact.id,
            timezone,
        )
    if "email" in changes or "phone" in changes:
        email, phone = _clean_points(changes.get("email"), changes.get("phone"))
        for kind, value in (("email", email), ("phone", phone)):
            if kind in changes and value:
                if not _claim_identity(session, contact, kind, value):
                    raise ValidationFailed.single(kind, "taken")
                changes[kind] = value
    if "organisation_id" in changes:
        _check_org(session, changes["organisation_id"])
    before = _contact_snapshot(contact)
    for key, value in changes.items():
        setattr(contact, key, value)
    session.flush()
    audit.record_update(
        session, actor=actor, entity="contact", entity_id=contact.id, before=before,
        after=_contact_snapshot(contact),
    )  # fmt: skip
    session.refresh(contact)
    return get_contact(session, actor=actor, contact_id=contact.id)


def get_organisation(session: Session, *, actor: Principal, organisation_id: int) -> Organisation:
    require_staff(actor)
    org = session.get(Organisation, organisation_id)
    if org is None:
        raise NotFound("Organisation %(id)s does not exist.", id=organisation_id)
    return org


def list_organisations(
    session: Session,
    *,
    actor: Principal,
    q: str | None = None,
    after_id: int | None = None,
    limit: int = 50,
    where: ColumnElement[bool] | None = None,
) -> Sequence[Organisation]:
    """Organisations by id; q matches the name; `where` is a `filter` on any field."""
    require_staff(actor)
    stmt = select(Organisation).order_by(Organisation.id).limit(limit)
    if q:
        stmt = stmt.where(Organisation.name.contains(q.strip(), autoescape=True))
    if after_id is not None:
        stmt = stmt.where(Organisation.id > after_id)
    if where is not None:
        stmt = stmt.where(where)
    return session.scalars(stmt).all()


def create_organisation(
    session: Session, *, actor: Principal, data: OrganisationCreate, timezone: str = TZ
) -> Organisation:
    """Add an organisation; names are unique; custom fields checked by its form."""
    require_staff(actor)
    custom, errors = checked_custom(session, actor, "organisation", data.custom, timezone)
    if session.scalar(select(Organisation.id).where(Organisation.name == data.name)) is not None:
        errors.append({"field": "name", "code": "taken", "params": {}})
    if errors:
        raise ValidationFailed(errors)
    org = Organisation(**{**data.model_dump(), "custom": custom})
    session.add(org)
    session.flush()
    audit.record(
        session,
        actor_id=actor.user_id,
        actor_name=actor.name,
        action="create",
        entity="organisation",
        entity_id=org.id,
        after={k: getattr(org, k) for k in ORG_FIELDS},
    )
    return org


def update_organisation(
    session: Session,
    *,
    actor: Principal,
    organisation_id: int,
    data: OrganisationUpdate,
    timezone: str = TZ,
) -> Organisation:
    require_staff(actor)
    org = get_organisation(session, actor=actor, organisation_id=organisation_id)
    changes = data.model_dump(exclude_unset=True)
    if "custom" in changes:
        changes["custom"] = custom_values(
            session,
            actor,
            "organisation",
            changes["custom"] or {},
            org.custom or {},
            org.id,
            timezone,
        )
    renamed = "name" in changes and changes["name"] != org.name
    name_taken = select(Organisation.id).where(Organisation.name == changes.get("name"))
    if renamed and session.scalar(name_taken):
        raise ValidationFailed.single("name", "taken")
    before = {k: getattr(org, k) for k in ORG_FIELDS}
    for key, value in changes.items():
        setattr(org, key, value)
    session.flush()
    audit.record_update(
        session, actor=actor, entity="organisation", entity_id=org.id, before=before,
        after={k: getattr(org, k) for k in ORG_FIELDS},
    )  # fmt: skip
    return org


def custom_values(
    session: Session,
    actor: Principal,
    entity: str,
    submitted: dict[str, Any],
    previous: dict[str, Any] | None,
    record_id: int | None,
    timezone: str,
) -> dict[str, Any]:
    """The custom values to store, as the entity's form makes them (`fields.forms.records`)."""
    return entity_forms.apply(
        session, entity=entity, submitted=submitted, previous=previous, record_id=record_id,
        timezone=timezone, actor_id=actor.user_id,
    )  # fmt: skip


def checked_custom(
    session: Session, actor: Principal, entity: str, submitted: dict[str, Any], timezone: str
) -> tuple[dict[str, Any], list[FieldError]]:
    """A new record's custom values, or what is wrong with them, to be reported with the
    other fields' errors."""
    try:
        return custom_values(session, actor, entity, submitted, None, None, timezone), []
    except ValidationFailed as exc:
        return {}, list(exc.errors)
