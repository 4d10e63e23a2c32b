"""One list of a resource's row fields: each field's SQL expression beside its JSON field.

The JSON schema, the CSV header and the selected columns are all derived from that list, so a
field is added or renamed in one place.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
from sqlalchemy import ColumnElement, Label


class UtcDateTime(ma.fields.DateTime):
    """A time as RFC 3339 in UTC, the same from both databases: SQLite keeps no time zone (the
    times are written in UTC), and a date-time without an offset is not valid in OpenAPI."""

    def _serialize(self, value: datetime | None, attr: Any, obj: Any, **kwargs: Any) -> Any:
        if value is not None:
            value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return super()._serialize(value, attr, obj, **kwargs)


@dataclass(frozen=True)
class Column:
    """A row field: the SQL expression that computes it and the schema field that renders it."""

    expression: ColumnElement[Any]
    field: ma.fields.Field


Columns = Mapping[str, Column]


def labelled(columns: Columns) -> list[Label[Any]]:
    """Return the expressions of `columns`, each labelled with its field name."""
    return [column.expression.label(name) for name, column in columns.items()]


def row_schema(
    name: str, columns: Columns, base: type[ma.Schema] = ma.Schema, **more: ma.fields.Field
) -> type[ma.Schema]:
    """Return a schema class named `name` with the fields of `columns`, in their order.

    `base` puts the fields of another row schema first (e.g. a detail row extends a list row);
    `more` adds fields that no column computes (e.g. the nested rows a route adds).
    """
    attributes = {field_name: column.field for field_name, column in columns.items()}
    return type(name, (base,), {**attributes, **more})


def master_list_columns(model: Any, example: str) -> dict[str, Column]:
    """The fields of a row of a master list (conditions, file types): id, designation and
    description; `example` is a designation shown in the OpenAPI document."""
    return {
        "id": Column(model.id, ma.fields.Integer(required=True)),
        "designation": Column(model.designation, ma.fields.String(
            required=True, metadata={"example": example})),
        "description": Column(model.description, ma.fields.String(allow_none=True)),
    }
