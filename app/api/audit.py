"""GET /api/v1/audit: the append-only audit log (admin scope); it has no route that writes.

A key restricted to some datasets reads only the entries that touched at least one dataset and
no other dataset than its own: an entry touching none (a key revoked, a key of every dataset
created) or one it may not see (an export whose query names it, a key granted it) stays hidden,
and with it the key names, image ids, counts and query texts it holds.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import UTC
from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate
from sqlalchemy import ColumnElement, Select, and_, exists, select

from app.access.auth import requires
from app.access.current import visible_dataset_ids
from app.api.query import (
    Blueprint,
    any_of,
    apply_filters,
    at_least,
    at_most,
    collection_args,
    envelope_schema,
    equal_to,
    paginate,
    with_ids_of,
)
from app.api.query.columns import UtcDateTime
from app.api.query.params import Text
from app.extensions import db
from app.models import AuditAction, AuditEvent, AuditEventDataset, Dataset, Scope

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit",
                description="Audit log of reads of files, exports and every write (admin scope)")


def _touched_datasets(dataset_ids: list[int]) -> ColumnElement[bool]:
    return AuditEvent.id.in_(select(AuditEventDataset.audit_event_id)
                             .where(AuditEventDataset.dataset_id.in_(dataset_ids)))


def readable_by(visible: frozenset[int]) -> ColumnElement[bool]:
    """The entries a key seeing only the datasets `visible` may read: touching some dataset,
    and only datasets among `visible`."""
    # The links' Core table, not the mapped class: the visibility hook would add "dataset is
    # visible" to the class's every use and so empty the NOT EXISTS that finds other datasets.
    links = AuditEventDataset.__table__
    touched = exists().where(links.c.audit_event_id == AuditEvent.id)
    elsewhere = exists().where(links.c.audit_event_id == AuditEvent.id,
                               links.c.dataset_id.not_in(sorted(visible)))
    return and_(touched, ~elsewhere)


AUDIT_FILTERS = {
    "dataset": with_ids_of(Dataset, _touched_datasets),
    "key": equal_to(AuditEvent.key_name),
    "action": any_of(AuditEvent.action),
    "since": at_least(AuditEvent.occurred_at),
    "until": at_most(AuditEvent.occurred_at),
}


# Entries are appended as they happen, so id order is time order (and cursors stay integers).
class AuditArgs(collection_args("AuditCollectionArgs", sorts=("id",), filters=["dataset"])):
    """The log's paging and filters: dataset, key, action and a time range."""

    key = Text(metadata={"description": "Name of the API key that acted or was changed."})
    action = fields.List(
        fields.String(validate=validate.OneOf([action.value for action in AuditAction])),
        metadata={"description": "Action; repeat to accept any of several."})
    since = fields.AwareDateTime(default_timezone=UTC, metadata={
        "description": "Entries at or after this time (ISO 8601; UTC unless it says)."})
    until = fields.AwareDateTime(default_timezone=UTC, metadata={
        "description": "Entries at or before this time (ISO 8601; UTC unless it says)."})


class AuditEventSchema(Schema):
    """One entry of the log."""

    id = fields.Integer(required=True)
    occurred_at = UtcDateTime(required=True)
    key = fields.String(required=True, metadata={
        "description": "The key that acted (requests) or was changed (key changes)."})
    action = fields.String(required=True, metadata={
        "description": "One of: " + ", ".join(action.value for action in AuditAction) + "."})
    datasets = fields.List(fields.String(), required=True, metadata={
        "description": "Designations of the datasets it touched."})
    image_ids = fields.List(fields.Integer(), allow_none=True, metadata={
        "description": "The images concerned (downloaded, URLs issued, previewed, "
                       "reviewed, claimed)."})
    row_count = fields.Integer(allow_none=True, metadata={"description": "Rows exported."})
    details = fields.Dict(allow_none=True, metadata={
        "description": "An export's path and query; what a write or key change did."})


def select_audit_events() -> Select:
    """Return the log's rows, labelled with the JSON field names."""
    return select(
        AuditEvent.id.label("id"), AuditEvent.occurred_at.label("occurred_at"),
        AuditEvent.key_name.label("key"), AuditEvent.action.label("action"),
        AuditEvent.image_ids.label("image_ids"), AuditEvent.row_count.label("row_count"),
        AuditEvent.details.label("details"))


def with_datasets(rows: list[Any]) -> list[dict[str, Any]]:
    """Return the page's rows with the designations of their datasets, in one query."""
    designations: dict[int, list[str]] = defaultdict(list)
    for event_id, designation in db.session.execute(
        select(AuditEventDataset.audit_event_id, Dataset.designation)
        .join(Dataset, Dataset.id == AuditEventDataset.dataset_id)
        .where(AuditEventDataset.audit_event_id.in_([row["id"] for row in rows]))
        .order_by(Dataset.designation)
    ):
        designations[event_id].append(designation)
    return [{**row, "datasets": designations[row["id"]]} for row in rows]


@blp.route("")
class AuditLog(MethodView):
    @requires(Scope.ADMIN)
    @blp.arguments(AuditArgs, location="query", as_kwargs=False)
    @blp.response(200, envelope_schema(AuditEventSchema, "AuditEvent"))
    def get(self, args: dict[str, Any]):
        """List audit entries: downloads, issued download URLs, exports, previews, writes
        (cohorts, QC reviews, claims), dataset registrations and deletions, key changes.

        Filter by key, dataset, action, and time (since, until). The log is append-only: no
        route changes it. A key restricted to some datasets reads only the entries that touched
        some of its datasets and no other.
        """
        statement = select_audit_events()
        visible = visible_dataset_ids()
        if visible is not None:
            statement = statement.where(readable_by(visible))
        page = paginate(apply_filters(statement, args, AUDIT_FILTERS), args, "audit")
        return {**page, "items": with_datasets(page["items"])}
