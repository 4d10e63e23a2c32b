"""`flask load-bids`: a folder that is not a BIDS dataset is refused and registers nothing."""
from sqlalchemy import select

from app.models import Dataset
from tests.support.apps import data_counts
from tests.support.files import write_tree


def test_a_folder_without_subjects_exits_2_and_registers_nothing(app, seeded, tmp_path):
    root = write_tree(tmp_path / "notbids", {"README": "hello", "data/scan.nii.gz": b"x"})
    before = data_counts()
    result = app.test_cli_runner().invoke(
        args=["load-bids", str(root), "--dataset", "NEWONE", "--register"])
    assert result.exit_code == 2
    assert (f"Error: {root}: no subject found (no participants.tsv row and no sub-* folder): "
            "is this the root of a BIDS dataset? (nothing was written)") in result.output
    assert data_counts() == before
    assert seeded.scalar(select(Dataset).where(Dataset.designation == "NEWONE")) is None
