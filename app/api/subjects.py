"""GET /subjects and /subjects/{id}: participants, with their visits and images."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import abort
from marshmallow import Schema, fields
from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import aliased

from app.api.images import ImageSchema, select_images
from app.api.query import (
    Blueprint,
    NoArgs,
    all_of,
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
    with_ids_of,
)
from app.api.query.parquet import export_responses
from app.api.query.visit_types import visit_has_type_of_subject
from app.api.visits import VisitSchema, select_visits
from app.extensions import db
from app.models import Condition, Dataset, Image, Subject, Visit

blp = Blueprint("subjects", __name__, url_prefix="/api/v1/subjects",
                description="Participants of the datasets")

SubjectCondition = aliased(Condition, name="subject_condition")


def subject_columns() -> dict[str, ColumnElement[Any]]:
    """Return the columns of a subject row, by JSON field name (the CSV header too)."""
    return {
        "id": Subject.id,
        "dataset": Dataset.designation,
        "external_id": Subject.external_id,
        "sex": Subject.sex,
        "handedness": Subject.handedness,
        "race": Subject.race,
        "education_years": Subject.education_years,
        "age_at_baseline": Subject.age_at_baseline,
        "condition": SubjectCondition.designation,
    }


def select_subjects(*extra: ColumnElement[Any]) -> Select:
    """Return the subject rows (not soft-deleted) with their dataset and condition joined."""
    columns = [column.label(name) for name, column in subject_columns().items()]
    return (
        select(*columns, *extra)
        .select_from(Subject)
        .join(Dataset, Dataset.id == Subject.dataset_id)
        .outerjoin(SubjectCondition, SubjectCondition.id == Subject.condition_id)
        .where(not_deleted(Subject, Dataset))
    )


def _has_condition(condition_ids: list[int]) -> ColumnElement[bool]:
    """Match subjects with the condition at some visit, or without visits but with it themselves.

    A visit's condition is its own if known, else the subject's (the visit level wins), so a
    subject whose visits all carry another diagnosis does not match its own subject-level one.
    """
    visits = exists().where(Visit.subject_id == Subject.id, Visit.deleted_at.is_(None))
    visit_has_it = visits.where(
        func.coalesce(Visit.condition_id, Subject.condition_id).in_(condition_ids))
    return or_(visit_has_it, and_(~visits, Subject.condition_id.in_(condition_ids)))


def _has_image_of_type(image_type: str) -> ColumnElement[bool]:
    return exists().where(
        Image.subject_id == Subject.id, Image.deleted_at.is_(None), Image.type == image_type)


SUBJECT_FILTERS = {
    "dataset": designated(Dataset, Subject.dataset_id),
    "condition": with_ids_of(Condition, _has_condition),
    "sex": equal_to(Subject.sex),
    "age_min": at_least(Subject.age_at_baseline),
    "age_max": at_most(Subject.age_at_baseline),
    "has_type": all_of(_has_image_of_type),
    "visit_has_type": visit_has_type_of_subject,
}
SUBJECT_SORTS = ("id", "dataset", "external_id", "sex", "age_at_baseline")

SubjectArgs = collection_args("SubjectArgs", sorts=SUBJECT_SORTS, filters=SUBJECT_FILTERS,
                              csv=True)


class SubjectSchema(Schema):
    """A subject row: the same fields in JSON and (as the header) in CSV."""

    id = fields.Integer(required=True)
    dataset = fields.String(required=True, metadata={"description": "Dataset designation."})
    external_id = fields.String(required=True, metadata={
        "description": "The subject's id in its dataset."})
    sex = fields.String(required=True)
    handedness = fields.String(required=True)
    race = fields.String(required=True)
    education_years = fields.Float(allow_none=True)
    age_at_baseline = fields.Float(allow_none=True, metadata={
        "description": "Age in years at the first visit; the age filters apply to it."})
    condition = fields.String(allow_none=True, metadata={
        "description": "Subject-level condition, set when the dataset has no per-visit one."})


class SubjectDetailSchema(SubjectSchema):
    """One subject with every visit and image."""

    metadata_json = fields.Dict(allow_none=True)
    visits = fields.List(fields.Nested(VisitSchema), required=True)
    images = fields.List(fields.Nested(ImageSchema), required=True)


@blp.route("")
class Subjects(MethodView):
    @blp.arguments(SubjectArgs, location="query", as_kwargs=False)
    @blp.response(200, envelope_schema(SubjectSchema))
    @blp.doc(responses=export_responses())
    def get(self, args: dict[str, Any]):
        """List subjects matching the filters, a page at a time or (format=csv) all of them.

        condition matches a subject with that condition at any visit (the visit's own, else the
        subject's), or without visits but with it as its own; age_min and age_max apply to the
        age at baseline; has_type keeps subjects with an image of each
        given type.
        """
        statement = apply_filters(select_subjects(), args, SUBJECT_FILTERS)
        return page_or_csv(statement, args, resource="subjects", item_schema=SubjectSchema)


@blp.route("/<int(max=2147483647):subject_id>")
class SubjectById(MethodView):
    @blp.arguments(NoArgs, location="query", as_kwargs=False)
    @blp.response(200, SubjectDetailSchema)
    def get(self, _args: dict[str, Any], subject_id: int):
        """Return one subject with its visits (by day) and images (by id)."""
        statement = select_subjects(Subject.metadata_json.label("metadata_json")).where(
            Subject.id == subject_id)
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
