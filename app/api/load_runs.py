"""GET /load_runs: the runs of the loaders, newest first, with how they ended and their counts.

A run is recorded as `running` when it starts; one whose process is gone without saying how it
ended (killed) is shown as `interrupted` (app/models/load_run.py).
"""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields
from sqlalchemy import select

from app.api.query import (
    Blueprint,
    any_of,
    apply_filters,
    collection_args,
    designated,
    envelope_schema,
    paginate,
)
from app.api.query.columns import Column, UtcDateTime, labelled, row_schema
from app.models import Dataset, LoadRun
from app.models.load_run import shown_status

blp = Blueprint("load_runs", __name__, url_prefix="/api/v1/load_runs",
                description="Runs of the loaders, successful or failed")

# A load run row, field by field (the report's counts are added from its JSON by the route).
LOAD_RUN_COLUMNS: dict[str, Column] = {
    "id": Column(LoadRun.id, fields.Integer(required=True)),
    "dataset": Column(Dataset.designation, fields.String(allow_none=True, metadata={
        "description": "Dataset designation; null for a run not tied to one (e.g. seeding)."})),
    "loader": Column(LoadRun.loader, fields.String(required=True, metadata={
        "example": "load OASIS"})),
    "started_at": Column(LoadRun.started_at, UtcDateTime(required=True)),
    "finished_at": Column(LoadRun.finished_at, UtcDateTime(allow_none=True, metadata={
        "description": "Null while the run is going on."})),
    "status": Column(LoadRun.status, fields.String(required=True, metadata={
        "description": "running, succeeded, failed, or interrupted: recorded as running, but "
                       "its process is gone (killed before it could finish).",
        "example": "failed"})),
    "dry_run": Column(LoadRun.dry_run, fields.Boolean(required=True)),
    "error": Column(LoadRun.error, fields.String(allow_none=True, metadata={
        "description": "Why the run failed (naming the file, row and column)."})),
}
REPORT = LoadRun.report.label("report")
PROCESS = (LoadRun.pid.label("pid"), LoadRun.host.label("host"))

LOAD_RUN_FILTERS = {
    "dataset": designated(Dataset, LoadRun.dataset_id),
    "status": any_of(LoadRun.status),
}
LoadRunArgs = collection_args("LoadRunArgs", sorts=("id", "started_at", "finished_at"),
                              filters=LOAD_RUN_FILTERS, default_sort="-started_at")


class TableCountsSchema(Schema):
    """Rows of one table a run inserted, updated, or found up to date."""

    inserted = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)


LoadRunSchema = row_schema(
    "LoadRunSchema", LOAD_RUN_COLUMNS,
    tables=fields.Dict(keys=fields.String(), values=fields.Nested(TableCountsSchema),
                       required=True, metadata={"description": "The report's counts by table "
                                                               "(empty for a failed run)."}),
    ignored=fields.Integer(required=True, metadata={
        "description": "Input rows the run left out, over every reason."}))


def with_report_counts(row: Any) -> dict[str, Any]:
    """Return a run's row with the counts of its report (none when it wrote nothing) and its
    status as shown (`interrupted` when its process is gone)."""
    report = row["report"] or {}
    shown = {name: value for name, value in row.items() if name not in ("pid", "host")}
    return {**shown, "status": shown_status(row["status"], row["pid"], row["host"]),
            "tables": report.get("tables") or {},
            "ignored": sum((report.get("ignored") or {}).values())}


@blp.route("")
class LoadRuns(MethodView):
    @blp.arguments(LoadRunArgs, location="query", as_kwargs=False)
    @blp.response(200, envelope_schema(LoadRunSchema, "LoadRun"))
    def get(self, args: dict[str, Any]):
        """List the loader runs, newest first (sort=-started_at), filtered by dataset and
        status."""
        statement = (select(*labelled(LOAD_RUN_COLUMNS), REPORT, *PROCESS)
                     .select_from(LoadRun)
                     .outerjoin(Dataset, Dataset.id == LoadRun.dataset_id))
        envelope = paginate(apply_filters(statement, args, LOAD_RUN_FILTERS), args, "load_runs")
        return {**envelope, "items": [with_report_counts(row) for row in envelope["items"]]}
