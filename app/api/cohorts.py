"""Saved cohorts: an /images query frozen into a manifest with a SHA-256, and what follows.

POST /cohorts freezes the images a query matches now; the manifest can be read back (JSON, CSV,
Parquet, with download URLs), compared with the same query run today (diff), downloaded at once
(a zip, or presigned URLs on S3/COS) and deleted. A cohort belongs to the key that made it (its
name): other keys get a 404. The manifests, their SHA-256 (its canonical text is described in
app/query/cohorts.py), the diff and the freezing are the query layer's; this module parses the
requests and renders the answers. The work of each route that the dashboard also offers (diff,
manifest, files, deletion) is a function here that the dashboard's own routes call.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import Response, stream_with_context
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import delete, select
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import MultiDict

from app.access.audit import (
    datasets_named,
    export_recorder,
    record,
    record_download_urls,
    record_request,
)
from app.access.auth import require_scope, requires
from app.access.current import current_key_name, keeping_access
from app.api.bulk import bids_zip_chunks, zip_response
from app.api.images import with_download_urls
from app.api.query import Blueprint, NoArgs, collection_args, csv_response, envelope_schema
from app.api.query.columns import UtcDateTime
from app.api.query.paging import paginate
from app.api.query.params import MEASURE_FILTERS, filter_args
from app.api.query.parquet import export_responses, parquet_response
from app.bids_export.dataset import plan_cohort
from app.extensions import db
from app.http.errors import named_problems
from app.models import AuditAction, Cohort, CohortImage, Dataset, Scope
from app.query import cohorts
from app.query.cohorts import (
    MANIFEST_FIELDS,
    frozen_manifest,
    manifest_diff,
    manifest_of,
    manifest_sha256,
    manifest_statement,
    owned_by_key,
    owned_cohort,
    query_strings,
)
from app.query.images import IMAGE_FILTERS
from app.storage import get_storage

blp = Blueprint("cohorts", __name__, url_prefix="/api/v1/cohorts",
                description="Saved cohorts: frozen image queries with a checksummed manifest")

MANIFEST_FORMATS = ("json", "csv", "parquet")
MAX_NAME_LENGTH = 128

CohortQueryArgs = filter_args("CohortQueryArgs", [*IMAGE_FILTERS, *MEASURE_FILTERS])


def load_cohort_query(query: Mapping[str, Any]) -> dict[str, Any]:
    """Parse /images filters ({parameter: value or [values]}) as /images would; a bad one
    raises marshmallow's ValidationError (`flask export-bids` reads a query string so)."""
    pairs = MultiDict()
    for name, value in query.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.add(str(name), item if isinstance(item, str) else json.dumps(item))
    schema = CohortQueryArgs()
    return schema.load(MultiDictProxy(pairs, schema))


def parse_cohort_query(query: Mapping[str, Any]) -> dict[str, Any]:
    """Parse a cohort's /images filters ({parameter: value or [values]}) as /images would.

    A bad parameter is a 400 naming it as query.<parameter>.
    """
    try:
        return load_cohort_query(query)
    except ValidationError as error:
        errors: dict[str, list[str]] = {}
        for name, problems in sorted(error.normalized_messages().items()):
            errors.update(named_problems(f"query.{name}", problems))
        message = "invalid query: " + "; ".join(
            f"{name}: {' '.join(messages)}" for name, messages in errors.items())
        abort(400, message=message, errors=errors)


def current_manifest(query: Mapping[str, list[str]]) -> list[dict[str, Any]]:
    """Run the /images query `query` (as a query string holds it) now; return its manifest
    rows in canonical order. A bad parameter is a 400 naming it as query.<parameter>."""
    return manifest_of(parse_cohort_query(query))


def manifest_with_urls(cohort: Cohort) -> dict[str, Any]:
    """Return the cohort's manifest with a download URL per image, logged in the audit log."""
    items = with_download_urls(frozen_manifest(cohort.id))
    record_download_urls(items)
    return {"cohort_id": cohort.id, "manifest_sha256": cohort.manifest_sha256, "items": items}


def owned_cohort_or_404(cohort_id: int) -> Cohort:
    """Return the cohort if the request's key made it, else abort with a 404."""
    cohort = owned_cohort(cohort_id)
    if cohort is None:
        abort(404, message=f"no cohort with id {cohort_id}")
    return cohort


def save_cohort(name: str, query: Mapping[str, Any]) -> Cohort:
    """Freeze the images the /images filters `query` ({parameter: value or [values]}) match
    now into a cohort of the request's key (a bad parameter is a 400 naming it)."""
    strings = query_strings(query)
    return cohorts.save_cohort(name, strings, parse_cohort_query(strings))


def bids_zip_response(cohort: Cohort) -> Response:
    """The cohort's images the key sees as a streamed BIDS dataset zip, logged in the audit
    log as a download of the images it holds."""
    export = plan_cohort(cohort, get_storage())
    key_name = current_key_name()

    def log() -> None:
        record(AuditAction.DOWNLOAD, key_name,
               datasets=datasets_named({image["dataset"] for image in export.images}),
               image_ids=[image["id"] for image in export.images],
               details={"cohort_id": cohort.id, "format": "bids"})
        db.session.commit()

    filename = f"cohort-{cohort.id}-bids.zip"
    chunks = bids_zip_chunks(export.texts, export.objects, log)
    return Response(stream_with_context(keeping_access(chunks)),
                    mimetype="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def delete_cohort(cohort: Cohort) -> None:
    """Delete a cohort (the images stay), log it in the audit log and commit."""
    datasets = db.session.scalars(select(Dataset).where(Dataset.id.in_(
        select(CohortImage.dataset_id).where(CohortImage.cohort_id == cohort.id)))).all()
    record_request(AuditAction.COHORT_DELETE, datasets=datasets, row_count=cohort.image_count,
                   details={"cohort_id": cohort.id, "name": cohort.name})
    # The manifest rows of every dataset go, also those the key can no longer see.
    db.session.execute(delete(CohortImage).where(CohortImage.cohort_id == cohort.id))
    db.session.delete(cohort)
    db.session.commit()


def cohort_diff(cohort: Cohort) -> dict[str, Any]:
    """Run the cohort's query now and compare it with the frozen manifest (logged)."""
    frozen_rows = frozen_manifest(cohort.id)
    now_rows = current_manifest(cohort.query)
    # The datasets and counts, not the image ids: a cohort may hold a million images.
    record_request(AuditAction.COHORT_DIFF, datasets=datasets_named(
        {row["dataset"] for row in (*frozen_rows, *now_rows)}),
        row_count=len(now_rows), details={"cohort_id": cohort.id})
    db.session.commit()
    return {"cohort_id": cohort.id, "frozen_sha256": cohort.manifest_sha256,
            "current_sha256": manifest_sha256(now_rows), **manifest_diff(frozen_rows, now_rows)}


def manifest_export(cohort: Cohort, fmt: str) -> dict[str, Any] | Response:
    """The cohort's frozen manifest as JSON (a document), CSV or Parquet (a file), logged in
    the audit log as an export."""
    statement = manifest_statement(cohort.id)
    filename = f"cohort-{cohort.id}-manifest"
    if fmt == "csv":
        return csv_response(statement, MANIFEST_FIELDS, f"{filename}.csv")
    if fmt == "parquet":
        return parquet_response(statement, ManifestItemSchema, f"{filename}.parquet")
    items = frozen_manifest(cohort.id)
    export_recorder()(len(items), {item["dataset"] for item in items})
    return {"cohort_id": cohort.id, "manifest_sha256": cohort.manifest_sha256, "items": items}


def files_download(cohort: Cohort) -> dict[str, Any] | Response:
    """Every file of a cohort: a streamed zip named by storage keys (local storage), or the
    manifest with presigned URLs (S3/COS); logged in the audit log."""
    if get_storage().shareable_urls:
        return manifest_with_urls(cohort)
    return zip_response(frozen_manifest(cohort.id), f"cohort-{cohort.id}.zip")


# Schemas --------------------------------------------------------------------------------------

class CohortCreateSchema(Schema):
    """The body of POST /cohorts."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=MAX_NAME_LENGTH))
    query = fields.Dict(keys=fields.String(), load_default=dict, metadata={
        "description": "The /images filters, as in its query string: {parameter: value or "
                       "[values]}, e.g. {\"type\": \"T1\", \"sex\": \"female\", "
                       "\"age_min\": 60, \"meta.RepetitionTime_max\": 2.5}."})


class CohortSchema(Schema):
    """A saved cohort."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    owner = fields.String(required=True, attribute="key_name",
                          metadata={"description": "The name of the key that made it."})
    query = fields.Dict(required=True, metadata={"description": "The frozen /images filters."})
    created_at = UtcDateTime(required=True)
    image_count = fields.Integer(required=True, metadata={
        "description": "Images frozen (including those of datasets the caller may not see)."})
    manifest_sha256 = fields.String(required=True, metadata={
        "description": "SHA-256 of the canonical manifest (see the cohorts description)."})


class ManifestItemSchema(Schema):
    """One image of a manifest, as it was at the freeze."""

    image_id = fields.Integer(required=True)
    dataset = fields.String(required=True)
    subject_id = fields.Integer(required=True)
    subject_external_id = fields.String(required=True)
    visit_id = fields.Integer(allow_none=True)
    type = fields.String(required=True)
    path = fields.String(required=True, metadata={"description": "Object-storage key."})
    file_size = fields.Integer(allow_none=True)
    checksum = fields.String(allow_none=True, metadata={"description": "SHA-256 of the file."})


class ManifestUrlItemSchema(ManifestItemSchema):
    url = fields.String(metadata={"description": "With with_urls=true: where to GET the file."})


class ManifestSchema(Schema):
    cohort_id = fields.Integer(required=True)
    manifest_sha256 = fields.String(required=True)
    items = fields.List(fields.Nested(ManifestUrlItemSchema), required=True)


class ManifestArgs(NoArgs):
    format = fields.String(load_default="json", validate=validate.OneOf(MANIFEST_FORMATS),
                           metadata={"description": "json, csv or parquet."})
    with_urls = fields.Boolean(load_default=False, metadata={
        "description": "Add a download `url` to each row (JSON only; needs the download "
                       "scope; logged in the audit log)."})

    @validates_schema
    def _urls_only_in_json(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("with_urls") and data.get("format") != "json":
            raise ValidationError("only with format=json", "with_urls")


class ChangedSchema(Schema):
    image_id = fields.Integer(required=True)
    changes = fields.Dict(required=True, metadata={
        "description": "{field: [value at the freeze, value now]} for every changed field."})


class DiffSchema(Schema):
    cohort_id = fields.Integer(required=True)
    frozen_sha256 = fields.String(required=True)
    current_sha256 = fields.String(required=True, metadata={
        "description": "SHA-256 of the manifest the query gives now."})
    added = fields.List(fields.Nested(ManifestItemSchema), required=True,
                        metadata={"description": "Images the query matches now, not frozen."})
    removed = fields.List(fields.Nested(ManifestItemSchema), required=True,
                          metadata={"description": "Frozen images the query no longer gives."})
    changed = fields.List(fields.Nested(ChangedSchema), required=True)
    unchanged = fields.Integer(required=True)


CohortListArgs = collection_args("CohortListArgs", sorts=("id", "name", "created_at"))


# Routes ---------------------------------------------------------------------------------------

@blp.route("")
class Cohorts(MethodView):
    @blp.arguments(CohortListArgs, location="query", as_kwargs=False)
    @blp.response(200, envelope_schema(CohortSchema, "Cohort"))
    def get(self, args: dict[str, Any]):
        """List the cohorts of the request's key."""
        statement = select(
            *(getattr(Cohort, name).label(name) for name in
              ("id", "name", "key_name", "query", "created_at", "image_count",
               "manifest_sha256"))
        ).where(owned_by_key())
        return paginate(statement, args, "cohorts")

    @requires(Scope.WRITE)
    @blp.arguments(NoArgs, location="query", as_kwargs=False)
    @blp.arguments(CohortCreateSchema, location="json", as_kwargs=False)
    @blp.response(201, CohortSchema)
    @blp.alt_response(400, description="A bad name or query parameter (named).")
    def post(self, _args: dict[str, Any], body: dict[str, Any]):
        """Freeze the images an /images query matches now into a saved cohort."""
        return save_cohort(body["name"], body["query"])


@blp.route("/<int(max=2147483647):cohort_id>")
class CohortById(MethodView):
    @blp.arguments(NoArgs, location="query", as_kwargs=False)
    @blp.response(200, CohortSchema)
    @blp.alt_response(404, description="No such cohort of this key.")
    def get(self, _args: dict[str, Any], cohort_id: int):
        """Return one cohort of the request's key."""
        return owned_cohort_or_404(cohort_id)

    @requires(Scope.WRITE)
    @blp.arguments(NoArgs, location="query", as_kwargs=False)
    @blp.response(204)
    @blp.alt_response(404, description="No such cohort of this key.")
    def delete(self, _args: dict[str, Any], cohort_id: int):
        """Delete a cohort of the request's key (the images stay)."""
        delete_cohort(owned_cohort_or_404(cohort_id))
        return Response(status=204)


@blp.route("/<int(max=2147483647):cohort_id>/manifest")
class CohortManifest(MethodView):
    @blp.arguments(ManifestArgs, location="query", as_kwargs=False)
    @blp.response(200, ManifestSchema)
    @blp.doc(responses=export_responses())
    @blp.alt_response(404, description="No such cohort of this key.")
    def get(self, args: dict[str, Any], cohort_id: int):
        """Return a cohort's frozen manifest (JSON, CSV or Parquet), in canonical order.

        Logged in the audit log as an export, or with with_urls=true (download scope) as
        download URLs handed out.
        """
        cohort = owned_cohort_or_404(cohort_id)
        if args["with_urls"]:
            require_scope(Scope.DOWNLOAD)
            return manifest_with_urls(cohort)
        return manifest_export(cohort, args["format"])


@blp.route("/<int(max=2147483647):cohort_id>/diff")
class CohortDiff(MethodView):
    @blp.arguments(NoArgs, location="query", as_kwargs=False)
    @blp.response(200, DiffSchema)
    @blp.alt_response(404, description="No such cohort of this key.")
    def get(self, _args: dict[str, Any], cohort_id: int):
        """Run the cohort's query now and compare: images added, removed and changed."""
        return cohort_diff(owned_cohort_or_404(cohort_id))


@blp.route("/<int(max=2147483647):cohort_id>/download")
class CohortDownload(MethodView):
    @requires(Scope.DOWNLOAD)
    @blp.arguments(NoArgs, location="query", as_kwargs=False)
    @blp.response(200, ManifestSchema, description=(
        "S3/COS storage: the manifest with a presigned URL per file (valid for an hour)."))
    @blp.alt_response(404, description="No such cohort of this key.")
    @blp.doc(responses={200: {"content": {"application/zip": {
        "schema": {"type": "string", "format": "binary"}}}}})
    def get(self, _args: dict[str, Any], cohort_id: int):
        """Download every file of a cohort: a streamed zip named by storage keys (local
        storage), or the manifest with presigned URLs (S3/COS). Logged in the audit log."""
        return files_download(owned_cohort_or_404(cohort_id))



@blp.route("/<int(max=2147483647):cohort_id>/bids.zip")
class CohortBidsZip(MethodView):
    @requires(Scope.DOWNLOAD)
    @blp.arguments(NoArgs, location="query", as_kwargs=False)
    @blp.response(200, description=(
        "The cohort as a BIDS dataset (a streamed zip): dataset_description.json (naming the "
        "cohort and its manifest SHA-256), README (listing any image left out and why), "
        "participants.tsv/json, one sub-<dataset><id> folder per participant with its "
        "sessions.tsv, and every image at its BIDS path with its JSON sidecar and, for DWI, "
        ".bval/.bvec."))
    @blp.doc(responses={200: {"content": {"application/zip": {
        "schema": {"type": "string", "format": "binary"}}}}})
    @blp.alt_response(404, description="No such cohort of this key.")
    def get(self, _args: dict[str, Any], cohort_id: int):
        """Download a cohort as a BIDS dataset (a zip), with only the images of the datasets
        the key sees. Logged in the audit log as a download of the images it holds."""
        return bids_zip_response(owned_cohort_or_404(cohort_id))
