"""Load a folder of DICOM files into the database: read_dicom, then the engine's load_frames."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from load_db.dicom.headers import DicomFiles
from load_db.dicom.reader import read_dicom
from load_db.dicom.rules import load_rules
from load_db.engine import LoadReport, load_dataset_frames
from load_db.engine.orchestration import dataset_id_for


def load_dicom(session: Session, root: Path | DicomFiles, dataset: str, *, register: bool = False,
               rules_file: Path | None = None, workers: int | None = None,
               strict: bool = False) -> LoadReport:
    """Upsert the subjects, visits and images of the DICOM files `root` into `dataset`.

    The rules file is read and the dataset looked up (or, with `register`, created) before any
    header is read, so a bad rules file or an unknown name fails at once. Never commits.
    """
    rules = load_rules(rules_file)
    dataset_id_for(session, dataset, register=register)
    frames = read_dicom(root, rules=rules, workers=workers, strict=strict)
    return load_dataset_frames(session, dataset, frames, register=register)
