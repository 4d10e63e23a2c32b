"""The measures a row collection returns with its rows (`measures=`, and those its `measure`
filters name): in JSON as each row's field `measures`, in CSV and Parquet as typed columns
DESIGNATION and DESIGNATION_day after the row's fields. Which value counts is the query
layer's (app/query/measures.py)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import marshmallow as ma
from flask import Response
from marshmallow import fields
from sqlalchemy import Select, func, select

from app.api.query.columns import row_schema
from app.api.query.export import page_or_csv
from app.models import MeasureKind
from app.query.measures import (
    KnownMeasure,
    RowValues,
    day_column,
    measure_window,
    nested_measures,
    returned_measures,
    with_measure_columns,
)


class MeasureValueSchema(ma.Schema):
    """The value of a measure that counts for a row, and its day."""

    value = fields.Raw(allow_none=True, metadata={
        "oneOf": [{"type": "number"}, {"type": "string"}],
        "description": "A number (numbers, ordinal scores), or a category's level; null when "
                       "no value counts for the row."})
    day = fields.Integer(allow_none=True, metadata={
        "description": "The assessment's days since the subject's baseline."})


def measures_field() -> fields.Field:
    """The `measures` field of a row (present when the request asks for measures)."""
    return fields.Dict(keys=fields.String(), values=fields.Nested(MeasureValueSchema),
                       metadata={"description": (
                           "With measures= or a measure filter: {DESIGNATION: {value, day}} "
                           "for each measure asked for.")})


def measure_fields(measures: Sequence[KnownMeasure]) -> dict[str, fields.Field]:
    """The CSV and Parquet columns of `measures`: a value column (float, or string for a
    category) and a day column (integer) each."""
    columns: dict[str, fields.Field] = {}
    for measure in measures:
        columns[measure.designation] = (fields.String(allow_none=True)
                                        if measure.kind is MeasureKind.CATEGORY
                                        else fields.Float(allow_none=True))
        columns[day_column(measure.designation)] = fields.Integer(allow_none=True)
    return columns


def page_or_export(
    statement: Select, args: dict[str, Any], row: RowValues, *, resource: str,
    item_schema: type[ma.Schema], counted: Select | None = None,
) -> dict[str, Any] | Response:
    """page_or_csv with the measures the request returns: a page whose rows carry `measures`,
    or a CSV or Parquet export with their columns."""
    measures = returned_measures(args)
    if not measures:
        return page_or_csv(statement, args, resource=resource, item_schema=item_schema,
                           counted=counted)
    if counted is None:
        # Counted without the measure columns: a count needs none of their subqueries.
        counted = select(func.count()).select_from(statement.subquery())
    with_columns = with_measure_columns(statement, measures, row, measure_window(args))
    if args.get("format", "json") != "json":
        schema = row_schema(f"{item_schema.__name__}WithMeasures", {}, base=item_schema,
                            **measure_fields(measures))
        return page_or_csv(with_columns, args, resource=resource, item_schema=schema,
                           counted=counted)
    answer = page_or_csv(with_columns, args, resource=resource, item_schema=item_schema,
                         counted=counted)
    answer["items"] = [{**item, "measures": nested_measures(item, measures)}
                       for item in answer["items"]]
    return answer
