"""Bulk upsert on a natural key, counting what changed, on SQLite and PostgreSQL.

Rows are compared with what the table already holds (read once), and only new or changed rows
are sent. Sending skips SQLAlchemy's per-row parameter processing, which dominates at a million
rows: on PostgreSQL the rows are COPYed into a temporary table and merged with one
``INSERT ... SELECT ... ON CONFLICT DO UPDATE``; on SQLite they go through one prepared
``INSERT ... ON CONFLICT DO UPDATE`` with ``executemany``. Both run on the session's own
connection, inside the caller's transaction.
"""
from __future__ import annotations

import enum
import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import JSON, ColumnElement, DateTime, Select, Table, Text, cast, select
from sqlalchemy.orm import Session

from app.models.base import utcnow
from load_db.engine.documents import encoded
from load_db.engine.progress import progress_bar
from load_db.engine.report import TableCounts

Rows = pd.DataFrame | Sequence[Mapping[str, Any]]
TIMESTAMPS = ("created_at", "updated_at")
PROGRESS_ROWS = 50_000
# Up to this many rows, the stored rows compared are read by key (one IN list), not all of them.
KEYED_READ_ROWS = 2_000
# Values per IN list of a read by key: well under SQLite's 32,766 and PostgreSQL's 65,535 bind
# parameters per statement.
IN_LIST_VALUES = 5_000
_staging_names = itertools.count(1)


def upsert(session: Session, model: type, rows: Rows, key: Sequence[str],
           *, where: ColumnElement[bool] | None = None, keyed: bool = False,
           nothing_stored: bool = False) -> TableCounts:
    """Insert new rows and update changed ones of `model`, matched on the natural `key`.

    Parameters
    ----------
    rows
        A DataFrame or a list of dicts; every row has the same columns (model column names).
    key
        The columns of the table's unique constraint.
    where
        Limits the read of existing rows to those that can share a key with `rows` (e.g. one
        dataset's rows, when the key starts with dataset_id).
    keyed
        Read only the stored rows sharing a value of the rows' most selective key column,
        whatever their number (a chunk of a streamed load): never the whole `where`.
    nothing_stored
        The caller knows that no stored row shares a key with `rows` (a chunk of a dataset's
        first load, whose keys no earlier chunk had): nothing is read, every row is new.

    Never commits: the caller owns the transaction.
    """
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame.from_records(list(rows))
    if frame.empty:
        return TableCounts()
    frame = frame.reset_index(drop=True)
    table: Table = model.__table__
    key = list(key)
    values = [column for column in frame.columns if column not in key]

    # JSON columns are read as their stored text and compared as text first (see
    # _json_differs): decoding every stored document was most of the time of a re-load.
    json_columns = {name for name in values if isinstance(table.c[name].type, JSON)}
    query = select(*(cast(table.c[name], Text) if name in json_columns else table.c[name]
                     for name in key + values))
    if where is not None:
        query = query.where(where)
    column = max(key, key=lambda name: frame[name].nunique())
    if nothing_stored:
        found = []
    elif (keyed or len(frame) <= KEYED_READ_ROWS) and frame[column].notna().all():
        # A few rows (an incremental re-load) or a chunk: read only the stored rows that share
        # the values of their most selective key column, not the whole dataset's. (Not with a
        # missing value: NULL is never IN a list, yet the comparison below matches it.)
        found = rows_in(session, query, table.c[column], frame[column].unique().tolist())
    else:
        # Core execution and plain tuples: the ORM's result rows cost more to build and hand
        # to pandas than the query itself.
        found = [tuple(row) for row in session.connection().execute(query).all()]
    existing = pd.DataFrame(found, columns=key + values)

    if existing.empty:
        is_new, is_changed = np.ones(len(frame), bool), np.zeros(len(frame), bool)
    else:
        merged = frame[key].merge(existing.assign(_found=True), on=key, how="left")
        is_new = merged["_found"].isna().to_numpy()
        is_changed = np.zeros(len(frame), bool)
        for name in values:
            differs = _json_differs if name in json_columns else _differs
            is_changed |= differs(frame[name], merged[name])
        is_changed &= ~is_new
    counts = TableCounts(inserted=int(is_new.sum()), updated=int(is_changed.sum()))
    counts.unchanged = len(frame) - counts.inserted - counts.updated
    if counts.written:
        write_rows(session, table, frame[is_new | is_changed], key,
                   all_new=bool(is_new.all()))
    return counts


def rows_in(session: Session, query: Select, column: ColumnElement[Any],
            values: Sequence[Any]) -> list[tuple]:
    """The rows of `query` whose `column` is one of `values`, as plain tuples, read with IN lists
    of at most IN_LIST_VALUES values (a streamed load's chunk reads its own rows this way)."""
    values = [_plain(value) for value in values]
    connection = session.connection()
    return [tuple(row) for start in range(0, len(values), IN_LIST_VALUES)
            for row in connection.execute(
                query.where(column.in_(values[start:start + IN_LIST_VALUES]))).all()]


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _differs(new: pd.Series, old: pd.Series) -> np.ndarray:
    """Element-wise "is the new value different", with None, NaN and NA all meaning missing."""
    if pd.api.types.is_numeric_dtype(new.dtype) and pd.api.types.is_numeric_dtype(old.dtype):
        a = new.to_numpy(dtype=float, na_value=np.nan)
        b = old.to_numpy(dtype=float, na_value=np.nan)
        return ~((a == b) | (np.isnan(a) & np.isnan(b)))
    return np.fromiter((not (_missing(a) and _missing(b)) and (_missing(a) or _missing(b) or a != b)
                        for a, b in zip(new.tolist(), old.tolist(), strict=True)), bool, len(new))


def _json_differs(new: pd.Series, stored: pd.Series) -> np.ndarray:
    """Element-wise "is the new document different from the stored JSON text".

    The engine stores ``json.dumps(value)``, so an unchanged document has the same text; only
    where the texts differ (another writer, or PostgreSQL's JSONB, which stores its own
    normal form) is the stored text decoded and compared as data.
    """
    def differs(value: Any, text: Any) -> bool:
        if _missing(value) or _missing(text):
            return not (_missing(value) and _missing(text))
        return encoded(value) != text and json.loads(text) != value

    return np.fromiter(map(differs, new.tolist(), stored.tolist()), bool, len(new))


def write_rows(session: Session, table: Table, frame: pd.DataFrame, key: Sequence[str],
               *, all_new: bool = False) -> None:
    """Send every row of `frame` as INSERT ... ON CONFLICT (key) DO UPDATE of its other columns.

    `all_new` says the caller has checked that no row's key exists yet: PostgreSQL then COPYs
    straight into the table (a key that appears meanwhile fails the load, which rolls back).
    """
    # Only the columns the caller gave are updated; defaults fill new rows only.
    updated = [c for c in frame.columns if c not in key and c not in TIMESTAMPS]
    if "updated_at" in table.c:
        updated.append("updated_at")
    connection = session.connection()
    dialect = connection.dialect.name
    constants = _defaults(table, frame, utcnow())
    columns = [c for c in frame.columns if c not in constants] + list(constants)
    values = [_db_values(table.c[c].type, frame[c], dialect) for c in frame.columns
              if c not in constants]
    values += [itertools.repeat(_db_values(table.c[c].type, pd.Series([v], dtype=object),
                                           dialect)[0]) for c, v in constants.items()]
    rows = zip(*values)  # noqa: B905 (constant columns are endless repeats)
    # A progress bar for writes that take more than a moment (shown on a terminal only).
    rows = progress_bar(rows, total=len(frame), desc=f"writing {table.name}", unit=" rows",
                        min_total=PROGRESS_ROWS, miniters=PROGRESS_ROWS)
    dbapi = connection.connection.dbapi_connection
    if dialect == "postgresql":
        _copy_merge(dbapi, table.name, columns, key, updated, rows, direct=all_new)
    elif dialect == "sqlite":
        conflict = (f"DO UPDATE SET {', '.join(f'{_q(c)} = excluded.{_q(c)}' for c in updated)}"
                    if updated else "DO NOTHING")
        sql = (f"INSERT INTO {_q(table.name)} ({', '.join(map(_q, columns))}) "
               f"VALUES ({', '.join('?' * len(columns))}) "
               f"ON CONFLICT ({', '.join(map(_q, key))}) {conflict}")
        dbapi.cursor().executemany(sql, rows)
    else:
        raise NotImplementedError(f"no bulk upsert for {dialect}")


def _defaults(table: Table, frame: pd.DataFrame, now: datetime) -> dict[str, Any]:
    """Values every written row gets: timestamps, and scalar defaults of columns the frame lacks."""
    constants: dict[str, Any] = {name: now for name in TIMESTAMPS
                                 if name in table.c and (name == "updated_at" or name not in frame)}
    for column in table.c:
        default = column.default
        if column.name not in frame.columns and column.name not in constants \
                and default is not None and default.is_scalar:
            constants[column.name] = default.arg
    return constants


def _db_values(column_type: Any, series: pd.Series, dialect: str) -> list[Any]:
    """One column as plain Python values the driver takes as they are (None when missing)."""
    kind = series.dtype.kind
    if kind in "iub" and not isinstance(series.dtype, pd.api.extensions.ExtensionDtype):
        return series.tolist()
    if kind == "f" and not isinstance(series.dtype, pd.api.extensions.ExtensionDtype):
        return [None if v != v else v for v in series.tolist()]
    values = [None if _missing(v) else v for v in series.astype(object).tolist()]
    if isinstance(column_type, JSON):
        return [None if v is None else encoded(v) for v in values]
    if isinstance(column_type, DateTime) and dialect == "sqlite":
        # The text form SQLAlchemy's SQLite DateTime reads back.
        return [None if v is None else v.strftime("%Y-%m-%d %H:%M:%S.%f") for v in values]
    return [_plain(v) for v in values]


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, np.generic):
        return value.item()
    return value


def _q(name: str) -> str:
    return f'"{name}"'


def _copy_merge(dbapi: Any, table: str, columns: list[str], key: Sequence[str],
                updated: list[str], rows: Iterable[tuple], *, direct: bool) -> None:
    """COPY rows into `table` (direct) or into a temporary table merged with one statement."""
    column_list = ", ".join(map(_q, columns))
    if direct:
        with dbapi.cursor() as cursor, cursor.copy(
                f"COPY {_q(table)} ({column_list}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    staging = f"mbid_staging_{next(_staging_names)}"
    column_list = ", ".join(map(_q, columns))
    conflict = (f"DO UPDATE SET {', '.join(f'{_q(c)} = EXCLUDED.{_q(c)}' for c in updated)}"
                if updated else "DO NOTHING")
    with dbapi.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {staging} AS "
                       f"SELECT {column_list} FROM {_q(table)} WITH NO DATA")
        with cursor.copy(f"COPY {staging} ({column_list}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(f"INSERT INTO {_q(table)} ({column_list}) SELECT {column_list} "
                       f"FROM {staging} ON CONFLICT ({', '.join(map(_q, key))}) {conflict}")
        cursor.execute(f"DROP TABLE {staging}")
