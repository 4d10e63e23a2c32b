"""load_db/engine/manifest.py: comparing a listing with the last load's, by path and version."""
from __future__ import annotations

import pytest

from load_db.engine.manifest import compare_listing

PREVIOUS = {"participants.tsv": "10:1", "sub-01/anat/a.json": "5:1",
            "sub-02/anat/b.json": "5:1", "sub-03/anat/c.nii.gz": None}


@pytest.mark.parametrize(("current", "changed", "gone"), [
    (PREVIOUS | {"sub-03/anat/c.nii.gz": "7:1"}, {"sub-03/anat/c.nii.gz"}, set()),
    ({**PREVIOUS, "sub-03/anat/c.nii.gz": "7:1", "sub-01/anat/a.json": "5:2"},
     {"sub-01/anat/a.json", "sub-03/anat/c.nii.gz"}, set()),
    ({key: value for key, value in PREVIOUS.items() if key != "sub-02/anat/b.json"}
     | {"sub-03/anat/c.nii.gz": "7:1"}, {"sub-03/anat/c.nii.gz"}, {"sub-02/anat/b.json"}),
    ({**PREVIOUS, "sub-03/anat/c.nii.gz": "7:1", "sub-04/anat/d.json": "1:1"},
     {"sub-03/anat/c.nii.gz", "sub-04/anat/d.json"}, set()),
    # a version that was not trusted (None) is read again, even when still None
    (PREVIOUS, {"sub-03/anat/c.nii.gz"}, set()),
])
def test_compare_listing_finds_changed_and_gone_files(current, changed, gone):
    changes = compare_listing(PREVIOUS, current)
    assert (set(changes.changed), set(changes.gone)) == (changed, gone)
    assert changes.unchanged == len(current) - len(changed)
