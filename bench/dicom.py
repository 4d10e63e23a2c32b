"""The DICOM section of `make bench`: `flask load-dicom` against a plain pydicom pass.

The corpus is the nine real series of ../shared/data/dicom copied again and again, each copy
with fresh study, series and instance UIDs and its own patient, so that every copy is new
series to the loader. `python -m bench.dicom CASE JSON_ARGUMENTS` runs one measured case in
its own process and prints one JSON line (as bench/cases.py does).
"""
from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from globals import ROOT

DATASET = "DICOM benchmark"
# 233 DICOM files a copy: 18 copies make 4,194 files (the issue asks for at least 4,000).
COPIES = {"full": 18, "quick": 4}
RATIO_TARGET = 5.0
UID_ROOT = "2.25."


def shared_corpus() -> Path:
    """../shared/data/dicom (or $MBID_SHARED_DATA/dicom)."""
    default = ROOT.parent / "shared" / "data"
    return Path(os.environ.get("MBID_SHARED_DATA", default)) / "dicom"


def write_corpus(target: Path, copies: int, source: Path | None = None) -> int:
    """Write `copies` copies of the shared series under `target` with fresh UIDs; count files.

    Non-DICOM files (a series' README) are copied too: the loader skips and counts them.
    """
    import pydicom

    source = source or shared_corpus()
    files = [path for path in sorted(source.rglob("*")) if path.is_file()
             and path.parent != source]
    written = 0
    for copy in range(copies):
        fresh: dict[str, str] = {}

        def new(uid: str, copy: int = copy, fresh: dict[str, str] = fresh) -> str:
            if uid not in fresh:
                fresh[uid] = f"{UID_ROOT}{copy + 1}{len(fresh) + 1:06d}"
            return fresh[uid]

        for path in files:
            relative = path.relative_to(source)
            out = target / f"copy-{copy:02d}" / relative
            out.parent.mkdir(parents=True, exist_ok=True)
            if path.read_bytes()[128:132] != b"DICM":
                out.write_bytes(path.read_bytes())
                continue
            dataset = pydicom.dcmread(path)
            for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
                if keyword in dataset:
                    setattr(dataset, keyword, new(str(dataset.get(keyword))))
            dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
            dataset.PatientID = f"{dataset.get('PatientID', '')}-{copy:02d}"
            dataset.save_as(out, enforce_file_format=True)
            written += 1
    return written


def dicom_load(database_url: str, root: str, workers: int) -> dict[str, Any]:
    """`flask load-dicom ROOT --dataset NAME --register --json --workers N` on a seeded database."""
    from bench.cases import _fresh_app

    app = _fresh_app(database_url)
    runner = app.test_cli_runner()
    with app.app_context():
        start = time.perf_counter()
        result = runner.invoke(args=["load-dicom", root, "--dataset", DATASET, "--register",
                                     "--json", "--workers", str(workers)],
                               catch_exceptions=False)
        seconds = time.perf_counter() - start
    if result.exit_code != 0:
        raise RuntimeError(f"load-dicom exited with {result.exit_code}: {result.output}")
    report = json.loads(result.output)
    return {"seconds": seconds, "images": report["tables"]["image"]["inserted"]}


def dcmread_pass(root: str) -> dict[str, Any]:
    """The comparison: os.walk, then pydicom.dcmread(stop_before_pixels=True) of every file."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    start = time.perf_counter()
    files = 0
    for folder, _, names in os.walk(root):
        for name in names:
            try:
                pydicom.dcmread(os.path.join(folder, name), stop_before_pixels=True)
            except InvalidDicomError:
                continue
            files += 1
    return {"seconds": time.perf_counter() - start, "files": files}


CASES = {"dicom_load": dicom_load, "dcmread_pass": dcmread_pass}


def _run(name: str, runs: int, **arguments: Any) -> dict[str, Any]:
    """Run a case `runs` times, each in a fresh process; medians of each figure."""
    results = []
    for _ in range(runs):
        if callable(arguments.get("database_url")):
            arguments = {**arguments, "database_url": arguments["database_url"]()}
        completed = subprocess.run([sys.executable, "-m", "bench.dicom", name,
                                    json.dumps(arguments)], capture_output=True, text=True,
                                   cwd=ROOT)
        if completed.returncode != 0:
            raise RuntimeError(f"{name} failed:\n{completed.stderr[-3000:]}")
        results.append(json.loads(completed.stdout.strip().splitlines()[-1]))
    return {key: statistics.median(result[key] for result in results) for key in results[0]}


def dicom_section(context: Any) -> str:
    """load-dicom (SQLite) against the plain dcmread pass over the same copied corpus."""
    copies = COPIES["quick" if context.quick else "full"]
    root = context.scratch / "dicom"
    files = write_corpus(root, copies)
    runs = context.sizes.runs
    workers = os.cpu_count() or 1
    plain = _run("dcmread_pass", runs, root=str(root))
    ours = _run("dicom_load", runs, root=str(root), workers=workers,
                database_url=lambda: context.database_url("sqlite"))
    ratio = plain["seconds"] / ours["seconds"]
    lines = ["## DICOM: `flask load-dicom` against a plain pydicom pass", "",
             f"The nine series of ../shared/data/dicom copied {copies} times with fresh study, "
             f"series and instance UIDs and a patient per copy: {files:,} DICOM files "
             f"({9 * copies} series). **dcmread pass**: `os.walk` and "
             "`pydicom.dcmread(path, stop_before_pixels=True)` of every file, in one process. "
             f"**load-dicom**: the whole command (`--workers {workers}`, the machine's cores; "
             "it starts worker processes only from 5,000 files a worker) on "
             "a freshly seeded SQLite database: fast scan of every file, one full header per "
             "series (and the b-values of diffusion candidates), rules, subjects, visits, the "
             "write and the load_run record. Peak RSS is the largest of the process and its "
             "workers.", "",
             "| tool | time | files/s | peak RSS | images stored |", "|---|---|---|---|---|",
             f"| dcmread pass | {plain['seconds']:.2f} s | {files / plain['seconds']:,.0f} | "
             f"{plain['peak_rss_mb']:,.0f} MB | |",
             f"| load-dicom | {ours['seconds']:.2f} s | {files / ours['seconds']:,.0f} | "
             f"{ours['peak_rss_mb']:,.0f} MB | {ours['images']:,.0f} |", "",
             "### Target (issue 16)", "", "| target | measured | met |", "|---|---|---|",
             f"| the whole load at least {RATIO_TARGET:.0f}x faster than the dcmread pass | "
             f"{ratio:.1f}x | {'yes' if ratio >= RATIO_TARGET else '**no**'} |"]
    if ratio < RATIO_TARGET:
        lines += ["", MISS_EXPLANATION.format(workers=workers)]
    return "\n".join(lines)


MISS_EXPLANATION = (
    "Why the ratio falls short: the fast scan walks a header's bytes about 20x faster than "
    "dcmread(stop_before_pixels=True), so what remains is fixed per series or per load: one "
    "pydicom read of each series' representative header (and of a second file for diffusion "
    "candidates), starting {workers} worker processes when the corpus is large enough, and the "
    "database write with its load_run record. A corpus of few files per series is the worst "
    "case.")


def main(argv: list[str]) -> int:
    """Run one case and print its result with the peak memory of the process and its workers."""
    import logging

    logging.disable(logging.INFO)
    name, arguments = argv[0], json.loads(argv[1])
    result = CASES[name](**arguments)
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    result["peak_rss_mb"] = peak / 1024
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
