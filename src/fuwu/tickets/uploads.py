"""Files posted with a new ticket: checked all together, then staged before the ticket exists.

A create may carry files: attachments of the ticket and the values of its attachment, image and
signature fields. Each is checked (count, blocked type, size, and for image and signature
fields a real image, decided by decoding it), stored by content, and staged as an attachment
without a ticket, so that a file field holds its id when the form validates it. The ticket's
INSERT claims the staged rows in the same transaction (`writer.insert_ticket`); when anything
fails the transaction rolls back and no row is left.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from fuwu.auth.principal import Principal
from fuwu.config import Settings
from fuwu.errors import FieldError, ValidationFailed
from fuwu.kit import files
from fuwu.kit.storage import LocalStore, TooLarge
from fuwu.tickets.models import Attachment

MAX_FILES = 10
IMAGE_FIELDS = frozenset({"image", "signature"})


@dataclass(frozen=True)
class Upload:
    """One posted file: its name as sent, its type and size when known, and its bytes."""

    filename: str
    content_type: str | None
    size: int | None
    stream: BinaryIO
    field: str | None = None  # the file field it was posted for; None: a plain attachment

    @property
    def name(self) -> str:
        """The file's own name, without any folder a browser sent along."""
        return safe_filename(self.filename)


@dataclass(frozen=True)
class FileRules:
    """The limits posted files must keep."""

    max_bytes: int
    blocked_extensions: Sequence[str]
    max_files: int = MAX_FILES

    @classmethod
    def of(cls, settings: Settings) -> FileRules:
        """The limits the settings set for attachments."""
        return cls(settings.attachment_max_bytes, settings.attachment_blocked_extensions)


def image_keys(kinds: Mapping[str, str]) -> frozenset[str]:
    """Of file fields (key → type), those that take only images."""
    return frozenset(k for k, kind in kinds.items() if kind in IMAGE_FIELDS)


def posted_files(posted: FormData, names: Mapping[str, str | None]) -> list[Upload]:
    """The files of a multipart post: input name → the file field it fills (None: a plain
    attachment of the ticket). Inputs left empty (no file chosen) are skipped."""
    found: list[Upload] = []
    for name, field in names.items():
        for item in posted.getlist(name):
            if isinstance(item, UploadFile) and item.filename:
                found.append(
                    Upload(item.filename, item.content_type, item.size, item.file, field=field)
                )
    return found


def safe_filename(name: str) -> str:
    """A file's own name, printable, without folders or quotes, at most 255 characters."""
    base = PurePosixPath(name.replace("\\", "/")).name
    cleaned = "".join(c for c in base if c.isprintable() and c not in '"\r\n').strip()
    return cleaned[:255] or "file"


def upload_errors(
    uploads: Sequence[Upload], rules: FileRules, image_fields: frozenset[str] = frozenset()
) -> list[FieldError]:
    """Too many files, a blocked type, not an image for an image field, or a file over the
    size limit or empty, each naming the file."""
    errors: list[FieldError] = []
    if len(uploads) > rules.max_files:
        errors.append(
            {"field": "attachments", "code": "too_many_files", "params": {"max": rules.max_files}}
        )
    blocked = {e.lower() for e in rules.blocked_extensions}
    for upload in uploads:
        params = {"file": upload.name, "max": rules.max_bytes}
        code = _problem(upload, rules, blocked, image_fields)
        if code is not None:
            errors.append({"field": _field_of(upload), "code": code, "params": params})
    return errors


def _field_of(upload: Upload) -> str:
    return "attachments" if upload.field is None else f"custom.{upload.field}"


def _problem(
    upload: Upload, rules: FileRules, blocked: set[str], image_fields: frozenset[str]
) -> str | None:
    if files.refused(upload.name, files.head(upload.stream), blocked):
        return "file_blocked_type"
    if upload.size is not None and upload.size > rules.max_bytes:
        return "file_too_large"
    if upload.size == 0:
        return "file_empty"
    if upload.field in image_fields and files.image_type(upload.stream) is None:
        return "file_not_image"
    return None


def stage(
    session: Session,
    *,
    actor: Principal,
    store: LocalStore,
    uploads: Sequence[Upload],
    rules: FileRules,
    kinds: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], list[int]]:
    """Store checked files as attachments without a ticket: (file field values, all ids).

    `kinds` are the file fields of the form (key → attachment, image or signature): image
    and signature fields take only images, a signature field one file, as its single id.
    Raises ValidationFailed naming every file that is wrong; nothing is staged then.
    """
    kinds = kinds or {}
    errors = upload_errors(uploads, rules, image_keys(kinds))
    for key in [k for k, kind in kinds.items() if kind == "signature"]:
        if sum(1 for u in uploads if u.field == key) > 1:
            errors.append(
                {"field": f"custom.{key}", "code": "too_many_files", "params": {"max": 1}}
            )
    if errors:
        raise ValidationFailed(errors)
    values: dict[str, Any] = {}
    staged: list[int] = []
    for upload in uploads:
        attachment = _stage_one(session, actor=actor, store=store, upload=upload, rules=rules)
        staged.append(attachment.id)
        if upload.field is None:
            continue
        if kinds.get(upload.field) == "signature":
            values[upload.field] = attachment.id
        else:
            values.setdefault(upload.field, []).append(attachment.id)
    return values, staged


def added(values: Mapping[str, Any], stored: Mapping[str, Any]) -> dict[str, Any]:
    """File field values after an edit that posted files: new photos and attachments are added
    to those the field holds; a new signature replaces the old one."""
    merged: dict[str, Any] = {}
    for key, value in values.items():
        before = stored.get(key)
        if isinstance(value, list) and isinstance(before, list):
            merged[key] = [*before, *value]
        else:
            merged[key] = value
    return merged


def _stage_one(
    session: Session, *, actor: Principal, store: LocalStore, upload: Upload, rules: FileRules
) -> Attachment:
    params = {"file": upload.name, "max": rules.max_bytes}
    kind = files.content_type(upload.name, upload.content_type, upload.stream)
    try:
        sha, size = store.save(upload.stream, max_bytes=rules.max_bytes)
    except TooLarge as exc:  # a size the upload did not declare
        raise ValidationFailed.single(_field_of(upload), "file_too_large", **params) from exc
    if size == 0:
        raise ValidationFailed.single(_field_of(upload), "file_empty", **params)
    attachment = Attachment(
        ticket_id=None,
        filename=upload.name,
        content_type=kind,
        size=size,
        sha256=sha,
        is_public=True,
        uploaded_by_id=actor.user_id,
    )
    session.add(attachment)
    session.flush()
    return attachment
