"""REST routes for tickets, messages and attachments under /api/v1."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import and_
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.responses import Response, StreamingResponse

from fuwu.auth.deps import BearerCredentials, authenticate, scoped
from fuwu.auth.principal import Principal
from fuwu.config import Settings
from fuwu.errors import ValidationFailed, field_error
from fuwu.kit.ids import MAX_ID, Id
from fuwu.tickets import custom as custom_fields
from fuwu.tickets import export, repository, saved_views, uploads
from fuwu.tickets import filters as ticket_filters
from fuwu.tickets import messages as messages_service
from fuwu.tickets import service as tickets_service
from fuwu.tickets.models import Attachment
from fuwu.tickets.schemas import (
    AttachmentRead,
    HistoryRead,
    MessageCreate,
    MessageRead,
    TicketCreate,
    TicketPage,
    TicketRead,
    TicketUpdate,
)
from fuwu.web.deps import DbSession, SettingsDep, client_ip
from fuwu.web.downloads import csv_response, download_response
from fuwu.web.errors import locale_of

router = APIRouter(prefix="/api/v1", tags=["tickets"])
Reader = Annotated[Principal, Depends(scoped("tickets:read"))]
Writer = Annotated[Principal, Depends(scoped("tickets:write"))]
CSV = Annotated[str | None, Query(description="Comma-separated values")]
JSON = "application/json"
Body = TypeVar("Body", bound=BaseModel)


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else []


def _json(model: BaseModel, status_code: int) -> Response:
    """The model as the JSON body FastAPI would send for it as the `response_model`.

    Serialised here, in the endpoint's worker thread: FastAPI validates a sync endpoint's
    return value once more in another hop to the thread pool (docs/benchmarks.md).
    """
    return Response(model.model_dump_json(), status_code=status_code, media_type=JSON)


MULTIPART = "multipart/form-data"
_CREATE_BODY = {"requestBody": {"required": True, "content": {
    JSON: {"schema": {"$ref": "#/components/schemas/TicketCreate"}},
    MULTIPART: {"schema": {
        "type": "object", "required": ["data"],
        "properties": {
            "data": {"type": "string", "description": "The ticket as JSON (TicketCreate)"},
            "attachments": {"type": "array", "items": {"type": "string", "format": "binary"},
                            "description": "Files on the ticket"},
        },
        "description": "Files for attachment, image and signature fields go in parts named "
                       "custom.<key>.",
    }},
}}}  # fmt: skip


# The one-thread routes authenticate themselves (ADR 0013): their answers without a token.
_TOKEN_ANSWERS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid API token"}, 403: {"description": "No scope"},
}  # fmt: skip
_MESSAGE_BODY = {"requestBody": {"required": True, "content": {
    JSON: {"schema": {"$ref": "#/components/schemas/MessageCreate"}},
}}}  # fmt: skip


@router.post(
    "/tickets",
    status_code=201,
    response_model=TicketRead,
    responses=_TOKEN_ANSWERS,
    openapi_extra=_CREATE_BODY,
)
async def create_ticket(
    request: Request, session: DbSession, settings: SettingsDep, credentials: BearerCredentials
) -> Response:
    """Open a ticket. JSON, or multipart/form-data with the JSON in a part named `data`, files
    on the ticket in parts named `attachments` and the files of attachment, image and
    signature fields in parts named `custom.<key>`: one request, one ticket, one history row.
    """
    # Authentication, validation, the create and the commit run in one worker thread: a hop
    # to the pool costs ≈ 0.1 ms of CPU, and a sync dependency plus a sync endpoint would take
    # two (docs/adr/0013: 14–25 % more creates per second). The body is read here and
    # validated after authentication, so a caller without a valid token gets 401 before any
    # 422, as on every other route.
    if request.headers.get("content-type", "").startswith(MULTIPART):
        posted = await request.form(max_files=uploads.MAX_FILES + 20, max_fields=50)
        try:
            return await run_in_threadpool(
                _create_with_files, request, posted, session, settings, credentials
            )
        finally:
            await posted.close()
    body = await request.body()
    return await run_in_threadpool(_create_ticket, request, body, session, settings, credentials)


def _parse(model: type[Body], raw: str | bytes, loc: tuple[str, ...] = ("body",)) -> Body:
    """The body as `model`, or the 422 FastAPI would give for a declared body."""
    try:
        return model.model_validate_json(raw)
    except PydanticValidationError as exc:
        errors = [{**e, "loc": (*loc, *e["loc"])} for e in exc.errors()]
        raise RequestValidationError(errors) from None


def _create_ticket(
    request: Request,
    body: bytes,
    session: Session,
    settings: Settings,
    credentials: HTTPAuthorizationCredentials | None,
) -> Response:
    actor = authenticate(request, session, settings, credentials, scope="tickets:write")
    return _created(session, actor, settings, _parse(TicketCreate, body))


def _created(
    session: Session,
    actor: Principal,
    settings: Settings,
    data: TicketCreate,
    attachments: Sequence[int] = (),
) -> Response:
    # The customer, assignee, team and organisation come attached: no reload.
    ticket = tickets_service.create_ticket(
        session,
        actor=actor,
        data=data,
        number_pattern=settings.ticket_number_pattern,
        timezone=settings.timezone,
        default_channel="api",
        attachments=attachments,
    )
    read = readable(session, actor, ticket, settings.timezone)
    # Commit in this thread: the sooner the transaction ends, the sooner its locks do.
    session.commit()
    return _json(read, 201)


def _create_with_files(
    request: Request,
    posted: FormData,
    session: Session,
    settings: Settings,
    credentials: HTTPAuthorizationCredentials | None,
) -> Response:
    """A create with its files: the parts are checked together, the files staged, the ticket
    created with their ids in its file fields."""
    actor = authenticate(request, session, settings, credentials, scope="tickets:write")
    part = posted.get("data")
    # Clients often send the JSON part as a file; it is read no further than JSON may be long.
    raw: str | bytes | None = part if isinstance(part, str) or part is None else None
    if isinstance(part, StarletteUpload):
        raw = part.file.read(settings.max_json_bytes + 1)
    if not raw:
        raise ValidationFailed.single("data", "missing")
    if len(raw) > settings.max_json_bytes:
        raise ValidationFailed.single("data", "too_large", max=settings.max_json_bytes)
    data = _parse(TicketCreate, raw, ("body", "data"))
    surface = custom_fields.surface_for(staff=actor.is_staff, creating=True)
    kinds = custom_fields.file_fields(
        session, type_key=data.type, surface=surface, timezone=settings.timezone
    )
    errors = [
        field_error(name, "extra_forbidden")
        for name in dict.fromkeys(posted.keys())
        if name not in ("data", "attachments") and name.removeprefix("custom.") not in kinds
    ]
    names: dict[str, str | None] = {f"custom.{k}": k for k in kinds}
    files = uploads.posted_files(posted, {"attachments": None, **names})
    rules, images = uploads.FileRules.of(settings), uploads.image_keys(kinds)
    errors += uploads.upload_errors(files, rules, images)
    if errors:
        raise ValidationFailed(errors)
    by_field, staged = uploads.stage(
        session, actor=actor, store=request.app.state.store, uploads=files, rules=rules,
        kinds=kinds,
    )  # fmt: skip
    data.custom = {**data.custom, **by_field}
    return _created(session, actor, settings, data, staged)


def readable(session: Session, actor: Principal, ticket: object, timezone: str) -> TicketRead:
    """A ticket as this caller may read it: customers get only the custom fields the portal
    layout of the ticket's form shows them (never the agents' serial numbers, warranty…)."""
    read = TicketRead.model_validate(ticket)
    if not actor.is_staff:
        read.custom = custom_fields.customer_view(
            session, read.custom, type_key=read.type,
            form_version=getattr(ticket, "form_version", None),
            timezone=timezone,
        )  # fmt: skip
    return read


FILTER_HELP = (
    "A condition in JSON on any field, custom ones included, e.g. "
    '{"all":[{"field":"fault_type","op":"eq","value":"leak"},'
    '{"field":"created_at","op":"within_last","value":{"amount":7,"unit":"days"}}]} '
    "(docs/adr/0007-condition-language.md)."
)


def ticket_filter(
    session: DbSession,
    actor: Reader,
    settings: SettingsDep,
    status: CSV = None,
    status_category: CSV = None,
    priority: CSV = None,
    assignee: Annotated[str | None, Query(description="user id, 'me' or 'none'")] = None,
    team: Annotated[str | None, Query(description="team id, 'mine' or 'none'")] = None,
    customer: Id | None = None,
    organisation: Id | None = None,
    tag: str | None = None,
    channel: str | None = None,
    type: str | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    filter_: Annotated[str | None, Query(alias="filter", description=FILTER_HELP)] = None,
    view: Annotated[Id | None, Query(description="A saved view's id: its filter and sort")] = None,
) -> repository.TicketFilter:
    """The filters a ticket list or export accepts, as query parameters."""
    where = None
    readable_fields = (
        None if actor.is_staff else custom_fields.customer_fields(session, settings.timezone)
    )
    if filter_:
        where = ticket_filters.where(
            session, filter_, user_id=actor.user_id, timezone=settings.timezone,
            readable=readable_fields,
        )  # fmt: skip
    view_sort = None
    if view is not None:
        view_where, view_sort = saved_views.applied(
            session, actor=actor, view_id=view, timezone=settings.timezone
        )
        where = view_where if where is None else and_(view_where, where)
    return repository.TicketFilter(
        readable=readable_fields,
        where=where,
        status=_split(status),
        status_category=_split(status_category),
        priority=_split(priority),
        assignee=assignee,
        team=team,
        customer_id=customer,
        organisation_id=organisation,
        tag=tag,
        channel=channel,
        type=type,
        q=q,
        created_after=created_after,
        created_before=created_before,
        sort=view_sort,
    )


Filters = Annotated[repository.TicketFilter, Depends(ticket_filter)]


@router.get("/tickets", response_model=TicketPage)
def list_tickets(
    request: Request,
    session: DbSession,
    actor: Reader,
    filters: Filters,
    sort: Annotated[
        str | None,
        Query(
            description="created_at, updated_at, priority or a custom field key; - for descending"
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 25,
    cursor: str | None = None,
) -> TicketPage:
    sort = sort or filters.sort or "-created_at"
    rows, next_cursor = repository.list_tickets(
        session, actor=actor, filters=filters, sort=sort, limit=limit, cursor=cursor
    )
    zone = request.app.state.settings.timezone
    items = [readable(session, actor, t, zone) for t in rows]
    return TicketPage(items=items, next_cursor=next_cursor)


@router.get("/tickets/export.csv", response_class=Response)
def export_tickets(
    request: Request,
    session: DbSession,
    actor: Reader,
    settings: SettingsDep,
    filters: Filters,
    limit: Annotated[int, Query(ge=1, le=export.MAX_ROWS)] = export.MAX_ROWS,
) -> Response:
    """The matching tickets as CSV (UTF-8 with BOM, for Excel), custom fields as columns."""
    body = export.export_csv(
        session, actor=actor, filters=filters, locale=locale_of(request),
        timezone=settings.timezone, limit=limit,
    )  # fmt: skip
    return csv_response(body, "tickets")


@router.get("/tickets/{ticket_id}", response_model=TicketRead)
def get_ticket(ticket_id: Id, request: Request, session: DbSession, actor: Reader) -> object:
    ticket = tickets_service.get_ticket(session, actor=actor, ticket_id=ticket_id)
    return readable(session, actor, ticket, request.app.state.settings.timezone)


@router.patch("/tickets/{ticket_id}", response_model=TicketRead)
def update_ticket(
    ticket_id: Id,
    data: TicketUpdate,
    request: Request,
    session: DbSession,
    actor: Writer,
    if_match: Annotated[str | None, Header(description="The version you read, as an ETag")] = None,
) -> object:
    if if_match and data.version is None:
        try:
            data.version = int(if_match.strip().strip('W/"').strip('"'))
            if not 0 <= data.version <= MAX_ID:
                raise ValueError(data.version)
        except ValueError as exc:
            raise ValidationFailed.single("version", "invalid") from exc
    return tickets_service.update_ticket(
        session, actor=actor, ticket_id=ticket_id, data=data, ip=client_ip(request),
        timezone=request.app.state.settings.timezone,
    )  # fmt: skip


@router.get("/tickets/{ticket_id}/messages", response_model=list[MessageRead])
def list_messages(ticket_id: Id, session: DbSession, actor: Reader) -> object:
    return messages_service.list_messages(session, actor=actor, ticket_id=ticket_id)


@router.post(
    "/tickets/{ticket_id}/messages",
    status_code=201,
    response_model=MessageRead,
    responses=_TOKEN_ANSWERS,
    openapi_extra=_MESSAGE_BODY,
)
async def add_message(
    ticket_id: Id,
    request: Request,
    session: DbSession,
    settings: SettingsDep,
    credentials: BearerCredentials,
) -> Response:
    """Add a reply or an internal note. A customer's reply reopens a pending or resolved
    ticket."""
    # One worker thread for authentication, the write, the answer and the commit, as the
    # create (docs/adr/0013: the ordinary route took four hops to the thread pool).
    body = await request.body()
    return await run_in_threadpool(
        _add_message, request, ticket_id, body, session, settings, credentials
    )


def _add_message(
    request: Request,
    ticket_id: int,
    body: bytes,
    session: Session,
    settings: Settings,
    credentials: HTTPAuthorizationCredentials | None,
) -> Response:
    actor = authenticate(request, session, settings, credentials, scope="tickets:write")
    data = _parse(MessageCreate, body)
    read = messages_service.add_message(
        session, actor=actor, ticket_id=ticket_id, body=data.body, kind=data.kind, channel="api",
        timezone=settings.timezone,
    )  # fmt: skip
    session.commit()
    return _json(read, 201)


@router.get("/tickets/{ticket_id}/history", response_model=list[HistoryRead])
def history(ticket_id: Id, session: DbSession, actor: Reader) -> object:
    items = messages_service.timeline(session, actor=actor, ticket_id=ticket_id)
    return [i.event for i in items if i.event is not None]


@router.get("/tickets/{ticket_id}/children", response_model=list[TicketRead])
def list_children(
    ticket_id: Id, session: DbSession, actor: Reader, settings: SettingsDep
) -> object:
    """The tickets a workflow step opened under this one (those you may see), oldest first."""
    tickets_service.get_ticket(session, actor=actor, ticket_id=ticket_id, people=False)
    rows = repository.children(session, actor, ticket_id)
    return [readable(session, actor, row, settings.timezone) for row in rows]


@router.get("/tickets/{ticket_id}/attachments", response_model=list[AttachmentRead])
def list_attachments(ticket_id: Id, session: DbSession, actor: Reader) -> object:
    return messages_service.list_attachments(session, actor=actor, ticket_id=ticket_id)


@router.post("/tickets/{ticket_id}/attachments", status_code=201, response_model=AttachmentRead)
def upload_attachment(
    ticket_id: Id,
    request: Request,
    session: DbSession,
    actor: Writer,
    settings: SettingsDep,
    file: Annotated[UploadFile, File()],
    message_id: Annotated[Id | None, Form()] = None,
) -> object:
    return messages_service.add_attachment(
        session,
        actor=actor,
        store=request.app.state.store,
        ticket_id=ticket_id,
        filename=file.filename or "file",
        content_type=file.content_type,
        stream=file.file,
        max_bytes=settings.attachment_max_bytes,
        blocked_extensions=settings.attachment_blocked_extensions,
        message_id=message_id,
    )


@router.get("/attachments/{attachment_id}")
def download(
    attachment_id: Id, request: Request, session: DbSession, actor: Reader
) -> StreamingResponse:
    attachment = messages_service.get_attachment(session, actor=actor, attachment_id=attachment_id)
    return attachment_response(request, attachment)


def attachment_response(request: Request, attachment: Attachment) -> StreamingResponse:
    """Serve an attachment as a download (web.downloads), with the type it may be served as."""
    return download_response(
        request, sha256=attachment.sha256, filename=attachment.filename, size=attachment.size,
        media_type=messages_service.download_type(attachment),
    )  # fmt: skip
