"""Partial updates (PATCH bodies): a field left out keeps its value, and an explicit `null`
clears it only where clearing means something (`NULLABLE`); anywhere else `null` is a 422 that
names the field, instead of a NOT NULL violation deep in the database."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError


class Patch(BaseModel):
    """Base of every *Update schema; subclasses list the fields `null` may clear."""

    NULLABLE: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="after")
    @classmethod
    def _null_only_where_it_clears(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.NULLABLE:
            raise PydanticCustomError(
                "null_not_allowed", "cannot be null; leave the field out to keep its value"
            )
        return value
