"""A small dataset tree on disk, shared by the upload and check-storage tests."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.storage.sources import SYMLINK_LOOP, SYMLINK_OUTSIDE, SYMLINK_TO_FOLDER
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
    "DS/sub-01/anat/sub-01_T1w.nii",
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


def write_unsafe_tree(directory: Path) -> tuple[Path, dict[str, str]]:
    """A dataset folder `directory`/ds with entries that are not files of the dataset.

    Returns the folder and {relative path: reason} of those entries. Beside the dataset,
    `directory`/hostname stands for /etc/hostname. The files of the dataset are
    `sub-01/anat/sub-01_T1w.json` (23 bytes) and `sub-01/anat/sub-01_T1w.json.link`, a symlink
    to it.
    """
    outside = directory / "hostname"
    outside.write_text("the server's name\n")
    root = directory / "ds"
    anat = root / "sub-01" / "anat"
    anat.mkdir(parents=True)
    (anat / "sub-01_T1w.json").write_text('{"RepetitionTime": 2.3}')
    os.symlink(outside, anat / "sub-01_T2w.nii.gz")
    os.symlink("../../../" + outside.name, anat / "sub-01_FLAIR.nii.gz")
    os.symlink(outside.parent, root / "sub-03")
    os.symlink("sub-01_loop-b.nii.gz", anat / "sub-01_loop-a.nii.gz")
    os.symlink("sub-01_loop-a.nii.gz", anat / "sub-01_loop-b.nii.gz")
    os.symlink("sub-01_T1w.json", anat / "sub-01_T1w.json.link")
    os.symlink("anat", root / "sub-01" / "anat-alias")
    os.mkfifo(root / "sub-01" / "sub-01_sessions.tsv")
    (anat / "sub-01_run-1\n_T1w.nii.gz").write_bytes(b"newline in the name")
    return root, {
        "sub-01/anat-alias": SYMLINK_TO_FOLDER,
        "sub-01/anat/sub-01_FLAIR.nii.gz": SYMLINK_OUTSIDE,
        "sub-01/anat/sub-01_T2w.nii.gz": SYMLINK_OUTSIDE,
        "sub-01/anat/sub-01_loop-a.nii.gz": SYMLINK_LOOP,
        "sub-01/anat/sub-01_loop-b.nii.gz": SYMLINK_LOOP,
        "sub-01/anat/sub-01_run-1\n_T1w.nii.gz":
            "name not allowed in object storage: it contains a control character",
        "sub-01/sub-01_sessions.tsv": "FIFO, not a regular file",
        "sub-03": SYMLINK_OUTSIDE,
    }


@contextmanager
def tree_with_unreadable_folder() -> Iterator[Path]:
    """A folder holding `README` (6 bytes) and `sub-01/`, which only root may read.

    It is made under /tmp, not under a test's tmp_path, so that `run_unprivileged` can reach it.
    """
    with tempfile.TemporaryDirectory(dir="/tmp") as folder:
        root = Path(folder)
        root.chmod(0o755)
        (root / "README").write_text("readme")
        (root / "README").chmod(0o644)
        (root / "sub-01").mkdir(mode=0o000)
        try:
            yield root
        finally:
            (root / "sub-01").chmod(0o755)
