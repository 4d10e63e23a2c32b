"""GET /measures: the master list of clinical measures (MMSE, CDR, education...) that datasets'
columns map onto, whose designations the measure filters and columns take."""
from __future__ import annotations

from typing import Any

from marshmallow import fields

from app.api.master_lists import master_list_blueprint
from app.api.query.columns import Column, term_columns
from app.models import Measure, MeasureKind


def _column(expression: Any, description: str, field: type[fields.Field] = fields.String,
            **kwargs: Any) -> Column:
    return Column(expression, field(allow_none=True, metadata={"description": description},
                                    **kwargs))


# The columns of a measure besides its id, designation and description.
MEASURE_COLUMNS = {
    "unit": _column(Measure.unit, "Unit of the stored values (e.g. points, kg); null for "
                                  "scores without one and categories."),
    "kind": Column(Measure.kind, fields.String(required=True, metadata={
        "enum": [kind.value for kind in MeasureKind],
        "description": "number, ordinal (a score on an ordered scale) or category (levels): "
                       "a category's filter takes = and a set of levels."})),
    "minimum": _column(Measure.minimum, "Smallest valid value (inclusive).", fields.Float),
    "maximum": _column(Measure.maximum, "Largest valid value (inclusive).", fields.Float),
    "levels": _column(Measure.levels, "A category's levels (level: description), or the "
                                      "allowed steps of an ordinal scale.", fields.Raw),
    "per_subject": Column(Measure.per_subject, fields.Boolean(required=True, metadata={
        "description": "A trait of the subject (education, handedness, APOE e4): its latest "
                       "value counts whatever the day."})),
    **term_columns(Measure),
}

blp = master_list_blueprint(
    Measure, "measures", __name__, description="Master list of clinical measures",
    example="MMSE", extra_columns=MEASURE_COLUMNS,
    doc="List the measures (their designations are the values of the measure filter and of "
        "the measures columns).")
