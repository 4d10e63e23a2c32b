"""Load HCP Young Adult 3T sessions into `visit`: one per subject, at day 0."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from load_db.datasets import data_dir_of
from load_db.engine import LoadReport, load_frames
from load_db.engine.runner import exit_with, script_main
from load_db.HCP import DATASET, read_visits

DEFAULT_DIR = data_dir_of(DATASET)


def load(session: Session, data_dir: Path = DEFAULT_DIR) -> LoadReport:
    """Upsert the one visit of every HCP subject; safe to re-run."""
    return load_frames(session, DATASET, visits=read_visits(data_dir))


if __name__ == "__main__":
    exit_with(script_main("HCP.visit", load, DEFAULT_DIR, dataset=DATASET, description=__doc__))
