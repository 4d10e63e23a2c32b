"""Load OASIS-3 participants (OASIS3_subjects.csv, age from the clinical data) into `subject`."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from load_db.datasets import data_dir_of
from load_db.engine import LoadReport, load_frames
from load_db.engine.runner import exit_with, script_main
from load_db.OASIS import DATASET, read_subjects

DEFAULT_DIR = data_dir_of(DATASET)


def load(session: Session, data_dir: Path = DEFAULT_DIR) -> LoadReport:
    """Upsert every OASIS-3 subject; safe to re-run."""
    return load_frames(session, DATASET, subjects=read_subjects(data_dir))


if __name__ == "__main__":
    exit_with(script_main("OASIS.subject", load, DEFAULT_DIR, dataset=DATASET, description=__doc__))
