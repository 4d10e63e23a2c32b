"""Load OASIS-3 MR sessions (BIDS under bids/) into `image`, each linked to its clinical visit."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from load_db.datasets import data_dir_of
from load_db.engine import LoadReport, load_frames
from load_db.engine.fusion import storage_prefix_for
from load_db.engine.runner import exit_with, script_main
from load_db.OASIS import DATASET, read_images

DEFAULT_DIR = data_dir_of(DATASET)


def load(session: Session, data_dir: Path = DEFAULT_DIR) -> LoadReport:
    """Upsert every OASIS-3 T1/DWI/rsfMRI/FieldMap image; the others are counted as ignored."""
    images, report = read_images(data_dir, storage_prefix_for(session, DATASET))
    return load_frames(session, DATASET, images=images, report=report)


if __name__ == "__main__":
    exit_with(script_main("OASIS.image", load, DEFAULT_DIR, dataset=DATASET, description=__doc__))
