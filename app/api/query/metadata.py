"""meta.<Field> filters: acquisition parameters kept in an image's metadata (BIDS sidecar,
DICOM header), e.g. meta.RepetitionTime_max=2.5 or meta.Manufacturer=Siemens.

`meta.<Field>=v` matches a text or boolean value equal to v, or, when v is a number, a numeric
value equal to it; `meta.<Field>_min=x` / `_max=x` match numeric values at least / at most x.
A value of another JSON type, or a missing field, never matches. The SQL is written for each
database (SQLite's json_type/json_extract, PostgreSQL's jsonb_typeof/->>) so that a text value
is never cast to a number (PostgreSQL would fail on it).
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import marshmallow as ma
from sqlalchemy import ColumnElement, Float, String, and_, bindparam, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

PREFIX = "meta."
PARAMETER = "meta.{Field}"
# A metadata field name: letters, digits and underscores (BIDS and DICOM keywords are).
FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
BOUNDS = {"_min": ">=", "_max": "<="}
MAX_FILTERS = 20
DESCRIPTION = (
    "Filter on an acquisition parameter of the image's metadata (e.g. the BIDS sidecar): "
    "`meta.<Field>=value` (a text or boolean value equal to it, or a number equal to it), "
    "`meta.<Field>_min=x` and `meta.<Field>_max=x` (numbers, inclusive). <Field> is a metadata "
    "key of letters, digits and underscores, e.g. meta.RepetitionTime_max=2.5 or "
    "meta.Manufacturer=Siemens. Images without the field never match. Not repeatable."
)

# One parsed filter: (metadata field, "=", ">=" or "<=", value).
MetaFilter = tuple[str, str, Any]


class _JsonValue(FunctionElement):
    """A scalar of a JSON column's top-level field, or NULL when it has another JSON type."""

    inherit_cache = True

    def __init__(self, column: ColumnElement[Any], field: str) -> None:
        super().__init__(column, bindparam(None, field, type_=String))


class json_number(_JsonValue):  # noqa: N801  (SQL function style)
    """The field's value when it is a JSON number, else NULL."""

    type = Float()
    name = "json_number"
    inherit_cache = True


class json_text(_JsonValue):  # noqa: N801
    """The field's value as text when it is a JSON string or boolean, else NULL."""

    type = String()
    name = "json_text"
    inherit_cache = True


def _arguments(element: _JsonValue, compiler: Any, **kw: Any) -> tuple[str, str]:
    column, field = list(element.clauses)
    return compiler.process(column, **kw), compiler.process(field, **kw)


@compiles(json_number, "sqlite")
def _number_sqlite(element: json_number, compiler: Any, **kw: Any) -> str:
    column, field = _arguments(element, compiler, **kw)
    path = f"'$.\"' || {field} || '\"'"
    return (f"CASE WHEN json_type({column}, {path}) IN ('integer', 'real') "
            f"THEN json_extract({column}, {path}) END")


@compiles(json_text, "sqlite")
def _text_sqlite(element: json_text, compiler: Any, **kw: Any) -> str:
    column, field = _arguments(element, compiler, **kw)
    path = f"'$.\"' || {field} || '\"'"
    return (f"CASE json_type({column}, {path}) WHEN 'text' THEN json_extract({column}, {path}) "
            "WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' END")


@compiles(json_number, "postgresql")
def _number_postgresql(element: json_number, compiler: Any, **kw: Any) -> str:
    column, field = _arguments(element, compiler, **kw)
    return (f"CASE WHEN jsonb_typeof({column} -> {field}) = 'number' "
            f"THEN CAST({column} ->> {field} AS DOUBLE PRECISION) END")


@compiles(json_text, "postgresql")
def _text_postgresql(element: json_text, compiler: Any, **kw: Any) -> str:
    column, field = _arguments(element, compiler, **kw)
    return (f"CASE WHEN jsonb_typeof({column} -> {field}) IN ('string', 'boolean') "
            f"THEN {column} ->> {field} END")


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_meta_parameters(values: Mapping[str, list[str]]) -> list[MetaFilter]:
    """Turn {"meta.<Field>[_min|_max]": [values]} into filters, or raise a ValidationError
    naming the bad parameter (a bad field name, a repeated parameter, a bound not a number)."""
    if len(values) > MAX_FILTERS:
        raise ma.ValidationError(f"at most {MAX_FILTERS} meta.<Field> filters",
                                 field_name=PARAMETER)
    filters: list[MetaFilter] = []
    for parameter, given in sorted(values.items()):
        name = parameter.removeprefix(PREFIX)
        if len(given) != 1:
            raise ma.ValidationError("must not be repeated", field_name=parameter)
        (value,) = given
        if not value or "\x00" in value or len(value) > 256:
            raise ma.ValidationError("must be 1 to 256 characters", field_name=parameter)
        operator = "="
        for suffix, bound in BOUNDS.items():
            if name.endswith(suffix) and len(name) > len(suffix):
                name, operator = name.removesuffix(suffix), bound
                number = _number(value)
                if number is None:
                    raise ma.ValidationError("must be a number", field_name=parameter)
                value = number
        if not FIELD_NAME.fullmatch(name):
            raise ma.ValidationError(
                "the field name must be letters, digits and underscores, starting with a "
                "letter (at most 64)", field_name=parameter)
        filters.append((name, operator, value))
    return filters


def meta_clause(column: ColumnElement[Any], filters: list[MetaFilter]) -> ColumnElement[bool]:
    """Return the WHERE clause matching every one of `filters` on the JSON `column`."""
    clauses = []
    for name, operator, value in filters:
        if operator == ">=":
            clauses.append(json_number(column, name) >= value)
        elif operator == "<=":
            clauses.append(json_number(column, name) <= value)
        else:
            text_match = json_text(column, name) == value
            number = _number(value)
            clauses.append(text_match if number is None
                           else or_(text_match, json_number(column, name) == number))
    return and_(*clauses)


def collect_meta(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return query parameters `data` with the meta.<Field> ones parsed into one entry (under
    the documented name meta.{Field}, which loads as `meta`)."""
    plain: dict[str, Any] = {}
    meta: dict[str, list[str]] = {}
    for key in data:
        if key.startswith(PREFIX):
            getlist = getattr(data, "getlist", None)
            raw = getlist(key) if getlist else data[key]
            meta[key] = [str(item) for item in raw] if isinstance(raw, list) else [str(raw)]
        else:
            plain[key] = data[key]
    if meta:
        plain[PARAMETER] = parse_meta_parameters(meta)
    return plain
