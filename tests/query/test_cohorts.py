"""Cohort manifests: their canonical text and SHA-256, and the diff of two manifests."""
from __future__ import annotations

from app.query.cohorts import canonical_line, manifest_diff, manifest_sha256


def test_the_canonical_line_is_compact_json_of_the_hashed_fields():
    row = {"dataset": "ÄLPHA", "path": "a/b.nii.gz", "subject_external_id": "s1", "type": "T1",
           "file_size": 12, "checksum": None, "image_id": 99, "visit_id": 4}
    assert canonical_line(row) == '["ÄLPHA","a/b.nii.gz","s1","T1",12,null]\n'
    # The SHA-256 of a manifest does not depend on the order rows are given in, nor on ids.
    other = {**row, "dataset": "BETA", "image_id": 1}
    assert manifest_sha256([row, other]) == manifest_sha256([{**other, "image_id": 5}, row])
    assert manifest_sha256([]) == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


def manifest_row(image_id: int, **changes) -> dict:
    return {"image_id": image_id, "dataset": "ALPHA", "subject_id": 1,
            "subject_external_id": "ann", "visit_id": None, "type": "T1",
            "path": f"ALPHA/ann/i{image_id}.nii.gz", "file_size": 10, "checksum": "c",
            **changes}


def test_the_diff_names_added_removed_and_changed_images_by_id():
    frozen = [manifest_row(3), manifest_row(1), manifest_row(2), manifest_row(5)]
    now = [manifest_row(4), manifest_row(2, file_size=11, checksum="d"), manifest_row(1),
           manifest_row(5, type="DWI"), manifest_row(0)]
    assert manifest_diff(frozen, now) == {
        "added": [manifest_row(0), manifest_row(4)],
        "removed": [manifest_row(3)],
        "changed": [{"image_id": 2, "changes": {"file_size": [10, 11], "checksum": ["c", "d"]}},
                    {"image_id": 5, "changes": {"type": ["T1", "DWI"]}}],
        "unchanged": 1,
    }


def test_a_manifest_diffs_to_nothing_with_itself():
    rows = [manifest_row(1), manifest_row(2)]
    assert manifest_diff(rows, list(reversed(rows))) == {
        "added": [], "removed": [], "changed": [], "unchanged": 2}
