"""GET /scanners: the scanners of each dataset, with manufacturer and field strength."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import fields

from app.api.query import Blueprint, apply_filters, collection_args, envelope_schema, paginate
from app.api.query.columns import Column, columns_of, row_schema
from app.api.rows import DATASET_FIELD
from app.query.scanners import SCANNER_FILTERS, SCANNER_ROW, select_scanners

blp = Blueprint("scanners", __name__, url_prefix="/api/v1/scanners",
                description="Scanners of the datasets")

ScannerArgs = collection_args(
    "ScannerArgs", sorts=("id", "dataset", "manufacturer", "field_strength"),
    filters=SCANNER_FILTERS)


# A scanner row's schema fields, by the names of app/query/scanners.py's SCANNER_ROW.
SCANNER_COLUMNS: dict[str, Column] = columns_of(SCANNER_ROW, {
    "id": fields.Integer(required=True),
    "dataset": DATASET_FIELD,
    "manufacturer": fields.String(required=True),
    "model": fields.String(required=True),
    "serial": fields.String(required=True),
    "field_strength": fields.Float(allow_none=True, metadata={"description": "Tesla."}),
})
ScannerSchema = row_schema("ScannerSchema", SCANNER_COLUMNS)


@blp.route("")
class Scanners(MethodView):
    @blp.arguments(ScannerArgs, location="query", as_kwargs=False)
    @blp.response(200, envelope_schema(ScannerSchema))
    def get(self, args: dict[str, Any]):
        """List the scanners matching the filters."""
        return paginate(apply_filters(select_scanners(), args, SCANNER_FILTERS), args,
                        "scanners")
