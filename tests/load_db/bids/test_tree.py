"""load_db/bids/tree.py: the local and the storage file trees, and what they leave out."""
from __future__ import annotations

import pytest

from app.storage import (
    InvalidKey,
)
from load_db.bids.tree import StorageTree


def test_storage_tree_lists_once_and_reads_only_what_is_asked(storage):
    storage.put("DS/participants.tsv", b"participant_id\nsub-01\n")
    storage.put("DS/sub-01/anat/sub-01_T1w.json", b'{"RepetitionTime": 2.3}')
    storage.put("DS/sub-01/anat/sub-01_T1w.nii.gz", b"\x1f\x8b" + bytes(98))
    storage.put("DSX/README", b"another dataset")
    tree = StorageTree(storage, "DS")
    assert tree.files() == [("participants.tsv", 22), ("sub-01/anat/sub-01_T1w.json", 23),
                            ("sub-01/anat/sub-01_T1w.nii.gz", 100)]
    assert tree.read_text("sub-01/anat/sub-01_T1w.json") == '{"RepetitionTime": 2.3}'
    storage.put("DS/late.txt", b"after the listing")
    assert [path for path, _ in tree.files()] == [
        "participants.tsv", "sub-01/anat/sub-01_T1w.json", "sub-01/anat/sub-01_T1w.nii.gz"]
    with pytest.raises(InvalidKey):
        tree.read_text("../DSX/README")
    assert StorageTree(storage, "").files()[0] == ("DS/late.txt", 17)
