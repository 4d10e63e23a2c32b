"""load_db/seed/load_dataset.py: a designation must be usable as a storage key prefix."""
from __future__ import annotations

import shutil

import pytest
from sqlalchemy import select

from app.models import Dataset
from globals import SEED_DIR
from tests.support.apps import data_counts


@pytest.mark.parametrize(("designation", "problem"), [
    ("../../etc", "it contains '/', a separator in storage keys or URLs"),
    ("/etc", "it contains '/', a separator in storage keys or URLs"),
    ("DS\\X", "it contains '\\\\', a separator in storage keys or URLs"),
    ("OASIS#x", "it contains '#', a separator in storage keys or URLs"),
    ("..", "'..' is not a folder name"),
])
def test_a_designation_that_cannot_be_a_key_prefix_is_refused(app, session, tmp_path,
                                                               designation, problem):
    seed_dir = shutil.copytree(SEED_DIR, tmp_path / "seed")
    for old in seed_dir.glob("datasets_list.*"):
        old.unlink()
    (seed_dir / "datasets_list.csv").write_text(
        f"designation,description\nGOOD,fine\n{designation},escapes\n")
    before = data_counts()

    result = app.test_cli_runner().invoke(args=["seed", "--seed-dir", str(seed_dir)])
    assert result.exit_code == 2
    assert (f"datasets_list.csv, row 3, column 'designation': {designation!r} cannot name a "
            f"dataset: {problem} (nothing was written)") in result.output
    assert data_counts() == before
    assert session.scalar(select(Dataset).where(Dataset.designation == "GOOD")) is None
