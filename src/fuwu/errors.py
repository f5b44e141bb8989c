"""Typed domain errors; each carries its HTTP status and a translatable message."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, TypedDict

# Field-level error codes → English message (msgid). Translated at the edge.
FIELD_MESSAGES: dict[str, str] = {
    "missing": "%(field)s is required",
    "extra_forbidden": "%(field)s is not a known field",
    "too_long": "%(field)s is too long (at most %(max)s)",
    "too_short": "%(field)s is too short (at least %(min)s)",
    "invalid": "%(field)s is not valid",
    "invalid_choice": "%(field)s must be one of: %(choices)s",
    "invalid_email": "%(field)s is not a valid email address",
    "invalid_phone": "%(field)s is not a valid phone number",
    "invalid_cursor": "%(field)s is not a cursor this server issued",
    "invalid_sort": "%(field)s cannot sort by this; use one of: %(choices)s",
    "not_found": "%(field)s does not exist",
    "taken": "%(field)s is already taken",
    "no_files": "%(field)s: these records do not keep files; choose another type",
    "too_large": "%(field)s is too large (at most %(max)s bytes)",
    "blocked_type": "%(field)s has a file type that is not allowed",
    "empty": "%(field)s must not be empty",
    "weak_password": "%(field)s must have at least %(min)s characters, not only letters or digits",
    "need_contact": "%(field)s needs at least one of name, email or phone",
    "out_of_range": "%(field)s is out of range (%(detail)s)",
    "not_in_team": "%(field)s is not a member of the chosen team",
    "type": "%(field)s must be %(expected)s",
    "too_small": "%(field)s must be at least %(min)s",
    "too_big": "%(field)s must be at most %(max)s",
    "invalid_json": "%(field)s is not valid JSON",
    "invalid_url": "%(field)s must be a web address starting with http:// or https://",
    "set_once": "%(field)s can be set only once",
    "incomplete": "%(field)s needs a choice at every level",
    "option_removed": "%(field)s: options already in use cannot be removed (%(detail)s); "
    "deactivate them instead",
    "null_not_allowed": "%(field)s cannot be null; leave it out to keep its value",
    "too_deep": "%(field)s is nested too deeply (at most %(max)s levels)",
    "reserved": "%(field)s is the name of a staff member; choose another",
    "not_settable": "%(field)s cannot be set by customers",
    "duplicates": "%(field)s cannot be turned on: values used more than once: %(detail)s",
    "nul_character": "%(field)s must not contain NUL characters",
    "self_lockout": "%(field)s: you cannot remove your own admin rights or deactivate yourself",
    "too_many_files": "%(field)s: send at most %(max)s files",
    "file_too_large": "%(field)s: %(file)s is too large (at most %(max)s bytes)",
    "file_blocked_type": "%(field)s: %(file)s is of a type that is not accepted",
    "file_not_image": "%(field)s: %(file)s is not a picture (JPEG, PNG, GIF, WebP or BMP)",
    "file_empty": "%(field)s: %(file)s is empty",
    "invalid_colour": "%(field)s must be a colour such as #2563eb",
    "not_in_workflow": "%(field)s is not one of the workflow's statuses",
    "unreachable": "%(field)s: no step leads to this status from the initial one",
    "no_way_out": "%(field)s: no step leads out of this status, so tickets would stay there",
    "governed": "%(field)s already follows another workflow (%(detail)s)",
    "not_initial": "%(field)s: a new ticket of this type starts in %(detail)s",
    "no_transition": "%(field)s: the workflow has no step from the current status to this one",
    "required_for_step": "%(field)s is required for this step",
    "in_use": "%(field)s: open tickets are in statuses this version leaves out: %(detail)s",
    "not_from_approval": "%(field)s must be a step that leaves the approval status and that "
    "people do not take by hand (not automatic)",
    "not_user_field": "%(field)s must be a field that names a staff member (a user field)",
    "not_returnable": "%(field)s: the ticket can only be sent back to an open status it was in "
    "before",
    "already_approver": "%(field)s is already an approver here",
    "not_from_status": "%(field)s must be a step people take from this status",
    "locked_in_status": "%(field)s cannot be changed while the ticket is in this status",
    "not_approval": "%(field)s: only an approval status can approve, reject or hand over",
    "unmapped": "%(field)s: %(count)s open tickets are in this status, which the new version "
    "does not have; say where they go",
}

# Field names → label msgids, translated at the edge.
FIELD_LABELS: dict[str, str] = {
    "subject": "Subject",
    "description": "Description",
    "priority": "Priority",
    "status": "Status",
    "type": "Type",
    "channel": "Channel",
    "customer": "Customer",
    "customer_id": "Customer",
    "customer.email": "Customer email",
    "customer.phone": "Customer phone",
    "customer.name": "Customer name",
    "assignee_id": "Assignee",
    "assignee": "Assignee",
    "team": "Team",
    "team_id": "Team",
    "tags": "Tags",
    "note": "Change note",
    "body": "Message",
    "kind": "Kind",
    "file": "File",
    "email": "Email",
    "phone": "Phone",
    "name": "Name",
    "username": "Username",
    "password": "Password",
    "display_name": "Display name",
    "role": "Role",
    "team_ids": "Teams",
    "member_ids": "Members",
    "organisation_id": "Organisation",
    "serial_number": "Serial number",
    "product": "Product",
    "model": "Model",
    "install_date": "Installed",
    "warranty_until": "Warranty until",
    "version": "Version",
    "cursor": "Cursor",
    "sort": "Sort",
    "scopes": "Scopes",
    "limit": "Limit",
    "formula": "Formula",
    "filter": "Filter",
    "options": "Options",
    "default": "Default value",
    "key": "Key",
    "label": "Label",
    "definition": "Form definition",
    "unique": "Unique",
    "ids": "The chosen items",
}


class DomainError(Exception):
    """Base of every error a user may see."""

    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "error"

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params


class NotAuthenticated(DomainError):
    status_code = 401
    code = "not_authenticated"

    def __init__(self, message: str = "Please sign in.") -> None:
        super().__init__(message)


class PermissionDenied(DomainError):
    status_code = 403
    code = "permission_denied"

    def __init__(
        self, message: str = "You do not have permission to do this.", **params: Any
    ) -> None:
        super().__init__(message, **params)


class NotFound(DomainError):
    status_code = 404
    code = "not_found"

    def __init__(self, message: str = "Not found.", **params: Any) -> None:
        super().__init__(message, **params)


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class RateLimited(DomainError):
    status_code = 429
    code = "rate_limited"


class FieldError(TypedDict):
    """What is wrong with one field: where (a dotted path as the caller sent it: `subject`,
    `customer.email`, `custom.qty`, `custom.parts[2].price`), a stable code from
    FIELD_MESSAGES, and the values its message is made from (`max`, `label` …). Messages are
    made at the edge, in the reader's language (`web.errors.field_message`)."""

    field: str
    code: str
    params: dict[str, Any]


def field_error(field: str, code: str, **params: Any) -> FieldError:
    return {"field": field, "code": code, "params": params}


class ValidationFailed(DomainError):
    """422 with one FieldError per problem, every one found at once."""

    status_code = 422
    code = "validation_failed"

    def __init__(self, errors: Sequence[FieldError]) -> None:
        super().__init__("Some fields are not valid.")
        self.errors: list[FieldError] = list(errors)

    @classmethod
    def single(cls, field: str, code: str, **params: Any) -> ValidationFailed:
        return cls([field_error(field, code, **params)])
