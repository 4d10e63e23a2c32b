"""Load the master list of diagnoses (data/seed_files/conditions_list.csv) into `condition`."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from app.models import Condition
from globals import SEED_DIR
from load_db.engine import LoadReport
from load_db.engine.runner import exit_with, script_main
from load_db.seed import find_seed_file, load_master_list

SEED_STEM = "conditions_list"


def load(session: Session, seed_dir: Path = SEED_DIR) -> LoadReport:
    """Upsert every condition of the master list."""
    return load_master_list(session, Condition, find_seed_file(seed_dir, SEED_STEM))


if __name__ == "__main__":
    exit_with(script_main("seed.condition", load, SEED_DIR, description=__doc__))
