"""Load OpenPain participants (participants.tsv) into `subject`, with their study arm."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from load_db.datasets import data_dir_of
from load_db.engine import LoadReport, load_frames
from load_db.engine.runner import exit_with, script_main
from load_db.openpain import DATASET, get_openpain_dx, read, subjects_of

DEFAULT_DIR = data_dir_of(DATASET)


def load(session: Session, data_dir: Path = DEFAULT_DIR) -> LoadReport:
    """Upsert every OpenPain subject with its condition; safe to re-run."""
    return load_frames(session, DATASET, subjects=subjects_of(read(data_dir)),
                       map_condition=get_openpain_dx)


if __name__ == "__main__":
    exit_with(script_main("OpenPain.subject", load, DEFAULT_DIR, dataset=DATASET,
                          description=__doc__))
