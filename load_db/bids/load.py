"""Load a BIDS dataset into the database: read_bids, then the engine."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from load_db.bids.reader import read_bids
from load_db.bids.tree import FileTree
from load_db.engine import LoadError, LoadReport, load_dataset_frames
from load_db.engine.collector import without_cyclic_gc
from load_db.engine.orchestration import dataset_id_for


def load_bids(session: Session, root: FileTree | Path, dataset: str, *,
              register: bool = False) -> LoadReport:
    """Upsert the subjects, visits and images of the BIDS tree `root` into `dataset`.

    The dataset is looked up (or, with `register`, created) before the tree is read, so an
    unknown name fails at once; image paths get the dataset's storage prefix. A tree without any
    subject is bad input (nothing is registered). Never commits. The report holds the engine's
    counts and the NIfTI files the adapter ignored.
    """
    dataset_id_for(session, dataset, register=register)
    # The engine's checks of tens of thousands of rows, each with its metadata document, pay
    # the same collector rescans as the read: pause it for both.
    with without_cyclic_gc():
        frames = read_bids(root)
        if frames.subjects is None or frames.subjects.empty:
            raise LoadError("no subject found (no participants.tsv row and no sub-* folder): "
                            "is this the root of a BIDS dataset?", file=str(root))
        return load_dataset_frames(session, dataset, frames, register=register)
