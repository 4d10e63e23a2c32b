"""The start-up section of `make bench`: how long a `flask` command takes, whole process.

Each command runs as a fresh process (`python -m flask ...`), as a user runs it, with the
project's modules byte-compiled (as for an installed package); the comparison
is a process that only imports Flask, Flask-SQLAlchemy, SQLAlchemy and flask-smorest, the
floor of any command. The runs are interleaved, so that a busy moment of the machine weighs on
every command alike, and each figure is a median.
"""
from __future__ import annotations

import compileall
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

from globals import ROOT

RATIO_TARGET = 1.5
RUNS = {"full": 11, "quick": 7}
FLOOR = ("-c", "import flask, flask_sqlalchemy, sqlalchemy, flask_smorest")
COMMANDS = {
    "import Flask, Flask-SQLAlchemy, SQLAlchemy, flask-smorest (the floor)": FLOOR,
    "`flask --help`": ("-m", "flask", "--help"),
    "`flask apikey list`": ("-m", "flask", "apikey", "list"),
}


def _seconds(arguments: tuple[str, ...], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, *arguments], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def command_start_times(database_url: str, runs: int) -> dict[str, float]:
    """Median wall time of each of COMMANDS (by label) over `runs` interleaved runs, on a
    database migrated to the head (so that `flask apikey list` reads a real table)."""
    env = {**os.environ, "FLASK_APP": "app", "DATABASE_URL": database_url}
    # The project's modules are byte-compiled first, as pip does for an installed package: an
    # editable install under PYTHONDONTWRITEBYTECODE would otherwise compile them on every start.
    for package in ("app", "config", "load_db"):
        compileall.compile_dir(ROOT / package, quiet=1)
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    times: dict[str, list[float]] = {label: [] for label in COMMANDS}
    for _ in range(runs):
        for label, arguments in COMMANDS.items():
            times[label].append(_seconds(arguments, env))
    return {label: statistics.median(values) for label, values in times.items()}


# Where a command's start-up goes past the floor, phase by phase, timed inside one process, as
# the `flask` command builds the app (in its click context: the routes are left for later).
PHASES_PROBE = """
import json, time
start = time.perf_counter()
import flask, flask_sqlalchemy, sqlalchemy, flask_smorest
frameworks = time.perf_counter()
import config
settings = time.perf_counter()
import sqlalchemy.dialects.postgresql
dialect = time.perf_counter()
import app.models
models = time.perf_counter()
import click
from flask.cli import ScriptInfo
from app import create_app
with click.Context(click.Command("flask"), obj=ScriptInfo()):
    create_app()
built = time.perf_counter()
from sqlalchemy.orm import configure_mappers
configure_mappers()
configured = time.perf_counter()
print(json.dumps({"frameworks": frameworks - start,
                  "settings (config: pydantic-settings)": settings - frameworks,
                  "PostgreSQL dialect (the JSONB type of the models)": dialect - settings,
                  "models": models - dialect,
                  "create_app as `flask` builds it (routes added on first need)": built - models,
                  "configuring the mappers (before a command's first query)":
                      configured - built}))
"""


def start_up_phases(database_url: str, runs: int) -> dict[str, float]:
    """Median seconds of each phase of building the app (PHASES_PROBE) over `runs` processes."""
    env = {**os.environ, "DATABASE_URL": database_url}
    samples: dict[str, list[float]] = {}
    for _ in range(runs):
        result = subprocess.run([sys.executable, "-c", PHASES_PROBE], cwd=ROOT, env=env,
                                check=True, capture_output=True, text=True)
        for phase, seconds in json.loads(result.stdout.splitlines()[-1]).items():
            samples.setdefault(phase, []).append(seconds)
    return {phase: statistics.median(values) for phase, values in samples.items()}


def startup_section(context: Any) -> str:
    """`flask --help` and `flask apikey list` against importing their frameworks alone."""
    runs = RUNS["quick" if context.quick else "full"]
    medians = command_start_times(context.database_url("sqlite"), runs)
    floor = medians[next(iter(COMMANDS))]
    lines = ["## Command start-up: `flask` commands against importing their frameworks", "",
             "Whole-process wall time of each command (`python -m flask ...` on a migrated "
             f"SQLite database), median of {runs} interleaved runs. Heavy libraries (pandas, "
             "Alembic, pyarrow, the S3 SDK, pydicom) are imported only by the commands that "
             "use them.", "", "| process | median | / floor |", "|---|---|---|"]
    lines += [f"| {label} | {seconds * 1000:,.0f} ms | {seconds / floor:.2f}x |"
              for label, seconds in medians.items()]
    phases = start_up_phases(context.database_url("sqlite"), runs)
    lines += ["", "Inside one process (median of the same number of runs), the app is built as "
              "the `flask` command builds it, in phases; everything past the frameworks is what "
              "a command adds to the floor:", "",
              "| phase | median |", "|---|---|"]
    lines += [f"| {phase} | {seconds * 1000:,.0f} ms |" for phase, seconds in phases.items()]
    lines += ["", "### Target (issue 12)", "", "| target | measured | met |", "|---|---|---|"]
    for label, seconds in list(medians.items())[1:]:
        ratio = seconds / floor
        lines.append(f"| {label} within {RATIO_TARGET}x the floor | {ratio:.2f}x | "
                     f"{'yes' if ratio <= RATIO_TARGET else '**no**'} |")
    worst = max(list(medians.values())[1:])
    if worst > RATIO_TARGET * floor:
        built = sum(list(phases.values())[1:])
        settings, dialect = list(phases.values())[1:3]
        lines += ["", MISS_EXPLANATION.format(
            over=_ms(worst - RATIO_TARGET * floor), allowed=_ms((RATIO_TARGET - 1) * floor),
            built=_ms(built), models=_ms(phases["models"]), settings=_ms(settings),
            dialect=_ms(dialect), rest=_ms(worst - floor - built))]
    return "\n".join(lines)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


MISS_EXPLANATION = (
    "Why the target is missed (by {over} for the slower command): 1.5x leaves a command "
    "{allowed} past the floor. Building the app as `flask` does, and configuring the mappers "
    "a query needs, take {built} of it (the table above): {models} are SQLAlchemy mapping the "
    "models' classes (each column's annotation resolved, each table, constraint and "
    "relationship built), {settings} reading the settings (config/ uses pydantic-settings, "
    "which imports pydantic) and {dialect} importing SQLAlchemy's PostgreSQL dialect package "
    "for the models' JSONB type, even on SQLite. The API's and dashboard's modules are no "
    "longer imported by a command that routes no request (they are added on first need). The "
    "remaining {rest} are outside the app: Flask's command line (which also scans every "
    "installed package's entry points for plugin commands), the command itself and the "
    "interpreter's exit. What it would take: settings read without pydantic-settings, and a "
    "JSON type that loads the PostgreSQL dialect only on PostgreSQL. pandas, Alembic, pyarrow, "
    "pydicom, numpy and the S3 SDK are not imported (a test checks it for `create_app`, "
    "`flask --help` and `flask apikey list`).")
