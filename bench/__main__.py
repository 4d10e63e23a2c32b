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
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from globals import ROOT

log = logging.getLogger("bench")
OUTPUT = ROOT / "docs" / "BENCHMARKS.md"
PACKAGES = ("SQLAlchemy", "pandas", "psycopg", "Flask", "flask-smorest")


@dataclass
class Sizes:
    """How big each benchmark is, full or quick."""

    ingest_subjects: int
    legacy_subjects: int
    runs: int = 3


FULL = Sizes(ingest_subjects=100_000, legacy_subjects=385)
QUICK = Sizes(ingest_subjects=2_000, legacy_subjects=20)


@dataclass
class Context:
    """What every section needs: sizes, database URLs, a scratch folder, the results so far."""

    sizes: Sizes
    quick: bool
    databases: dict[str, Any]
    scratch: Path
    sections: list[str] = field(default_factory=list)

    def database_url(self, backend: str) -> str:
        """A new empty database on `backend`."""
        if backend == "sqlite":
            handle, path = tempfile.mkstemp(suffix=".db", dir=self.scratch)
            os.close(handle)
            return f"sqlite:///{path}"
        return self.databases["postgresql"].create_database("mbid_bench")


def run_case(name: str, runs: int, **arguments: Any) -> dict[str, Any]:
    """Run a case `runs` times in fresh processes; return the median of each figure."""
    results = []
    for attempt in range(runs):
        if "database_url" in arguments and callable(arguments["database_url"]):
            arguments = {**arguments, "database_url": arguments["database_url"]()}
        completed = subprocess.run([sys.executable, "-m", "bench.cases", name,
                                    json.dumps({k: v for k, v in arguments.items()})],
                                   capture_output=True, text=True, cwd=ROOT)
        if completed.returncode != 0:
            raise RuntimeError(f"{name} failed:\n{completed.stderr[-3000:]}")
        results.append(json.loads(completed.stdout.strip().splitlines()[-1]))
        log.info("%s run %d/%d: %s", name, attempt + 1, runs, results[-1])
    return {key: statistics.median(r[key] for r in results) for key in results[0]}


def _fresh(context: Context, backend: str):
    return lambda: context.database_url(backend)


def ingestion_section(context: Context) -> str:
    """Engine vs the legacy per-row loader, on SQLite and PostgreSQL."""
    sizes = context.sizes
    lines = ["## Ingestion: the engine against the legacy per-row loader", "",
             f"Synthetic UK-Biobank-shaped input: {sizes.ingest_subjects:,} subjects, "
             f"{2 * sizes.ingest_subjects:,} visits, {10 * sizes.ingest_subjects:,} images "
             "(with JSON metadata), written in one transaction by `load_frames`. The legacy loader "
             "(query for the row, add, commit, per row: the original scripts' pattern) runs on a "
             f"slice of {sizes.legacy_subjects} subjects ({13 * sizes.legacy_subjects:,} rows) and is "
             "extrapolated per row.", "",
             "| database | engine wall time | engine rows/s | engine peak RSS | legacy rows/s "
             "| legacy time for the full input (extrapolated) | engine / legacy per row |",
             "|---|---|---|---|---|---|---|"]
    for backend in ("sqlite", "postgresql"):
        engine = run_case("engine_ingest", sizes.runs, database_url=_fresh(context, backend),
                          subjects=sizes.ingest_subjects)
        legacy = run_case("legacy_ingest", sizes.runs, database_url=_fresh(context, backend),
                          subjects=sizes.legacy_subjects)
        engine_rate = engine["rows"] / engine["seconds"]
        legacy_rate = legacy["rows"] / legacy["seconds"]
        lines.append(f"| {backend} | {engine['seconds']:.1f} s | {engine_rate:,.0f} | "
                     f"{engine['peak_rss_mb']:,.0f} MB | {legacy_rate:,.0f} | "
                     f"{engine['rows'] / legacy_rate:,.0f} s | {engine_rate / legacy_rate:,.0f}x |")
    return "\n".join(lines)


SECTIONS = [ingestion_section]


def machine_lines(databases: dict[str, Any]) -> list[str]:
    """Where and when the figures were measured."""
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor())
    memory_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                     if line.startswith("MemTotal"))
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in PACKAGES)
    return [f"- Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
            f"- Machine: {cpu}, {os.cpu_count()} cores, {memory_kb / 1024 / 1024:.0f} GiB, "
            f"{platform.system()} {platform.release()}",
            f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
            f"PostgreSQL {databases['postgresql_version']}; {versions}"]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and write the report."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, under two minutes")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    from tests.servers import PostgresServer

    server = PostgresServer().start()
    try:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={server.port} user=postgres dbname=postgres") as c:
            version = c.execute("SHOW server_version").fetchone()[0]
        databases = {"postgresql": server, "postgresql_version": version}
        with tempfile.TemporaryDirectory(prefix="mbid-bench-") as scratch:
            context = Context(QUICK if options.quick else FULL, options.quick, databases,
                              Path(scratch))
            body = [section(context) for section in SECTIONS]
    finally:
        server.stop()
    mode = "quick sizes (`make bench QUICK=1`)" if options.quick else "full sizes (`make bench`)"
    text = "\n".join(["# Benchmarks", "",
                      f"Written by `python -m bench`, {mode}. Medians of "
                      f"{context.sizes.runs} runs, each in a fresh process on a fresh database.",
                      "", *machine_lines(databases), "", *("\n\n".join(body).splitlines()), ""])
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(text)
    log.info("wrote %s", options.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
