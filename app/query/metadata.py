"""meta.<Field> filters as SQL: the clause matching acquisition parameters kept in an image's
metadata (BIDS sidecar, DICOM header). The parameters are parsed by app/api/query/metadata.py.

A text or boolean value matches when equal to the filter's value, or, when the value is a number,
a numeric value equal to it; the bounds (">=", "<=") match numeric values. A value of another
JSON type, or a missing field, never matches. The SQL is written for each database (SQLite's
json_type/json_extract, PostgreSQL's jsonb_typeof/->>) so that a text value is never cast to a
number (PostgreSQL would fail on it).
"""
from __future__ import annotations

import math
from typing import Any

from sqlalchemy import ColumnElement, Float, String, and_, bindparam, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

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


def finite_number(text: str) -> float | None:
    """Return `text` as a finite number, or None when it is not one."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


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
            number = finite_number(value)
            clauses.append(text_match if number is None
                           else or_(text_match, json_number(column, name) == number))
    return and_(*clauses)
