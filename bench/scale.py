"""The scale section of `make bench`: the API's three target requests at ten times the API
section's database, side by side with that size, in one run on one database.

The database is built by `build_database`: the API section's synthetic subjects, visits and
images are loaded through the engine (bench/cases.py engine_ingest; no assessments: none of the
three requests filters by a measure), measured, then multiplied in SQL (`multiply`): every
subject, with its visits and images, copied COPIES - 1 times under new ids, external ids and
paths. The search columns are copied with the rows they are computed from, so they stay right;
without assessments image_measure is empty, as it should be.
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.api import (
    PAGE_FILTERS,
    Client,
    Timings,
    analyze,
    create_token,
    explain_api,
    query_path,
    serving,
)
from globals import ROOT

log = logging.getLogger(__name__)

# The 10,000,000 images of issue 27: ten times the API section's 1,000,000.
COPIES = 10
# Issue 27's targets at 10,000,000 images (seconds, p50).
TARGETS = {"page_total": 0.050, "stats": 0.200, "cursor": 0.010}
# The quick run's input (5,000 images, 50,000 once multiplied) and requests of each kind.
QUICK_SUBJECTS = 500
QUICK_REQUESTS = 20
LABELS = {"page_total": "filtered page + total", "stats": "/stats, same filters",
          "cursor": "cursor page, no total"}

# Each copied table: the columns given new values (new id, parent ids, names kept unique),
# as SQL over the source row `t` and the copy number `k`, and the offsets' tables (one id
# stride a table: its largest id).
COPIED_COLUMNS = {
    "subject": {"id": "t.id + k * {subject}",
                "external_id": "t.external_id || '.' || k"},
    "visit": {"id": "t.id + k * {visit}", "subject_id": "t.subject_id + k * {subject}"},
    "image": {"id": "t.id + k * {image}", "subject_id": "t.subject_id + k * {subject}",
              "visit_id": "t.visit_id + k * {visit}",
              "path": "'copy' || k || '/' || t.path"},
}


def multiply(database_url: str, copies: int) -> dict[str, Any]:
    """Make the database's subjects, visits and images `copies` times as many: copy number k
    (1 to copies - 1) of each row has ids shifted by k times the table's largest id, external
    ids suffixed ".k" and paths prefixed "copyk/"; every other column, search columns included,
    is the source row's. The image table's secondary indexes and unique constraint are dropped
    for the copy and built again afterwards (faster than maintaining them row by row; the
    rebuilt constraint checks that the copies' paths are unique), then the database is VACUUM
    ANALYZEd. Returns the seconds taken and the images held."""
    import psycopg
    from sqlalchemy.engine import make_url

    from app.models import Image

    url = make_url(database_url)
    start = time.perf_counter()
    with psycopg.connect(host=url.host, port=url.port, user=url.username, dbname=url.database,
                         autocommit=True) as connection:
        connection.execute("SET maintenance_work_mem = '512MB'")
        strides = {table: connection.execute(f"SELECT max(id) FROM {table}").fetchone()[0]
                   for table in COPIED_COLUMNS}
        indexes = [row for row in connection.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'image' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)")]
        # The unique (dataset, path) too; the primary key stays (foreign keys rest on it).
        uniques = [row for row in connection.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'image'::regclass AND contype = 'u'")]
        with connection.transaction():
            for name, _definition in indexes:
                connection.execute(f'DROP INDEX "{name}"')
            for name, _definition in uniques:
                connection.execute(f'ALTER TABLE image DROP CONSTRAINT "{name}"')
            for table, changed in COPIED_COLUMNS.items():
                names = [row[0] for row in connection.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                    "ORDER BY ordinal_position", (table,))]
                values = [changed[name].format(**strides) if name in changed else f"t.{name}"
                          for name in names]
                connection.execute(
                    f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(values)} "
                    f"FROM {table} t CROSS JOIN generate_series(1, %s) AS k "
                    f"WHERE t.id <= %s", (copies - 1, strides[table]))
                connection.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                   f"(SELECT max(id) FROM {table}))")
                log.info("copied %s %d times", table, copies - 1)
            for _name, definition in indexes:
                connection.execute(definition)
            for name, definition in uniques:
                connection.execute(f'ALTER TABLE image ADD CONSTRAINT "{name}" {definition}')
        images = connection.execute(
            f"SELECT count(*) FROM {Image.__tablename__}").fetchone()[0]
    analyze(database_url)
    return {"seconds": time.perf_counter() - start, "images": images}


def build_database(database_url: str, subjects: int, copies: int,
                   between: Any = None) -> dict[str, Any]:
    """Fill the empty database at `database_url` with `copies` times the API section's input
    of `subjects` subjects (10 images each): the engine's load (engine_ingest, in its own
    process), VACUUM ANALYZE, `between(database_url)` if given (the smaller size's figures),
    then `multiply`. The one place a faster load (the streaming engine) would go. Returns
    {"load_seconds", "multiply_seconds", "images", "before": between's result}."""
    completed = subprocess.run(
        [sys.executable, "-m", "bench.cases", "engine_ingest",
         json.dumps({"database_url": database_url, "subjects": subjects})],
        capture_output=True, text=True, cwd=ROOT)
    if completed.returncode != 0:
        raise RuntimeError(f"engine_ingest failed:\n{completed.stderr[-3000:]}")
    loaded = json.loads(completed.stdout.strip().splitlines()[-1])
    analyze(database_url)
    before = between(database_url) if between is not None else None
    multiplied = multiply(database_url, copies)
    return {"load_seconds": loaded["seconds"], "multiply_seconds": multiplied["seconds"],
            "images": multiplied["images"], "before": before}


def drop_database(database_url: str) -> None:
    """Drop the database at `database_url` (connected to the server's `postgres` database)."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    with psycopg.connect(host=url.host, port=url.port, user=url.username, dbname="postgres",
                         autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')


def measure_targets(database_url: str, scratch: Path, port: int, plan: Any) -> dict[str, Any]:
    """Serve the database with gunicorn (bench/api.py) and time the three target requests in
    turn, as many as the API section's `plan` (bench/api.py Plan) says; then EXPLAIN (ANALYZE,
    BUFFERS) the statements each runs. Returns {"latency": {kind: summary}, "matched",
    "plans": {kind: [plan_summary]}, "load": the load averages before and after}."""
    token = create_token(database_url)
    page_path = query_path("/images", {**PAGE_FILTERS, "per_page": plan.per_page})
    load_before = os.getloadavg()
    with serving(database_url, scratch, port) as server:
        client = Client(server.port, token)
        try:
            first = client.json(page_path)
            paths = {"page_total": page_path,
                     "stats": query_path("/stats", PAGE_FILTERS),
                     "cursor": query_path("/images", {
                         **PAGE_FILTERS, "per_page": plan.per_page, "total": "false",
                         "cursor": first["next_cursor"]})}
            kinds = {kind: (lambda path=path: client.get(path)) for kind, path in paths.items()}
            for call in kinds.values():  # warm up the worker's and the database's caches
                call()
            latency = Timings(kinds).run(plan.requests, plan.budget, plan.minimum)
        finally:
            client.close()
    plans = {kind: explain_api(database_url, token, path) for kind, path in paths.items()}
    return {"latency": latency, "matched": first["total"], "plans": plans,
            "load": (load_before, os.getloadavg())}


def scale_section(context: Any) -> str:
    """The three target requests at the API section's size and COPIES times it."""
    from bench.devservers import free_port

    subjects, plan = context.sizes.ingest_subjects, context.sizes.api
    if context.quick:  # within the quick run's two minutes: a smaller input, fewer requests
        subjects = min(subjects, QUICK_SUBJECTS)
        plan = replace(plan, requests=min(plan.requests, QUICK_REQUESTS))
    url = context.database_url("postgresql")

    def measure(database_url: str) -> dict[str, Any]:
        return measure_targets(database_url, context.scratch, free_port(), plan)

    try:
        built = build_database(url, subjects, COPIES, between=measure)
        small, large = built["before"], measure(url)
    finally:
        drop_database(url)  # several GB at full size: free them for the sections after
    return scale_report(subjects * 10, plan.per_page, built, small, large,
                        context.quick)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def scale_report(images: int, per_page: int, built: dict[str, Any], small: dict[str, Any],
                 large: dict[str, Any], quick: bool) -> str:
    """The section's text: how the database was built, the p50s side by side, the targets,
    and the plans at both sizes."""
    filters = "&".join(f"{key}={value}" for key, value in PAGE_FILTERS.items())
    large_images = built["images"]
    lines = [f"## Scale: the API at {large_images:,} images on PostgreSQL", "",
             f"The API section's synthetic subjects, visits and images ({images:,} images, "
             f"loaded through the engine in {built['load_seconds']:.0f} s; no assessments: "
             "none of these requests filters by a measure) are measured, then multiplied "
             f"{COPIES} times in SQL (bench/scale.py `multiply`: every subject with its visits "
             "and images copied under new ids, external ids and paths, search columns "
             "included) in "
             f"{built['multiply_seconds']:.0f} s, VACUUM ANALYZEd and measured again, served "
             "by the API section's gunicorn (2 workers) and client, the three requests in "
             "turn. Load average (1, 5, 15 minutes) before and after each size's timings: "
             f"{_loads(small['load'])} at {images:,}; {_loads(large['load'])} at "
             f"{large_images:,}.", "",
             f"- **filtered page + total** and **/stats**: `?{filters}` (per_page "
             f"{per_page}; {small['matched']:,} and {large['matched']:,} images match).",
             "- **cursor page, no total**: the page after the first by its next_cursor, "
             "`total=false`.", "",
             f"| request | p50 at {images:,} | p50 at {large_images:,} | ratio | p95 at "
             f"{large_images:,} | issue 27's target at 10,000,000 (p50) | met |",
             "|---|---|---|---|---|---|---|"]
    for kind, label in LABELS.items():
        one, ten = small["latency"][kind], large["latency"][kind]
        met = ten["p50"] <= TARGETS[kind]
        lines.append(f"| {label} | {_ms(one['p50'])} | {_ms(ten['p50'])} | "
                     f"{ten['p50'] / one['p50']:.2f}x | {_ms(ten['p95'])} | at most "
                     f"{_ms(TARGETS[kind])} | {'yes' if met else '**no**'} |")
    if quick:
        lines += ["", "Quick sizes: the targets are set for 10,000,000 images; these "
                  "verdicts are indicative only."]
    lines += ["", "### Plans (EXPLAIN (ANALYZE, BUFFERS) of each request's statements over "
              "image, after the timings)"]
    for kind, label in LABELS.items():
        for size, result in ((images, small), (large_images, large)):
            lines += ["", f"{label}, {size:,} images:", ""]
            lines += plan_list(result["plans"][kind])
    return "\n".join(lines)


def plan_list(plans: list[dict[str, Any]]) -> list[str]:
    """Each statement's first line, time and buffers, then its scan and join nodes, nested."""
    lines = []
    for plan in plans:
        lines.append(f"- `{plan['statement']}` ... ({plan['execution_ms']:.1f} ms)")
        lines += [f"  {node[:len(node) - len(node.lstrip())]}- {node.strip()}"
                  for node in plan["nodes"]]
    return lines


def _loads(pair: tuple[tuple[float, ...], tuple[float, ...]]) -> str:
    return " -> ".join(", ".join(f"{value:.2f}" for value in average) for average in pair)
