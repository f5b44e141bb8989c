"""Field types: how each validates a value, stores it in JSON and what conditions see.

A type turns the admin's options into a Pydantic annotation for one value (None is handled
by the form: every field is optional to Pydantic, required-ness is decided by form logic).
Values are stored in JSON as plain data (dates ISO, decimals as numbers) and loaded back
into Python values of the field's condition `Kind`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import nh3
from pydantic import AfterValidator, BaseModel, Field, StringConstraints
from pydantic_core import PydanticCustomError

from fuwu.conditions.schema import Kind
from fuwu.kit.contact_points import normalise_email, normalise_phone
from fuwu.kit.ids import MAX_ID
from fuwu.kit.jsonsql import from_json_value, to_json_value

Labels = Mapping[str, str]


@dataclass(frozen=True)
class FieldSpec:
    """An immutable view of one field definition, as forms and validation use it."""

    key: str
    type: str
    label: Labels
    options: Mapping[str, Any] = field(default_factory=dict)
    required: bool = False
    unique: bool = False
    read_only: bool = False
    set_once: bool = False
    filterable: bool = False
    default: Any = None
    help: Labels = field(default_factory=dict)
    placeholder: Labels = field(default_factory=dict)

    def text(self, locale: str) -> str:
        return self.label.get(locale) or self.label.get("en") or self.key


def _error(code: str, **params: Any) -> PydanticCustomError:
    return PydanticCustomError(code, code, params)


def _phone(region: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        found = normalise_phone(value, region)
        if found is None:
            raise _error("invalid_phone")
        return found

    return check


def _email(value: str) -> str:
    found = normalise_email(value)
    if found is None:
        raise _error("invalid_email")
    return found


def _url(value: str) -> str:
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise _error("invalid_url")
    if any(c.isspace() or ord(c) < 32 for c in value):
        raise _error("invalid_url")
    return value


def _rich(value: str) -> str:
    return nh3.clean(value)


def _aware(tz: str) -> Callable[[datetime], datetime]:
    zone = ZoneInfo(tz)

    def check(value: datetime) -> datetime:
        if value.tzinfo is None:
            value = value.replace(tzinfo=zone)
        return value.astimezone(UTC)

    return check


def _choice_keys(options: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(str(c["key"]) for c in options.get("choices", []))


def _one_of(keys: frozenset[str]) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in keys:
            raise _error("invalid_choice", choices=", ".join(sorted(keys)))
        return value

    return check


def _all_of(keys: frozenset[str]) -> Callable[[list[str]], list[str]]:
    def check(values: list[str]) -> list[str]:
        unknown = [v for v in values if v not in keys]
        if unknown:
            raise _error("invalid_choice", choices=", ".join(sorted(keys)))
        return list(dict.fromkeys(values))

    return check


def _bounds(options: Mapping[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if options.get("min") is not None:
        found["ge"] = options["min"]
    if options.get("max") is not None:
        found["le"] = options["max"]
    return found


def as_is(value: Any) -> Any:
    return value


class Location(BaseModel):
    """A point with its address, as a map picker or a phone's GPS gives it."""

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    address: str = Field(default="", max_length=300)


@dataclass(frozen=True)
class FieldType:
    """One field type: its condition kind and how it builds an annotation from options."""

    name: str
    kind: Kind | None
    build: Callable[[FieldSpec, str], Any]
    refs: str | None = None  # table whose ids the value names
    accepts_input: bool = True  # False for computed and auto-number
    storage: Callable[[Any], Any] = as_is  # Python value → JSON
    loader: Callable[[Any], Any] = as_is  # JSON → Python value


def _text(spec: FieldSpec, _tz: str, default_max: int = 200) -> Any:
    opts = spec.options
    return Annotated[
        str,
        StringConstraints(
            strip_whitespace=True,
            max_length=int(opts.get("max_length") or default_max),
            min_length=opts.get("min_length"),
            pattern=opts.get("pattern"),
        ),
    ]


def _decimal(spec: FieldSpec, _tz: str, places: int = 2) -> Any:
    precision = int(spec.options.get("precision", places))
    return Annotated[
        Decimal,
        Field(
            max_digits=18, decimal_places=precision, allow_inf_nan=False, **_bounds(spec.options)
        ),
    ]


# Scalars are stored by the one codec of JSON custom values (`kit.jsonsql`), the same that
# binds them in SQL conditions and sort cursors: numbers as JSON numbers, dates and datetimes
# as ISO text whose order is time order. Decimals load back as Decimal, so money stays exact.
_dump_number = partial(to_json_value, "number")
_dump_date = partial(to_json_value, "date")
_dump_datetime = partial(to_json_value, "datetime")
_load_date = partial(from_json_value, "date")
_load_datetime = partial(from_json_value, "datetime")


def _load_decimal(raw: Any) -> Decimal | None:
    return None if raw is None else Decimal(str(raw))


def _ref(spec: Any, timezone: str) -> Any:
    """A reference to one row (user, team, customer, asset, ticket, attachment)."""
    return Annotated[int, Field(ge=1, le=MAX_ID)]


def _ids(spec: FieldSpec, _tz: str) -> Any:
    most = int(spec.options.get("max_files") or 10)
    return Annotated[list[Annotated[int, Field(ge=1, le=MAX_ID)]], Field(max_length=most)]


def _table_row(spec: FieldSpec, tz: str) -> type[BaseModel]:
    from pydantic import create_model

    columns: dict[str, Any] = {}
    for col in spec.options.get("columns", []):
        col_spec = FieldSpec(
            key=col["key"],
            type=col["type"],
            label=col.get("label", {}),
            options=col.get("options", {}),
        )
        annotation = TYPES[col["type"]].build(col_spec, tz)
        if col.get("required"):
            columns[col["key"]] = (annotation, ...)
        else:
            columns[col["key"]] = (annotation | None, None)
    model: type[BaseModel] = create_model(f"Row_{spec.key}", **columns)
    return model


def _table(spec: FieldSpec, tz: str) -> Any:
    row = _table_row(spec, tz)
    return Annotated[list[row], Field(max_length=int(spec.options.get("max_rows") or 50))]  # type: ignore[valid-type]


def _dump_rows(rows: list[Any]) -> list[dict[str, Any]]:
    return [r.model_dump(mode="json") if isinstance(r, BaseModel) else r for r in rows]


def _select(spec: FieldSpec, _tz: str) -> Any:
    return Annotated[str, AfterValidator(_one_of(_choice_keys(spec.options)))]


def _multi(spec: FieldSpec, _tz: str) -> Any:
    keys = _choice_keys(spec.options)
    limits: dict[str, Any] = {}
    if spec.options.get("max_items"):
        limits["max_length"] = int(spec.options["max_items"])
    return Annotated[list[str], Field(**limits), AfterValidator(_all_of(keys))]


def _cascade(spec: FieldSpec, _tz: str) -> Any:
    from fuwu.fields.registry.cascade import path_checker

    return Annotated[
        list[str], Field(min_length=1, max_length=6), AfterValidator(path_checker(spec))
    ]


def _readonly(_spec: FieldSpec, _tz: str) -> Any:
    return Any


_TYPES: list[FieldType] = [
    FieldType("text", Kind.TEXT, _text),
    FieldType("textarea", Kind.TEXT, lambda s, tz: _text(s, tz, 5000)),
    FieldType(
        "rich_text",
        Kind.TEXT,
        lambda s, tz: Annotated[
            str, Field(max_length=int(s.options.get("max_length") or 20000)), AfterValidator(_rich)
        ],
    ),
    FieldType(
        "integer",
        Kind.NUMBER,
        lambda s, tz: Annotated[int, Field(strict=False, **_bounds(s.options))],
    ),
    FieldType("decimal", Kind.NUMBER, _decimal, storage=_dump_number, loader=_load_decimal),
    FieldType("money", Kind.NUMBER, _decimal, storage=_dump_number, loader=_load_decimal),
    FieldType("percent", Kind.NUMBER, _decimal, storage=_dump_number, loader=_load_decimal),
    FieldType(
        "date",
        Kind.DATE,
        lambda s, tz: Annotated[date, Field(**_bounds(s.options))],
        storage=_dump_date,
        loader=_load_date,
    ),
    FieldType(
        "datetime",
        Kind.DATETIME,
        lambda s, tz: Annotated[datetime, AfterValidator(_aware(tz))],
        storage=_dump_datetime,
        loader=_load_datetime,
    ),
    FieldType(
        "duration",
        Kind.NUMBER,
        lambda s, tz: Annotated[
            int, Field(ge=int(s.options.get("min") or 0), le=s.options.get("max"))
        ],
    ),
    FieldType("select", Kind.CHOICE, _select),
    FieldType("multi_select", Kind.MULTI, _multi),
    FieldType("cascade", Kind.MULTI, _cascade),
    FieldType("boolean", Kind.BOOL, lambda s, tz: bool),
    FieldType("user", Kind.REF, _ref, refs="user"),
    FieldType("team", Kind.REF, _ref, refs="team"),
    FieldType("customer", Kind.REF, _ref, refs="contact"),
    FieldType("asset", Kind.REF, _ref, refs="asset"),
    FieldType("ticket", Kind.REF, _ref, refs="ticket"),
    FieldType("attachment", None, _ids, refs="attachment"),
    FieldType("image", None, _ids, refs="attachment"),
    FieldType("signature", None, _ref, refs="attachment"),
    FieldType(
        "phone",
        Kind.TEXT,
        lambda s, tz: Annotated[
            str, Field(max_length=40), AfterValidator(_phone(str(s.options.get("region") or "CN")))
        ],
    ),
    FieldType(
        "email",
        Kind.TEXT,
        lambda s, tz: Annotated[str, Field(max_length=254), AfterValidator(_email)],
    ),
    FieldType(
        "url", Kind.TEXT, lambda s, tz: Annotated[str, Field(max_length=2000), AfterValidator(_url)]
    ),
    FieldType(
        "location",
        None,
        lambda s, tz: Location,
        storage=lambda v: v.model_dump() if isinstance(v, BaseModel) else v,
    ),
    FieldType("table", None, _table, storage=_dump_rows),
    FieldType("auto_number", Kind.TEXT, _readonly, accepts_input=False),
    FieldType("computed", None, _readonly, accepts_input=False),
]

TYPES: dict[str, FieldType] = {t.name: t for t in _TYPES}
TABLE_COLUMN_TYPES = ("text", "integer", "decimal", "money", "date", "select", "boolean")


def kind_of(spec: FieldSpec) -> Kind | None:
    """The condition kind of a field; computed fields take their formula's result kind."""
    if spec.type == "computed":
        found = spec.options.get("result_kind")
        return Kind(found) if found else None
    return TYPES[spec.type].kind


def dump(spec: FieldSpec, value: Any) -> Any:
    """A validated Python value → what goes into the JSON column (`kit.jsonsql`'s codec for
    scalars; a computed field by the kind of what its formula gave)."""
    if value is None:
        return None
    if spec.type == "computed":
        if isinstance(value, Decimal):
            return _dump_number(value)
        if isinstance(value, date) and not isinstance(value, datetime):
            return _dump_date(value)
        return value.isoformat() if isinstance(value, datetime) else value
    return TYPES[spec.type].storage(value)


def load(spec: FieldSpec, raw: Any) -> Any:
    """A stored JSON value → the Python value conditions and formulas compare."""
    if raw is None:
        return None
    if spec.type == "computed":
        kind = kind_of(spec)
        if kind is Kind.NUMBER:
            return _load_decimal(raw)
        if kind is Kind.DATE:
            return _load_date(raw)
        return raw
    return TYPES[spec.type].loader(raw)


FILE_TYPES = frozenset({"attachment", "image", "signature"})  # their values are stored files


def spec_of(row: Any) -> FieldSpec:
    """A FieldDef row → its immutable spec."""
    return FieldSpec(
        key=row.key,
        type=row.type,
        label=dict(row.label or {}),
        options=dict(row.options or {}),
        required=row.required,
        unique=row.unique,
        read_only=row.read_only,
        set_once=row.set_once,
        filterable=row.filterable,
        default=row.default,
        help=dict(row.help or {}),
        placeholder=dict(row.placeholder or {}),
    )
