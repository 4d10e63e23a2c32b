"""format=csv: stream a whole filtered collection as a CSV download (its text is written by
app/query/export.py, in server-side batches, formula cells neutralised).

Every export is logged in the audit log (query, row count, datasets).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Response, stream_with_context
from sqlalchemy import Select

from app.access.audit import export_recorder
from app.access.current import keeping_access
from app.api.query.paging import paginate
from app.api.query.parquet import parquet_response
from app.query.export import csv_rows
from app.query.sorting import sorted_by


def csv_response(statement: Select, columns: Sequence[str], filename: str) -> Response:
    """Return a streamed CSV download of every row of `statement` (sorted by the caller)."""
    return Response(
        stream_with_context(keeping_access(csv_rows(statement, columns, export_recorder()))),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def page_or_csv(
    statement: Select, args: dict[str, Any], *, resource: str, item_schema: type,
    counted: Select | None = None,
) -> dict[str, Any] | Response:
    """Answer a collection request: one page as an envelope, or with format=csv or
    format=parquet every row.

    The CSV and Parquet columns are the item schema's fields, so they equal the JSON field names.
    `counted` is the page's total, when it can be counted more cheaply than the rows (see
    paginate).
    """
    if args.get("format") == "csv":
        columns = list(item_schema().fields)
        return csv_response(sorted_by(statement, args["sort"]), columns, f"{resource}.csv")
    if args.get("format") == "parquet":
        return parquet_response(sorted_by(statement, args["sort"]), item_schema,
                                f"{resource}.parquet")
    return paginate(statement, args, resource, counted=counted)
