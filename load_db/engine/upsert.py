"""Bulk upsert on a natural key, counting what changed, on SQLite and PostgreSQL."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.models.base import utcnow
from load_db.engine.report import TableCounts

INSERT_BY_DIALECT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
BATCH_SIZE = 5_000


def upsert(session: Session, model: type, rows: Sequence[Mapping[str, Any]], key: Sequence[str],
           *, where: ColumnElement[bool] | None = None) -> TableCounts:
    """Insert new rows and update changed ones of `model`, matched on the natural `key`.

    The existing rows are read once (only those matching `where`, e.g. one dataset's) to tell
    inserted, updated and unchanged apart; only new or changed rows are sent, as
    ``INSERT ... ON CONFLICT (key) DO UPDATE`` in batches. Every row must have the same
    columns. Never commits: the caller owns the transaction.
    """
    if not rows:
        return TableCounts()
    table = model.__table__
    key = list(key)
    columns = list(rows[0])
    values = [column for column in columns if column not in key]
    query = select(*(table.c[name] for name in key + values))
    if where is not None:
        query = query.where(where)
    existing = {tuple(row[: len(key)]): tuple(row[len(key):]) for row in session.execute(query)}

    counts, changed = TableCounts(), []
    for row in rows:
        before = existing.get(tuple(row[name] for name in key))
        if before is None:
            counts.inserted += 1
            changed.append(row)
        elif before != tuple(row[name] for name in values):
            counts.updated += 1
            changed.append(row)
        else:
            counts.unchanged += 1
    if changed:
        write_rows(session, model, changed, key)
    return counts


def write_rows(session: Session, model: type, rows: Sequence[Mapping[str, Any]],
               key: Sequence[str]) -> None:
    """Send `rows` as INSERT ... ON CONFLICT (key) DO UPDATE, in batches."""
    table = model.__table__
    insert = INSERT_BY_DIALECT[session.get_bind().dialect.name]
    statement = insert(table)
    update = {name: statement.excluded[name] for name in rows[0] if name not in key}
    if "updated_at" in table.c:
        update["updated_at"] = utcnow()
    statement = (statement.on_conflict_do_update(index_elements=list(key), set_=update)
                 if update else statement.on_conflict_do_nothing(index_elements=list(key)))
    for start in range(0, len(rows), BATCH_SIZE):
        session.execute(statement, [dict(row) for row in rows[start:start + BATCH_SIZE]])
