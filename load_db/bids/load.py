"""Load a BIDS dataset into the database: read_bids, then the engine's load_frames."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from load_db.bids.reader import read_bids
from load_db.bids.tree import FileTree
from load_db.engine import LoadReport, load_frames
from load_db.engine.fusion import ConditionMap, storage_prefix_for


def load_bids(session: Session, root: FileTree | Path, dataset: str, *, register: bool = False,
              map_condition: ConditionMap | None = None) -> LoadReport:
    """Upsert the subjects, visits and images of the BIDS tree `root` into `dataset`.

    The dataset is looked up (or, with `register`, created) before the tree is read, so an
    unknown name fails at once; image paths get the dataset's storage prefix. Never commits.
    The report holds the engine's counts and the NIfTI files the adapter ignored.
    """
    frames = read_bids(root, storage_prefix=storage_prefix_for(session, dataset, register=register))
    return load_frames(session, dataset, subjects=frames.subjects, visits=frames.visits,
                       images=frames.images, map_condition=map_condition, register=register,
                       report=frames.report)
