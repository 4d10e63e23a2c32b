"""Load every seed list in order, as one load: datasets, conditions, file types, measures."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from globals import SEED_DIR
from load_db.engine import LoadReport
from load_db.seed import load_condition, load_dataset, load_file_type, load_measure

SEED_LOADERS = (load_dataset.load, load_condition.load, load_file_type.load, load_measure.load)


def load(session: Session, seed_dir: Path = SEED_DIR) -> LoadReport:
    """Run every seed loader in one transaction (the caller's)."""
    report = LoadReport()
    for seed_loader in SEED_LOADERS:
        report.merge(seed_loader(session, seed_dir))
    return report
