"""Load the kinds of derived files (data/seed_files/file_types_list.csv) into `file_type`."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from app.models import FileType
from globals import SEED_DIR
from load_db.engine import LoadReport
from load_db.engine.runner import exit_with, script_main
from load_db.seed import find_seed_file, load_master_list

SEED_STEM = "file_types_list"


def load(session: Session, seed_dir: Path = SEED_DIR) -> LoadReport:
    """Upsert every file type of the master list."""
    return load_master_list(session, FileType, find_seed_file(seed_dir, SEED_STEM))


if __name__ == "__main__":
    exit_with(script_main("seed.file_type", load, SEED_DIR, description=__doc__))
