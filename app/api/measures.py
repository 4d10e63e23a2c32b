"""GET /measures: the master list of clinical measures (MMSE, CDR, education...) that datasets'
columns map onto, whose designations the measure filters and columns take."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import fields
from sqlalchemy import select

from app.api.query import Blueprint, collection_args, envelope_schema, paginate
from app.api.query.columns import Column, labelled, master_list_columns, row_schema
from app.models import Measure, MeasureKind

blp = Blueprint("measures", __name__, url_prefix="/api/v1/measures",
                description="Master list of clinical measures")

MeasureArgs = collection_args("MeasureArgs", sorts=("id", "designation"))


def _column(expression: Any, description: str, field: type[fields.Field] = fields.String,
            **kwargs: Any) -> Column:
    return Column(expression, field(allow_none=True, metadata={"description": description},
                                    **kwargs))


MEASURE_COLUMNS = {
    **master_list_columns(Measure, example="MMSE"),
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
    "vocabulary": _column(Measure.vocabulary, "Controlled vocabulary of the term (LOINC, "
                                              "SNOMED CT, NCIT); null when none was confirmed."),
    "term_code": _column(Measure.term_code, "The term's code in its vocabulary."),
    "term_url": _column(Measure.term_url, "Where the term is described."),
}
# A measure of the master list.
MeasureSchema = row_schema("MeasureSchema", MEASURE_COLUMNS)


@blp.route("")
class Measures(MethodView):
    @blp.arguments(MeasureArgs, location="query", as_kwargs=False)
    @blp.response(200, envelope_schema(MeasureSchema))
    def get(self, args: dict[str, Any]):
        """List the measures (their designations are the values of the measure filter and of
        the measures columns)."""
        return paginate(select(*labelled(MEASURE_COLUMNS)), args, "measures")
