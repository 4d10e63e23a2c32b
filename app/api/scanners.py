"""GET /scanners: the scanners of each dataset, with manufacturer and field strength."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields
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


class ScannerSchema(Schema):
    """A scanner of one dataset; unknown parts are empty strings."""

    id = fields.Integer(required=True)
    dataset = fields.String(required=True, metadata={"description": "Dataset designation."})
    manufacturer = fields.String(required=True)
    model = fields.String(required=True)
    serial = fields.String(required=True)
    field_strength = fields.Float(allow_none=True, metadata={"description": "Tesla."})


@blp.route("")
class Scanners(MethodView):
    @blp.arguments(ScannerArgs, location="query", as_kwargs=False)
    @blp.response(200, envelope_schema(ScannerSchema))
    def get(self, args: dict[str, Any]):
        """List the scanners matching the filters."""
        statement = (
            select(Scanner.id.label("id"), Dataset.designation.label("dataset"),
                   Scanner.manufacturer.label("manufacturer"), Scanner.model.label("model"),
                   Scanner.serial.label("serial"),
                   Scanner.field_strength.label("field_strength"))
            .join(Dataset, Dataset.id == Scanner.dataset_id)
            .where(Dataset.deleted_at.is_(None))
        )
        return paginate(apply_filters(statement, args, SCANNER_FILTERS), args, "scanners")
