"""Load a folder of DICOM files into the database: the study file read (load_db/study), the
DICOM adapter's frames (load_db/dicom) written by the engine, then the series inventory kept for
quality control (load_db/qc).

It lives above both adapters' packages so that neither imports the other: the DICOM adapter and
QC share only the study model.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from app.files.image_files import record_image_files
from app.storage.trees import FileTree
from load_db.dicom.reader import read_dicom
from load_db.dicom.rules import load_rules
from load_db.engine import LoadReport, load_dataset_frames
from load_db.engine.orchestration import dataset_id_for, storage_prefix_for
from load_db.qc import record_inventory


def load_dicom(session: Session, root: Path | FileTree, dataset: str, *, register: bool = False,
               rules_file: Path | None = None, workers: int | None = None,
               strict: bool = False) -> LoadReport:
    """Upsert the subjects, visits and images of the DICOM files `root` into `dataset`.

    The rules file is read and the dataset looked up (or, with `register`, created) before any
    header is read, so a bad rules file or an unknown name fails at once. Never commits.
    """
    rules = load_rules(rules_file)
    dataset_id_for(session, dataset, register=register)
    frames = read_dicom(root, rules=rules, workers=workers, strict=strict)
    report = load_dataset_frames(session, dataset, frames, register=register)
    # Each image serves exactly the files it was built from: keys as the engine forms paths.
    prefix = storage_prefix_for(session, dataset)
    record_image_files(session, dataset_id_for(session, dataset), {
        f"{prefix}/{path}": [(f"{prefix}/{file}", size) for file, size in files]
        for path, files in frames.image_files.items()})
    # Every series seen, stored or not, is kept with its study tag for quality control.
    record_inventory(session, dataset, frames.series, rules.study)
    return report
