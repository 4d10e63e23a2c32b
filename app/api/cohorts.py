"""Saved cohorts: an /images query frozen into a manifest with a SHA-256, and what follows.

POST /cohorts freezes the images a query matches now; the manifest can be read back (JSON, CSV,
Parquet, with download URLs), compared with the same query run today (diff), downloaded at once
(a zip, or presigned URLs on S3/COS) and deleted. A cohort belongs to the key that made it (its
name): other keys get a 404. Its rows carry their dataset, so the per-dataset grants of the
request (app/api/query/visibility.py) hide the images of datasets the caller may not see.

The manifest's SHA-256 is taken over a canonical text, the same on every database and run for
the same images: one line per image, sorted by (dataset, storage key) compared as Unicode code
points (in Python, not by a database collation), each line the compact JSON array
[dataset, path, subject_external_id, type, file_size, checksum] (UTF-8, no spaces, non-ASCII
kept) followed by "\n". Database ids are listed in the manifest but not hashed: they can differ
between two databases holding the same data.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import ColumnElement, Select, and_, delete, insert, select
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import MultiDict

from app.access import current_key_name
from app.api.bulk import zip_response
from app.api.images import IMAGE_FILTERS, filtered_images, with_download_urls
from app.api.query import Blueprint, NoArgs, collection_args, csv_response, envelope_schema
from app.api.query.columns import UtcDateTime
from app.api.query.paging import paginate
from app.api.query.params import filter_args
from app.api.query.parquet import export_responses, parquet_response
from app.audit import (
    datasets_named,
    export_recorder,
    record_download_urls,
    record_request,
)
from app.auth import require_scope, requires
from app.extensions import db
from app.models import ApiKey, AuditAction, Cohort, CohortImage, Dataset, Scope
from app.storage import get_storage

blp = Blueprint("cohorts", __name__, url_prefix="/api/v1/cohorts",
                description="Saved cohorts: frozen image queries with a checksummed manifest")

# The manifest's columns, in order (JSON fields, CSV header, Parquet columns).
MANIFEST_FIELDS = ("image_id", "dataset", "subject_id", "subject_external_id", "visit_id",
                   "type", "path", "file_size", "checksum")
# What the SHA-256 covers: what identifies each file and its content, no database id.
HASHED_FIELDS = ("dataset", "path", "subject_external_id", "type", "file_size", "checksum")
# What a diff compares for an image present at the freeze and now.
COMPARED_FIELDS = tuple(field for field in MANIFEST_FIELDS if field != "image_id")
MANIFEST_FORMATS = ("json", "csv", "parquet")
MAX_NAME_LENGTH = 128

CohortQueryArgs = filter_args("CohortQueryArgs", IMAGE_FILTERS)


def canonical_order(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Return manifest rows in their canonical order: by dataset, then storage key."""
    return sorted(rows, key=lambda row: (row["dataset"], row["path"]))


def canonical_line(row: Mapping[str, Any]) -> str:
    """Return the canonical text of one manifest row (see the module docstring)."""
    values = [row[field] for field in HASHED_FIELDS]
    return json.dumps(values, ensure_ascii=False, separators=(",", ":")) + "\n"


def manifest_sha256(rows: Sequence[Mapping[str, Any]]) -> str:
    """Return the SHA-256 (hex) of the canonical text of manifest `rows` (in any order)."""
    digest = hashlib.sha256()
    for row in canonical_order(rows):
        digest.update(canonical_line(row).encode("utf-8"))
    return digest.hexdigest()


def parse_cohort_query(query: Mapping[str, Any]) -> dict[str, Any]:
    """Parse a cohort's /images filters ({parameter: value or [values]}) as /images would.

    A bad parameter is a 400 naming it as query.<parameter>.
    """
    pairs = MultiDict()
    for name, value in query.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.add(str(name), item if isinstance(item, str) else json.dumps(item))
    schema = CohortQueryArgs()
    try:
        return schema.load(MultiDictProxy(pairs, schema))
    except ValidationError as error:
        problems = error.normalized_messages()
        errors = {f"query.{name}": [str(message) for message in messages]
                  if isinstance(messages, list) else [str(messages)]
                  for name, messages in sorted(problems.items())}
        message = "invalid query: " + "; ".join(
            f"{name}: {' '.join(messages)}" for name, messages in errors.items())
        abort(400, message=message, errors=errors)


def current_manifest(query: Mapping[str, list[str]]) -> list[dict[str, Any]]:
    """Run the /images query now; return its manifest rows in canonical order."""
    statement = filtered_images(parse_cohort_query(query))
    rows = db.session.execute(statement).mappings()
    return canonical_order([
        {"image_id": row["id"], "dataset": row["dataset"], "subject_id": row["subject_id"],
         "subject_external_id": row["subject_external_id"], "visit_id": row["visit_id"],
         "type": str(getattr(row["type"], "value", row["type"])), "path": row["path"],
         "file_size": row["file_size"], "checksum": row["checksum"]}
        for row in rows])


def _dataset_ids(designations: set[str]) -> dict[str, int]:
    from app.models import Dataset

    return dict(db.session.execute(
        select(Dataset.designation, Dataset.id).where(Dataset.designation.in_(designations))
    ).all())


def manifest_statement(cohort_id: int) -> Select:
    """Return the frozen manifest rows of a cohort, in order (only the visible datasets')."""
    columns = [getattr(CohortImage, field).label(field) for field in MANIFEST_FIELDS]
    return (select(*columns, CohortImage.image_id.label("id"))
            .where(CohortImage.cohort_id == cohort_id).order_by(CohortImage.position))


def frozen_manifest(cohort_id: int) -> list[dict[str, Any]]:
    """Return the frozen manifest rows of a cohort as dicts (visible datasets only)."""
    return [dict(row) for row in db.session.execute(manifest_statement(cohort_id)).mappings()]


def manifest_with_urls(cohort: Cohort) -> dict[str, Any]:
    """Return the cohort's manifest with a download URL per image, logged in the audit log."""
    items = with_download_urls(frozen_manifest(cohort.id))
    record_download_urls(items)
    return {"cohort_id": cohort.id, "manifest_sha256": cohort.manifest_sha256, "items": items}


def owned_by_key() -> ColumnElement[bool]:
    """The cohorts of the request's key: made under its name since the key was created.

    A key replaced with `flask apikey create NAME --replace` keeps the name but is a new key:
    the cohorts of the old one stay in the database under the name, and no key sees them.
    """
    name = current_key_name()
    created = select(ApiKey.created_at).where(ApiKey.name == name).scalar_subquery()
    return and_(Cohort.key_name == name, Cohort.created_at >= created)


def owned_cohort(cohort_id: int) -> Cohort:
    """Return the cohort if the request's key made it, else abort with a 404."""
    cohort = db.session.scalar(select(Cohort).where(Cohort.id == cohort_id, owned_by_key()))
    if cohort is None:
        abort(404, message=f"no cohort with id {cohort_id}")
    return cohort


def query_strings(query: Mapping[str, Any]) -> dict[str, list[str]]:
    """Return /images filters as a query string holds them: {parameter: [text values]}."""
    return {str(name): [value if isinstance(value, str) else json.dumps(value)
                        for value in (values if isinstance(values, list) else [values])]
            for name, values in query.items()}


def save_cohort(name: str, query: Mapping[str, Any]) -> Cohort:
    """Freeze the images the /images filters `query` match now (for the request's key, among
    the datasets it sees) into a cohort owned by the key, and commit it."""
    query = query_strings(query)
    rows = current_manifest(query)
    cohort = Cohort(name=name, key_name=current_key_name(), query=query,
                    image_count=len(rows), manifest_sha256=manifest_sha256(rows))
    db.session.add(cohort)
    db.session.flush()
    dataset_ids = _dataset_ids({row["dataset"] for row in rows})
    if rows:
        # A Core executemany: no ORM bookkeeping per row (a cohort may hold a million images).
        db.session.execute(insert(CohortImage.__table__), [
            {**row, "dataset_id": dataset_ids[row["dataset"]], "cohort_id": cohort.id,
             "position": position} for position, row in enumerate(rows)])
    named = [part for value in query.get("dataset", []) for part in value.split(",")]
    record_request(AuditAction.COHORT_CREATE,
                   datasets=datasets_named([*dataset_ids, *named]), row_count=len(rows),
                   details={"cohort_id": cohort.id, "name": name, "query": query})
    db.session.commit()
    return cohort


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
        return owned_cohort(cohort_id)

    @requires(Scope.WRITE)
    @blp.arguments(NoArgs, location="query", as_kwargs=False)
    @blp.response(204)
    @blp.alt_response(404, description="No such cohort of this key.")
    def delete(self, _args: dict[str, Any], cohort_id: int):
        """Delete a cohort of the request's key (the images stay)."""
        cohort = owned_cohort(cohort_id)
        datasets = db.session.scalars(select(Dataset).where(Dataset.id.in_(
            select(CohortImage.dataset_id).where(CohortImage.cohort_id == cohort.id)))).all()
        record_request(AuditAction.COHORT_DELETE, datasets=datasets,
                       row_count=cohort.image_count,
                       details={"cohort_id": cohort.id, "name": cohort.name})
        # The manifest rows of every dataset go, also those the key can no longer see.
        db.session.execute(delete(CohortImage).where(CohortImage.cohort_id == cohort.id))
        db.session.delete(cohort)
        db.session.commit()
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
        cohort = owned_cohort(cohort_id)
        statement = manifest_statement(cohort.id)
        filename = f"cohort-{cohort.id}-manifest"
        if args["format"] == "csv":
            return csv_response(statement, MANIFEST_FIELDS, f"{filename}.csv")
        if args["format"] == "parquet":
            return parquet_response(statement, ManifestItemSchema, f"{filename}.parquet")
        if args["with_urls"]:
            require_scope(Scope.DOWNLOAD)
            return manifest_with_urls(cohort)
        items = frozen_manifest(cohort.id)
        export_recorder()(len(items), {item["dataset"] for item in items})
        return {"cohort_id": cohort.id, "manifest_sha256": cohort.manifest_sha256,
                "items": items}


@blp.route("/<int(max=2147483647):cohort_id>/diff")
class CohortDiff(MethodView):
    @blp.arguments(NoArgs, location="query", as_kwargs=False)
    @blp.response(200, DiffSchema)
    @blp.alt_response(404, description="No such cohort of this key.")
    def get(self, _args: dict[str, Any], cohort_id: int):
        """Run the cohort's query now and compare: images added, removed and changed."""
        cohort = owned_cohort(cohort_id)
        frozen = {row["image_id"]: row for row in frozen_manifest(cohort.id)}
        now_rows = current_manifest(cohort.query)
        now = {row["image_id"]: row for row in now_rows}
        changed = []
        for image_id in sorted(frozen.keys() & now.keys()):
            changes = {field: [frozen[image_id][field], now[image_id][field]]
                       for field in COMPARED_FIELDS
                       if frozen[image_id][field] != now[image_id][field]}
            if changes:
                changed.append({"image_id": image_id, "changes": changes})
        # The datasets and counts, not the image ids: a cohort may hold a million images.
        record_request(AuditAction.COHORT_DIFF, datasets=datasets_named(
            {row["dataset"] for row in (*frozen.values(), *now_rows)}),
            row_count=len(now_rows), details={"cohort_id": cohort.id})
        db.session.commit()
        return {
            "cohort_id": cohort.id, "frozen_sha256": cohort.manifest_sha256,
            "current_sha256": manifest_sha256(now_rows),
            "added": [now[i] for i in sorted(now.keys() - frozen.keys())],
            "removed": [frozen[i] for i in sorted(frozen.keys() - now.keys())],
            "changed": changed,
            "unchanged": len(frozen.keys() & now.keys()) - len(changed),
        }


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
        cohort = owned_cohort(cohort_id)
        if get_storage().shareable_urls:
            return manifest_with_urls(cohort)
        return zip_response(frozen_manifest(cohort.id), f"cohort-{cohort.id}.zip")

