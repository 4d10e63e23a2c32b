"""`flask load-bids`: a new dataset's name must be usable as its storage prefix, and a folder
that is not a BIDS dataset is refused; neither registers anything."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import Dataset
from tests.support.apps import data_counts, table_counts
from tests.support.files import write_tree


@pytest.mark.parametrize(("name", "problem"), [
    ("../../etc", "it contains '/', a separator in storage keys or URLs"),
    ("a\nb", "it contains a control character"),
    ("/etc", "it contains '/', a separator in storage keys or URLs"),
    ("OASIS#x", "it contains '#', a separator in storage keys or URLs"),
    (" ", "it is blank"),
    (" OASIS", "it starts or ends with a space"),
])
def test_register_refuses_a_name_storage_would_refuse(app, session, tmp_path, name, problem):
    root = write_tree(tmp_path / "ds", {"participants.tsv": [["participant_id"], ["sub-01"]],
                                        "sub-01/anat/sub-01_T1w.nii.gz": b"\x1f\x8b"})
    before = table_counts()
    result = app.test_cli_runner().invoke(
        args=["load-bids", name, str(root), "--register"])
    assert result.exit_code == 2
    assert f"{name!r} cannot name a dataset: {problem}" in result.output
    assert table_counts() == before


def test_a_folder_without_subjects_exits_2_and_registers_nothing(app, seeded, tmp_path):
    root = write_tree(tmp_path / "notbids", {"README": "hello", "data/scan.nii.gz": b"x"})
    before = data_counts()
    result = app.test_cli_runner().invoke(
        args=["load-bids", "NEWONE", str(root), "--register"])
    assert result.exit_code == 2
    assert (f"Error: {root}: no subject found (no participants.tsv row and no sub-* folder): "
            "is this the root of a BIDS dataset? (nothing was written)") in result.output
    assert data_counts() == before
    assert seeded.scalar(select(Dataset).where(Dataset.designation == "NEWONE")) is None
