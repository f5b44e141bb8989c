"""The API document tells the truth about errors: every operation lists the answers the error
handlers and the request guard can give, all with the one error body they share."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

ERROR_ANSWERS = {
    "400": "The request is malformed (e.g. a Content-Length that is not a number).",
    "401": "No valid API token (`Authorization: Bearer …`).",
    "403": "The token lacks a scope, or the caller's role may not do this.",
    "404": "No such object, or one the caller may not see.",
    "409": "The object changed since it was read (send the version you read).",
    "413": "The body is larger than the server accepts.",
    "422": "Some fields are not valid; `error.fields` names each.",
    "429": "Too many requests; try again later.",
    "500": "An unexpected error; nothing was saved. Quote `error.request_id`.",
}


class FieldError(BaseModel):
    field: str
    code: str
    message: str


class ErrorDetail(BaseModel):
    code: str
    message: str
    request_id: str | None = None
    fields: list[FieldError] | None = None


class ErrorBody(BaseModel):
    """The body of every error answer of the API."""

    error: ErrorDetail


def error_schemas() -> dict[str, Any]:
    """The components ErrorBody needs, for the document's `components.schemas`."""
    schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    return {**defs, "ErrorBody": schema}


def with_error_answers(document: dict[str, Any]) -> None:
    """Add (or replace, as FastAPI's own 422 describes a body we never send) the error answers
    of every /api operation."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(error_schemas())
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    for path, item in document.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for operation in item.values():
            answers = operation.setdefault("responses", {})
            for status, description in ERROR_ANSWERS.items():
                answers[status] = {"description": description, "content": body}
