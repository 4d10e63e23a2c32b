"""One list of a resource's row fields: each field's SQL expression beside its JSON field.

The JSON schema, the CSV header and the selected columns are all derived from that list, so a
field is added or renamed in one place. A row the query layer defines (app/query: the image and
dataset rows) is paired with its fields by `columns_of`, which refuses names that differ.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
from marshmallow.decorators import POST_DUMP, PRE_DUMP
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


def columns_of(row: Mapping[str, ColumnElement[Any]],
               fields: Mapping[str, ma.fields.Field]) -> dict[str, Column]:
    """Pair the expressions of a query-layer row with the schema fields of the same names, in
    the row's order; a name in only one of them is an error (raised at import)."""
    if list(row) != list(fields):
        raise ValueError(f"the row's fields {list(row)} differ from its schema's {list(fields)}")
    return {name: Column(expression, fields[name]) for name, expression in row.items()}


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


def term_columns(model: Any) -> dict[str, Column]:
    """The controlled-vocabulary term of a master list's row (conditions, measures):
    vocabulary, term_code and term_url, each null when no term was confirmed."""
    def optional(expression: Any, description: str) -> Column:
        return Column(expression, ma.fields.String(allow_none=True,
                                                   metadata={"description": description}))
    return {
        "vocabulary": optional(model.vocabulary, "Controlled vocabulary of the term (LOINC, "
                                                 "SNOMED CT, NCIT); null when none was confirmed."),
        "term_code": optional(model.term_code, "The term's code in its vocabulary."),
        "term_url": optional(model.term_url, "Where the term is described."),
    }


# Field classes whose serialisation leaves a value of this exact type as it is (String keeps a
# str, Integer an int, ...): only such values may skip the field's own conversion.
_UNCHANGED_TYPES: dict[type[ma.fields.Field], type] = {
    ma.fields.String: str, ma.fields.Integer: int, ma.fields.Float: float,
    ma.fields.Boolean: bool}
# (field name, output key, the type kept as is or None, the field's own conversion)
_FieldPlan = tuple[str, str, type | None, Callable[..., Any]]


def _dump_plan(schema: ma.Schema) -> list[_FieldPlan] | None:
    """How RowList renders a row of `schema`, or None when only schema.dump gives the right
    answer (hooks, a custom attribute accessor, a dotted or renamed attribute)."""
    if (schema._hooks[PRE_DUMP] or schema._hooks[POST_DUMP]
            or type(schema).get_attribute is not ma.Schema.get_attribute):
        return None
    plan = []
    for name, field in schema.dump_fields.items():
        # Method, Function and Constant fields ignore the row's value (no _CHECK_ATTRIBUTE).
        if field.attribute is not None or "." in name or not field._CHECK_ATTRIBUTE:
            return None
        unchanged = (None if getattr(field, "as_string", False)
                     else _UNCHANGED_TYPES.get(type(field)))
        plan.append((name, field.data_key if field.data_key is not None else name, unchanged,
                     field._serialize))
    return plan


class RowList(ma.fields.List):
    """A page's rows (mappings of field name to value) rendered as `schema` would dump them,
    without its per-row and per-field overhead, which a profile of a 50-row page showed as a
    quarter of the request: each value is converted by its field only when the field would
    change it. Documented (OpenAPI) as a list of Nested(schema)."""

    def __init__(self, schema: type[ma.Schema], **kwargs: Any) -> None:
        super().__init__(ma.fields.Nested(schema), **kwargs)
        self._plan: list[_FieldPlan] | None = None

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
        schema = self.inner.schema  # type: ignore[attr-defined]
        if self._plan is None:
            self._plan = _dump_plan(schema) or []
        if (value is None or not self._plan or schema.many
                or not all(isinstance(row, Mapping) for row in value)):
            return super()._serialize(value, attr, obj, **kwargs)
        return [_render(row, self._plan, schema) for row in value]


def _render(row: Mapping[str, Any], plan: Sequence[_FieldPlan], schema: ma.Schema) -> dict:
    rendered = {}
    for name, key, unchanged, convert in plan:
        value = row.get(name, ma.missing)
        if value is ma.missing:
            # Absent from the row (e.g. `url` without with_urls): the field decides, as in
            # schema.dump (its dump_default, else left out).
            value = schema.dump_fields[name].serialize(name, row,
                                                       accessor=schema.get_attribute)
            if value is ma.missing:
                continue
        elif type(value) is not unchanged and not (value is None and unchanged is not None):
            # (The fields of _UNCHANGED_TYPES render None as None.)
            value = convert(value, name, row)
        rendered[key] = value
    return rendered
