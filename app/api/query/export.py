"""format=csv: stream a whole filtered collection, in server-side batches, as CSV."""
from __future__ import annotations

import csv
import enum
import io
import math
from collections.abc import Iterator, Sequence
from typing import Any

from flask import Response, stream_with_context
from sqlalchemy import Select

from app.api.query.paging import paginate, sorted_by
from app.extensions import db

# Rows fetched per round trip; on PostgreSQL a server-side cursor holds the rest.
CSV_BATCH_ROWS = 2000


# Separates the items of a list field (e.g. a subject's conditions) within one CSV cell.
CSV_LIST_SEPARATOR = "; "


def _csv_value(value: Any) -> Any:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list):
        return CSV_LIST_SEPARATOR.join(str(_csv_value(item)) for item in value)
    return value


def csv_rows(statement: Select, columns: Sequence[str]) -> Iterator[str]:
    """Yield the CSV text of `statement`: a header of `columns`, then one line per row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    result = db.session.execute(statement.execution_options(yield_per=CSV_BATCH_ROWS))
    for batch in result.mappings().partitions():
        for row in batch:
            writer.writerow([_csv_value(row[column]) for column in columns])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def csv_response(statement: Select, columns: Sequence[str], filename: str) -> Response:
    """Return a streamed CSV download of every row of `statement` (sorted by the caller)."""
    return Response(
        stream_with_context(csv_rows(statement, columns)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def page_or_csv(
    statement: Select, args: dict[str, Any], *, resource: str, item_schema: type
) -> dict[str, Any] | Response:
    """Answer a collection request: one page as an envelope, or with format=csv every row.

    The CSV columns are the item schema's fields, so its header equals the JSON field names.
    """
    if args.get("format") == "csv":
        columns = list(item_schema().fields)
        return csv_response(sorted_by(statement, args["sort"]), columns, f"{resource}.csv")
    return paginate(statement, args, resource)
