"""GET /images and /images/{id}: stored images with their subject, visit, scanner and condition.

To add a route add a MethodView below (downloads.py holds /images/{id}/download); to add a
field add it to IMAGE_COLUMNS (JSON, CSV and SQL follow).
"""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import abort
from marshmallow import ValidationError, fields, validate, validates_schema
from sqlalchemy import ColumnElement, Select, and_, case, func, select

from app.api.bulk import URLS_CONTENT, URLS_FORMAT, url_list_response
from app.api.downloads import URL_EXPIRY_SECONDS
from app.api.links import public_url_for
from app.api.query import (
    Blueprint,
    NoArgs,
    any_of,
    any_of_ignoring_case,
    at_least,
    at_most,
    collection_args,
    designated,
    envelope_schema,
    equal_to,
    flag,
    page_or_csv,
    qc_states,
    sorted_by,
)
from app.api.query.columns import Column, Columns, labelled, row_schema
from app.api.query.filters import equal_to_lowered, filter_clauses, joined_as_needed
from app.api.query.metadata import meta_clause
from app.api.query.params import FORMATS
from app.api.query.parquet import export_responses
from app.api.rows import (
    AGE_AT_SCAN,
    DATASET_COLUMN,
    IMAGE_CONDITION_FILTER,
    IMAGE_CONDITION_ID,
    IMAGE_FIELD_STRENGTH,
    IMAGE_IS_LIVE,
    IMAGE_MANUFACTURER,
    IMAGE_SEX,
    SCAN_DAY,
    dated_columns,
)
from app.audit import record_download_urls
from app.auth import require_scope
from app.extensions import db
from app.image_files import single_object_keys
from app.models import Condition, Dataset, HeaderDrift, Image, Scanner, Scope, Subject, Visit
from app.names import EFFECTIVE_NAME, NameFilterError, name_matches, parse_name_filter
from app.storage import get_storage, presigned_urls

blp = Blueprint("images", __name__, url_prefix="/api/v1/images",
                description="Stored images (MRI: T1, DWI, rsfMRI, FieldMap; Mammogram)")

# A table alias, not an ORM one: aliased() would configure every mapper at import time.
ImageCondition = Condition.__table__.alias("image_condition")
# Mammography facts kept in an image's metadata (load_db/OMIDB): view, side, lesion marks.
VIEW = Image.metadata_json["ViewPosition"].as_string()
LATERALITY = Image.metadata_json["ImageLaterality"].as_string()
HAS_MARKS = Image.metadata_json["has_marks"].as_boolean()

# What an image's age at scan rests on: a scan day the data give (the image's own or its
# visit's: "session"), or participants' age alone, the visit's day 0 being assumed
# ("participant", see Visit.days_assumed); null when the age is unknown.
AGE_BASES = ("session", "participant")
AGE_BASIS = case(
    (AGE_AT_SCAN.is_(None), None),
    (and_(Image.days_since_baseline.is_(None), Visit.days_assumed.is_(True)), AGE_BASES[1]),
    else_=AGE_BASES[0])

# An image row, field by field: the JSON fields, the CSV header and the selected columns.
IMAGE_COLUMNS: dict[str, Column] = {
    "id": Column(Image.id, fields.Integer(required=True)),
    "dataset": DATASET_COLUMN,
    "subject_id": Column(Image.subject_id, fields.Integer(required=True)),
    "subject_external_id": Column(Subject.external_id, fields.String(required=True, metadata={
        "description": "The subject's id in its dataset."})),
    "visit_id": Column(Image.visit_id, fields.Integer(allow_none=True, metadata={
        "description": "The visit the image belongs to; null when no visit precedes it."})),
    "type": Column(Image.type, fields.String(required=True, metadata={"example": "T1"})),
    "path": Column(Image.path, fields.String(required=True, metadata={
        "description": "Object-storage key."})),
    "file_size": Column(Image.file_size, fields.Integer(allow_none=True, metadata={
        "description": "Bytes."})),
    "checksum": Column(Image.checksum, fields.String(allow_none=True)),
    "days_since_baseline": Column(SCAN_DAY, fields.Integer(allow_none=True, metadata={
        "description": "Days from the subject's baseline to the scan: the image's own, else "
                       "its visit's; null if unknown."})),
    **dated_columns("age_at_scan", AGE_AT_SCAN, ImageCondition.c, sex=IMAGE_SEX),
    "age_basis": Column(AGE_BASIS, fields.String(allow_none=True, validate=validate.OneOf(
        AGE_BASES), metadata={"description": (
            "What age_at_scan rests on: session (a scan day the data give) or participant "
            "(the participant's age, e.g. participants.tsv, for a subject's only visit that "
            "no date places); null when the age is unknown.")})),
    "scanner_id": Column(Image.scanner_id, fields.Integer(allow_none=True)),
    "manufacturer": Column(Scanner.manufacturer, fields.String(allow_none=True)),
    "field_strength": Column(Scanner.field_strength, fields.Float(allow_none=True, metadata={
        "description": "Tesla."})),
    "preprocessed": Column(Image.preprocessed, fields.String(required=True)),
    "qc_state": Column(Image.qc_state, fields.String(required=True, metadata={
        "description": "new, signed_off, flagged or blacklisted (PUT /images/{id}/qc)."})),
}
# One image with its acquisition metadata and scanner details.
IMAGE_DETAIL_COLUMNS: dict[str, Column] = {
    "scanner_model": Column(Scanner.model, fields.String(allow_none=True)),
    "scanner_serial": Column(Scanner.serial, fields.String(allow_none=True)),
    "metadata_json": Column(Image.metadata_json, fields.Dict(allow_none=True, metadata={
        "description": "Acquisition metadata (e.g. the BIDS sidecar)."})),
    "name": Column(EFFECTIVE_NAME, fields.String(allow_none=True, metadata={
        "description": "RADIFOX-style type name: the manual one if given, else predicted."})),
    "predicted_name": Column(Image.predicted_name, fields.String(allow_none=True, metadata={
        "description": "bodypart-modality-technique-acqdim-orientation-excontrast[-extras], "
                       "predicted from the header or sidecar."})),
    "manual_name": Column(Image.manual_name, fields.String(allow_none=True, metadata={
        "description": "Given by hand; it wins over the prediction."})),
}


def select_images(extra: Columns | None = None) -> Select:
    """Return the image rows (not soft-deleted) with every table they are filtered on joined."""
    return (
        select(*labelled(IMAGE_COLUMNS), *labelled(extra or {}))
        .select_from(Image)
        .join(Subject, Subject.id == Image.subject_id)
        .join(Dataset, Dataset.id == Image.dataset_id)
        .outerjoin(Visit, Visit.id == Image.visit_id)
        .outerjoin(Scanner, Scanner.id == Image.scanner_id)
        .outerjoin(ImageCondition, ImageCondition.c.id == IMAGE_CONDITION_ID)
        .where(IMAGE_IS_LIVE)
    )


# How a statement over `image` alone reaches another table when a filter names one.
IMAGE_JOINS = {Subject.__table__: Subject.id == Image.subject_id,
               Dataset.__table__: Dataset.id == Image.dataset_id,
               Visit.__table__: Visit.id == Image.visit_id,
               Scanner.__table__: Scanner.id == Image.scanner_id}


def named_like(name: str, text: str) -> ColumnElement[bool]:
    """The `name` filter: RADIFOX conditions on the image's name; a bad one is a 400."""
    try:
        return name_matches(parse_name_filter(text))
    except NameFilterError as exc:
        abort(400, message=f"{name}: {exc}", errors={name: [str(exc)]})


IMAGE_FILTERS = {
    "dataset": designated(Dataset, Image.dataset_id),
    "condition": IMAGE_CONDITION_FILTER,
    "type": any_of(Image.type),
    "sex": equal_to(IMAGE_SEX),
    "age_min": at_least(AGE_AT_SCAN),
    "age_max": at_most(AGE_AT_SCAN),
    "days_min": at_least(SCAN_DAY),
    "days_max": at_most(SCAN_DAY),
    "field_strength": equal_to(IMAGE_FIELD_STRENGTH),
    "manufacturer": equal_to_lowered(IMAGE_MANUFACTURER),
    "has_marks": flag(HAS_MARKS),
    "view": any_of_ignoring_case(VIEW),
    "laterality": equal_to(LATERALITY),
    "meta": lambda _name, filters: meta_clause(Image.metadata_json, filters),
    "qc": qc_states(Image.qc_state),
    "drift": lambda _name, drifted: Image.id.in_(
        select(HeaderDrift.image_id).where(HeaderDrift.drifted.is_(drifted))),
    "name": named_like,
}
IMAGE_SORTS = ("id", "dataset", "subject_id", "type", "days_since_baseline", "age_at_scan",
               "file_size")

ImageCollectionArgs = collection_args("ImageCollectionArgs", sorts=IMAGE_SORTS,
                                      filters=IMAGE_FILTERS, csv=True)


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


def filtered_images(args: dict[str, Any]) -> Select:
    """Return the image rows matching the filters in `args`."""
    return select_images().where(*image_filters(args))


def image_filters(args: dict[str, Any]) -> list[ColumnElement[bool]]:
    """The clauses of the image filters in `args`, to be shared by a page and its total."""
    return filter_clauses(args, IMAGE_FILTERS)


def matching_images(clauses: list[ColumnElement[bool]], *columns: Any) -> Select:
    """Select `columns` of the images matching the filter `clauses` (image_filters), over the
    image table alone wherever the filters allow (the search read model: one index serves a
    filtered count or /stats); a filter on another table's column joins just that table."""
    statement = select(*columns).select_from(Image).where(IMAGE_IS_LIVE, *clauses)
    return joined_as_needed(statement, Image.__table__, IMAGE_JOINS)


# An image row: the same fields in JSON and (as the header) in CSV.
ImageSchema = row_schema("ImageSchema", IMAGE_COLUMNS)


class ImageListItemSchema(ImageSchema):
    """An image row of a page, with its download URL when with_urls=true."""

    url = fields.String(metadata={"description": "Present with with_urls=true: where to GET "
                                                 "the file (presigned or the /download route)."})


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
        answer = page_or_csv(select_images().where(*clauses), args, resource="images",
                             item_schema=ImageSchema,
                             counted=matching_images(clauses, func.count()))
        if args["with_urls"]:
            answer["items"] = with_download_urls(answer["items"])
            record_download_urls(answer["items"])
        return answer


@blp.route("/<int(max=2147483647):image_id>")
class ImageById(MethodView):
    @blp.arguments(NoArgs, location="query", as_kwargs=False)
    @blp.response(200, ImageDetailSchema)
    def get(self, _args: dict[str, Any], image_id: int):
        """Return one image with its metadata."""
        statement = select_images(IMAGE_DETAIL_COLUMNS).where(Image.id == image_id)
        row = db.session.execute(statement).mappings().first()
        if row is None:
            abort(404, message=f"no image with id {image_id}")
        drift = db.session.get(HeaderDrift, image_id)
        return {**row, "header_drift": None if drift is None else {
            "standard_version": drift.standard_version, "drifted": drift.drifted,
            "differences": drift.differences}}
