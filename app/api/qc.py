"""Quality control routes: a visit's completeness, a dataset's, and QC reviews of images.

GET /visits/{id}/qc and /qc/completeness judge the series inventory a DICOM load kept against
the study's expected tags (app/qc/); PUT /images/{id}/qc records a review (write scope) and
GET /images/{id}/qc returns an image's state with its full history.
"""
from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from app.access.audit import record_request
from app.access.auth import requires
from app.access.current import current_key_name
from app.api.query import Blueprint, NoArgs
from app.api.query.columns import UtcDateTime
from app.api.query.params import QueryArgs, Text
from app.extensions import db
from app.models import AuditAction, Dataset, Image, Scope, Subject
from app.qc.completeness import dataset_completeness, visit_completeness
from app.qc.hidden import include_blacklisted
from app.qc.reviews import REVIEW_ACTIONS, ReviewError, review_history, review_image

blp = Blueprint("qc", __name__, url_prefix="/api/v1",
                description="Quality control: completeness of visits, QC reviews of images")

MAX_COMMENT_LENGTH = 4000


class InventorySchema(Schema):
    """The series of one tag in a session."""

    count = fields.Integer(required=True)
    series_numbers = fields.List(fields.Integer(allow_none=True), required=True)
    descriptions = fields.List(fields.String(), required=True)


class UnexpectedSchema(Schema):
    """A series whose tag is not expected at the visit's site, or that has no tag."""

    tag = fields.String(required=True, metadata={"description": "The tag, or 'untagged'."})
    series_number = fields.Integer(allow_none=True)
    description = fields.String(required=True)
    reason = fields.String(allow_none=True, metadata={
        "description": "Why it is untagged: no tag matched, or several did."})


class VisitQcSchema(Schema):
    """A visit's series judged against the tags its study expects."""

    visit_id = fields.Integer(required=True)
    dataset = fields.String(required=True)
    subject = fields.String(required=True, metadata={"description": "The subject's id."})
    visit = fields.String(required=True, metadata={"description": "The visit's id."})
    site = fields.String(required=True, metadata={"description": "'' when no site is known."})
    sessions = fields.List(fields.String(), required=True)
    complete = fields.Boolean(required=True, metadata={"description": "Nothing missing."})
    missing = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                          metadata={"description": "Tag -> how many series are missing."})
    repeated = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                           metadata={"description": "Tag -> how many series beyond its count."})
    unexpected = fields.List(fields.Nested(UnexpectedSchema), required=True)
    inventory = fields.Dict(keys=fields.String(), values=fields.Nested(InventorySchema),
                            required=True, metadata={"description": "Tag -> its series."})


class PhantomQcSchema(Schema):
    """A phantom session: its series by tag (phantoms are not participants)."""

    dataset = fields.String(required=True)
    session = fields.String(required=True)
    site = fields.String(required=True)
    inventory = fields.Dict(keys=fields.String(), values=fields.Nested(InventorySchema),
                            required=True)


class CompletenessSchema(Schema):
    """Every visit with a series inventory, judged, and the phantom sessions."""

    visits = fields.List(fields.Nested(VisitQcSchema), required=True)
    phantoms = fields.List(fields.Nested(PhantomQcSchema), required=True)


class CompletenessArgs(QueryArgs):
    """The dataset, and optionally which visits."""

    dataset = Text(metadata={"description": "Dataset designation (default: every dataset)."})
    complete = fields.Boolean(metadata={"description": (
        "true: only complete visits (nothing missing); false: only incomplete ones.")})
    site = Text(metadata={"description": "Only the visits (and phantoms) of this site."})


class ReviewSchema(Schema):
    """One QC review of an image."""

    state = fields.String(required=True)
    comment = fields.String(allow_none=True)
    author = fields.String(required=True, metadata={"description": "The API key's name."})
    reviewed_at = UtcDateTime(required=True)


class ImageQcSchema(Schema):
    """An image's QC state and every review that led there, oldest first."""

    image_id = fields.Integer(required=True)
    qc_state = fields.String(required=True)
    history = fields.List(fields.Nested(ReviewSchema), required=True)


class ReviewArgs(Schema):
    """What a reviewer does to an image."""

    class Meta:
        unknown = ma.RAISE

    action = fields.String(required=True, validate=validate.OneOf(list(REVIEW_ACTIONS)),
                           metadata={"description": (
                               "sign_off, flag (needs a comment), blacklist (needs a comment: "
                               "the reason) or reset (back to new).")})
    comment = Text(max_length=MAX_COMMENT_LENGTH, allow_none=True)


@blp.route("/visits/<int(max=2147483647):visit_id>/qc")
class VisitQc(MethodView):
    @blp.arguments(NoArgs, location="query", as_kwargs=False)
    @blp.response(200, VisitQcSchema)
    def get(self, _args: dict[str, Any], visit_id: int):
        """Return a visit's completeness: missing, repeated and unexpected tags, its series."""
        judged = visit_completeness(db.session, [visit_id])
        if not judged:
            abort(404, message=f"no visit with id {visit_id}")
        return judged[0]


@blp.route("/qc/completeness")
class Completeness(MethodView):
    @blp.arguments(CompletenessArgs, location="query", as_kwargs=False)
    @blp.response(200, CompletenessSchema)
    def get(self, args: dict[str, Any]):
        """Return the completeness of every visit of a dataset, or of every dataset (only
        complete or incomplete visits, of one site, when asked)."""
        dataset_id = None
        if "dataset" in args:
            dataset_id = db.session.scalar(select(Dataset.id).where(
                Dataset.designation == args["dataset"], Dataset.deleted_at.is_(None)))
            if dataset_id is None:
                message = f"unknown dataset: {args['dataset']}"
                abort(400, message=message, errors={"dataset": [message]})
        return dataset_completeness(db.session, dataset_id, complete=args.get("complete"),
                                    site=args.get("site"))


def _image_or_404(image_id: int) -> Image:
    include_blacklisted()  # a review may reset a blacklisted image
    image = db.session.scalar(
        select(Image).join(Subject, Subject.id == Image.subject_id)
        .where(Image.id == image_id, Image.deleted_at.is_(None)))
    if image is None:
        abort(404, message=f"no image with id {image_id}")
    return image


def _state(image: Image) -> dict[str, Any]:
    return {"image_id": image.id, "qc_state": image.qc_state.value,
            "history": [{"state": review.state.value, "comment": review.comment,
                         "author": review.author, "reviewed_at": review.reviewed_at}
                        for review in review_history(db.session, image.id)]}


@blp.route("/images/<int(max=2147483647):image_id>/qc")
class ImageQc(MethodView):
    @blp.arguments(NoArgs, location="query", as_kwargs=False)
    @blp.response(200, ImageQcSchema)
    def get(self, _args: dict[str, Any], image_id: int):
        """Return an image's QC state and every review of it, oldest first."""
        return _state(_image_or_404(image_id))

    @requires(Scope.WRITE)
    @blp.arguments(NoArgs, location="query", as_kwargs=False)
    @blp.arguments(ReviewArgs, location="json", as_kwargs=False,
                   example={"action": "flag", "comment": "slight motion in the last slices"})
    @blp.response(200, ImageQcSchema)
    def put(self, _args: dict[str, Any], body: dict[str, Any], image_id: int):
        """Sign off, flag, blacklist or reset an image; the review joins its history."""
        return _state(review(image_id, body["action"], body.get("comment")))


def review(image_id: int, action: str, comment: str | None) -> Image:
    """Record the request's key's review of an image, log it in the audit log and commit; a
    404 for an unknown image, a 400 naming `comment` for a review that needs one. Shared by
    PUT /images/{id}/qc and the dashboard's QC actions."""
    image = _image_or_404(image_id)
    try:
        review_image(db.session, image, action, current_key_name(), comment)
    except ReviewError as exc:
        abort(400, message=str(exc), errors={"comment": [str(exc)]})
    record_request(AuditAction.QC_REVIEW, datasets=[image.dataset], image_ids=[image.id],
                   details={"action": action, "qc_state": image.qc_state.value})
    db.session.commit()
    return image

