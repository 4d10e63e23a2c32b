"""One measured case per process, so that each peak memory figure is that case's own.

`python -m bench.cases CASE JSON_ARGUMENTS` prints one JSON line: seconds, rows, peak_rss_mb.
"""
from __future__ import annotations

import functools
import importlib
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
        run_load(db.session, "seed", seed_all.load, SEED_DIR)
    return app


@case
def engine_ingest(database_url: str, subjects: int) -> dict[str, Any]:
    """The real engine, streaming: the synthetic input generated chunk by chunk
    (bench/synthetic.py `ukbiobank_chunks`) and loaded by `load_chunks` in one transaction and
    one commit, so the process never holds the whole input.

    Besides the wall time, where it goes: generating the input; writing rows (COPY on
    PostgreSQL, executemany on SQLite, with the indexes kept up to date as rows go in); the
    dataset-wide refresh in SQL (search columns, image_measure: none on a first load); the
    commit; then ANALYZE (as `run_load` runs it, after the commit, not in the wall time); the
    rest is the engine's own work per chunk (checks, labels, reading back ids, linking).
    """
    phases = {"generate": 0.0, "write": 0.0, "refresh": 0.0}

    def timed(phase: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                phases[phase] += time.perf_counter() - start
        return wrapper

    # Bench-only instrumentation: the engine's writer and refreshes, timed where they are called
    # (by module: the package's `upsert` is the function, not its module).
    orchestration = importlib.import_module("load_db.engine.orchestration")
    upsert_module = importlib.import_module("load_db.engine.upsert")
    originals = [(upsert_module, "write_rows", "write"),
                 (orchestration, "refresh_image_search", "refresh"),
                 (orchestration, "refresh_image_measures", "refresh")]
    for module, name, phase in originals:
        setattr(module, name, timed(phase, getattr(module, name)))
    try:
        report, seconds = _load_streamed(database_url, subjects, phases)
    finally:  # the case may run in a test's process: leave the engine as it was
        for module, name, _ in originals:
            setattr(module, name, getattr(module, name).__wrapped__)
    rows = sum(counts.inserted for counts in report.tables.values())
    phases["engine"] = seconds - phases["generate"] - phases["write"] - phases["refresh"] \
        - phases["commit"]
    # Of the writes, the image indexes' upkeep, estimated from a sample's cost (PostgreSQL).
    phases["index"] = min(phases["write"], phases.pop("index_per_row", 0.0)
                          * report.counts("image").inserted)
    return {"seconds": seconds, "rows": rows, "images": report.counts("image").inserted,
            **{f"{phase}_seconds": value for phase, value in phases.items()}}


def _load_streamed(database_url: str, subjects: int, phases: dict[str, float]) -> tuple[Any, float]:
    """Load the synthetic input chunk by chunk into a fresh database and commit; the report and
    the wall time (generating included, ANALYZE after it not), adding the phases' times."""
    from sqlalchemy import text

    from app.extensions import db
    from bench.synthetic import UKB_CONDITIONS, ukbiobank_chunks
    from load_db.engine import Chunk, load_chunks

    def chunks():
        parts = ukbiobank_chunks(subjects)
        while True:
            start = time.perf_counter()
            frames = next(parts, None)
            phases["generate"] += time.perf_counter() - start
            if frames is None:
                return
            yield Chunk(subjects=frames[0], visits=frames[1], images=frames[2])

    app = _fresh_app(database_url)
    with app.app_context():
        start = time.perf_counter()
        report = load_chunks(db.session, "UK Biobank", chunks(),
                             map_condition=UKB_CONDITIONS.__getitem__)
        committed = time.perf_counter()
        db.session.commit()
        seconds = time.perf_counter() - start
        phases["commit"] = time.perf_counter() - committed
        start = time.perf_counter()
        if db.engine.dialect.name == "postgresql":
            for table in report.tables:
                db.session.execute(text(f'ANALYZE "{table}"'))
            db.session.commit()
        phases["analyze"] = time.perf_counter() - start
        if db.engine.dialect.name == "postgresql":
            phases["index_per_row"] = _index_seconds_per_row(db.session)
        db.engine.dispose()
    return report, seconds


# Rows of the loaded images copied to measure what the image table's indexes cost per row.
INDEX_SAMPLE_ROWS = 200_000


def _index_seconds_per_row(session: Any) -> float:
    """What keeping the image table's indexes up to date costs per row written: INSERT ...
    SELECT of a sample of the loaded images into a copy of the table with all its indexes and
    into one without any (in a transaction rolled back), the difference over the rows. An empty
    copy's indexes are shallower than the loaded table's: a lower bound."""
    from sqlalchemy import text

    timings = {}
    rows = min(INDEX_SAMPLE_ROWS, session.scalar(text("SELECT count(*) FROM image")))
    # Read the sample once first, so both copies read it from the cache.
    session.execute(text(f"SELECT count(*) FROM (SELECT * FROM image LIMIT {INDEX_SAMPLE_ROWS}) s"))
    for name, like in (("bench_plain", "INCLUDING DEFAULTS"), ("bench_indexed", "INCLUDING ALL")):
        session.execute(text(f"CREATE TEMPORARY TABLE {name} (LIKE image {like})"))
        start = time.perf_counter()
        session.execute(text(f"INSERT INTO {name} SELECT * FROM image "
                             f"LIMIT {INDEX_SAMPLE_ROWS}"))
        timings[name] = time.perf_counter() - start
    session.rollback()
    return max(timings["bench_indexed"] - timings["bench_plain"], 0.0) / max(rows, 1)


@case
def api_database(database_url: str, subjects: int) -> dict[str, Any]:
    """Fill a database for the API benchmark through the engine, add 20 assessments a subject
    (10 measures at each of its 2 visits), compute the measure read model (image_measure) as a
    load does, and keep it (timed: the assessments' write and the read model's computation; the
    ingestion section measures the load of the images)."""
    from sqlalchemy import select

    from app import create_app
    from app.extensions import db
    from app.models import Dataset
    from app.models.image_measure import refresh_image_measures
    from bench.assessments import write_assessments
    from bench.synthetic import assessment_frame, ukbiobank_frames

    result = engine_ingest(database_url, subjects)
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        start = time.perf_counter()
        written = write_assessments(db.session, "UK Biobank",
                                    assessment_frame(ukbiobank_frames(subjects)[1]))
        db.session.commit()
        seconds = time.perf_counter() - start
        # The assessments went in through the bulk writer, beside the engine's load: the
        # read model is computed once for the dataset, as a load that wrote them would.
        start = time.perf_counter()
        held = refresh_image_measures(db.session, db.session.scalar(
            select(Dataset.id).where(Dataset.designation == "UK Biobank")))
        db.session.commit()
        measure_seconds = time.perf_counter() - start
        db.engine.dispose()
    return {"seconds": result["seconds"], "rows": result["rows"], "assessments": written,
            "assessment_seconds": seconds, "image_measure_rows": held,
            "image_measure_seconds": measure_seconds}


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
        load_frames(db.session, "UK Biobank", **dict(zip(names, frames, strict=True)),
                    map_condition=UKB_CONDITIONS.__getitem__)
        db.session.commit()
        start = time.perf_counter()
        report = load_frames(db.session, "UK Biobank", **dict(zip(names, frames, strict=True)),
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


# --- BIDS: `flask load-bids` against the floor, pybids and bids2table -------------------------

def _load_bids_command(app, root: str, dataset: str, *options: str) -> tuple[float, int]:
    """Run `flask load-bids ROOT --dataset NAME --register --json` in-process, as a user would.

    Returns the wall time of the command and the rows it wrote (inserted + updated, from its
    report), so that the figure covers everything the command does, report and load_run too.
    """
    runner = app.test_cli_runner()
    with app.app_context():
        start = time.perf_counter()
        result = runner.invoke(args=["load-bids", root, "--dataset", dataset, "--register",
                                     *options, "--json"], catch_exceptions=False)
        seconds = time.perf_counter() - start
    if result.exit_code != 0:
        raise RuntimeError(f"load-bids exited with {result.exit_code}: {result.output}")
    report = json.loads(result.output)
    return seconds, sum(counts["inserted"] + counts["updated"]
                        for counts in report["tables"].values())


@case
def bids_floor(root: str) -> dict[str, Any]:
    """The floor: walk the tree with os.walk and json.load every sidecar, nothing else."""
    import os

    start = time.perf_counter()
    files = sidecars = 0
    for folder, _, names in os.walk(root):
        files += len(names)
        for name in names:
            if name.endswith(".json"):
                with open(os.path.join(folder, name), encoding="utf-8") as handle:
                    json.load(handle)
                sidecars += 1
    return {"seconds": time.perf_counter() - start, "files": files, "sidecars": sidecars}


@case
def bids_load(database_url: str, root: str, dataset: str) -> dict[str, Any]:
    """`flask load-bids` on a freshly seeded database: walk, sidecars, tables, visits, write."""
    app = _fresh_app(database_url)
    seconds, written = _load_bids_command(app, root, dataset)
    return {"seconds": seconds, "rows": written}


@case
def bids_read(root: str) -> dict[str, Any]:
    """The BIDS adapter alone (read_bids: files in, frames out), to split load-bids' time
    between reading the tree and writing the database."""
    from app.storage.trees import ListedTree, LocalTree
    from load_db.bids import read_bids
    from load_db.bids.entities import is_skipped_folder

    start = time.perf_counter()
    # Listed first, as load-bids does, so that the listing's share is timed on its own.
    tree = ListedTree(LocalTree(root, prune=is_skipped_folder))
    listed = time.perf_counter()
    frames = read_bids(tree, storage_prefix="bench")
    return {"seconds": time.perf_counter() - start, "listing_seconds": listed - start,
            "images": len(frames.images)}


@case
def bids_reload(database_url: str, subjects: int, added: int, dataset: str) -> dict[str, Any]:
    """Write a tree of `subjects` subjects in a scratch folder and load it; then time loading
    it again (nothing changed), again with --full, and after growing it in place by `added`
    subjects (participants.tsv rewritten, new folders): the rows written are all a re-load may
    cost."""
    import os
    import tempfile

    from bench.bids_tree import write_bids_tree

    app = _fresh_app(database_url)
    with tempfile.TemporaryDirectory(prefix="mbid-reload-") as scratch:
        root = os.path.join(scratch, "bids")
        write_bids_tree(root, subjects)
        _settle(root)
        _load_bids_command(app, root, dataset)
        seconds, written = _load_bids_command(app, root, dataset)
        full_seconds, full_written = _load_bids_command(app, root, dataset, "--full")
        write_bids_tree(root, subjects + added, grow=True)
        grown_seconds, grown_written = _load_bids_command(app, root, dataset)
    return {"seconds": seconds, "written": written, "full_seconds": full_seconds,
            "full_written": full_written, "grown_seconds": grown_seconds,
            "grown_written": grown_written}


def _settle(root: str) -> None:
    """Date every file of the tree an hour back, as a dataset at rest: a file modified just
    before a load is read again by the next one (app.storage.trees.UNSETTLED_NS)."""
    import os

    when = time.time() - 3600
    for folder, _, names in os.walk(root):
        for name in names:
            os.utime(os.path.join(folder, name), (when, when))


@case
def pybids_layout(root: str, index_metadata: bool) -> dict[str, Any]:
    """pybids' index: BIDSLayout(root, validate=False), with or without index_metadata."""
    from bids import BIDSLayout, BIDSLayoutIndexer

    start = time.perf_counter()
    # pybids 0.22 takes index_metadata only through an explicit indexer.
    layout = BIDSLayout(root, validate=False,
                        indexer=BIDSLayoutIndexer(validate=False, index_metadata=index_metadata))
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "files": len(layout.get())}


@case
def bids2table_index(root: str, metadata: bool) -> dict[str, Any]:
    """bids2table's index (an Arrow table of every subject file); with `metadata`, each file's
    merged sidecars too, through bids2table's own load_bids_metadata (BIDS inheritance)."""
    from pathlib import Path

    import bids2table

    start = time.perf_counter()
    table = bids2table.index_dataset(root)
    if metadata:
        base = Path(root)
        # bids2table 2.x indexes names only; its documented way to get a file's sidecar
        # metadata is load_bids_metadata, which caches each JSON it reads.
        sidecars = [bids2table.load_bids_metadata(base / path)
                    for path in table.column("path").to_pylist()]
        table = table.append_column("metadata", [[json.dumps(m) for m in sidecars]])
    return {"seconds": time.perf_counter() - start, "files": table.num_rows}


@case
def datasets_after_load(database_url: str, subjects: int, analyze: bool) -> dict[str, Any]:
    """Load the synthetic dataset, then time GET /api/v1/datasets at once (first request, and
    the median of five more).

    With `analyze`, the load runs as every command runs it (`run_load`, which refreshes the
    planner's statistics afterwards); without it, the same frames are written and committed
    directly, as loads were before, so the first queries are planned for empty tables.
    """
    from app.access.auth import create_api_key
    from app.extensions import db
    from bench.synthetic import UKB_CONDITIONS, ukbiobank_frames
    from load_db.engine import load_frames, run_load

    app = _fresh_app(database_url)
    frames = dict(zip(("subjects", "visits", "images"), ukbiobank_frames(subjects), strict=True))

    def load(session, _source):
        return load_frames(session, "UK Biobank", **frames,
                           map_condition=UKB_CONDITIONS.__getitem__)

    with app.app_context():
        _, token = create_api_key("bench")
        db.session.commit()
        if analyze:
            report = run_load(db.session, "bench", load, None, dataset="UK Biobank")
        else:
            report = load(db.session, None)
            db.session.commit()
        db.session.remove()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    timings = []
    for _ in range(6):
        start = time.perf_counter()
        response = client.get("/api/v1/datasets", headers=headers)
        timings.append(time.perf_counter() - start)
        assert response.status_code == 200, response.get_data(as_text=True)
    return {"seconds": timings[0], "median_after": sorted(timings[1:])[2],
            "images": report.tables["image"].inserted}


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

