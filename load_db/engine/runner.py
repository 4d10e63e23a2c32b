"""Run a loader inside one transaction: commit on success, roll back on error or dry run."""
from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import Dataset, LoadRun, LoadStatus
from app.models.base import utcnow
from load_db.engine.errors import LoadError
from load_db.engine.report import LoadReport

log = logging.getLogger(__name__)

# A loader takes the session and its input: a folder, or a tree of files (local or remote).
Loader = Callable[[Session, Any], LoadReport]
EXIT_BAD_INPUT = 2


def run_load(name: str, load: Loader, source: Any, *, dataset: str | None = None,
             dry_run: bool = False) -> LoadReport:
    """Run `load(session, source)` as one transaction and record it in load_run.

    A dry run does all the work, then rolls back. On any error the transaction is rolled back,
    so the database is exactly as before, and the error propagates.
    """
    session = db.session
    started = utcnow()
    try:
        report = load(session, source)
        report.dry_run = dry_run
        if dry_run:
            session.rollback()
        else:
            dataset_id = (session.scalar(select(Dataset.id).where(Dataset.designation == dataset))
                          if dataset else None)
            session.add(LoadRun(loader=name, dataset_id=dataset_id, started_at=started,
                                finished_at=utcnow(), status=LoadStatus.SUCCEEDED,
                                dry_run=False, report=report.to_dict()))
            session.commit()
    except BaseException:
        session.rollback()
        raise
    log.info("%s finished:\n%s", name, report.summary())
    return report


def script_main(name: str, load: Loader, default_directory: Path, *, dataset: str | None = None,
                argv: Sequence[str] | None = None, description: str | None = None) -> int:
    """Command-line entry point of a load_ script: parse options, run, return the exit code."""
    parser = argparse.ArgumentParser(prog=name, description=description)
    parser.add_argument("--data-dir", type=Path, default=default_directory,
                        help=f"folder holding the input files (default: {default_directory})")
    parser.add_argument("--dry-run", action="store_true", help="do everything, then roll back")
    parser.add_argument("--config", help="configuration name (default: $FLASK_CONFIG or globals)")
    options = parser.parse_args(argv)

    from app import create_app  # the script is the outermost layer: it builds the app

    app = create_app(options.config)
    with app.app_context():
        try:
            run_load(name, load, options.data_dir, dataset=dataset, dry_run=options.dry_run)
        except LoadError as exc:
            log.error("load failed, nothing was written: %s", exc)
            return EXIT_BAD_INPUT
    return 0


def exit_with(code: int) -> None:
    """Exit the process with `code` (kept apart so scripts read `exit_with(script_main(...))`)."""
    sys.exit(code)
