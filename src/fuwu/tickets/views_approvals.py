"""Approvals in the agent UI: the "my approvals" inbox (我的审批) with bulk decisions, and what
an approver or initiator does from the ticket page's approval panel."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path, Request
from pydantic import TypeAdapter, ValidationError
from starlette.responses import Response

from fuwu.auth.deps import Csrf, UiStaff
from fuwu.errors import NotFound, ValidationFailed
from fuwu.kit.ids import Id, parse_id
from fuwu.tickets import approvals, approvals_view
from fuwu.tickets import views_support as support
from fuwu.tickets.pipeline import Where
from fuwu.web.deps import DbSession, client_ip
from fuwu.web.errors import describe, from_pydantic, locale_of
from fuwu.web.templating import page

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=2_000)]
Action = Annotated[
    Literal["approve", "reject", "send-back", "transfer", "approvers", "withdraw", "remind"],
    Path(),
]
_IDS = TypeAdapter(list[Id])


def _where(request: Request) -> Where:
    return Where(timezone=request.app.state.settings.timezone, ip=client_ip(request))


def _user(raw: str) -> int:
    user = parse_id(raw)
    if user is None:
        raise ValidationFailed.single("user", "missing" if not raw else "invalid")
    return user


@router.get("/approvals")
def my_approvals(request: Request, session: DbSession, me: UiStaff) -> Response:
    """我的审批: what waits for my decision, oldest first, to decide one by one or together."""
    context = {**support.ui(request, session), "rounds": approvals_view.inbox(session, me),
               "nav_active": "approvals"}  # fmt: skip
    return page(request, "tickets/approvals.html", "tickets/_approvals_list.html", context)


@router.post("/approvals/decisions", dependencies=[Csrf])
def decide_many(
    request: Request,
    session: DbSession,
    me: UiStaff,
    ids: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies its defaults)
    decision: Annotated[Literal["approve", "reject"], Form()] = "approve",
    comment: Text = "",
) -> Response:
    """批量审批 the ticked rounds; say what became of each and draw the inbox again."""
    try:
        chosen = _IDS.validate_python(ids)
    except ValidationError as exc:
        raise ValidationFailed([from_pydantic(dict(e)) for e in exc.errors()]) from exc
    if not chosen:
        raise ValidationFailed.single("ids", "missing")
    done = approvals.decide_many(session, actor=me, approval_ids=chosen[:100],
                                 approve=decision == "approve", comment=comment.strip(),
                                 where=_where(request))  # fmt: skip
    locale = locale_of(request)
    session.flush()
    session.expire_all()
    context = {
        **support.ui(request, session),
        "rounds": approvals_view.inbox(session, me),
        "nav_active": "approvals",
        "done": done,
        "errors": {d.approval_id: describe(locale, d.error) for d in done if d.error},
    }
    return page(request, "tickets/approvals.html", "tickets/_approvals_list.html", context)


@router.post("/tickets/{ticket_id}/approvals/{approval_id}/{action}", dependencies=[Csrf])
def act(
    ticket_id: Id,
    approval_id: Id,
    action: Action,
    request: Request,
    session: DbSession,
    me: UiStaff,
    comment: Text = "",
    status: Text = "",
    user: Text = "",
    where: Annotated[Literal["before", "after"], Form()] = "before",
) -> Response:
    """One approver's or initiator's action from the ticket page's approval panel."""
    round_, _ = approvals.load(session, actor=me, approval_id=approval_id)
    if round_.ticket_id != ticket_id:
        raise NotFound("Approval %(id)s does not exist.", id=approval_id)
    comment = comment.strip()
    if action in ("approve", "reject"):
        approvals.decide(session, actor=me, approval_id=approval_id, approve=action == "approve",
                         comment=comment, where=_where(request))  # fmt: skip
    elif action == "send-back":
        if not status:
            raise ValidationFailed.single("status", "missing")
        approvals.send_back(session, actor=me, approval_id=approval_id, status=status,
                            comment=comment, where=_where(request))  # fmt: skip
    elif action == "transfer":
        approvals.transfer(session, actor=me, approval_id=approval_id, to_user=_user(user),
                           comment=comment)  # fmt: skip
    elif action == "approvers":
        approvals.add_approver(session, actor=me, approval_id=approval_id, user=_user(user),
                               where=where)  # fmt: skip
    elif action == "withdraw":
        approvals.withdraw(session, actor=me, approval_id=approval_id, where=_where(request))
    else:
        approvals.remind(session, actor=me, approval_id=approval_id)
    return support.saved_response(request, session, me, ticket_id)
