"""Load the master list of clinical measures (data/seed_files/measures_list.csv) into `measure`."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from app.models import Measure, MeasureKind
from globals import SEED_DIR
from load_db.engine import LoadReport
from load_db.engine.cells import to_float
from load_db.engine.runner import exit_with, script_main
from load_db.seed import Row, find_seed_file, load_master_list

SEED_STEM = "measures_list"


def _level_problem(row: Row) -> str | None:
    """What is wrong with the levels of an ordinal scale (its allowed scores). Pure."""
    for level in row["levels"]:
        try:
            score = to_float(level)
        except ValueError:
            return f"level {level!r} of an ordinal scale is not a number"
        if score is None or (row["minimum"] is not None and score < row["minimum"]) \
                or (row["maximum"] is not None and score > row["maximum"]):
            return f"level {level!r} is outside {row['minimum']}..{row['maximum']}"
    return None


def measure_problem(row: Row) -> tuple[str, str] | None:
    """The (column, problem) of the first rule a measure breaks; None when it keeps them. Pure.

    A number has a unit and a range; an ordinal score has a range and, when it moves in steps
    (the CDR's 0, 0.5, 1, 2, 3), levels naming each allowed score within it; a category has
    levels and no range.
    """
    kind, low, high = row.get("kind"), row.get("minimum"), row.get("maximum")
    if kind is MeasureKind.NUMBER and row.get("unit") is None:
        return "unit", "a number measure needs a unit"
    if kind in (MeasureKind.NUMBER, MeasureKind.ORDINAL):
        for column, bound in (("minimum", low), ("maximum", high)):
            if bound is None:
                return column, f"{kind.value} measures need a range (minimum and maximum)"
        if low > high:
            return "maximum", f"{high} is below the minimum {low}"
    if kind is MeasureKind.CATEGORY:
        if not row.get("levels"):
            return "levels", "a category measure needs its levels"
        if low is not None or high is not None:
            return ("minimum" if low is not None else "maximum"), "a category has no range"
    if kind is MeasureKind.ORDINAL and row.get("levels"):
        problem = _level_problem(row)
        if problem is not None:
            return "levels", problem
    return None


def load(session: Session, seed_dir: Path = SEED_DIR) -> LoadReport:
    """Upsert every measure of the master list (see measure_problem for its rules)."""
    return load_master_list(session, Measure, find_seed_file(seed_dir, SEED_STEM),
                            measure_problem)


if __name__ == "__main__":
    exit_with(script_main("seed.measure", load, SEED_DIR, description=__doc__))
