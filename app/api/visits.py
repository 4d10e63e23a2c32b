"""GET /visits and /visits/{id}: dated encounters of subjects, with their resolved condition."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import abort
from marshmallow import Schema, fields
from sqlalchemy import ColumnElement, Float, Select, cast, func, select
from sqlalchemy.orm import aliased

from app.api.images import DAYS_PER_YEAR, ImageSchema, select_images
from app.api.query import (
    Blueprint,
    NoArgs,
    apply_filters,
    at_least,
    at_most,
    collection_args,
    designated,
    designated_first_known,
    envelope_schema,
    equal_to,
    not_deleted,
    page_or_csv,
    sorted_by,
)
from app.api.query.parquet import export_responses
from app.api.query.visit_types import visit_has_type_of_visit
from app.extensions import db
from app.models import Condition, Dataset, Image, Subject, Visit

blp = Blueprint("visits", __name__, url_prefix="/api/v1/visits",
                description="Dated encounters of subjects")

AGE_AT_VISIT = Subject.age_at_baseline + cast(Visit.days_since_baseline, Float) / DAYS_PER_YEAR
# A diagnosis known for the visit wins over the subject's (DESIGN.md).
VISIT_CONDITION_ID = func.coalesce(Visit.condition_id, Subject.condition_id)
VisitCondition = aliased(Condition, name="visit_condition")


def visit_columns() -> dict[str, ColumnElement[Any]]:
    """Return the columns of a visit row, by JSON field name (the CSV header too)."""
    return {
        "id": Visit.id,
        "dataset": Dataset.designation,
        "subject_id": Visit.subject_id,
        "subject_external_id": Subject.external_id,
        "external_id": Visit.external_id,
        "days_since_baseline": Visit.days_since_baseline,
        "age_at_visit": AGE_AT_VISIT,
        "sex": Subject.sex,
        "condition": VisitCondition.designation,
        "bmi": Visit.bmi,
    }


def select_visits(*extra: ColumnElement[Any]) -> Select:
    """Return the visit rows (not soft-deleted) with the tables they are filtered on joined."""
    columns = [column.label(name) for name, column in visit_columns().items()]
    return (
        select(*columns, *extra)
        .select_from(Visit)
        .join(Subject, Subject.id == Visit.subject_id)
        .join(Dataset, Dataset.id == Subject.dataset_id)
        .outerjoin(VisitCondition, VisitCondition.id == VISIT_CONDITION_ID)
        .where(not_deleted(Visit, Subject, Dataset))
    )


VISIT_FILTERS = {
    "dataset": designated(Dataset, Subject.dataset_id),
    "condition": designated_first_known(Condition, Visit.condition_id, Subject.condition_id),
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


class VisitSchema(Schema):
    """A visit row: the same fields in JSON and (as the header) in CSV."""

    id = fields.Integer(required=True)
    dataset = fields.String(required=True, metadata={"description": "Dataset designation."})
    subject_id = fields.Integer(required=True)
    subject_external_id = fields.String(required=True)
    external_id = fields.String(required=True, metadata={
        "description": "The visit's id in its dataset."})
    days_since_baseline = fields.Integer(allow_none=True)
    age_at_visit = fields.Float(allow_none=True, metadata={
        "description": "age_at_baseline + days_since_baseline / 365.25; null if unknown."})
    sex = fields.String(required=True)
    condition = fields.String(allow_none=True, metadata={
        "description": "The visit's condition if known, else the subject's."})
    bmi = fields.Float(allow_none=True)


class VisitDetailSchema(VisitSchema):
    """One visit with its symptoms and scores and its images."""

    symptoms = fields.Dict(allow_none=True)
    images = fields.List(fields.Nested(ImageSchema), required=True)


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
        statement = select_visits(Visit.symptoms.label("symptoms")).where(Visit.id == visit_id)
        row = db.session.execute(statement).mappings().first()
        if row is None:
            abort(404, message=f"no visit with id {visit_id}")
        images = db.session.execute(
            sorted_by(select_images().where(Image.visit_id == visit_id), "id")
        ).mappings().all()
        return {**row, "images": images}
