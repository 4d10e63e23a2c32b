"""GET /images and /images/{id}: stored images with their subject, visit, scanner and condition.

To add a route add a MethodView below (downloads.py holds /images/{id}/download); to add an
optional column add its parameter to ImageArgs and its field to ImageListItemSchema.
"""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import abort
from marshmallow import Schema, ValidationError, fields, validates_schema
from sqlalchemy import ColumnElement, Float, Select, cast, func, select
from sqlalchemy.orm import aliased

from app.api.downloads import URL_EXPIRY_SECONDS
from app.api.links import public_url_for
from app.api.query import (
    Blueprint,
    NoArgs,
    any_of,
    apply_filters,
    at_least,
    at_most,
    collection_args,
    designated,
    designated_first_known,
    envelope_schema,
    equal_ignoring_case,
    equal_to,
    not_deleted,
    page_or_csv,
)
from app.audit import record_download_urls
from app.auth import require_scope
from app.extensions import db
from app.models import Condition, Dataset, Image, Scanner, Scope, Subject, Visit
from app.names import EFFECTIVE_NAME, NameFilterError, name_matches, parse_name_filter
from app.storage import get_storage, presigned_urls

blp = Blueprint("images", __name__, url_prefix="/api/v1/images",
                description="Stored images (T1, DWI, rsfMRI, FieldMap)")

DAYS_PER_YEAR = 365.25
# Age at scan: unknown (NULL) when either the baseline age or the scan day is unknown.
AGE_AT_SCAN = Subject.age_at_baseline + cast(Image.days_since_baseline, Float) / DAYS_PER_YEAR
# A diagnosis known for the visit wins over the subject's (DESIGN.md).
IMAGE_CONDITION_ID = func.coalesce(Visit.condition_id, Subject.condition_id)
ImageCondition = aliased(Condition, name="image_condition")


def image_columns() -> dict[str, ColumnElement[Any]]:
    """Return the columns of an image row, by JSON field name (the CSV header too)."""
    return {
        "id": Image.id,
        "dataset": Dataset.designation,
        "subject_id": Image.subject_id,
        "subject_external_id": Subject.external_id,
        "visit_id": Image.visit_id,
        "type": Image.type,
        "path": Image.path,
        "file_size": Image.file_size,
        "checksum": Image.checksum,
        "days_since_baseline": Image.days_since_baseline,
        "age_at_scan": AGE_AT_SCAN,
        "sex": Subject.sex,
        "condition": ImageCondition.designation,
        "scanner_id": Image.scanner_id,
        "manufacturer": Scanner.manufacturer,
        "field_strength": Scanner.field_strength,
        "preprocessed": Image.preprocessed,
    }


def select_images(*extra: ColumnElement[Any]) -> Select:
    """Return the image rows (not soft-deleted) with every table they are filtered on joined."""
    columns = [column.label(name) for name, column in image_columns().items()]
    return (
        select(*columns, *extra)
        .select_from(Image)
        .join(Subject, Subject.id == Image.subject_id)
        .join(Dataset, Dataset.id == Image.dataset_id)
        .outerjoin(Visit, Visit.id == Image.visit_id)
        .outerjoin(Scanner, Scanner.id == Image.scanner_id)
        .outerjoin(ImageCondition, ImageCondition.id == IMAGE_CONDITION_ID)
        .where(not_deleted(Image, Subject, Dataset))
    )


def named_like(name: str, text: str) -> ColumnElement[bool]:
    """The `name` filter: RADIFOX conditions on the image's name; a bad one is a 400."""
    try:
        return name_matches(parse_name_filter(text))
    except NameFilterError as exc:
        abort(400, message=f"{name}: {exc}", errors={name: [str(exc)]})


IMAGE_FILTERS = {
    "dataset": designated(Dataset, Image.dataset_id),
    "condition": designated_first_known(Condition, Visit.condition_id, Subject.condition_id),
    "type": any_of(Image.type),
    "sex": equal_to(Subject.sex),
    "age_min": at_least(AGE_AT_SCAN),
    "age_max": at_most(AGE_AT_SCAN),
    "days_min": at_least(Image.days_since_baseline),
    "days_max": at_most(Image.days_since_baseline),
    "field_strength": equal_to(Scanner.field_strength),
    "manufacturer": equal_ignoring_case(Scanner.manufacturer),
    "name": named_like,
}
IMAGE_SORTS = ("id", "dataset", "subject_id", "type", "days_since_baseline", "age_at_scan",
               "file_size")

ImageCollectionArgs = collection_args("ImageCollectionArgs", sorts=IMAGE_SORTS,
                                      filters=IMAGE_FILTERS, csv=True)


class ImageArgs(ImageCollectionArgs):
    """The collection's parameters, plus with_urls."""

    with_urls = fields.Boolean(load_default=False, metadata={"description": (
        "Add `url` to each row of the page: a presigned object-storage URL valid for "
        f"{URL_EXPIRY_SECONDS // 60} minutes (S3/COS with HMAC keys), else the row's "
        "/download route. Pages only: not with format=csv.")})

    @validates_schema
    def _urls_only_for_pages(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("with_urls") and data.get("format") == "csv":
            raise ValidationError("only with format=json: a CSV export carries no URLs",
                                  "with_urls")


def filtered_images(args: dict[str, Any]) -> Select:
    """Return the image rows matching the filters in `args` (also used by /stats)."""
    return apply_filters(select_images(), args, IMAGE_FILTERS)


class ImageSchema(Schema):
    """An image row: the same fields in JSON and (as the header) in CSV."""

    id = fields.Integer(required=True)
    dataset = fields.String(required=True, metadata={"description": "Dataset designation."})
    subject_id = fields.Integer(required=True)
    subject_external_id = fields.String(required=True, metadata={
        "description": "The subject's id in its dataset."})
    visit_id = fields.Integer(allow_none=True, metadata={
        "description": "The visit the image belongs to; null when no visit precedes it."})
    type = fields.String(required=True, metadata={"example": "T1"})
    path = fields.String(required=True, metadata={"description": "Object-storage key."})
    file_size = fields.Integer(allow_none=True, metadata={"description": "Bytes."})
    checksum = fields.String(allow_none=True)
    days_since_baseline = fields.Integer(allow_none=True)
    age_at_scan = fields.Float(allow_none=True, metadata={
        "description": "age_at_baseline + days_since_baseline / 365.25; null if unknown."})
    sex = fields.String(required=True)
    condition = fields.String(allow_none=True, metadata={
        "description": "The visit's condition if known, else the subject's."})
    scanner_id = fields.Integer(allow_none=True)
    manufacturer = fields.String(allow_none=True)
    field_strength = fields.Float(allow_none=True, metadata={"description": "Tesla."})
    preprocessed = fields.String(required=True)


class ImageListItemSchema(ImageSchema):
    """An image row of a page, with its download URL when with_urls=true."""

    url = fields.String(metadata={"description": "Present with with_urls=true: where to GET "
                                                 "the file (presigned or the /download route)."})


def with_download_urls(items: list[Any]) -> list[dict[str, Any]]:
    """Return the page's rows with a `url` each: presigned when the storage can share URLs
    (signing is local: no request per row), else the API's own download route."""
    storage = get_storage()
    if storage.shareable_urls:
        urls = presigned_urls([item["path"] for item in items], URL_EXPIRY_SECONDS, storage)
        return [{**item, "url": urls[item["path"]]} for item in items]
    return [{**item, "url": public_url_for("downloads.ImageDownload", image_id=item["id"])}
            for item in items]


class ImageDetailSchema(ImageSchema):
    """One image with its acquisition metadata and scanner details."""

    scanner_model = fields.String(allow_none=True)
    scanner_serial = fields.String(allow_none=True)
    metadata_json = fields.Dict(allow_none=True, metadata={
        "description": "Acquisition metadata (e.g. the BIDS sidecar)."})
    name = fields.String(allow_none=True, metadata={
        "description": "RADIFOX-style type name: the manual one if given, else predicted."})
    predicted_name = fields.String(allow_none=True, metadata={
        "description": "bodypart-modality-technique-acqdim-orientation-excontrast[-extras], "
                       "predicted from the header or sidecar."})
    manual_name = fields.String(allow_none=True, metadata={"description": "Given by hand."})


@blp.route("")
class Images(MethodView):
    @blp.arguments(ImageArgs, location="query", as_kwargs=False)
    @blp.response(200, envelope_schema(ImageListItemSchema, "Image"))
    @blp.doc(responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
    def get(self, args: dict[str, Any]):
        """List images matching the filters, a page at a time or (format=csv) all of them.

        with_urls=true needs the download scope too, and is logged in the audit log.
        """
        if args["with_urls"]:
            require_scope(Scope.DOWNLOAD)
        answer = page_or_csv(filtered_images(args), args, resource="images",
                             item_schema=ImageSchema)
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
        statement = select_images(
            Scanner.model.label("scanner_model"),
            Scanner.serial.label("scanner_serial"),
            Image.metadata_json.label("metadata_json"),
            EFFECTIVE_NAME.label("name"),
            Image.predicted_name.label("predicted_name"),
            Image.manual_name.label("manual_name"),
        ).where(Image.id == image_id)
        row = db.session.execute(statement).mappings().first()
        if row is None:
            abort(404, message=f"no image with id {image_id}")
        return row
