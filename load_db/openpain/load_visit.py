"""Load OpenPain sessions (sub-*/sub-*_sessions.tsv and session folders) into `visit`."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from load_db.datasets import data_dir_of
from load_db.engine import LoadReport, load_frames
from load_db.engine.runner import exit_with, script_main
from load_db.openpain import DATASET, read, visits_of

DEFAULT_DIR = data_dir_of(DATASET)


def load(session: Session, data_dir: Path = DEFAULT_DIR) -> LoadReport:
    """Upsert every OpenPain visit with its day and pain and depression scores; safe to re-run."""
    return load_frames(session, DATASET, visits=visits_of(read(data_dir)))


if __name__ == "__main__":
    exit_with(script_main("OpenPain.visit", load, DEFAULT_DIR, dataset=DATASET,
                          description=__doc__))
