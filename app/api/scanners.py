"""GET /scanners: the scanners of each dataset, with manufacturer and field strength."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import fields
from sqlalchemy import select

from app.api.query import (
    Blueprint,
    apply_filters,
    collection_args,
    designated,
    envelope_schema,
    equal_ignoring_case,
    equal_to,
    paginate,
)
from app.api.query.columns import Column, labelled, row_schema
from app.api.rows import DATASET_COLUMN
from app.models import Dataset, Scanner

blp = Blueprint("scanners", __name__, url_prefix="/api/v1/scanners",
                description="Scanners of the datasets")

SCANNER_FILTERS = {
    "dataset": designated(Dataset, Scanner.dataset_id),
    "field_strength": equal_to(Scanner.field_strength),
    "manufacturer": equal_ignoring_case(Scanner.manufacturer),
}
ScannerArgs = collection_args(
    "ScannerArgs", sorts=("id", "dataset", "manufacturer", "field_strength"),
    filters=SCANNER_FILTERS)


# A scanner of one dataset, field by field; unknown parts are empty strings.
SCANNER_COLUMNS: dict[str, Column] = {
    "id": Column(Scanner.id, fields.Integer(required=True)),
    "dataset": DATASET_COLUMN,
    "manufacturer": Column(Scanner.manufacturer, fields.String(required=True)),
    "model": Column(Scanner.model, fields.String(required=True)),
    "serial": Column(Scanner.serial, fields.String(required=True)),
    "field_strength": Column(Scanner.field_strength, fields.Float(allow_none=True, metadata={
        "description": "Tesla."})),
}
ScannerSchema = row_schema("ScannerSchema", SCANNER_COLUMNS)


@blp.route("")
class Scanners(MethodView):
    @blp.arguments(ScannerArgs, location="query", as_kwargs=False)
    @blp.response(200, envelope_schema(ScannerSchema))
    def get(self, args: dict[str, Any]):
        """List the scanners matching the filters."""
        statement = (
            select(*labelled(SCANNER_COLUMNS))
            .join(Dataset, Dataset.id == Scanner.dataset_id)
            .where(Dataset.deleted_at.is_(None))
        )
        return paginate(apply_filters(statement, args, SCANNER_FILTERS), args, "scanners")
