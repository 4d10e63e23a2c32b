"""Load OpenPain images (BIDS anat/func) into `image`, each in its session's visit."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from load_db.datasets import data_dir_of
from load_db.engine import LoadReport, load_frames
from load_db.engine.fusion import storage_prefix_for
from load_db.engine.runner import exit_with, script_main
from load_db.openpain import DATASET, read

DEFAULT_DIR = data_dir_of(DATASET)


def load(session: Session, data_dir: Path = DEFAULT_DIR) -> LoadReport:
    """Upsert every OpenPain T1 and resting-state image; other scans are counted as ignored."""
    bids = read(data_dir, storage_prefix_for(session, DATASET))
    return load_frames(session, DATASET, images=bids.images, report=bids.report)


if __name__ == "__main__":
    exit_with(script_main("OpenPain.image", load, DEFAULT_DIR, dataset=DATASET,
                          description=__doc__))
