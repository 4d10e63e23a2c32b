"""Derived files and their provenance (read scope), and QA previews.

    GET /images/{id}/derived     the files derived from an image
    GET /derived/{id}            one derived file with its provenance record
    GET /derived/{id}/verify     re-hash its objects: does the record still hold?
    GET /images/{id}/preview.png, /derived/{id}/preview.png   QA previews (download scope)
"""
from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import Schema, fields
from sqlalchemy import Select, select

from app.access import audit
from app.access.auth import requires
from app.access.current import visible_dataset_ids
from app.api.downloads import storage_errors_as_http
from app.api.query import Blueprint, NoArgs
from app.api.query.columns import Column, Columns, UtcDateTime, labelled, row_schema
from app.api.rows import row_or_404
from app.extensions import db
from app.files.image_files import OutsideDataset, served_objects
from app.files.previews import PreviewError, derived_preview_key, ensure_preview, image_preview_key
from app.models import AuditAction, FileType, Image, PreprocessTask, PreprocessTaskFile, Scope
from app.processing.provenance import readable_keys, verify
from app.storage import get_storage

blp = Blueprint("derived", __name__, url_prefix="/api/v1",
                description="Derived files of processing, with provenance")


DERIVED_COLUMNS: dict[str, Column] = {
    "id": Column(PreprocessTaskFile.id, fields.Integer(required=True)),
    "image_id": Column(PreprocessTaskFile.image_id, fields.Integer(required=True)),
    "file_type": Column(FileType.designation, fields.String(required=True)),
    "path": Column(PreprocessTaskFile.path, fields.String(required=True, metadata={
        "description": "Object-storage key."})),
    "file_size": Column(PreprocessTaskFile.file_size, fields.Integer(allow_none=True)),
    "checksum": Column(PreprocessTaskFile.checksum, fields.String(allow_none=True, metadata={
        "description": "SHA-256."})),
    "qc_value": Column(PreprocessTaskFile.qc_value, fields.Float(allow_none=True)),
    "provenance_id": Column(PreprocessTaskFile.provenance_id, fields.String(
        allow_none=True, metadata={"description": "SHA-256 of the provenance record."})),
    "module": Column(PreprocessTask.module, fields.String(required=True)),
    "version": Column(PreprocessTask.version, fields.String(required=True)),
    "created_at": Column(PreprocessTaskFile.created_at, UtcDateTime(required=True)),
}
DERIVED_DETAIL_COLUMNS: dict[str, Column] = {
    "provenance": Column(PreprocessTaskFile.provenance, fields.Dict(allow_none=True, metadata={
        "description": "The provenance record; its id is the SHA-256 of the rest."})),
}


def select_derived(extra: Columns | None = None) -> Select:
    """Derived files of images that are not soft-deleted (the session hook adds visibility)."""
    return (select(*labelled(DERIVED_COLUMNS), *labelled(extra or {}))
            .join(Image, Image.id == PreprocessTaskFile.image_id)
            .join(FileType, FileType.id == PreprocessTaskFile.file_type_id)
            .join(PreprocessTask, PreprocessTask.id == PreprocessTaskFile.preprocess_task_id)
            .where(Image.deleted_at.is_(None)))


DerivedSchema = row_schema("DerivedSchema", DERIVED_COLUMNS)
DerivedDetailSchema = row_schema("DerivedDetailSchema", DERIVED_DETAIL_COLUMNS,
                                 base=DerivedSchema)


class DerivedListSchema(Schema):
    items = fields.List(fields.Nested(DerivedSchema), required=True)


class CheckedFileSchema(Schema):
    role = fields.String(required=True, metadata={"description": "input or output"})
    key = fields.String(required=True)
    expected = fields.String(required=True)
    actual = fields.String(allow_none=True, metadata={"description": "null: missing"})
    matches = fields.Boolean(required=True)
    checked = fields.Boolean(required=True, metadata={
        "description": "False: not read, as the key names no object of a dataset this API "
                       "key sees (or is not a valid key); the same whether it exists or not."})


class CheckedProvSchema(Schema):
    key = fields.String(required=True)
    matches = fields.Boolean(required=True)


class VerificationSchema(Schema):
    valid = fields.Boolean(required=True)
    id = fields.String(allow_none=True)
    id_matches = fields.Boolean(required=True)
    files = fields.List(fields.Nested(CheckedFileSchema), required=True)
    prov_objects = fields.List(fields.Nested(CheckedProvSchema), required=True)


def derived_row(derived_id: int, extra: Columns | None = None) -> Any:
    """The derived file `derived_id` (404 when absent or not visible)."""
    return row_or_404(select_derived(extra).where(PreprocessTaskFile.id == derived_id),
                      f"no derived file with id {derived_id}")


@blp.route("/images/<int(max=2147483647):image_id>/derived")
class ImageDerived(MethodView):
    @blp.arguments(NoArgs, location="query", as_kwargs=False)
    @blp.response(200, DerivedListSchema)
    def get(self, _args: dict[str, Any], image_id: int):
        """List the files derived from an image, oldest first."""
        if db.session.scalar(select(Image.id).where(Image.id == image_id,
                                                    Image.deleted_at.is_(None))) is None:
            abort(404, message=f"no image with id {image_id}")
        rows = db.session.execute(select_derived().where(PreprocessTaskFile.image_id == image_id)
                                  .order_by(PreprocessTaskFile.id)).mappings().all()
        return {"items": rows}


@blp.route("/derived/<int(max=2147483647):derived_id>")
class DerivedById(MethodView):
    @blp.arguments(NoArgs, location="query", as_kwargs=False)
    @blp.response(200, DerivedDetailSchema)
    def get(self, _args: dict[str, Any], derived_id: int):
        """Return one derived file with its provenance record."""
        return derived_row(derived_id, DERIVED_DETAIL_COLUMNS)


@blp.route("/derived/<int(max=2147483647):derived_id>/verify")
class DerivedVerification(MethodView):
    @blp.arguments(NoArgs, location="query", as_kwargs=False)
    @blp.response(200, VerificationSchema)
    @blp.alt_response(502, description="Object storage failed.")
    @blp.alt_response(503, description="Object storage is unreachable; see Retry-After.")
    def get(self, _args: dict[str, Any], derived_id: int):
        """Verify a derived file's provenance: re-hash every input and output object, check
        the record's id against its content and the `.prov` objects against the record."""
        row = derived_row(derived_id, DERIVED_DETAIL_COLUMNS)
        if not row["provenance"]:
            abort(404, message=f"derived file {derived_id} has no provenance record")
        with storage_errors_as_http(f"derived file {derived_id}"):
            return verify(get_storage(), row["provenance"],
                          readable_keys(db.session, visible_dataset_ids()))


def preview_operation(method: Any) -> Any:
    """Document and guard a preview route: download scope, no parameter, a PNG or an error."""
    for status, description in ((503, "Object storage is unreachable; see Retry-After."),
                                (502, "Object storage failed."),
                                (422, "The file is not a NIfTI image a preview can show.")):
        method = blp.alt_response(status, description=description)(method)
    method = blp.response(200, description="The PNG preview: three slices in each plane.",
                          content_type="image/png")(method)
    method = blp.arguments(NoArgs, location="query", as_kwargs=False)(method)
    return requires(Scope.DOWNLOAD)(method)


def _png(storage_key: str, preview_key: str, what: str, image_id: int,
         details: dict[str, Any]) -> Response:
    """The preview PNG, logged in the audit log (it shows the file's content)."""
    storage = get_storage()
    with storage_errors_as_http(what):
        try:
            png = ensure_preview(storage, storage_key, preview_key)
        except PreviewError as exc:
            abort(422, message=f"no preview of {what}: {exc}")
    audit.record_request(AuditAction.PREVIEW, datasets=audit.images_datasets([image_id]),
                         image_ids=[image_id], details=details)
    db.session.commit()
    return Response(png, mimetype="image/png")


@blp.route("/images/<int(max=2147483647):image_id>/preview.png")
class ImagePreview(MethodView):
    @preview_operation
    def get(self, _args: dict[str, Any], image_id: int):
        """A QA preview of a NIfTI image (made and stored on first request).

        Needs the download scope: it shows the image's content.
        """
        return image_preview(image_id)


def image_preview(image_id: int) -> Response:
    """An image's preview PNG (made and stored on first request), logged in the audit log;
    a 404 for an unknown image, a 422 for one no preview can show. Shared by the API's route
    and the dashboard's thumbnails."""
    image = db.session.scalar(select(Image).where(Image.id == image_id,
                                                  Image.deleted_at.is_(None)))
    if image is None:
        abort(404, message=f"no image with id {image_id}")
    try:  # only an object of the image's own dataset is ever read
        served = served_objects(db.session, image)
    except OutsideDataset:
        abort(404, message=f"no image with id {image_id}")
    # A set of files (a DICOM series) is no NIfTI file: its path makes the clean 422.
    key = image.path if served.is_set else served.objects[0].key
    return _png(key, image_preview_key(image_id), f"image {image_id}", image_id,
                {"image_id": image_id})


@blp.route("/derived/<int(max=2147483647):derived_id>/preview.png")
class DerivedPreview(MethodView):
    @preview_operation
    def get(self, _args: dict[str, Any], derived_id: int):
        """A QA preview of a NIfTI derived file (made and stored on first request).

        Needs the download scope: it shows the file's content.
        """
        row = derived_row(derived_id)
        return _png(row["path"], derived_preview_key(derived_id), f"derived file {derived_id}",
                    row["image_id"], {"derived_id": derived_id})
