"""Load the master list of datasets (data/seed_files/datasets_list.xls) into `dataset`."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from app.models import Dataset
from app.storage.keys import check_designation
from globals import SEED_DIR
from load_db.engine import LoadError, LoadReport, upsert
from load_db.engine.runner import exit_with, script_main
from load_db.engine.tables import FIRST_DATA_ROW
from load_db.seed import find_seed_file, read_master_list

SEED_STEM = "datasets_list"


def load(session: Session, seed_dir: Path = SEED_DIR) -> LoadReport:
    """Upsert every dataset of the seed list; its storage prefix is its designation.

    A designation that cannot name a dataset (a separator such as `/` or `#`, a newline, a
    blank, ...: app.storage.keys.check_designation) stops the load with an error naming the
    file, row and column.
    """
    path = find_seed_file(seed_dir, SEED_STEM)
    rows = [{**row, "storage_prefix": row["designation"]}
            for row in read_master_list(path, Dataset)]
    for number, row in enumerate(rows, start=FIRST_DATA_ROW):
        problem = check_designation(row["designation"])
        if problem:
            raise LoadError(f"{row['designation']!r} cannot name a dataset: {problem}",
                            file=path, row=number, column="designation")
    report = LoadReport()
    report.add("dataset", upsert(session, Dataset, rows, ["designation"]))
    return report


if __name__ == "__main__":
    exit_with(script_main("seed.dataset", load, SEED_DIR, description=__doc__))
