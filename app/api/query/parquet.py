"""format=parquet: a whole filtered collection as a Parquet file, typed, in bounded memory.

The columns are those of the CSV export (the item schema's fields, in order), each typed from
its schema field. Rows are fetched and written a record batch at a time, and every batch's bytes
are sent as soon as they are written: the server holds one batch, never the whole result.
"""
from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import marshmallow as ma
from flask import Response, stream_with_context
from sqlalchemy import Select

from app.access.audit import export_recorder
from app.access.current import keeping_access
from app.extensions import db

if TYPE_CHECKING:  # pyarrow is imported by the functions that write Parquet: a large library
    import pyarrow as pa  # that every command and the server would otherwise load at start

# Rows per record batch and row group: big enough for readers (and compression) to work
# well, small enough to hold in memory.
PARQUET_BATCH_ROWS = 10_000
PARQUET_MIMETYPE = "application/vnd.apache.parquet"


def _arrow_types() -> tuple[tuple[type[ma.fields.Field], pa.DataType], ...]:
    """Schema field class -> Arrow type (checked in order: Integer before Number, etc.)."""
    import pyarrow as pa

    return (
        (ma.fields.Boolean, pa.bool_()),
        (ma.fields.Integer, pa.int64()),
        (ma.fields.Float, pa.float64()),
        (ma.fields.DateTime, pa.timestamp("us", tz="UTC")),
    )


def export_responses(*extra: dict[str, Any]) -> dict[int, Any]:
    """Return the OpenAPI responses a collection adds for its exports (CSV, Parquet, extra)."""
    content: dict[str, Any] = {
        "text/csv": {"schema": {"type": "string"}},
        PARQUET_MIMETYPE: {"schema": {"type": "string", "format": "binary"}},
    }
    for more in extra:
        content.update(more)
    return {200: {"content": content}}


def _arrow_type(field: ma.fields.Field) -> pa.DataType:
    """The Arrow type of a schema field: a list field (a subject's conditions) stays a list."""
    import pyarrow as pa

    if isinstance(field, ma.fields.List):
        return pa.list_(_arrow_type(field.inner))
    return next((kind for cls, kind in _arrow_types() if isinstance(field, cls)), pa.string())


def arrow_schema(item_schema: type[ma.Schema]) -> pa.Schema:
    """Return the Arrow schema of rows of `item_schema`: one column per field, in order."""
    import pyarrow as pa

    columns = []
    for name, field in item_schema().fields.items():
        arrow_type = _arrow_type(field)
        columns.append(pa.field(name, arrow_type, nullable=True))
    return pa.schema(columns)


def _column(rows: list[Mapping[str, Any]], name: str) -> list[Any]:
    """Return one column's values; enums (e.g. an image type) as their string values."""
    values = [row[name] for row in rows]
    first = next((value for value in values if value is not None), None)
    if isinstance(first, enum.Enum):
        return [None if value is None else value.value for value in values]
    return values


def record_batch(rows: Iterable[Mapping[str, Any]], schema: pa.Schema) -> pa.RecordBatch:
    """Return `rows` (mappings holding every column of `schema`) as one typed record batch."""
    import pyarrow as pa

    rows = list(rows)
    arrays = [pa.array(_column(rows, field.name), type=field.type) for field in schema]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


class ChunkSink:
    """A write-only file that keeps what is written until it is taken (a Parquet sink)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: the parts are taken by `take`."""

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def parquet_chunks(
    batches: Iterable[Sequence[Mapping[str, Any]]], schema: pa.Schema,
    on_batch: Callable[[Sequence[Mapping[str, Any]]], None] | None = None,
) -> Iterator[bytes]:
    """Yield the bytes of a Parquet file holding `batches` of rows, one row group per batch."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = ChunkSink()
    with pq.ParquetWriter(pa.PythonFile(sink, mode="w"), schema) as writer:
        for batch in batches:
            writer.write_batch(record_batch(batch, schema))
            if on_batch is not None:
                on_batch(batch)
            yield sink.take()
    yield sink.take()


def parquet_bytes(rows: Sequence[Mapping[str, Any]], item_schema: type[ma.Schema]) -> bytes:
    """Return a small Parquet file of `rows` (e.g. a cohort manifest) at once."""
    return b"".join(parquet_chunks([rows], arrow_schema(item_schema)))


def _statement_batches(statement: Select) -> Iterator[Sequence[Mapping[str, Any]]]:
    result = db.session.execute(statement.execution_options(yield_per=PARQUET_BATCH_ROWS))
    try:
        yield from result.mappings().partitions()
    finally:
        result.close()


def parquet_rows(
    statement: Select, item_schema: type[ma.Schema],
    on_end: Callable[[int, set[str]], None] | None = None,
) -> Iterator[bytes]:
    """Yield the Parquet file of every row of `statement`; `on_end(rows, datasets)` at the end
    (also when the client stops reading), as for CSV exports."""
    sent = {"rows": 0, "datasets": set()}

    def count(batch: Sequence[Mapping[str, Any]]) -> None:
        sent["rows"] += len(batch)
        sent["datasets"].update(row["dataset"] for row in batch if "dataset" in row)

    try:
        yield from parquet_chunks(_statement_batches(statement), arrow_schema(item_schema),
                                  count)
    finally:
        if on_end is not None:
            on_end(sent["rows"], sent["datasets"])


def parquet_response(statement: Select, item_schema: type[ma.Schema], filename: str) -> Response:
    """Return a streamed Parquet download of every row of `statement` (sorted by the caller),
    logged in the audit log as an export."""
    chunks = parquet_rows(statement, item_schema, export_recorder())
    return Response(
        stream_with_context(keeping_access(chunks)), mimetype=PARQUET_MIMETYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'})
