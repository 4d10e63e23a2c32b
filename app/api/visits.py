"""GET /visits and /visits/{id}: dated encounters of subjects, with their resolved condition."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import abort
from marshmallow import fields

from app.api.images import ImageSchema
from app.api.query import (
    Blueprint,
    NoArgs,
    apply_filters,
    collection_args,
    envelope_schema,
)
from app.api.query.columns import Column, columns_of, row_schema
from app.api.query.measures import measures_field, page_or_export
from app.api.query.params import MEASURE_PARAMETERS
from app.api.query.parquet import export_responses
from app.api.rows import DATASET_FIELD, dated_fields
from app.extensions import db
from app.models import Image, Visit
from app.query.images import select_images
from app.query.measures import VISIT_VALUES, measure_clauses
from app.query.sorting import sorted_by
from app.query.visits import VISIT_DETAIL_ROW, VISIT_FILTERS, VISIT_ROW, select_visits

blp = Blueprint("visits", __name__, url_prefix="/api/v1/visits",
                description="Dated encounters of subjects")

# A visit row's schema fields, by the names of app/query/visits.py's VISIT_ROW.
VISIT_COLUMNS: dict[str, Column] = columns_of(VISIT_ROW, {
    "id": fields.Integer(required=True),
    "dataset": DATASET_FIELD,
    "subject_id": fields.Integer(required=True),
    "subject_external_id": fields.String(required=True),
    "external_id": fields.String(required=True, metadata={
        "description": "The visit's id in its dataset."}),
    "days_since_baseline": fields.Integer(allow_none=True),
    **dated_fields("age_at_visit"),
    "bmi": fields.Float(allow_none=True),
})
# One visit with its symptoms and scores (its images are added by the route).
VISIT_DETAIL_COLUMNS: dict[str, Column] = columns_of(VISIT_DETAIL_ROW, {
    "symptoms": fields.Dict(allow_none=True),
})
VISIT_SORTS = ("id", "dataset", "subject_id", "external_id", "days_since_baseline",
               "age_at_visit")

VisitArgs = collection_args("VisitArgs", sorts=VISIT_SORTS,
                            filters=[*VISIT_FILTERS, *MEASURE_PARAMETERS], csv=True)


# A visit row: the same fields in JSON and (as the header) in CSV.
VisitSchema = row_schema("VisitSchema", VISIT_COLUMNS)
# A visit row of a page, with its measures when asked for.
VisitListItemSchema = row_schema("VisitListItemSchema", {}, base=VisitSchema,
                                 measures=measures_field())


# One visit with its symptoms and scores, and its images.
VisitDetailSchema = row_schema(
    "VisitDetailSchema", VISIT_DETAIL_COLUMNS, base=VisitSchema,
    images=fields.List(fields.Nested(ImageSchema), required=True))


@blp.route("")
class Visits(MethodView):
    @blp.arguments(VisitArgs, location="query", as_kwargs=False)
    @blp.response(200, envelope_schema(VisitListItemSchema, "Visit"))
    @blp.doc(responses=export_responses())
    def get(self, args: dict[str, Any]):
        """List visits matching the filters, a page at a time or (format=csv) all of them."""
        statement = apply_filters(select_visits(), args, VISIT_FILTERS).where(
            *measure_clauses(args, VISIT_VALUES))
        return page_or_export(statement, args, VISIT_VALUES, resource="visits",
                              item_schema=VisitSchema)


@blp.route("/<int(max=2147483647):visit_id>")
class VisitById(MethodView):
    @blp.arguments(NoArgs, location="query", as_kwargs=False)
    @blp.response(200, VisitDetailSchema)
    def get(self, _args: dict[str, Any], visit_id: int):
        """Return one visit with its images."""
        statement = select_visits(VISIT_DETAIL_ROW).where(Visit.id == visit_id)
        row = db.session.execute(statement).mappings().first()
        if row is None:
            abort(404, message=f"no visit with id {visit_id}")
        images = db.session.execute(
            sorted_by(select_images().where(Image.visit_id == visit_id), "id")
        ).mappings().all()
        return {**row, "images": images}
