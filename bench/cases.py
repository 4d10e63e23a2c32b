"""One measured case per process, so that each peak memory figure is that case's own.

`python -m bench.cases CASE JSON_ARGUMENTS` prints one JSON line: seconds, rows, peak_rss_mb.
"""
from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

CASES: dict[str, Callable[..., dict[str, Any]]] = {}


def case(function: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Register a benchmark case under its function name."""
    CASES[function.__name__] = function
    return function


def _fresh_app(database_url: str):
    from app import create_app
    from app.extensions import db
    from globals import SEED_DIR
    from load_db.engine import run_load
    from load_db.seed import all as seed_all

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        db.drop_all()
        db.create_all()
        run_load("seed", seed_all.load, SEED_DIR)
    return app


@case
def engine_ingest(database_url: str, subjects: int) -> dict[str, Any]:
    """The real engine: one load_frames call and one commit for the whole synthetic dataset."""
    from app.extensions import db
    from bench.synthetic import UKB_CONDITIONS, ukbiobank_frames
    from load_db.engine import load_frames

    app = _fresh_app(database_url)
    subject_frame, visit_frame, image_frame = ukbiobank_frames(subjects)
    with app.app_context():
        start = time.perf_counter()
        report = load_frames(db.session, "UK Biobank", subjects=subject_frame, visits=visit_frame,
                             images=image_frame, map_condition=UKB_CONDITIONS.__getitem__)
        db.session.commit()
        seconds = time.perf_counter() - start
    rows = sum(counts.inserted for counts in report.tables.values())
    return {"seconds": seconds, "rows": rows}


@case
def engine_reload(database_url: str, subjects: int) -> dict[str, Any]:
    """Load, then time a second load of the same input: nothing may be written."""
    from app.extensions import db
    from bench.synthetic import UKB_CONDITIONS, ukbiobank_frames
    from load_db.engine import load_frames

    app = _fresh_app(database_url)
    frames = ukbiobank_frames(subjects)
    with app.app_context():
        names = ("subjects", "visits", "images")
        load_frames(db.session, "UK Biobank", **dict(zip(names, frames)),
                    map_condition=UKB_CONDITIONS.__getitem__)
        db.session.commit()
        start = time.perf_counter()
        report = load_frames(db.session, "UK Biobank", **dict(zip(names, frames)),
                             map_condition=UKB_CONDITIONS.__getitem__)
        db.session.commit()
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": sum(len(f) for f in frames),
            "written": sum(c.written for c in report.tables.values())}


@case
def legacy_ingest(database_url: str, subjects: int) -> dict[str, Any]:
    """The original pattern (query, add, commit per row) on a slice of the same input."""
    from app.extensions import db
    from bench.legacy import legacy_load
    from bench.synthetic import UKB_CONDITIONS, ukbiobank_frames

    app = _fresh_app(database_url)
    subject_frame, visit_frame, image_frame = ukbiobank_frames(subjects)
    with app.app_context():
        start = time.perf_counter()
        rows = legacy_load(db.session, "UK Biobank", subject_frame, visit_frame, image_frame,
                           UKB_CONDITIONS)
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": rows}


def main(argv: list[str]) -> int:
    """Run one case and print its result with the process's peak memory."""
    name, arguments = argv[0], json.loads(argv[1])
    import logging

    logging.disable(logging.INFO)
    result = CASES[name](**arguments)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
