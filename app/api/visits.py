"""GET /visits and /visits/{id}: dated encounters of subjects, with their resolved condition."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import abort
from marshmallow import fields
from sqlalchemy import Select, select

from app.api.images import ImageSchema
from app.api.query import (
    Blueprint,
    NoArgs,
    apply_filters,
    at_least,
    at_most,
    collection_args,
    designated,
    envelope_schema,
    equal_to,
    not_deleted,
    page_or_csv,
    sorted_by,
)
from app.api.query.columns import Column, Columns, labelled, row_schema
from app.api.query.parquet import export_responses
from app.api.rows import DATASET_COLUMN, dated_columns
from app.extensions import db
from app.models import Condition, Dataset, Image, Subject, Visit
from app.query.images import select_images
from app.query.rows import AGE_AT_VISIT, CONDITION_FILTER, CONDITION_ID
from app.query.visit_types import visit_has_type_of_visit

blp = Blueprint("visits", __name__, url_prefix="/api/v1/visits",
                description="Dated encounters of subjects")

# A table alias, not an ORM one: aliased() would configure every mapper at import time.
VisitCondition = Condition.__table__.alias("visit_condition")

# A visit row, field by field: the JSON fields, the CSV header and the selected columns.
VISIT_COLUMNS: dict[str, Column] = {
    "id": Column(Visit.id, fields.Integer(required=True)),
    "dataset": DATASET_COLUMN,
    "subject_id": Column(Visit.subject_id, fields.Integer(required=True)),
    "subject_external_id": Column(Subject.external_id, fields.String(required=True)),
    "external_id": Column(Visit.external_id, fields.String(required=True, metadata={
        "description": "The visit's id in its dataset."})),
    "days_since_baseline": Column(Visit.days_since_baseline, fields.Integer(allow_none=True)),
    **dated_columns("age_at_visit", AGE_AT_VISIT, VisitCondition.c),
    "bmi": Column(Visit.bmi, fields.Float(allow_none=True)),
}
# One visit with its symptoms and scores (its images are added by the route).
VISIT_DETAIL_COLUMNS: dict[str, Column] = {
    "symptoms": Column(Visit.symptoms, fields.Dict(allow_none=True)),
}


def select_visits(extra: Columns | None = None) -> Select:
    """Return the visit rows (not soft-deleted) with the tables they are filtered on joined."""
    return (
        select(*labelled(VISIT_COLUMNS), *labelled(extra or {}))
        .select_from(Visit)
        .join(Subject, Subject.id == Visit.subject_id)
        .join(Dataset, Dataset.id == Subject.dataset_id)
        .outerjoin(VisitCondition, VisitCondition.c.id == CONDITION_ID)
        .where(not_deleted(Visit, Subject, Dataset))
    )


VISIT_FILTERS = {
    "dataset": designated(Dataset, Subject.dataset_id),
    "condition": CONDITION_FILTER,
    "sex": equal_to(Subject.sex),
    "age_min": at_least(AGE_AT_VISIT),
    "age_max": at_most(AGE_AT_VISIT),
    "days_min": at_least(Visit.days_since_baseline),
    "days_max": at_most(Visit.days_since_baseline),
    "visit_has_type": visit_has_type_of_visit,
}
VISIT_SORTS = ("id", "dataset", "subject_id", "external_id", "days_since_baseline",
               "age_at_visit")

VisitArgs = collection_args("VisitArgs", sorts=VISIT_SORTS, filters=VISIT_FILTERS, csv=True)


# A visit row: the same fields in JSON and (as the header) in CSV.
VisitSchema = row_schema("VisitSchema", VISIT_COLUMNS)


# One visit with its symptoms and scores, and its images.
VisitDetailSchema = row_schema(
    "VisitDetailSchema", VISIT_DETAIL_COLUMNS, base=VisitSchema,
    images=fields.List(fields.Nested(ImageSchema), required=True))


@blp.route("")
class Visits(MethodView):
    @blp.arguments(VisitArgs, location="query", as_kwargs=False)
    @blp.response(200, envelope_schema(VisitSchema))
    @blp.doc(responses=export_responses())
    def get(self, args: dict[str, Any]):
        """List visits matching the filters, a page at a time or (format=csv) all of them."""
        statement = apply_filters(select_visits(), args, VISIT_FILTERS)
        return page_or_csv(statement, args, resource="visits", item_schema=VisitSchema)


@blp.route("/<int(max=2147483647):visit_id>")
class VisitById(MethodView):
    @blp.arguments(NoArgs, location="query", as_kwargs=False)
    @blp.response(200, VisitDetailSchema)
    def get(self, _args: dict[str, Any], visit_id: int):
        """Return one visit with its images."""
        statement = select_visits(VISIT_DETAIL_COLUMNS).where(Visit.id == visit_id)
        row = db.session.execute(statement).mappings().first()
        if row is None:
            abort(404, message=f"no visit with id {visit_id}")
        images = db.session.execute(
            sorted_by(select_images().where(Image.visit_id == visit_id), "id")
        ).mappings().all()
        return {**row, "images": images}
