"""A small dataset tree on disk, shared by the upload and check-storage tests."""
from __future__ import annotations

import os
from pathlib import Path

from tests.support.files import write_tree as write_files

# Relative path -> content. Random bytes stand in for images; the rest is real BIDS text.
T1_NII = os.urandom(4096)
TREE = {
    "dataset_description.json": b'{"Name": "tiny", "BIDSVersion": "1.8.0"}',
    "participants.tsv": b"participant_id\tsex\nsub-01\tF\nsub-02\tM\n",
    "sub-01/anat/sub-01_T1w.nii": T1_NII,
    "sub-01/anat/sub-01_T1w.json": b'{"MagneticFieldStrength": 3}',
    "sub-01/func/sub-01_task-rest_physio.tsv.gz": b"\x1f\x8b not an archive, a BIDS file",
    "sub-02/dwi/sub-02_dwi.nii.gz": os.urandom(2048),
    # Left out by upload and check-storage:
    ".DS_Store": b"finder",
    ".git/config": b"[core]",
    "sub-01/.sub-01_T1w.nii.swp": b"editor",
    "sourcedata.zip": b"PK",
    "sub-02/backup.tar.gz": b"\x1f\x8b",
}
KEYS = [  # the objects the tree becomes under prefix DS, in key order
    "DS/dataset_description.json",
    "DS/participants.tsv",
    "DS/sub-01/anat/sub-01_T1w.json",
    "DS/sub-01/anat/sub-01_T1w.nii.gz",
    "DS/sub-01/func/sub-01_task-rest_physio.tsv.gz",
    "DS/sub-02/dwi/sub-02_dwi.nii.gz",
]
IGNORED = {
    ".DS_Store": "hidden file",
    ".git/": "hidden file",
    "sourcedata.zip": "archive",
    "sub-01/.sub-01_T1w.nii.swp": "hidden file",
    "sub-02/backup.tar.gz": "archive",
}


def write_tree(root: Path, files: dict[str, bytes] = TREE) -> Path:
    """Write `files` (by default the tree above) under `root` and return `root`."""
    return write_files(root, files)
