"""GET /images and /images/{id}: stored images with their subject, visit, scanner and condition.

To add a route add a MethodView below (downloads.py holds /images/{id}/download); to add a
field add its expression to IMAGE_ROW (app/query/images.py, which also holds the filters and
statements) and its schema field to IMAGE_FIELDS below (JSON, CSV and SQL follow).
"""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import ValidationError, fields, validate, validates_schema
from sqlalchemy import func

from app.access.audit import record_download_urls
from app.access.auth import require_scope
from app.api.bulk import URLS_CONTENT, URLS_FORMAT, url_list_response
from app.api.downloads import URL_EXPIRY_SECONDS
from app.api.links import public_url_for
from app.api.query import Blueprint, collection_args, envelope_schema, filter_args
from app.api.query.columns import Column, columns_of, row_schema
from app.api.query.measures import measures_field, page_or_export
from app.api.query.params import FORMATS, MEASURE_PARAMETERS
from app.api.query.parquet import export_responses
from app.api.rows import DATASET_FIELD, dated_fields, row_or_404
from app.extensions import db
from app.files.image_files import single_object_keys
from app.models import HeaderDrift, Image, Scope
from app.query.filters import filter_clauses
from app.query.images import (
    AGE_BASES,
    IMAGE_DETAIL_ROW,
    IMAGE_FILTERS,
    IMAGE_ROW,
    filtered_images,
    image_filters,
    matching_images,
    select_images,
)
from app.query.measures import IMAGE_VALUES
from app.query.sorting import sorted_by
from app.storage import get_storage, presigned_urls

blp = Blueprint("images", __name__, url_prefix="/api/v1/images",
                description="Stored images (MRI: T1, DWI, rsfMRI, FieldMap; Mammogram)")

# An image row's schema fields, by the names of app/query/images.py's IMAGE_ROW.
IMAGE_FIELDS: dict[str, fields.Field] = {
    "id": fields.Integer(required=True),
    "dataset": DATASET_FIELD,
    "subject_id": fields.Integer(required=True),
    "subject_external_id": fields.String(required=True, metadata={
        "description": "The subject's id in its dataset."}),
    "visit_id": fields.Integer(allow_none=True, metadata={
        "description": "The visit the image belongs to; null when no visit precedes it."}),
    "type": fields.String(required=True, metadata={"example": "T1"}),
    "path": fields.String(required=True, metadata={"description": "Object-storage key."}),
    "file_size": fields.Integer(allow_none=True, metadata={"description": "Bytes."}),
    "checksum": fields.String(allow_none=True),
    "days_since_baseline": fields.Integer(allow_none=True, metadata={
        "description": "Days from the subject's baseline to the scan: the image's own, else "
                       "its visit's; null if unknown."}),
    **dated_fields("age_at_scan"),
    "age_basis": fields.String(allow_none=True, validate=validate.OneOf(AGE_BASES), metadata={
        "description": (
            "What age_at_scan rests on: session (a scan day the data give) or participant "
            "(the participant's age, e.g. participants.tsv, for a subject's only visit that "
            "no date places); null when the age is unknown.")}),
    "scanner_id": fields.Integer(allow_none=True),
    "manufacturer": fields.String(allow_none=True),
    "field_strength": fields.Float(allow_none=True, metadata={"description": "Tesla."}),
    "preprocessed": fields.String(required=True),
    "qc_state": fields.String(required=True, metadata={
        "description": "new, signed_off, flagged or blacklisted (PUT /images/{id}/qc)."}),
}
IMAGE_COLUMNS: dict[str, Column] = columns_of(IMAGE_ROW, IMAGE_FIELDS)
# One image with its acquisition metadata and scanner details.
IMAGE_DETAIL_COLUMNS: dict[str, Column] = columns_of(IMAGE_DETAIL_ROW, {
    "scanner_model": fields.String(allow_none=True),
    "scanner_serial": fields.String(allow_none=True),
    "metadata_json": fields.Dict(allow_none=True, metadata={
        "description": "Acquisition metadata (e.g. the BIDS sidecar)."}),
    "name": fields.String(allow_none=True, metadata={
        "description": "RADIFOX-style type name: the manual one if given, else predicted."}),
    "predicted_name": fields.String(allow_none=True, metadata={
        "description": "bodypart-modality-technique-acqdim-orientation-excontrast[-extras], "
                       "predicted from the header or sidecar."}),
    "manual_name": fields.String(allow_none=True, metadata={
        "description": "Given by hand; it wins over the prediction."}),
})

IMAGE_SORTS = ("id", "dataset", "subject_id", "type", "days_since_baseline", "age_at_scan",
               "file_size")

ImageCollectionArgs = collection_args("ImageCollectionArgs", sorts=IMAGE_SORTS,
                                      filters=[*IMAGE_FILTERS, *MEASURE_PARAMETERS], csv=True)


class ImageArgs(ImageCollectionArgs):
    """The collection's parameters, plus with_urls and format=urls."""

    format = fields.String(load_default="json", validate=validate.OneOf((*FORMATS, URLS_FORMAT)),
                           metadata={"description": (
        "json (a page); csv or parquet (every matching row, streamed; the columns are the "
        "JSON field names); urls (text/uri-list: the download URL of every matching image, "
        "needs the download scope, logged in the audit log).")})

    with_urls = fields.Boolean(load_default=False, metadata={"description": (
        "Add `url` to each row of the page: a presigned object-storage URL valid for "
        f"{URL_EXPIRY_SECONDS // 60} minutes (S3/COS with HMAC keys), else the row's "
        "/download route. Pages only: not with format=csv.")})

    @validates_schema
    def _urls_only_for_pages(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("with_urls") and data.get("format") != "json":
            raise ValidationError("only with format=json: an export carries no URLs "
                                  "(format=urls lists them)", "with_urls")


# An image row: the same fields in JSON and (as the header) in CSV.
ImageSchema = row_schema("ImageSchema", IMAGE_COLUMNS)


class ImageListItemSchema(ImageSchema):
    """An image row of a page, with its download URL when with_urls=true and its measures when
    asked for."""

    url = fields.String(metadata={"description": "Present with with_urls=true: where to GET "
                                                 "the file (presigned or the /download route)."})
    measures = measures_field()


def with_download_urls(items: list[Any]) -> list[dict[str, Any]]:
    """Return the page's rows with a `url` each: presigned when the storage can share URLs
    (signing is local: no request per row), else the API's own download route."""
    storage = get_storage()
    route = {item["id"]: public_url_for("downloads.ImageDownload", image_id=item["id"])
             for item in items}
    if not storage.shareable_urls:
        return [{**item, "url": route[item["id"]]} for item in items]
    # Presigned only for one-object images under their dataset's prefix; a set of files (a
    # DICOM series) is a zip or manifest of the download route.
    keys = single_object_keys(db.session, route)
    urls = presigned_urls(keys.values(), URL_EXPIRY_SECONDS, storage)
    return [{**item, "url": urls[keys[item["id"]]] if item["id"] in keys else route[item["id"]]}
            for item in items]


# One image with its acquisition metadata and scanner details, and its header drift (kept in
# its own table: not a column of the row).
ImageDetailSchema = row_schema(
    "ImageDetailSchema", IMAGE_DETAIL_COLUMNS, base=ImageSchema,
    header_drift=fields.Dict(allow_none=True, metadata={"description": (
        "How the header compares with its tag's gold standard: standard_version, drifted, "
        "differences [{field, expected, actual, tolerance}]; null when never compared.")}))


@blp.route("")
class Images(MethodView):
    @blp.arguments(ImageArgs, location="query", as_kwargs=False)
    @blp.response(200, envelope_schema(ImageListItemSchema, "Image"))
    @blp.doc(responses=export_responses(URLS_CONTENT))
    def get(self, args: dict[str, Any]):
        """List images matching the filters, a page at a time or (format=csv) all of them.

        with_urls=true needs the download scope too, and is logged in the audit log.
        """
        if args["with_urls"] or args["format"] == URLS_FORMAT:
            require_scope(Scope.DOWNLOAD)
        if args["format"] == URLS_FORMAT:
            return url_list_response(sorted_by(filtered_images(args), args["sort"]),
                                     with_download_urls)
        clauses = image_filters(args)
        answer = page_or_export(select_images().where(*clauses), args, IMAGE_VALUES,
                                resource="images", item_schema=ImageSchema,
                                counted=matching_images(clauses, func.count()))
        if args["with_urls"]:
            answer["items"] = with_download_urls(answer["items"])
            record_download_urls(answer["items"])
        return answer


# One image by id: `qc` as on /images (a blacklisted image only with qc=all or qc=blacklisted).
QC_FILTER = {"qc": IMAGE_FILTERS["qc"]}
ImageDetailArgs = filter_args("ImageDetailArgs", QC_FILTER)


@blp.route("/<int(max=2147483647):image_id>")
class ImageById(MethodView):
    @blp.arguments(ImageDetailArgs, location="query", as_kwargs=False)
    @blp.response(200, ImageDetailSchema)
    def get(self, args: dict[str, Any], image_id: int):
        """Return one image with its metadata.

        A blacklisted image is a 404 unless qc=all or qc=blacklisted is asked for, as on
        /images; qc=<state> also answers 404 for an image in another state.
        """
        statement = select_images(IMAGE_DETAIL_ROW).where(Image.id == image_id,
                                                          *filter_clauses(args, QC_FILTER))
        row = row_or_404(statement, f"no image with id {image_id}")
        drift = db.session.get(HeaderDrift, image_id)
        return {**row, "header_drift": None if drift is None else {
            "standard_version": drift.standard_version, "drifted": drift.drifted,
            "differences": drift.differences}}
