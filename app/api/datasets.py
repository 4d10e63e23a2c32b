"""GET /datasets and /datasets/{id}: source studies with their subject, visit and image counts."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import fields

from app.api.query import Blueprint, NoArgs, collection_args, envelope_schema, paginate
from app.api.query.columns import Column, columns_of, row_schema
from app.api.rows import row_or_404
from app.models import Dataset
from app.query.datasets import DATASET_ROW, select_datasets, with_counts

blp = Blueprint("datasets", __name__, url_prefix="/api/v1/datasets",
                description="Source studies (OASIS, ADNI, HCP, ...)")


# A dataset row's schema fields (its SQL is app/query/datasets.py's DATASET_ROW).
DATASET_COLUMNS: dict[str, Column] = columns_of(DATASET_ROW, {
    "id": fields.Integer(required=True),
    "designation": fields.String(required=True, metadata={"example": "OASIS3"}),
    "description": fields.String(allow_none=True),
})


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
                  "example": {"T1": 10, "DWI": 4, "rsfMRI": 0, "FieldMap": 0,
                              "Mammogram": 0}}))


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
        row = row_or_404(select_datasets().where(Dataset.id == dataset_id),
                         f"no dataset with id {dataset_id}")
        return with_counts([row])[0]
