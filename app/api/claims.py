"""Processing claims (worker scope): claim images for a task, heartbeat, upload outputs,
complete with provenance, or fail.

    POST /claims                      lease up to `limit` images (or subjects) needing a task;
                                      the /images filters in the query string narrow the choice
    POST /claims/{id}/renew           extend the lease (heartbeat)
    PUT  /claims/{id}/files/{name}    upload an output (the worker has no storage credentials)
    POST /claims/{id}/complete        register the outputs and their provenance, mark done
    POST /claims/{id}/fail            give the claim back with an error (retried, then failed)

Every call after the claim carries the lease token it returned; a claim that was taken again
after its lease expired answers 409 to the late worker. A claim of a dataset the key does not
see is a 404, as a missing one. Every call that changes a claim is in the audit log.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from app.access import audit
from app.access.auth import requires
from app.access.current import visible_dataset_ids
from app.api.query import Blueprint, filter_args
from app.api.query.columns import UtcDateTime
from app.api.query.params import Text
from app.extensions import db
from app.models import (
    AuditAction,
    Claim,
    ClaimState,
    Dataset,
    Image,
    PreprocessTaskFile,
    Scope,
    Subject,
)
from app.processing import LeaseLost, claim, complete, fail, renew
from app.processing.leases import MAX_CLAIMS_PER_CALL, MAX_LEASE_SECONDS, Lease
from app.processing.outputs import OutputTooLarge, output_key, register_outputs, spooled_output
from app.processing.provenance import ProvenanceError, check_inputs
from app.query.images import IMAGE_FILTERS, filtered_images
from app.storage import get_storage

blp = Blueprint("claims", __name__, url_prefix="/api/v1/claims",
                description="Processing claims with leases (worker scope)")

LEASE_TOKEN_HEADER = "X-Lease-Token"
MAX_ERROR_LENGTH = 10_000


def _lease_seconds(**kwargs: Any) -> fields.Float:
    return fields.Float(validate=validate.Range(1, MAX_LEASE_SECONDS), metadata={
        "description": "Lease length in seconds (default: the server's "
                       "PROCESSING_LEASE_SECONDS)."}, **kwargs)


class ClaimRequestSchema(Schema):
    task = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"), metadata={
        "description": "The task's name (letters, digits, _ . -), e.g. the module's name."})
    worker = Text(max_length=255, required=True, metadata={
        "description": "Who claims (recorded), e.g. host:pid."})
    limit = fields.Integer(load_default=1, validate=validate.Range(1, MAX_CLAIMS_PER_CALL))
    lease_seconds = _lease_seconds()
    per_subject = fields.Boolean(load_default=False, metadata={
        "description": "Claim whole subjects: each claim covers every image of one subject."})


ClaimFilterArgs = filter_args("ClaimFilterArgs", IMAGE_FILTERS)


class LeaseTokenSchema(Schema):
    lease_token = Text(max_length=64, required=True)


class RenewSchema(LeaseTokenSchema):
    lease_seconds = _lease_seconds()


class FailSchema(LeaseTokenSchema):
    error = Text(max_length=MAX_ERROR_LENGTH, required=True)


class OutputSchema(Schema):
    key = Text(max_length=1024, required=True, metadata={
        "description": "Storage key the upload route returned."})
    file_type = Text(max_length=128, required=True, metadata={
        "description": "Kind of derived file (a file_type designation; created if new)."})
    qc_value = fields.Float(allow_none=True, allow_nan=False)
    image_id = fields.Integer(allow_none=True, metadata={
        "description": "For subject claims: which of the subject's images it derives from."})


class CompleteSchema(LeaseTokenSchema):
    outputs = fields.List(fields.Nested(OutputSchema), load_default=list)
    provenance = fields.Dict(required=True, metadata={
        "description": "The provenance record: module {name, version}, container, user, "
                       "start_time, duration, inputs and outputs ([{key, sha256}]), parameters, "
                       "command; `id`, if given, must be the SHA-256 of the rest."})


class ClaimedImageSchema(Schema):
    id = fields.Integer(required=True)
    type = fields.String(required=True)
    path = fields.String(required=True)
    checksum = fields.String(allow_none=True)
    file_size = fields.Integer(allow_none=True)


class LeaseSchema(Schema):
    claim_id = fields.Integer(required=True)
    task = fields.String(required=True)
    state = fields.String(required=True, metadata={"description": "pending, leased, done or "
                                                                  "failed."})
    subject_id = fields.Integer(required=True)
    image_id = fields.Integer(allow_none=True, metadata={
        "description": "Null for a subject claim (all images of the subject)."})
    lease_token = fields.String(allow_none=True)
    lease_expires_at = UtcDateTime(allow_none=True)
    attempts = fields.Integer(required=True)
    images = fields.List(fields.Nested(ClaimedImageSchema), metadata={
        "description": "The images the claim covers."})


class LeaseListSchema(Schema):
    items = fields.List(fields.Nested(LeaseSchema), required=True)


class UploadedSchema(Schema):
    key = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)


class CompletedSchema(Schema):
    claim = fields.Nested(LeaseSchema, required=True)
    derived_ids = fields.List(fields.Integer(), required=True)
    provenance_id = fields.String(allow_none=True)


def _as_dict(lease: Lease) -> dict[str, Any]:
    covered = select(Image).where(Image.deleted_at.is_(None)).order_by(Image.id)
    covered = covered.where(Image.id == lease.image_id) if lease.image_id is not None else (
        covered.where(Image.subject_id == lease.subject_id))
    return {"claim_id": lease.claim_id, "task": lease.task, "state": lease.state.value,
            "subject_id": lease.subject_id, "image_id": lease.image_id,
            "lease_token": lease.lease_token, "lease_expires_at": lease.lease_expires_at,
            "attempts": lease.attempts, "images": db.session.scalars(covered).all()}


def _default_lease() -> float:
    return float(current_app.config.get("PROCESSING_LEASE_SECONDS", 300))


def _held_claim(claim_id: int, lease_token: str) -> Claim:
    """The claim, if it exists, is visible and is held with this token; else 404 or 409."""
    # Through its subject, which the visibility hook filters: another dataset's claim is
    # missing here, exactly as a claim that does not exist.
    row = db.session.scalar(select(Claim).join(Subject, Subject.id == Claim.subject_id)
                            .where(Claim.id == claim_id))
    if row is None:
        abort(404, message=f"claim {claim_id} not found")
    if row.state != ClaimState.LEASED or row.lease_token != lease_token:
        abort(409, message=f"claim {claim_id} is not held with this lease token")
    return row


def _audit(action: AuditAction, leases: list[Lease], **details: Any) -> None:
    """Log what the request's key did to these claims (the caller commits)."""
    subject_ids = sorted({lease.subject_id for lease in leases})
    datasets = db.session.scalars(select(Dataset).where(Dataset.id.in_(
        select(Subject.dataset_id).where(Subject.id.in_(subject_ids))))).all() if leases else []
    image_ids = [lease.image_id for lease in leases if lease.image_id is not None]
    audit.record_request(action, datasets=datasets, image_ids=image_ids or None, details={
        "claim_ids": [lease.claim_id for lease in leases],
        "task": leases[0].task if leases else None, **details})


def _lease_of(row: Claim) -> Lease:
    return Lease(row.id, row.task, row.subject_id, row.image_id, row.lease_token or "",
                 row.lease_expires_at, row.attempts, row.state)


def _lease_lost(exc: LeaseLost):
    db.session.rollback()
    abort(409, message=str(exc))


def _changing_held_claim(claim_id: int, lease_token: str, action: AuditAction,
                         change: Callable[[], Lease]) -> dict[str, Any]:
    """Run `change` on a claim held with `lease_token`, log it, commit, and return the claim."""
    _held_claim(claim_id, lease_token)
    try:
        lease = change()
    except LeaseLost as exc:
        _lease_lost(exc)
    _audit(action, [lease])
    db.session.commit()
    return _as_dict(lease)


def lease_operation(arguments: type[Schema] | None, response: type[Schema],
                    status: int = 200) -> Callable[[Any], Any]:
    """Document and guard an operation on a held claim: worker scope, the JSON body
    `arguments` (None: no JSON body), the `response` schema, and the 409 of a lost lease."""
    def decorate(method: Any) -> Any:
        method = blp.alt_response(409, description="The claim is no longer held with this "
                                                   "token.")(method)
        method = blp.response(status, response)(method)
        if arguments is not None:
            method = blp.arguments(arguments, as_kwargs=False)(method)
        return requires(Scope.WORKER)(method)

    return decorate


@blp.route("")
class Claims(MethodView):
    @requires(Scope.WORKER)
    @blp.arguments(ClaimFilterArgs, location="query", as_kwargs=False)
    @blp.arguments(ClaimRequestSchema, as_kwargs=False)
    @blp.response(200, LeaseListSchema)
    def post(self, filters: dict[str, Any], body: dict[str, Any]):
        """Claim up to `limit` images (or subjects) that still need `task`.

        Each claim holds a lease until `lease_expires_at`: renew it, complete it or fail it
        with the returned lease_token. The query string takes the filters of /images. An empty
        list means nothing is left to claim right now.
        """
        candidates = filtered_images(filters).subquery()
        image_ids = select(candidates.c.id)
        visible = visible_dataset_ids()
        if visible is not None:  # the session hook filters SELECTs, not this UPDATE's subquery
            image_ids = select(Image.id).where(Image.id.in_(image_ids),
                                               Image.dataset_id.in_(sorted(visible)))
        leases = claim(db.session, body["task"], body["worker"], limit=body["limit"],
                       lease_seconds=body.get("lease_seconds") or _default_lease(),
                       candidates=image_ids, per_subject=body["per_subject"])
        if leases:
            _audit(AuditAction.CLAIM, leases, worker=body["worker"])
        db.session.commit()
        return {"items": [_as_dict(lease) for lease in leases]}


@blp.route("/<int(max=2147483647):claim_id>/renew")
class ClaimRenewal(MethodView):
    @lease_operation(RenewSchema, LeaseSchema)
    def post(self, body: dict[str, Any], claim_id: int):
        """Extend a claim's lease (a heartbeat)."""
        return _changing_held_claim(claim_id, body["lease_token"], AuditAction.CLAIM_RENEW,
                                    lambda: renew(
            db.session, claim_id, body["lease_token"],
            body.get("lease_seconds") or _default_lease()))


@blp.route("/<int(max=2147483647):claim_id>/files/<string(maxlength=255):name>")
class ClaimFile(MethodView):
    @lease_operation(None, UploadedSchema, status=201)
    @blp.doc(parameters=[{"in": "header", "name": LEASE_TOKEN_HEADER, "required": True,
                          "schema": {"type": "string"},
                          "description": "The claim's lease token."}],
             requestBody={"required": True, "content": {
                 "application/octet-stream": {"schema": {"type": "string",
                                                         "format": "binary"}}}})
    def put(self, claim_id: int, name: str):
        """Upload one output file of a held claim; it is stored under the claim's prefix.

        The answer gives its storage key (to name in complete) and SHA-256.
        """
        row = _held_claim(claim_id, request.headers.get(LEASE_TOKEN_HEADER, ""))
        try:
            key = output_key(row, name)
        except ProvenanceError as exc:
            abort(400, message=str(exc), errors={"name": [str(exc)]})
        limit = int(current_app.config["MAX_OUTPUT_UPLOAD_BYTES"])
        request.max_content_length = limit  # an output may be far larger than a JSON body
        try:
            with spooled_output(request.stream, limit) as upload:
                get_storage().put(key, upload.file, sha256=upload.sha256)
        except OutputTooLarge as exc:
            abort(413, message=str(exc), errors={"body": [str(exc)]})
        _audit(AuditAction.CLAIM_UPLOAD, [_lease_of(row)], key=key, size=upload.size,
               sha256=upload.sha256)
        db.session.commit()
        return {"key": key, "size": upload.size, "sha256": upload.sha256}, 201


@blp.route("/<int(max=2147483647):claim_id>/complete")
class ClaimCompletion(MethodView):
    @lease_operation(CompleteSchema, CompletedSchema)
    def post(self, body: dict[str, Any], claim_id: int):
        """Complete a claim: register its outputs with their provenance record; mark it done.

        The record must list exactly the outputs with their stored SHA-256; its id is the
        SHA-256 of its content, and a `.prov` object is written beside each output.
        """
        row = _held_claim(claim_id, body["lease_token"])
        try:
            check_inputs(db.session, body["provenance"], visible_dataset_ids())
            derived: list[PreprocessTaskFile] = register_outputs(
                db.session, get_storage(), row, body["provenance"], body["outputs"])
            lease = complete(db.session, claim_id, body["lease_token"])
        except ProvenanceError as exc:
            db.session.rollback()
            abort(400, message=str(exc), errors={"provenance": [str(exc)]})
        except LeaseLost as exc:
            _lease_lost(exc)
        _audit(AuditAction.CLAIM_COMPLETE, [lease],
               derived_ids=[file.id for file in derived],
               provenance_id=derived[0].provenance_id if derived else None)
        db.session.commit()
        return {"claim": _as_dict(lease), "derived_ids": [file.id for file in derived],
                "provenance_id": derived[0].provenance_id if derived else None}


@blp.route("/<int(max=2147483647):claim_id>/fail")
class ClaimFailure(MethodView):
    @lease_operation(FailSchema, LeaseSchema)
    def post(self, body: dict[str, Any], claim_id: int):
        """Give a claim back after an error: it is retried until it has failed
        PROCESSING_MAX_FAILURES times, then failed for good (state `failed`)."""
        return _changing_held_claim(claim_id, body["lease_token"], AuditAction.CLAIM_FAIL,
                                    lambda: fail(
            db.session, claim_id, body["lease_token"], body["error"],
            int(current_app.config.get("PROCESSING_MAX_FAILURES", 3))))
