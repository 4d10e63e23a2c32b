"""Seed loaders: the master lists every dataset relies on (datasets, conditions, file types)."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from load_db.engine import LoadError, LoadReport, read_table, upsert
from load_db.engine.tables import FIRST_DATA_ROW
from load_db.engine.validation import text_problem

SEED_COLUMNS = ("designation", "description")


def find_seed_file(seed_dir: Path, stem: str) -> Path:
    """Return seed_dir/stem with the first extension present (.xls, .xlsx, then .csv)."""
    for suffix in (".xls", ".xlsx", ".csv"):
        candidate = seed_dir / f"{stem}{suffix}"
        if candidate.exists():
            return candidate
    return seed_dir / f"{stem}.xls"  # read_table then reports the missing file by this name


def read_designations(path: Path, model: type) -> list[dict[str, str | None]]:
    """Read a master list of `model`: a designation per row (non-empty, unique, fitting the
    model's column) and its description."""
    frame = read_table(path, required=SEED_COLUMNS, key="designation")
    limits = {column: model.__table__.c[column].type.length for column in SEED_COLUMNS}
    for position, row in enumerate(frame[list(SEED_COLUMNS)].itertuples(index=False)):
        for column, text in zip(SEED_COLUMNS, row, strict=True):
            problem = text_problem(text, limits[column])
            if problem is not None:
                raise LoadError(problem, file=path, row=position + FIRST_DATA_ROW, column=column)
    return [{"designation": row.designation, "description": row.description or None}
            for row in frame.itertuples(index=False)]


def load_master_list(session: Session, model: type, path: Path) -> LoadReport:
    """Upsert every row of the master list at `path` into `model`, keyed on designation."""
    report = LoadReport()
    counts = upsert(session, model, read_designations(path, model), ["designation"])
    report.add(model.__tablename__, counts)
    return report
