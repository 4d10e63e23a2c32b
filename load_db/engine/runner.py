"""Run a loader inside one transaction of a plain SQLAlchemy session, and record the run.

The engine never builds a Flask app: the command layer hands it a session (the `flask ...`
commands the app's, the script entry points one from load_db/engine/session.py). A load first
records a `running` load_run (with its process id and host) and commits it, before its own
transaction begins: a load killed outright (kill -9, a lost machine) leaves that row, shown as
`interrupted` once its process is gone (app/models/load_run.py). A successful run commits its
rows and finishes the row as `succeeded` in the same transaction; a failed run rolls back, then
finishes it as `failed` in a transaction of its own. A dry run writes no load_run unless it fails.
"""
from __future__ import annotations

import argparse
import hashlib
import logging
import os
import socket
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from app.models import Dataset, LoadRun, LoadStatus
from app.models.base import utcnow
from load_db.engine.errors import EXIT_BAD_INPUT, LoadError
from load_db.engine.report import LoadReport
from load_db.engine.session import configured

log = logging.getLogger(__name__)

# A loader takes the session and its input: a folder, or a tree of files (local or remote).
Loader = Callable[[Session, Any], LoadReport]
# How long a load on SQLite waits for another writer to finish before giving up.
SQLITE_WAIT_MS = 60_000


def run_load(session: Session, name: str, load: Loader, source: Any, *,
             dataset: str | None = None, dry_run: bool = False) -> LoadReport:
    """Run `load(session, source)` as one transaction and record it in load_run.

    A dry run does all the work, then rolls back. On any error the transaction is rolled back,
    so the database is exactly as before; the failure is then recorded in load_run (its own
    transaction) and the error propagates.
    """
    started = utcnow()
    run_id = None if dry_run else _record_start(session, name, dataset, started)
    try:
        try:
            _lock_dataset(session, dataset)
            report = load(session, source)
        except (IntegrityError, DataError) as exc:
            # The checks should have caught it: still bad input, not a crash.
            raise LoadError(f"the database refused the data: {exc.orig}".strip()) from exc
        report.dry_run = dry_run
        if dry_run:
            session.rollback()
        else:
            _finish(session, run_id, name, dataset, started, status=LoadStatus.SUCCEEDED,
                    report=report.to_dict())
            session.commit()
    except BaseException as exc:
        session.rollback()
        if isinstance(exc, Exception):
            _record_failure(session, run_id, name, dataset, started, exc, dry_run)
        raise
    if not dry_run:
        _analyze(session, report)
    log.info("%s finished: %s", name, report.one_line())
    return report


def _record_start(session: Session, name: str, dataset: str | None, started: Any) -> int:
    """Commit a `running` load_run for this process, before the load's transaction; its id."""
    run = LoadRun(loader=name, dataset_id=_dataset_id(session, dataset), started_at=started,
                  status=LoadStatus.RUNNING, dry_run=False, pid=os.getpid(),
                  host=socket.gethostname()[:255])
    session.add(run)
    session.commit()
    return run.id


def _finish(session: Session, run_id: int | None, name: str, dataset: str | None,
            started: Any, **values: Any) -> None:
    """Set how the run ended on its load_run row (a new row for a dry run, which has none)."""
    values = {"finished_at": utcnow(), "dataset_id": _dataset_id(session, dataset), **values}
    run = session.get(LoadRun, run_id) if run_id is not None else None
    if run is None:
        session.add(LoadRun(loader=name, started_at=started, **values))
        return
    for field, value in values.items():
        setattr(run, field, value)


def _lock_dataset(session: Session, dataset: str | None) -> None:
    """Make this load the only one writing `dataset` until its transaction ends.

    PostgreSQL: a transaction-level advisory lock keyed on the dataset; when another load holds
    it, this one stops at once ("another load of X is running"). SQLite allows one writer at a
    time: the transaction starts as a writer (BEGIN IMMEDIATE), so a second load waits for the
    first (up to the busy timeout) instead of failing half-way.
    """
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect == "postgresql" and dataset is not None:
        if not connection.execute(text("SELECT pg_try_advisory_xact_lock(:key)"),
                                  {"key": dataset_lock_key(dataset)}).scalar():
            raise LoadError(f"another load of {dataset} is running: try again when it is done")
    elif dialect == "sqlite":
        dbapi = connection.connection.dbapi_connection
        if not dbapi.in_transaction:
            dbapi.execute(f"PRAGMA busy_timeout = {SQLITE_WAIT_MS}")
            try:
                dbapi.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise LoadError(f"another load is writing to the database ({exc}): try again "
                                "when it is done") from None


def dataset_lock_key(dataset: str) -> int:
    """The PostgreSQL advisory-lock key of loads of `dataset` (any case): a signed 64-bit int."""
    digest = hashlib.sha256(f"mbid-load:{dataset.lower()}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _analyze(session: Session, report: LoadReport) -> None:
    """PostgreSQL: refresh the planner's statistics of the tables a load wrote, so that the
    first queries after a bulk load are not planned for empty tables."""
    if session.get_bind().dialect.name != "postgresql":
        return
    tables = [name for name, counts in report.tables.items() if counts.written]
    for table in tables:
        session.execute(text(f'ANALYZE "{table}"'))
    if tables:
        session.commit()


def _dataset_id(session: Session, designation: str | None) -> int | None:
    """The id of dataset `designation` (any case), None when there is none."""
    if designation is None:
        return None
    return session.scalar(select(Dataset.id).where(
        func.lower(Dataset.designation) == designation.lower()))


def _record_failure(session: Session, run_id: int | None, name: str, dataset: str | None,
                    started: Any, error: Exception, dry_run: bool) -> None:
    """Finish the run as failed in a transaction of its own (after the rollback)."""
    try:
        _finish(session, run_id, name, dataset, started, status=LoadStatus.FAILED,
                dry_run=dry_run, error=str(error))
        session.commit()
    except Exception:  # the database itself may be what failed: keep the original error
        session.rollback()
        log.exception("could not record the failed run of %s in load_run", name)


def script_main(name: str, load: Loader, default_directory: Path, *, dataset: str | None = None,
                argv: Sequence[str] | None = None, description: str | None = None) -> int:
    """Command-line entry point of a load_ script: parse options, run, return the exit code."""
    parser = argparse.ArgumentParser(prog=name, description=description)
    parser.add_argument("--data-dir", type=Path, default=default_directory,
                        help=f"folder holding the input files (default: {default_directory})")
    parser.add_argument("--dry-run", action="store_true", help="do everything, then roll back")
    parser.add_argument("--config", help="configuration name (default: $FLASK_CONFIG or globals)")
    options = parser.parse_args(argv)

    # The script is the outermost layer: it opens the configured session (no Flask app).
    with configured(options.config) as resources:
        try:
            report = run_load(resources.session, name, load, options.data_dir, dataset=dataset,
                              dry_run=options.dry_run)
        except LoadError as exc:
            log.error("load failed, nothing was written: %s", exc)
            return EXIT_BAD_INPUT
    print(report.summary())
    return 0


def exit_with(code: int) -> None:
    """Exit the process with `code` (kept apart so scripts read `exit_with(script_main(...))`)."""
    sys.exit(code)
