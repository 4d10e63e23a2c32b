"""Load HCP Young Adult participants (unrestricted_behavioral.csv) into `subject`."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from load_db.datasets import data_dir_of
from load_db.engine import LoadReport, load_frames
from load_db.engine.runner import exit_with, script_main
from load_db.HCP import DATASET, get_hcp_dx, read_subjects

DEFAULT_DIR = data_dir_of(DATASET)


def load(session: Session, data_dir: Path = DEFAULT_DIR) -> LoadReport:
    """Upsert every HCP subject, healthy at subject level; safe to re-run."""
    return load_frames(session, DATASET, subjects=read_subjects(data_dir),
                       map_condition=get_hcp_dx)


if __name__ == "__main__":
    exit_with(script_main("HCP.subject", load, DEFAULT_DIR, dataset=DATASET, description=__doc__))
