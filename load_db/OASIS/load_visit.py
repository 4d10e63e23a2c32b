"""Load OASIS-3 clinical visits (OASIS3_clinical_data.csv) into `visit`, diagnosis per visit."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from load_db.datasets import data_dir_of
from load_db.engine import LoadReport, load_frames
from load_db.engine.runner import exit_with, script_main
from load_db.OASIS import DATASET, read_visits

DEFAULT_DIR = data_dir_of(DATASET)


def load(session: Session, data_dir: Path = DEFAULT_DIR) -> LoadReport:
    """Upsert every OASIS-3 clinical visit with its condition, scores and BMI; safe to re-run."""
    visits, conditions = read_visits(data_dir)
    return load_frames(session, DATASET, visits=visits, map_condition=conditions.__getitem__)


if __name__ == "__main__":
    exit_with(script_main("OASIS.visit", load, DEFAULT_DIR, dataset=DATASET, description=__doc__))
