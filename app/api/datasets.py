"""GET /datasets and /datasets/{id}: source studies with their subject, visit and image counts."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import abort
from marshmallow import fields
from sqlalchemy import Select, func, select

from app.api.query import Blueprint, NoArgs, collection_args, envelope_schema, not_deleted, paginate
from app.api.query.columns import Column, labelled, row_schema
from app.extensions import db
from app.models import Dataset, Image, ImageType, Subject, Visit

blp = Blueprint("datasets", __name__, url_prefix="/api/v1/datasets",
                description="Source studies (OASIS, ADNI, HCP, ...)")


# A dataset row, field by field (its counts are added by with_counts).
DATASET_COLUMNS: dict[str, Column] = {
    "id": Column(Dataset.id, fields.Integer(required=True)),
    "designation": Column(Dataset.designation, fields.String(required=True, metadata={
        "example": "OASIS3"})),
    "description": Column(Dataset.description, fields.String(allow_none=True)),
}


def select_datasets() -> Select:
    """Return the dataset rows that are not soft-deleted."""
    return select(*labelled(DATASET_COLUMNS)).where(Dataset.deleted_at.is_(None))


def with_counts(rows: list[Any]) -> list[dict[str, Any]]:
    """Return the dataset rows with their counts, in three grouped queries whatever their number."""
    ids = [row["id"] for row in rows]
    subjects = dict(db.session.execute(
        select(Subject.dataset_id, func.count())
        .where(Subject.dataset_id.in_(ids), Subject.deleted_at.is_(None))
        .group_by(Subject.dataset_id)
    ).all())
    visits = dict(db.session.execute(
        select(Subject.dataset_id, func.count())
        .join(Visit, Visit.subject_id == Subject.id)
        .where(Subject.dataset_id.in_(ids), not_deleted(Subject, Visit))
        .group_by(Subject.dataset_id)
    ).all())
    images: dict[int, dict[str, int]] = {id_: {t.value: 0 for t in ImageType} for id_ in ids}
    for dataset_id, image_type, count in db.session.execute(
        select(Image.dataset_id, Image.type, func.count())
        .join(Subject, Subject.id == Image.subject_id)
        .where(Image.dataset_id.in_(ids), not_deleted(Image, Subject))
        .group_by(Image.dataset_id, Image.type)
    ):
        images[dataset_id][ImageType(image_type).value] = count
    return [
        {**row, "subject_count": subjects.get(row["id"], 0),
         "visit_count": visits.get(row["id"], 0),
         "image_count": sum(images[row["id"]].values()),
         "image_counts_by_type": images[row["id"]]}
        for row in rows
    ]


DatasetArgs = collection_args("DatasetArgs", sorts=("id", "designation"))


# A dataset with the number of its subjects, visits and images (per type).
DatasetSchema = row_schema(
    "DatasetSchema", DATASET_COLUMNS,
    subject_count=fields.Integer(required=True),
    visit_count=fields.Integer(required=True),
    image_count=fields.Integer(required=True),
    image_counts_by_type=fields.Dict(
        keys=fields.String(), values=fields.Integer(), required=True,
        metadata={"description": "Images per type; every type is present.",
                  "example": {"T1": 10, "DWI": 4, "rsfMRI": 0, "FieldMap": 0}}))


@blp.route("")
class Datasets(MethodView):
    @blp.arguments(DatasetArgs, location="query", as_kwargs=False)
    @blp.response(200, envelope_schema(DatasetSchema))
    def get(self, args: dict[str, Any]):
        """List the datasets with their subject, visit and per-type image counts."""
        envelope = paginate(select_datasets(), args, "datasets")
        return {**envelope, "items": with_counts(envelope["items"])}


@blp.route("/<int(max=2147483647):dataset_id>")
class DatasetById(MethodView):
    @blp.arguments(NoArgs, location="query", as_kwargs=False)
    @blp.response(200, DatasetSchema)
    def get(self, _args: dict[str, Any], dataset_id: int):
        """Return one dataset with its counts."""
        row = db.session.execute(
            select_datasets().where(Dataset.id == dataset_id)).mappings().first()
        if row is None:
            abort(404, message=f"no dataset with id {dataset_id}")
        return with_counts([row])[0]
