"""GET /subjects and /subjects/{id}: participants, with their visits and images."""
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
from app.api.rows import DATASET_FIELD
from app.api.visits import VisitSchema
from app.extensions import db
from app.models import Image, Subject, Visit
from app.query.images import select_images
from app.query.measures import SUBJECT_VALUES, measure_clauses
from app.query.sorting import sorted_by
from app.query.subjects import SUBJECT_DETAIL_ROW, SUBJECT_FILTERS, SUBJECT_ROW, select_subjects
from app.query.visits import select_visits

blp = Blueprint("subjects", __name__, url_prefix="/api/v1/subjects",
                description="Participants of the datasets")

# A subject row's schema fields, by the names of app/query/subjects.py's SUBJECT_ROW.
SUBJECT_COLUMNS: dict[str, Column] = columns_of(SUBJECT_ROW, {
    "id": fields.Integer(required=True),
    "dataset": DATASET_FIELD,
    "external_id": fields.String(required=True, metadata={
        "description": "The subject's id in its dataset."}),
    "sex": fields.String(required=True),
    "handedness": fields.String(required=True),
    "race": fields.String(required=True),
    "education_years": fields.Float(allow_none=True),
    "age_at_baseline": fields.Float(allow_none=True, metadata={
        "description": "Age in years at the first visit; the age filters apply to it."}),
    "condition": fields.String(allow_none=True, metadata={
        "description": "Subject-level condition, set when the dataset has no per-visit one."}),
    "conditions": fields.List(fields.String(), required=True, metadata={
        "description": "Every condition the subject has, its own and its visits', in the "
                       "master list's order: the values the condition filter matches. In CSV, "
                       "joined by '; '."}),
})
SUBJECT_DETAIL_COLUMNS: dict[str, Column] = columns_of(SUBJECT_DETAIL_ROW, {
    "metadata_json": fields.Dict(allow_none=True),
})
SUBJECT_SORTS = ("id", "dataset", "external_id", "sex", "age_at_baseline")

SubjectArgs = collection_args("SubjectArgs", sorts=SUBJECT_SORTS,
                              filters=[*SUBJECT_FILTERS, *MEASURE_PARAMETERS], csv=True)


# A subject row: the same fields in JSON and (as the header) in CSV.
SubjectSchema = row_schema("SubjectSchema", SUBJECT_COLUMNS)
# A subject row of a page, with its measures when asked for.
SubjectListItemSchema = row_schema("SubjectListItemSchema", {}, base=SubjectSchema,
                                   measures=measures_field())
# One subject with every visit and image.
SubjectDetailSchema = row_schema(
    "SubjectDetailSchema", SUBJECT_DETAIL_COLUMNS, base=SubjectSchema,
    visits=fields.List(fields.Nested(VisitSchema), required=True),
    images=fields.List(fields.Nested(ImageSchema), required=True))


@blp.route("")
class Subjects(MethodView):
    @blp.arguments(SubjectArgs, location="query", as_kwargs=False)
    @blp.response(200, envelope_schema(SubjectListItemSchema, "Subject"))
    @blp.doc(responses=export_responses())
    def get(self, args: dict[str, Any]):
        """List subjects matching the filters, a page at a time or (format=csv) all of them.

        condition matches a subject having that condition, as its own or at any visit (the
        row's `conditions`); age_min and age_max apply to the age at baseline; has_type keeps
        subjects with an image of each given type.
        """
        statement = apply_filters(select_subjects(), args, SUBJECT_FILTERS).where(
            *measure_clauses(args, SUBJECT_VALUES))
        return page_or_export(statement, args, SUBJECT_VALUES, resource="subjects",
                              item_schema=SubjectSchema)


@blp.route("/<int(max=2147483647):subject_id>")
class SubjectById(MethodView):
    @blp.arguments(NoArgs, location="query", as_kwargs=False)
    @blp.response(200, SubjectDetailSchema)
    def get(self, _args: dict[str, Any], subject_id: int):
        """Return one subject with its visits (by day) and images (by id)."""
        statement = select_subjects(SUBJECT_DETAIL_ROW).where(Subject.id == subject_id)
        row = db.session.execute(statement).mappings().first()
        if row is None:
            abort(404, message=f"no subject with id {subject_id}")
        visits = db.session.execute(sorted_by(
            select_visits().where(Visit.subject_id == subject_id), "days_since_baseline")
        ).mappings().all()
        images = db.session.execute(
            sorted_by(select_images().where(Image.subject_id == subject_id), "id")
        ).mappings().all()
        return {**row, "visits": visits, "images": images}
