"""Run a loader inside one transaction of a plain SQLAlchemy session, and record the run.

The engine never builds a Flask app: the command layer (`flask ...` commands and the script
entry points) hands it a session. A successful run commits its rows and one `load_run` row; a
failed run rolls back, then records a failed `load_run` in a transaction of its own.
"""
from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Dataset, LoadRun, LoadStatus
from app.models.base import utcnow
from load_db.engine.errors import EXIT_BAD_INPUT, LoadError
from load_db.engine.report import LoadReport

log = logging.getLogger(__name__)

# A loader takes the session and its input: a folder, or a tree of files (local or remote).
Loader = Callable[[Session, Any], LoadReport]


def run_load(session: Session, name: str, load: Loader, source: Any, *,
             dataset: str | None = None, dry_run: bool = False) -> LoadReport:
    """Run `load(session, source)` as one transaction and record it in load_run.

    A dry run does all the work, then rolls back. On any error the transaction is rolled back,
    so the database is exactly as before; the failure is then recorded in load_run (its own
    transaction) and the error propagates.
    """
    started = utcnow()
    try:
        report = load(session, source)
        report.dry_run = dry_run
        if dry_run:
            session.rollback()
        else:
            session.add(LoadRun(loader=name, dataset_id=_dataset_id(session, dataset),
                                started_at=started, finished_at=utcnow(),
                                status=LoadStatus.SUCCEEDED, dry_run=False,
                                report=report.to_dict()))
            session.commit()
    except BaseException as exc:
        session.rollback()
        if isinstance(exc, Exception):
            _record_failure(session, name, dataset, started, exc, dry_run)
        raise
    log.info("%s finished: %s", name, report.one_line())
    return report


def _dataset_id(session: Session, designation: str | None) -> int | None:
    """The id of dataset `designation` (any case), None when there is none."""
    if designation is None:
        return None
    return session.scalar(select(Dataset.id).where(
        func.lower(Dataset.designation) == designation.lower()))


def _record_failure(session: Session, name: str, dataset: str | None, started: Any,
                    error: Exception, dry_run: bool) -> None:
    """Write one failed load_run row in a transaction of its own (after the rollback)."""
    try:
        session.add(LoadRun(loader=name, dataset_id=_dataset_id(session, dataset),
                            started_at=started, finished_at=utcnow(), status=LoadStatus.FAILED,
                            dry_run=dry_run, error=str(error)))
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

    # The script is the outermost layer: it builds the app only to get a configured session.
    from app import create_app
    from app.extensions import db

    app = create_app(options.config)
    with app.app_context():
        try:
            report = run_load(db.session, name, load, options.data_dir, dataset=dataset,
                              dry_run=options.dry_run)
        except LoadError as exc:
            log.error("load failed, nothing was written: %s", exc)
            return EXIT_BAD_INPUT
    print(report.summary())
    return 0


def exit_with(code: int) -> None:
    """Exit the process with `code` (kept apart so scripts read `exit_with(script_main(...))`)."""
    sys.exit(code)
