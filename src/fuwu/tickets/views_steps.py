"""The ticket page's workflow buttons: taking a step, with the fields it asks for."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from fuwu.auth.deps import Csrf, UiUser
from fuwu.errors import Conflict, ValidationFailed
from fuwu.kit.ids import Id, parse_id
from fuwu.tickets import transitions
from fuwu.tickets import views_support as support
from fuwu.web import forms
from fuwu.web.deps import DbSession, client_ip
from fuwu.web.forms import Posted

router = APIRouter(include_in_schema=False)
StepKey = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
PEOPLE = ("assignee", "team", "customer")


@router.post("/tickets/{ticket_id}/transitions/{key}", dependencies=[Csrf])
def take_step(
    ticket_id: Id, key: StepKey, request: Request, session: DbSession, me: UiUser, form: Posted
) -> Response:
    """Take a workflow step from the ticket page; a refusal shows why in the flash area."""
    values = _values(form)
    version = parse_id(forms.text(form, "version"))
    try:
        transitions.take(
            session, actor=me, ticket_id=ticket_id, key=key, values=values, version=version,
            timezone=request.app.state.settings.timezone, ip=client_ip(request),
        )  # fmt: skip
    except Conflict as exc:
        if "current" not in exc.params:  # the step's own refusal: shown as it is
            raise
        session.rollback()
        return support.conflict_response(request, ticket_id)
    return support.saved_response(request, session, me, ticket_id)


def _values(form: FormData) -> dict[str, Any]:
    """The fields posted with the step (those it asks for; `take` refuses others): people by
    id, the rest as text, an empty one as no value."""
    values: dict[str, Any] = {}
    for name in form:
        if name in ("csrf_token", "version"):
            continue
        raw = forms.text(form, name)
        if name in PEOPLE and raw and parse_id(raw) is None:
            raise ValidationFailed.single(name, "invalid")
        values[name] = (parse_id(raw) if name in PEOPLE else raw) if raw else None
    return values
