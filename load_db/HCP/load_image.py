"""Load HCP Young Adult T1 images (<Subject>/unprocessed/3T/T1w_MPR1/) into `image`."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from load_db.datasets import data_dir_of
from load_db.engine import LoadReport, load_frames
from load_db.engine.fusion import storage_prefix_for
from load_db.engine.runner import exit_with, script_main
from load_db.HCP import DATASET, read_images

DEFAULT_DIR = data_dir_of(DATASET)


def load(session: Session, data_dir: Path = DEFAULT_DIR) -> LoadReport:
    """Upsert every HCP T1 image, in its subject's 3T visit; safe to re-run."""
    images = read_images(data_dir, storage_prefix_for(session, DATASET))
    return load_frames(session, DATASET, images=images)


if __name__ == "__main__":
    exit_with(script_main("HCP.image", load, DEFAULT_DIR, dataset=DATASET, description=__doc__))
