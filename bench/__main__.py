"""`python -m bench [--quick]`: run every benchmark and rewrite docs/BENCHMARKS.md.

Each figure is the median of several runs, each run in a fresh process on a fresh database,
next to the comparison it is judged against, measured in the same run.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.api import CSV_FILTERS, MEASURE_FILTER, PAGE_FILTERS, Plan
from bench.dicom import dicom_section
from bench.scale import scale_section
from bench.startup import startup_section
from globals import ROOT

log = logging.getLogger("bench")
OUTPUT = ROOT / "docs" / "BENCHMARKS.md"
PACKAGES = ("SQLAlchemy", "pandas", "psycopg", "Flask", "flask-smorest", "gunicorn")


@dataclass
class Sizes:
    """How big each benchmark is, full or quick."""

    ingest_subjects: int
    legacy_subjects: int
    bids_subjects: tuple[int, ...]  # BIDS trees indexed by every tool; the last is the target's
    added_subjects: int             # subjects added to the last tree for the re-load
    api: Plan                       # what the API section measures
    bids_backends: tuple[str, ...] = ("sqlite", "postgresql")
    runs: int = 3


# The API section's database has ingest_subjects subjects (10 images each); its deep page is
# half-way through the unfiltered images, 50 a page: page 10,000 of 1,000,000 images.
FULL = Sizes(ingest_subjects=100_000, legacy_subjects=385, bids_subjects=(200, 2_000),
             added_subjects=50,
             api=Plan(requests=200, budget=60.0, minimum=20, deep_page=10_000, csv_runs=3,
                      load_seconds=10, load_runs=3))
# The whole quick run must stay under two minutes on a 2-core machine: small trees, same runs.
QUICK = Sizes(ingest_subjects=2_000, legacy_subjects=20, bids_subjects=(100,), added_subjects=10,
              api=Plan(requests=50, budget=5.0, minimum=20, deep_page=200, csv_runs=3,
                       load_seconds=1, load_runs=3))
# A comparison whose first run takes longer than this is run once (pybids with metadata on
# the 2,000-subject tree takes about a minute a run), and the report says so.
ONCE_OVER_SECONDS = 30.0
BIDS_DATASET = "BIDS benchmark"


@dataclass
class Context:
    """What every section needs: sizes, database URLs, a scratch folder, the results so far."""

    sizes: Sizes
    quick: bool
    databases: dict[str, Any]
    scratch: Path
    sections: list[str] = field(default_factory=list)
    trees: dict[int, tuple[Path, Any]] = field(default_factory=dict)
    # Figures one section measured that a later one explains itself with (e.g. "read:2000").
    figures: dict[str, float] = field(default_factory=dict)

    def bids_tree(self, subjects: int) -> tuple[Path, Any]:
        """The synthetic BIDS tree of `subjects` subjects (written once per run) and its counts."""
        if subjects not in self.trees:
            from bench.bids_tree import write_bids_tree

            root = self.scratch / f"bids-{subjects}"
            self.trees[subjects] = (root, write_bids_tree(root, subjects))
            log.info("wrote the %d-subject BIDS tree: %s", subjects, self.trees[subjects][1])
        return self.trees[subjects]

    def database_url(self, backend: str) -> str:
        """A new empty database on `backend`."""
        if backend == "sqlite":
            handle, path = tempfile.mkstemp(suffix=".db", dir=self.scratch)
            os.close(handle)
            return f"sqlite:///{path}"
        return self.databases["postgresql"].create_database("mbid_bench")


def run_case(name: str, runs: int, *, once_over: float | None = None,
             **arguments: Any) -> dict[str, Any]:
    """Run a case `runs` times in fresh processes; return the median of each figure.

    With `once_over`, a first run slower than that many seconds is not repeated. The result's
    "runs" says how many runs the medians are of.
    """
    results = []
    for attempt in range(runs):
        if attempt and once_over is not None and results[0]["seconds"] > once_over:
            break
        if "database_url" in arguments and callable(arguments["database_url"]):
            arguments = {**arguments, "database_url": arguments["database_url"]()}
        completed = subprocess.run([sys.executable, "-m", "bench.cases", name,
                                    json.dumps({k: v for k, v in arguments.items()})],
                                   capture_output=True, text=True, cwd=ROOT)
        if completed.returncode != 0:
            raise RuntimeError(f"{name} failed:\n{completed.stderr[-3000:]}")
        results.append(json.loads(completed.stdout.strip().splitlines()[-1]))
        log.info("%s run %d/%d: %s", name, attempt + 1, runs, results[-1])
    return {**{key: statistics.median(r[key] for r in results) for key in results[0]},
            "runs": len(results)}


def _fresh(context: Context, backend: str):
    return lambda: context.database_url(backend)


# Issue 6: the full load in at most a minute, and per row this many times the legacy loader.
INGEST_SECONDS_TARGET = 60
INGEST_RATIO_TARGET = {"sqlite": 100, "postgresql": 50}
# Issue 27: peak RSS of the streamed load at the two sizes (MB), and the large load's time.
STREAM_RSS_TARGET_MB = (1_024, 1_536)
STREAM_SECONDS_TARGET = 600
# Subjects (10 images each) of the large streamed load, PostgreSQL only: full size, quick.
STREAM_SUBJECTS = {False: 1_000_000, True: 3_000}


def ingestion_section(context: Context) -> str:
    """Engine vs the legacy per-row loader, on SQLite and PostgreSQL; the streamed load's
    memory at both sizes and where its time goes."""
    sizes = context.sizes
    stream_subjects = STREAM_SUBJECTS[context.quick]
    lines = ["## Ingestion: the engine against the legacy per-row loader", "",
             f"Synthetic UK-Biobank-shaped input: {sizes.ingest_subjects:,} subjects, "
             f"{2 * sizes.ingest_subjects:,} visits, {10 * sizes.ingest_subjects:,} images "
             "(with JSON metadata), generated chunk by chunk (5,000 subjects each, "
             "`bench/synthetic.py` `ukbiobank_chunks`) and written in one transaction by "
             "`load_chunks`, which streams by subject: neither the bench process nor the engine "
             "holds the whole input. The legacy "
             "loader (query for the row, add, commit, per row: the original scripts' pattern) "
             f"runs on a slice of {sizes.legacy_subjects} subjects "
             f"({13 * sizes.legacy_subjects:,} rows) and is extrapolated per row.", "",
             "| database | engine wall time | engine rows/s | engine peak RSS | legacy rows/s "
             "| legacy time for the full input (extrapolated) | engine / legacy per row |",
             "|---|---|---|---|---|---|---|"]
    verdicts = []
    engines = {}
    for backend in ("sqlite", "postgresql"):
        engine = run_case("engine_ingest", sizes.runs, database_url=_fresh(context, backend),
                          subjects=sizes.ingest_subjects)
        legacy = run_case("legacy_ingest", sizes.runs, database_url=_fresh(context, backend),
                          subjects=sizes.legacy_subjects)
        engines[(backend, sizes.ingest_subjects)] = engine
        engine_rate = engine["rows"] / engine["seconds"]
        legacy_rate = legacy["rows"] / legacy["seconds"]
        ratio = engine_rate / legacy_rate
        lines.append(f"| {backend} | {engine['seconds']:.1f} s | {engine_rate:,.0f} | "
                     f"{engine['peak_rss_mb']:,.0f} MB | {legacy_rate:,.0f} | "
                     f"{engine['rows'] / legacy_rate:,.0f} s | {ratio:,.0f}x |")
        verdicts += [
            (f"{backend}: the whole load in at most {INGEST_SECONDS_TARGET} s",
             f"{engine['seconds']:.1f} s", engine["seconds"] <= INGEST_SECONDS_TARGET),
            (f"{backend}: per row at least {INGEST_RATIO_TARGET[backend]}x the legacy loader",
             f"{ratio:,.0f}x", ratio >= INGEST_RATIO_TARGET[backend]),
            (f"{backend}: peak RSS at {10 * sizes.ingest_subjects:,} images at most "
             f"{STREAM_RSS_TARGET_MB[0]:,} MB", f"{engine['peak_rss_mb']:,.0f} MB",
             engine["peak_rss_mb"] <= STREAM_RSS_TARGET_MB[0])]
    # The large streamed load: once (it is long), PostgreSQL only.
    large = run_case("engine_ingest", 1, database_url=_fresh(context, "postgresql"),
                     subjects=stream_subjects)
    engines[("postgresql", stream_subjects)] = large
    verdicts += [
        (f"postgresql: {10 * stream_subjects:,} images in at most "
         f"{STREAM_SECONDS_TARGET // 60} minutes", f"{large['seconds']:.0f} s",
         large["seconds"] <= STREAM_SECONDS_TARGET),
        (f"postgresql: peak RSS at {10 * stream_subjects:,} images at most "
         f"{STREAM_RSS_TARGET_MB[1]:,} MB", f"{large['peak_rss_mb']:,.0f} MB",
         large["peak_rss_mb"] <= STREAM_RSS_TARGET_MB[1])]
    sqlite = engines[("sqlite", sizes.ingest_subjects)]
    estimate = sqlite["seconds"] * stream_subjects / sizes.ingest_subjects
    lines += ["", f"### The streamed load at {10 * stream_subjects:,} images", "",
              f"{stream_subjects:,} subjects, {2 * stream_subjects:,} visits, "
              f"{10 * stream_subjects:,} images on PostgreSQL, run once. SQLite at this "
              f"size is not run: at its rate above it would take about {estimate / 60:.1f} "
              "minutes, beyond the bench's time budget. Where the time goes (seconds): "
              "**write** is the rows sent (COPY on PostgreSQL, executemany on SQLite) with "
              "the table's indexes kept up to date as they go in, **of which indexes** the "
              "image table's share of that upkeep, estimated on PostgreSQL (a sample of "
              "200,000 loaded image rows inserted into copies of the table with and without its "
              "indexes, the difference per row times the images; a lower bound, the copies' "
              "indexes being shallower); **engine** the checks, labels, reading "
              "back ids, visit linking and search values of each chunk; **refresh** the "
              "dataset-wide read models in SQL (image_measure); **analyze** runs after the "
              "commit, outside the wall time.", "",
              "| database | images | wall time | rows/s | peak RSS | generate | engine | write "
              "| of which indexes | refresh | commit | analyze |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for (backend, subjects), run in engines.items():
        index = f"{run['index_seconds']:.1f}" if backend == "postgresql" else "-"
        lines.append(f"| {backend} | {10 * subjects:,} | {run['seconds']:.1f} s | "
                     f"{run['rows'] / run['seconds']:,.0f} | {run['peak_rss_mb']:,.0f} MB | "
                     f"{run['generate_seconds']:.1f} | {run['engine_seconds']:.1f} | "
                     f"{run['write_seconds']:.1f} | {index} | {run['refresh_seconds']:.1f} | "
                     f"{run['commit_seconds']:.1f} | {run['analyze_seconds']:.1f} |")
    lines += ["", "### Targets (issues 6 and 27)", "", "| target | measured | met |",
              "|---|---|---|",
              *(f"| {target} | {value} | {'yes' if met else '**no**'} |"
                for target, value, met in verdicts)]
    if context.quick:
        lines += ["", "Quick sizes: the time and memory targets are set for 1,000,000 and "
                  "10,000,000 images; at quick sizes only the ratios are indicative."]
    return "\n".join(lines)


def _runs(result: dict[str, Any]) -> str:
    return str(result["runs"]) if result["runs"] > 1 else "**1** (slow: not repeated)"


def bids_section(context: Context) -> str:
    """`flask load-bids` against the floor, bids2table and pybids, on synthetic BIDS trees."""
    sizes = context.sizes
    lines = ["## BIDS: `flask load-bids` against the floor, bids2table and pybids", "",
             "Synthetic BIDS trees (`bench/bids_tree.py`): per subject 2 sessions of anat T1w "
             "and T2w, dwi, func rest and task bold, fmap phasediff + magnitude1/2 (NIfTI files "
             "empty, dcm2niix-like sidecars), a sessions.tsv per subject, participants.tsv/.json "
             "and inherited top-level sidecars: 25 files per subject. The T2w and task bold are "
             "read but not stored (ignored, as the design says).", "",
             "- **floor**: `os.walk` of the tree plus `json.load` of every sidecar, nothing else.",
             "- **read_bids alone**: the BIDS adapter's part of load-bids (files in, frames "
             "out), to show how load-bids' time splits between reading and writing.",
             "- **load-bids**: the `flask load-bids ROOT --dataset NAME --register` command, "
             "invoked in-process on a fresh database after `flask seed`: walk, sidecars with "
             "inheritance, participants and sessions, visit matching, the database write and "
             "the load_run record, in one transaction.",
             "- **bids2table**: `bids2table.index_dataset(root)`; **+ metadata** also calls "
             "`bids2table.load_bids_metadata` (its sidecar inheritance) for every indexed file.",
             "- **pybids**: `BIDSLayout(root, validate=False)` with "
             "`BIDSLayoutIndexer(index_metadata=False)` and with `index_metadata=True`.", "",
             "Times exclude starting Python and importing the tool. files/s counts every file "
             "of the tree (bids2table lists only the files inside subject folders, sidecars "
             "excepted, but walks the same tree). The ratios are times divided by the floor's "
             "and by load-bids' (SQLite) in the same run.", ""]
    verdicts = []
    for subjects in sizes.bids_subjects:
        root, counts = context.bids_tree(subjects)
        measured = {"floor": run_case("bids_floor", sizes.runs, root=str(root)),
                    "read_bids alone (no database)": run_case("bids_read", sizes.runs,
                                                              root=str(root))}
        for backend in sizes.bids_backends:
            measured[f"load-bids ({backend})"] = run_case(
                "bids_load", sizes.runs, database_url=_fresh(context, backend), root=str(root),
                dataset=BIDS_DATASET)
            if measured[f"load-bids ({backend})"]["rows"] != counts.rows:
                raise RuntimeError(f"load-bids wrote {measured[f'load-bids ({backend})']['rows']}"
                                   f" rows, the tree has {counts.rows}")
        for label, name, option in (("bids2table", "bids2table_index", {"metadata": False}),
                                    ("bids2table + metadata", "bids2table_index",
                                     {"metadata": True}),
                                    ("pybids", "pybids_layout", {"index_metadata": False}),
                                    ("pybids + metadata", "pybids_layout",
                                     {"index_metadata": True})):
            measured[label] = run_case(name, sizes.runs, once_over=ONCE_OVER_SECONDS,
                                       root=str(root), **option)
        floor, ours = measured["floor"]["seconds"], measured["load-bids (sqlite)"]["seconds"]
        read = measured["read_bids alone (no database)"]["seconds"]
        context.figures.update({f"read:{subjects}": read, f"floor:{subjects}": floor})
        lines += [f"### {subjects:,} subjects x 2 sessions: {counts.files:,} files "
                  f"({counts.sidecars:,} JSON, {counts.images:,} images stored, "
                  f"{counts.rows:,} rows written)", "",
                  "| tool | runs | time | files/s | time / floor | time / load-bids (SQLite) |",
                  "|---|---|---|---|---|---|"]
        for label, result in measured.items():
            seconds = result["seconds"]
            lines.append(f"| {label} | {_runs(result)} | {seconds:.2f} s | "
                         f"{counts.files / seconds:,.0f} | {seconds / floor:.1f}x | "
                         f"{seconds / ours:.2f}x |")
        lines.append("")
        verdicts = _bids_verdicts(subjects, measured)
    lines += [f"### Targets (issue 6), on the {sizes.bids_subjects[-1]:,}-subject tree", "",
              "| target | measured | met |", "|---|---|---|", *verdicts]
    if context.quick:
        lines += ["", "Quick sizes: the targets are set for the 2,000-subject tree, where the "
                  "fixed costs (reading the dataset row, the final queries, the load_run "
                  "record) weigh far less; these verdicts are indicative only."]
    if any(line.endswith("| **no** |") for line in verdicts):
        listing = measured["read_bids alone (no database)"]["listing_seconds"]
        lines += ["", BIDS_MISS_EXPLANATION.format(
            ours=ours, read=read, read_ratio=read / floor, write=ours - read, listing=listing,
            rest=read - listing, target=3 * floor, budget=2 * floor, over_read=read - floor)]
    return "\n".join(lines)


BIDS_MISS_EXPLANATION = (
    "Where load-bids' {ours:.2f} s go: reading the tree (read_bids alone) takes {read:.2f} s, "
    "{read_ratio:.1f}x the floor; the engine's checks, visit matching, the database write "
    "of every row (with its JSON metadata) and the load's manifest take the other {write:.2f} "
    "s. Of the read, listing the tree takes {listing:.2f} s: the floor only lists names, the "
    "listing also stats every file (image sizes, and the versions the next load compares) and "
    "checks every name against the object-key rule. The other {rest:.2f} s read and parse the "
    "sidecars (the floor's work, with the JSON depth and integer limits checked), parse NIfTI "
    "and sidecar names into entities, merge the inherited sidecars of each image, read "
    "participants.tsv and one sessions.tsv per subject and build the frames. The target, "
    "{target:.2f} s, leaves {budget:.2f} s past the floor for all of that, where the read "
    "alone takes {over_read:.2f} s past it and the write {write:.2f} s more: what it would "
    "take is the write costing no more than a few microseconds a row (the engine checks "
    "each row and encodes its metadata document in Python, then inserts by executemany), and "
    "the listing's per-file checks (stat, the key rule) folded into the walk; both lie in "
    "the engine and app/storage, which the streaming-load work rewrites.")


def _bids_verdicts(subjects: int, measured: dict[str, dict[str, Any]]) -> list[str]:
    """The issue's three load-bids targets, judged on one tree's figures."""
    floor = measured["floor"]["seconds"]
    ours = measured["load-bids (sqlite)"]["seconds"]
    b2t = measured["bids2table + metadata"]["seconds"]
    pybids = measured["pybids + metadata"]["seconds"]
    rows = [("load-bids (SQLite) at most 3x the floor", f"{ours / floor:.1f}x "
             f"({ours:.2f} s vs {floor:.2f} s)", ours <= 3 * floor,
             f"misses by {ours - 3 * floor:.2f} s ({ours / floor / 3:.2f}x the target)"),
            ("faster than bids2table with metadata", f"bids2table + metadata / load-bids = "
             f"{b2t / ours:.2f}x", ours < b2t, f"slower by {ours - b2t:.2f} s"),
            ("at least 20x faster than pybids with metadata", f"pybids + metadata / load-bids "
             f"= {pybids / ours:.1f}x", pybids >= 20 * ours,
             f"{20 * ours - pybids:.2f} s short of 20x")]
    return [f"| {target} | {value}{'' if met else '; ' + miss} | {'yes' if met else '**no**'} |"
            for target, value, met, miss in rows]


# Issue 12: an unchanged re-load within the floor plus this; one after adding subjects too.
RELOAD_UNCHANGED_OVER_FLOOR = 0.3
RELOAD_GROWN_OVER_FLOOR = 0.6


def reload_section(context: Context) -> str:
    """Re-loading the same BIDS tree: nothing changed (incremental and --full), then grown."""
    sizes = context.sizes
    subjects, added = sizes.bids_subjects[-1], sizes.added_subjects
    root, counts = context.bids_tree(subjects)
    _, grown = context.bids_tree(subjects + added)
    expected = grown.rows - counts.rows
    floor = run_case("bids_floor", sizes.runs, root=str(root))["seconds"]
    lines = ["## Re-load: the same BIDS tree again, then with subjects added", "",
             f"`flask load-bids` of the {subjects:,}-subject tree ({counts.files:,} files) on a "
             "database that already holds it, loaded from the same folder: once with nothing "
             "changed (the command compares the listing with the manifest of the last load and "
             "reads no file), once more with `--full` (every file read and every row "
             f"compared: the comparison), then after growing the tree in place by {added} "
             f"subjects ({grown.files - counts.files:,} more files and a longer "
             f"participants.tsv; {expected:,} new rows: {added} subjects, "
             f"{grown.sessions - counts.sessions} visits, {grown.images - counts.images:,} "
             "images). The tree is written in a scratch folder by each run and dated an hour "
             "back, as a dataset at rest. Rows written are the command's report (inserted + "
             "updated). Floor (walk + read every sidecar) of the same tree in this run: "
             f"{floor:.2f} s (median of {sizes.runs}).", "",
             "| database | nothing changed: time | rows written | time - floor "
             f"| target: 0 rows, at most floor + {RELOAD_UNCHANGED_OVER_FLOOR} s "
             "| `--full`: time | rows written "
             f"| +{added} subjects: time | rows written | time - floor "
             f"| target: only the new rows, at most floor + {RELOAD_GROWN_OVER_FLOOR} s |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    missed = False
    for backend in sizes.bids_backends:
        result = run_case("bids_reload", sizes.runs, database_url=_fresh(context, backend),
                          subjects=subjects, added=added, dataset=BIDS_DATASET)
        unchanged_over = result["seconds"] - floor - RELOAD_UNCHANGED_OVER_FLOOR
        grown_over = result["grown_seconds"] - floor - RELOAD_GROWN_OVER_FLOOR
        unchanged_met = result["written"] == 0 and unchanged_over <= 0
        grown_met = result["grown_written"] == expected and grown_over <= 0
        unchanged_verdict = _reload_verdict(unchanged_met, result["written"], 0, unchanged_over)
        grown_verdict = _reload_verdict(grown_met, result["grown_written"], expected, grown_over)
        lines.append(
            f"| {backend} | {result['seconds']:.2f} s | {result['written']:,.0f} | "
            f"{result['seconds'] - floor:+.2f} s | {unchanged_verdict} | "
            f"{result['full_seconds']:.2f} s | {result['full_written']:,.0f} | "
            f"{result['grown_seconds']:.2f} s | {result['grown_written']:,.0f} | "
            f"{result['grown_seconds'] - floor:+.2f} s | {grown_verdict} |")
        missed = missed or not (unchanged_met and grown_met)
    if missed:
        lines += ["", RELOAD_MISS_EXPLANATION]
    return "\n".join(lines)


def _reload_verdict(met: bool, written: float, expected: int, over: float) -> str:
    if met:
        return "yes"
    if written != expected:
        return f"**no**: {written:,.0f} rows written, {expected:,} expected"
    return f"**no**: {over:+.2f} s over"


RELOAD_MISS_EXPLANATION = (
    "Where a re-load's time goes: the walk of the whole tree with a stat per file (the listing "
    "is compared with the last load's manifest by size and modification time), reading the "
    "manifest (a JSON document of every file's version) and writing the new one, the "
    "dataset's row totals (a safety check: rows changed by anything but a load mean a full "
    "read), and for the grown tree, reading participants.tsv, the new subjects' folders and "
    "the engine's write of their rows.")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def _load(average: tuple[float, float, float]) -> str:
    return ", ".join(f"{value:.2f}" for value in average)


def _latency_row(label: str, result: dict[str, float], comparison: str) -> str:
    return (f"| {label} | {result['n']} | {_ms(result['p50'])} | {_ms(result['p95'])} | "
            f"{_ms(result['p99'])} | {comparison} |")


# The light requests timed again on their own, as the API section labels them.
LIGHT_LABELS = {"cursor": "cursor page, no total", "first_page": "first page (unfiltered)",
                "page_total": "filtered page + total"}
# The rows of the phase table (bench/api.py PHASES) that add up to a request in process.
REQUEST_PARTS = ("connection", "token", "arguments", "statement", "execute", "render", "json")


def _request_cost_lines(result: dict[str, Any], plan: Any) -> list[str]:
    """The API section's latency method (the light requests in the round robin, alone and
    after a pause) and the cursor page's phase table."""
    from bench.api import PAUSE_SECONDS, PHASES

    latency, alone, paused, phases = (result["latency"], result["alone"], result["paused"],
                                      result["phases"])
    lines = ["", "### The latency method: the light requests in the round robin and alone", "",
             "The round robin above times each kind of request in turn, so the light requests "
             "(milliseconds) follow the heavy ones (the hand-written joins and the deep page by "
             "number: 0.3 to 2 s at 1,000,000 images, during which the client waits). The same "
             f"light requests were then timed again over the same connection: **alone** (their "
             f"own round robin, back to back, {plan.requests} each) and **after a pause** "
             f"({plan.minimum} each, the client idle {PAUSE_SECONDS * 1000:.0f} ms before "
             "each, not timed). Alone measures the request; after a pause measures what a "
             "request pays when the server's worker and the database's process have to be "
             "woken (scheduled back onto a core) first, which is what a request after a long "
             "wait in the round robin also pays.", "",
             "| request | round robin p50 | alone p50 | alone p95 | after a pause p50 | "
             "after a pause p95 |", "|---|---|---|---|---|---|"]
    for kind, label in LIGHT_LABELS.items():
        lines.append(f"| {label} | {_ms(latency[kind]['p50'])} | {_ms(alone[kind]['p50'])} | "
                     f"{_ms(alone[kind]['p95'])} | {_ms(paused[kind]['p50'])} | "
                     f"{_ms(paused[kind]['p95'])} |")
    wsgi = phases["wsgi"]
    parts = sum(phases[name]["p50"] for name in REQUEST_PARTS)
    lines += ["", "### Where a cursor page's time goes", "",
              "The cursor page (no total) taken apart in the harness process with the app's "
              "own code (bench/api.py `request_phases`, FLASK_CONFIG=production, over the same "
              f"database): each phase alone, {plan.requests} times, the phases in turn; then "
              "the whole request through the WSGI app (no HTTP) and through gunicorn. Wall is "
              "the elapsed time; CPU the harness process's CPU time (user + system) in it, the "
              "steadier figure on a shared machine (through gunicorn the CPU is the client's "
              "alone).", "",
              "| phase | p50 wall | p95 wall | p50 CPU | share of the WSGI request (p50 wall) |",
              "|---|---|---|---|---|"]
    for name, summary in phases.items():
        label = PHASES.get(name, "the whole request through gunicorn (HTTP over 127.0.0.1)")
        lines.append(f"| {label} | {_ms(summary['p50'])} | {_ms(summary['p95'])} | "
                     f"{_ms(summary['cpu_p50'])} | {summary['p50'] / wsgi['p50']:.0%} |")
    lines += ["", f"The parts of a request (connection, token check, arguments, statement, "
              f"execution, rendering, JSON) add up to {_ms(parts)} of the WSGI request's "
              f"{_ms(wsgi['p50'])} (the rest: Flask's dispatch, the other before- and "
              "after-request hooks, building the response); the page's SQL alone, through "
              f"psycopg, takes {_ms(phases['raw_sql']['p50'])}."]
    if "gunicorn" in phases:
        lines[-1] += (f" Through gunicorn the request takes {_ms(phases['gunicorn']['p50'])}: "
                      f"{_ms(phases['gunicorn']['p50'] - wsgi['p50'])} for HTTP (the client's "
                      "request and reading, gunicorn's parsing and writing, the two processes' "
                      "wake-ups).")
    return lines


def api_section(context: Context) -> str:
    """The API over the synthetic database on PostgreSQL, served by gunicorn (2 workers)."""
    from bench.api import analyze, measure
    from bench.devservers import free_port

    sizes, plan = context.sizes, context.sizes.api
    url = context.database_url("postgresql")
    built = run_case("api_database", 1, database_url=url, subjects=sizes.ingest_subjects)
    analyze(url)
    # The machine may be shared: the load average beside the figures, before and after.
    load_before = os.getloadavg()
    result = measure(url, context.scratch, plan, free_port())
    load_after = os.getloadavg()
    latency, raw_page, raw_count = result["latency"], result["raw_page"], result["raw_count"]
    raw = latency["raw"]
    page, cursor, first = latency["page_total"], latency["cursor"], latency["first_page"]
    deep, deep_cursor = latency["deep_page"], latency["deep_cursor"]
    images = 10 * sizes.ingest_subjects
    measured = latency["measure_page_total"]
    filters = "&".join(f"{key}={value}" for key, value in PAGE_FILTERS.items())
    csv_filters = "&".join(f"{key}={value}" for key, value in CSV_FILTERS.items())
    lines = ["## API: gunicorn over the synthetic database on PostgreSQL", "",
             f"The ingestion section's input ({sizes.ingest_subjects:,} subjects, {images:,} "
             f"images) loaded once through the engine ({built['seconds']:.0f} s), with "
             f"{built['assessments']:,.0f} assessments (10 measures at each of the "
             f"{2 * sizes.ingest_subjects:,} visits, on the visit's day: MMSE, MoCA, CDR, FAQ, "
             f"GDS, height, weight, BMI, PSQI; written in bulk in "
             f"{built['assessment_seconds']:.0f} s) and their read model image_measure (the "
             "value of each measure that counts for each image under the default window, "
             "with copies of the image's dataset, type, condition, sex and age at scan, and of "
             "its subject, QC state and soft deletion: "
             f"{built['image_measure_rows']:,.0f} rows, computed in one INSERT ... SELECT in "
             f"{built['image_measure_seconds']:.0f} s), then VACUUM "
             "ANALYZE (statistics, and the visibility map a database at rest has), on the "
             "benchmark's PostgreSQL server. `gunicorn \"app:create_app()\"` serves it with "
             "FLASK_CONFIG=production: 2 workers, gthread with 1 thread each (sync workers "
             "close the connection after every response; gthread keeps it alive), on "
             "127.0.0.1. A client in the harness process sends the requests one at a time over "
             "one persistent connection, with a bearer token, reading each body whole; the raw "
             "SQL runs in the same process through psycopg. The kinds of request take turns "
             f"(round robin), {plan.requests} each, so that noise from the machine hits them "
             f"alike; a kind stops early (never under {plan.minimum}) once it has spent "
             f"{plan.budget:.0f} s. Percentiles are nearest-rank over those requests. "
             "Load average of the machine (1, 5, 15 minutes) when the timings began: "
             f"{_load(load_before)}; when the API's figures were done: {_load(load_after)}.",
             "",
             f"- **filtered page + total**: `/images?{filters}` (per_page {plan.per_page}; "
             f"{result['matched']:,} images match).",
             f"- **the same with a measure filter**: `/images?{filters}&measure="
             f"{MEASURE_FILTER}` (the MMSE at the image's visit, or the latest within 365 "
             f"days before the scan, below 24; {result['measure_matched']:,} images match).",
             "- **measure count (psycopg)**: that total as hand-written SQL (an EXISTS over "
             "the assessment at the image's visit: every synthetic visit has its MMSE).",
             f"- **raw page + count**: the same page ({plan.per_page + 1} rows: the API "
             "fetches one more to know whether a next page exists) and count as two "
             "hand-written SQL statements, the designations' ids looked up once beforehand.",
             "- **cursor page, no total**: the page after the first, by its next_cursor, with "
             "`total=false` (the count skipped).",
             f"- **first / deep page**: unfiltered `/images?total=false`, page 1 and page "
             f"{plan.deep_page:,} (`page=`, an OFFSET of "
             f"{(plan.deep_page - 1) * plan.per_page:,} rows) "
             "or the same rows by the cursor of the page before it.",
             f"- **/stats**: `/stats?{filters}` (five grouped counts over the matching images).",
             "- **count / groups, by the join or over the read model**: the filtered count, and "
             "/stats' dataset x type x condition grouping, as hand-written SQL through psycopg: "
             "over image joined to subject, dataset and visit (the query the API ran before the "
             "image search read model), and over image's search columns alone (its composite "
             "index).",
             "",
             "| request | n | p50 | p95 | p99 | comparison |", "|---|---|---|---|---|---|",
             _latency_row("raw page + count (psycopg)", raw,
                          f"page p50 {_ms(raw_page['p50'])}, count p50 {_ms(raw_count['p50'])}"),
             _latency_row("filtered page + total", page,
                          f"p50 {page['p50'] / raw['p50']:.2f}x, p99 "
                          f"{page['p99'] / raw['p50']:.2f}x the raw p50"),
             _latency_row(f"filtered page + total, measure={MEASURE_FILTER}", measured,
                          f"p50 {measured['p50'] / page['p50']:.2f}x the same without it"),
             _latency_row("measure count (psycopg)", latency["measure_count"], ""),
             _latency_row("cursor page, no total", cursor,
                          f"{cursor['p50'] / raw_page['p50']:.1f}x the raw page alone"),
             _latency_row("first page (unfiltered)", first, ""),
             _latency_row(f"deep page (page={plan.deep_page:,})", deep,
                          f"{deep['p50'] / first['p50']:.1f}x the first page"),
             _latency_row("deep page (same rows by cursor)", deep_cursor,
                          f"{deep_cursor['p50'] / first['p50']:.2f}x the first page"),
             _latency_row("/stats, same filters", latency["stats"],
                          f"{latency['stats']['p50'] / raw['p50']:.1f}x the raw page + count; "
                          f"counts {result['stats_images']:,} images"),
             _latency_row("count by the join (psycopg)", latency["join_count"], ""),
             _latency_row("count over the image search read model (psycopg)",
                          latency["search_count"],
                          f"{latency['search_count']['p50'] / latency['join_count']['p50']:.2f}x "
                          "the join's count"),
             _latency_row("dataset x type x condition groups by the join (psycopg)",
                          latency["join_groups"], ""),
             _latency_row("the same groups over the read model (psycopg)",
                          latency["search_groups"],
                          f"{latency['search_groups']['p50'] / latency['join_groups']['p50']:.2f}x"
                          " the join's groups")]
    exports = result["csv"]
    seconds = statistics.median(export["seconds"] for export in exports)
    growth = max(export["rss_growth_mb"] for export in exports)
    rows = exports[0]["rows"]
    how = ("VmHWM after resetting it through /proc/PID/clear_refs"
           if all(export["peak_from_hwm"] for export in exports)
           else "VmRSS sampled every 5 ms during the export")
    lines += ["", f"CSV export: `/images?{csv_filters}&format=csv`, {rows:,} rows "
              f"({exports[0]['bytes'] / 1e6:,.1f} MB), read by the client in 64 KiB chunks. "
              f"Median time of {len(exports)} runs: {seconds:.2f} s ({rows / seconds:,.0f} "
              f"rows/s). Peak RSS growth of the workers (the largest of any run and worker; "
              f"{how}, minus the RSS before): **{growth:.1f} MB**.", ""]
    tool = result["load_tool"]
    generator = ("wrk (Debian)" if tool == "wrk" else
                 "the Python load generator of bench/api.py (wrk is not installed)")
    lines += [f"Throughput: {generator} in a second process on 127.0.0.1, "
              f"{plan.load_connections} keep-alive connections for {plan.load_seconds} s, "
              f"{plan.load_runs} runs (median requests/s; errors are non-2xx/3xx responses "
              "plus socket errors, all runs).", "",
              "| request | requests/s | requests | errors |", "|---|---|---|---|"]
    for name, label in (("cursor", "cursor page, no total"),
                        ("page_total", "filtered page + total")):
        runs = result["load"][name]
        lines.append(f"| {label} | {statistics.median(r['per_second'] for r in runs):,.1f} | "
                     f"{sum(r['requests'] for r in runs):,} | "
                     f"{sum(r['non_2xx'] + r['socket_errors'] for r in runs):,} |")
    lines += _request_cost_lines(result, plan)
    verdicts = [
        ("filtered page + total: p50 at most 1.5x the raw page + count",
         f"{page['p50'] / raw['p50']:.2f}x ({_ms(page['p50'])} vs {_ms(raw['p50'])})",
         page["p50"] <= 1.5 * raw["p50"], f"over by {_ms(page['p50'] - 1.5 * raw['p50'])}"),
        ("filtered page + total: p99 at most 3x the raw page + count (its p50)",
         f"{page['p99'] / raw['p50']:.2f}x ({_ms(page['p99'])})",
         page["p99"] <= 3 * raw["p50"], f"over by {_ms(page['p99'] - 3 * raw['p50'])}"),
        ("cursor page without total: p50 at most 10 ms", _ms(cursor["p50"]),
         cursor["p50"] <= 0.010, f"over by {_ms(cursor['p50'] - 0.010)}"),
        ("deep page no slower than 2x the first page, by cursor",
         f"{deep_cursor['p50'] / first['p50']:.2f}x", deep_cursor["p50"] <= 2 * first["p50"],
         f"over by {_ms(deep_cursor['p50'] - 2 * first['p50'])}"),
        (f"the same by page number (page={plan.deep_page:,})",
         f"{deep['p50'] / first['p50']:.1f}x", deep["p50"] <= 2 * first["p50"],
         f"over by {_ms(deep['p50'] - 2 * first['p50'])}"),
        ("CSV export: peak RSS growth under 100 MB for 100,000 rows",
         f"{growth:.1f} MB for {rows:,} rows", growth < 100,
         f"over by {growth - 100:.1f} MB"),
    ]
    stats = latency["stats"]
    issue12 = [
        ("filtered page + total: p50 at most 25 ms (was 234 ms)", _ms(page["p50"]),
         page["p50"] <= 0.025, f"over by {_ms(page['p50'] - 0.025)}"),
        ("/stats with the same filters: p50 at most 100 ms (was 1,166 ms)", _ms(stats["p50"]),
         stats["p50"] <= 0.100, f"over by {_ms(stats['p50'] - 0.100)}"),
        ("cursor page without total: p50 at most 8 ms (was 12.9 ms)", _ms(cursor["p50"]),
         cursor["p50"] <= 0.008, f"over by {_ms(cursor['p50'] - 0.008)}"),
    ]
    issue23 = [
        (f"filtered page + total with measure={MEASURE_FILTER}: p50 at most 50 ms",
         _ms(measured["p50"]), measured["p50"] <= 0.050,
         f"over by {_ms(measured['p50'] - 0.050)}"),
        ("the same without the measure filter: p50 at most 25 ms (issue 12's target)",
         _ms(page["p50"]), page["p50"] <= 0.025, f"over by {_ms(page['p50'] - 0.025)}"),
    ]
    for title, table in (("issue 6", verdicts), ("issue 12", issue12), ("issue 23", issue23)):
        lines += ["", f"### Targets ({title})", "", "| target | measured | met |",
                  "|---|---|---|",
                  *(f"| {target} | {value}{'' if met else '; ' + miss} | "
                    f"{'yes' if met else '**no**'} |" for target, value, met, miss in table)]
    lines += ["", "### Plans (EXPLAIN ANALYZE of the API's statements, after the timings)",
              "", *plan_lines(result["plans"])]
    notes = []
    if context.quick:
        notes.append("Quick sizes: the targets are set for 1,000,000 images, where the count "
                     "and the page's SQL dominate; here the fixed cost of a request (HTTP, "
                     "token check, designation look-ups, serialization) does, so these "
                     "verdicts are indicative only.")
    if measured["p50"] > 0.050:
        plans = {name: {plan["statement"].split()[1]: plan["execution_ms"] for plan in found}
                 for name, found in result["plans"].items()}
        notes.append(MEASURE_MISS_EXPLANATION.format(
            p50=_ms(measured["p50"]), over=_ms(measured["p50"] - 0.050),
            times=measured["p50"] / 0.050, candidates=result["matched"],
            matched=result["measure_matched"],
            count_ms=plans["with"].get("count(*)", float("nan")),
            page_ms=plans["with"].get("image.id", float("nan")),
            plain_count_ms=plans["without"].get("count(*)", float("nan")),
            plain=_ms(page["p50"]), raw=_ms(latency["measure_count"]["p50"])))
    if deep["p50"] > 2 * first["p50"]:
        notes.append(DEEP_PAGE_EXPLANATION.format(offset=(plan.deep_page - 1) * plan.per_page))
    if cursor["p50"] > 0.010:
        notes.append(CURSOR_MISS_EXPLANATION.format(
            cursor=_ms(cursor["p50"]), raw=_ms(raw_page["p50"]), first=_ms(first["p50"]),
            rest=_ms(cursor["p50"] - raw_page["p50"])))
    return "\n".join(lines + [line for note in notes for line in ("", note)])


def plan_lines(plans: dict[str, list[dict[str, Any]]]) -> list[str]:
    """The scan and join nodes of each statement of the filtered page + total, without and
    with the measure filter, as nested lists."""
    lines = []
    for name, label in (("without", "without the measure filter"),
                        ("with", f"with measure={MEASURE_FILTER}")):
        for plan in plans[name]:
            lines.append(f"- {label}: `{plan['statement']}` ... "
                         f"({plan['execution_ms']:.1f} ms)")
            lines += [f"  {node[:len(node) - len(node.lstrip())]}- {node.strip()}"
                      for node in plan["nodes"]]
    return lines


MEASURE_MISS_EXPLANATION = (
    "Why the measure filter misses 50 ms ({p50} at p50, over by {over}, {times:.1f}x the "
    "target): the total no longer reads the image table. image_measure copies what decides "
    "whether an image is shown (its subject, QC state and soft deletion) beside its dataset, "
    "type, condition, sex and age at scan, so the count is one index-only range of "
    "ix_image_measure_search (the {matched:,} images of the form's filters whose MMSE is "
    "below 24, against the {candidates:,} images of the same filters): {count_ms:.1f} ms in "
    "the database, against {plain_count_ms:.1f} ms for the count without the measure filter. "
    "The page ({page_ms:.1f} ms) walks the images in id order and looks each one's MMSE up by "
    "primary key until 51 match. The same request without the measure filter took {plain} at "
    "p50 in this run, and the hand-written EXISTS over the assessment at the image's visit "
    "{raw}: what is left above the database's share is the request's fixed cost (HTTP, token, "
    "designations, two MMSE columns per row) on the shared machine.")

DEEP_PAGE_EXPLANATION = (
    "Why page numbers miss the deep-page target: OFFSET {offset:,} makes PostgreSQL produce "
    "and join every skipped row (image, subject, dataset, visit, ...) before the 50 it returns, "
    "so the time grows with the page number; no index can skip rows that must be joined to "
    "be counted. The cursor is the API's answer for deep pages (keyset: `id > last id`, an "
    "index range) and meets the target; page numbers are for the first pages of a result.")

CURSOR_MISS_EXPLANATION = (
    "Why the cursor page misses 10 ms: its SQL is cheap (the raw first page of the same filters "
    "takes {raw} at p50 in this run, through psycopg), and the unfiltered first page already takes "
    "{first}: the other {rest} are the fixed cost of a request in the Python stack, per request: "
    "HTTP parsing in gunicorn, the connection's pre-ping, BEGIN and ROLLBACK, the token check (one "
    "statement, which also brings the key's grants and the ids of the designations filtered by), "
    "webargs parsing, building the SQLAlchemy statement and rendering 50 rows of 18 fields, on a "
    "2-core machine shared with the database server and the client.")


# Issue 10: right after a bulk load, /datasets answers within this on PostgreSQL.
DATASETS_AFTER_LOAD_TARGET_MS = 100
# 60,000 images: the size at which a probe saw /datasets take 6.5-7.2 s without statistics.
ANALYZE_SUBJECTS = 6_000


def analyze_section(context: Context) -> str:
    """/datasets right after a bulk load on PostgreSQL, with and without ANALYZE."""
    lines = ["## Statistics after a load: /datasets on PostgreSQL", "",
             f"The synthetic dataset ({10 * ANALYZE_SUBJECTS:,} images) is loaded into a fresh "
             "PostgreSQL database, then `GET /api/v1/datasets` is timed at once (in-process, "
             "first request, then the median of five more). **with ANALYZE** is the load as "
             "every command runs it (`run_load` refreshes the statistics of the tables it "
             "wrote); **without** writes the same rows and commits, as loads did before, so the "
             "planner still believes the tables are empty.", "",
             "| load | images | first request | median of the next five |", "|---|---|---|---|"]
    measured = {}
    for analyze in (False, True):
        result = run_case("datasets_after_load", context.sizes.runs,
                          database_url=_fresh(context, "postgresql"),
                          subjects=ANALYZE_SUBJECTS, analyze=analyze)
        measured[analyze] = result
        lines.append(f"| {'with ANALYZE' if analyze else 'without'} | {result['images']:,.0f} | "
                     f"{_ms(result['seconds'])} | {_ms(result['median_after'])} |")
    first = measured[True]["seconds"] * 1000
    ratio = measured[False]["seconds"] / measured[True]["seconds"]
    lines += ["", f"Without statistics the first request is {ratio:,.1f}x slower.", "",
              "| target | measured | met |", "|---|---|---|",
              f"| /datasets under {DATASETS_AFTER_LOAD_TARGET_MS} ms right after loading "
              f"60,000 images, no manual ANALYZE | {first:,.1f} ms | "
              f"{'yes' if first < DATASETS_AFTER_LOAD_TARGET_MS else '**no**'} |"]
    return "\n".join(lines)


SECTIONS = [ingestion_section, bids_section, reload_section, api_section, scale_section,
            dicom_section, analyze_section, startup_section]


def machine_lines(databases: dict[str, Any]) -> list[str]:
    """Where and when the figures were measured."""
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor())
    memory_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                     if line.startswith("MemTotal"))
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in PACKAGES)
    return [f"- Written: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            f"- Machine: {cpu}, {os.cpu_count()} cores, {memory_kb / 1024 / 1024:.0f} GiB, "
            f"{platform.system()} {platform.release()}",
            f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
            f"PostgreSQL {databases['postgresql_version']}; {versions}"]


SECTION_MARK = re.compile(r"^<!-- bench section: (\w+) -->$", re.MULTILINE)


def section_name(section: Any) -> str:
    """A section's name on the command line: its function's name without `_section`."""
    return section.__name__.removesuffix("_section")


def measured_sections(text: str) -> dict[str, str]:
    """The sections of a report this module wrote, by name (each begins with its mark)."""
    marks = list(SECTION_MARK.finditer(text))
    ends = [mark.start() for mark in marks[1:]] + [len(text)]
    return {mark.group(1): text[mark.start():end].rstrip("\n")
            for mark, end in zip(marks, ends, strict=True)}


def marked(name: str, body: str) -> str:
    """A section's text as the report holds it: its mark, when and how loaded, its body."""
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (f"<!-- bench section: {name} -->\n{body.rstrip()}\n\n"
            f"_Section measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC (load average at its "
            f"end: {load})._")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and write the report."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, under two minutes")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--sections", nargs="+", metavar="NAME",
                        choices=[section_name(section) for section in SECTIONS],
                        help="run only these sections (e.g. bids reload)")
    parser.add_argument("--update", action="store_true",
                        help="replace only the sections run in --output, keeping the others as "
                             "they were measured (each says when)")
    options = parser.parse_args(argv)
    if options.update and options.quick and options.output == OUTPUT:
        parser.error("--update --quick would mix quick sizes into the full report: "
                     "pass --output elsewhere")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    chosen = [section for section in SECTIONS
              if options.sections is None or section_name(section) in options.sections]
    kept = measured_sections(options.output.read_text()) \
        if options.update and options.output.exists() else {}

    from bench.devservers import PostgresServer

    server = PostgresServer().start()
    try:
        import psycopg

        dsn = f"host=127.0.0.1 port={server.port} user=postgres dbname=postgres"
        with psycopg.connect(dsn) as c:
            version = c.execute("SHOW server_version").fetchone()[0]
        databases = {"postgresql": server, "postgresql_version": version}
        with tempfile.TemporaryDirectory(prefix="mbid-bench-") as scratch:
            context = Context(QUICK if options.quick else FULL, options.quick, databases,
                              Path(scratch))
            for section in chosen:
                kept[section_name(section)] = marked(section_name(section), section(context))
    finally:
        server.stop()
    body = [kept[section_name(section)] for section in SECTIONS if section_name(section) in kept]
    mode = "quick sizes (`make bench QUICK=1`)" if options.quick else "full sizes (`make bench`)"
    text = "\n".join(["# Benchmarks", "",
                      f"Written by `python -m bench`, {mode}. Medians of "
                      f"{context.sizes.runs} runs, each in a fresh process on a fresh database. "
                      "Each section ends with when it was measured (`--update` re-measures "
                      "some sections and keeps the others).",
                      "", *machine_lines(databases), "", *("\n\n".join(body).splitlines()), ""])
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(text)
    log.info("wrote %s", options.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
