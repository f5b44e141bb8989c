"""Custom fields of a ticket: validated by its type's form, the version recorded on the ticket.

Create uses the type's published form and records its version; later edits keep validating
with that version, so a form published afterwards never makes an old ticket unsaveable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fuwu.errors import FieldError, NotFound, ValidationFailed
from fuwu.fields.forms import checks as form_checks
from fuwu.fields.forms.compile import Form
from fuwu.fields.forms.validation import clearing, validate, variables_for
from fuwu.fields.registry import types
from fuwu.tickets.types import service as ticket_types
from fuwu.tickets.types.models import TicketType

GENERAL = "general"  # the built-in type without a form


def surface_for(*, staff: bool, creating: bool, public: bool = False) -> str:
    """Which layout of the form applies to this caller."""
    if public:
        return "web_form"
    if not staff:
        return "portal"
    return "agent_create" if creating else "agent_edit"


def _check_type(session: Session, type_key: str, *, staff: bool) -> None:
    """The type must be active; customers may only open the types marked public."""
    if type_key == GENERAL:
        return
    allowed = TicketType.active.is_(True) if staff else TicketType.active & TicketType.public
    known = session.scalar(select(TicketType.id).where(TicketType.key == type_key, allowed))
    if known is None:
        keys = [GENERAL, *session.scalars(select(TicketType.key).where(allowed))]
        raise ValidationFailed.single("type", "invalid_choice", choices=", ".join(keys))


def _refuse_any(submitted: Mapping[str, Any]) -> None:
    """A type without a form has no custom fields."""
    if submitted:
        raise ValidationFailed(
            [{"field": f"custom.{k}", "code": "extra_forbidden", "params": {}} for k in submitted]
        )


CUSTOMER_SURFACES = frozenset({"portal", "web_form"})


def _refuse_unoffered(form: Form, surface: str, submitted: Mapping[str, Any]) -> None:
    """Customers' surfaces take only the fields they lay out: an agent-only field sent by a
    customer is refused by name (staff surfaces keep ignoring fields they do not show)."""
    if surface not in CUSTOMER_SURFACES:
        return
    offered = form.inputs(surface)
    refused = [k for k in submitted if k in form.specs and k not in offered]
    if refused:
        raise ValidationFailed(
            [{"field": f"custom.{k}", "code": "not_settable", "params": {}} for k in refused]
        )


def on_create(
    session: Session,
    *,
    type_key: str,
    surface: str,
    submitted: Mapping[str, Any],
    system: Mapping[str, Any],
    timezone: str,
    actor_id: int | None,
) -> tuple[dict[str, Any], int | None]:
    """(custom values to store, form version) for a new ticket."""
    _check_type(session, type_key, staff=surface.startswith("agent"))
    form = None if type_key == GENERAL else ticket_types.form(session, type_key, timezone)
    if form is None:
        if submitted:
            raise ValidationFailed(
                [
                    {"field": f"custom.{k}", "code": "extra_forbidden", "params": {}}
                    for k in submitted
                ]
            )
        return {}, None
    _refuse_unoffered(form, surface, submitted)
    values = form_checks.apply(
        session, form=form, surface=surface, submitted=submitted, system=system, previous=None,
        variables=variables_for(actor_id, timezone),
    )  # fmt: skip
    return values, form.version


def on_update(
    session: Session,
    *,
    ticket_id: int,
    type_key: str,
    form_version: int | None,
    type_changed: bool,
    surface: str,
    submitted: Mapping[str, Any],
    previous: Mapping[str, Any],
    system: Mapping[str, Any],
    timezone: str,
    actor_id: int | None,
) -> tuple[dict[str, Any], int | None]:
    """(custom values to store, form version) after an edit; values of other forms are kept."""
    if type_changed:
        _check_type(session, type_key, staff=surface.startswith("agent"))
        form_version = None
    form = ticket_types.form(session, type_key, timezone, form_version)
    if form is None:
        if submitted:
            raise ValidationFailed(
                [
                    {"field": f"custom.{k}", "code": "extra_forbidden", "params": {}}
                    for k in submitted
                ]
            )
        return dict(previous), None
    _refuse_unoffered(form, surface, submitted)
    values = form_checks.apply(
        session, form=form, surface=surface, submitted=submitted, system=system,
        previous=previous, variables=variables_for(actor_id, timezone), record_id=ticket_id,
    )  # fmt: skip
    kept = {k: v for k, v in previous.items() if k not in form.specs}
    return {**kept, **values}, form.version


def _form_of(
    session: Session, type_key: str, timezone: str, version: int | None = None
) -> Form | None:
    """The compiled form of a type (published, or one version); None for the built-in type,
    an unknown type or one without a form."""
    if type_key == GENERAL:
        return None
    try:
        return ticket_types.form(session, type_key, timezone, version)
    except NotFound:
        return None


def form_errors(
    session: Session,
    *,
    type_key: str,
    surface: str,
    submitted: Mapping[str, Any],
    system: Mapping[str, Any],
    timezone: str,
    actor_id: int | None,
) -> list[FieldError]:
    """Every error the type's form finds in custom values, without the database checks and
    without taking an auto-number: for a page whose other input already failed, so that the
    user sees all that is wrong at once instead of one round per part of the form."""
    if type_key == GENERAL:
        return [
            {"field": f"custom.{k}", "code": "extra_forbidden", "params": {}} for k in submitted
        ]
    form = _form_of(session, type_key, timezone)
    if form is None:
        return []
    try:
        validate(
            form, surface, submitted, system=system, creating=True,
            variables=variables_for(actor_id, timezone),
        )  # fmt: skip
    except ValidationFailed as exc:
        return list(exc.errors)
    return []


def cleared_by_logic(
    session: Session,
    *,
    type_key: str,
    form_version: int | None,
    previous: Mapping[str, Any],
    record: Mapping[str, Any],
    timezone: str,
    actor_id: int | None,
) -> dict[str, str]:
    """Custom fields whose stored value the form's logic clears in this record → the rule's
    name ("" when the field is hidden until a rule shows it)."""
    form = _form_of(session, type_key, timezone, form_version)
    if form is None:
        return {}
    loaded = {**record, **{k: types.load(s, record.get(k)) for k, s in form.specs.items()}}
    return clearing(form, loaded, previous, variables_for(actor_id, timezone))


def file_fields(
    session: Session,
    *,
    type_key: str,
    surface: str,
    timezone: str,
    form_version: int | None = None,
) -> dict[str, str]:
    """The file fields (attachment, image, signature) the surface of the type's form takes
    (the published version, or the ticket's own): key → field type; none without a form."""
    form = _form_of(session, type_key, timezone, form_version)
    if form is None:
        return {}
    accepted = form.inputs(surface)
    return {
        k: s.type for k, s in form.specs.items() if s.type in types.FILE_TYPES and k in accepted
    }


# ---------------------------------------------------------------- what a customer may read


def portal_keys(
    session: Session, *, type_key: str, form_version: int | None, timezone: str
) -> frozenset[str]:
    """The custom fields the portal layout of this ticket's form shows its customer."""
    if type_key == GENERAL:
        return frozenset()
    form = ticket_types.form(session, type_key, timezone, form_version)
    return frozenset(form.custom_keys("portal")) if form is not None else frozenset()


def customer_view(
    session: Session,
    custom: Mapping[str, Any],
    *,
    type_key: str,
    form_version: int | None,
    timezone: str,
) -> dict[str, Any]:
    """A ticket's custom values as its customer may read them: only the portal layout's."""
    shown = portal_keys(session, type_key=type_key, form_version=form_version, timezone=timezone)
    return {k: v for k, v in custom.items() if k in shown}


def customer_fields(session: Session, timezone: str) -> dict[str, frozenset[str]]:
    """Custom field → the public types whose published portal layout shows it: what a customer
    may filter and export by, and on which tickets (agent-only fields are never probed)."""
    types: dict[str, set[str]] = {}
    for row in ticket_types.list_types(session):
        if row.public:
            shown = portal_keys(session, type_key=row.key, form_version=None, timezone=timezone)
            for key in shown:
                types.setdefault(key, set()).add(row.key)
    return {key: frozenset(keys) for key, keys in types.items()}
