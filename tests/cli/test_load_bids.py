"""`flask load-bids --register`: a new dataset's name must be usable as its storage prefix."""
from __future__ import annotations

import pytest

from tests.support.apps import table_counts
from tests.support.files import write_tree


@pytest.mark.parametrize(("name", "problem"), [
    ("../../etc", "it has an '..' path segment"),
    ("a\nb", "it contains a control character"),
    ("/etc", "it is an absolute path"),
])
def test_register_refuses_a_name_storage_would_refuse(app, session, tmp_path, name, problem):
    root = write_tree(tmp_path / "ds", {"participants.tsv": [["participant_id"], ["sub-01"]],
                                        "sub-01/anat/sub-01_T1w.nii.gz": b"\x1f\x8b"})
    before = table_counts()
    result = app.test_cli_runner().invoke(
        args=["load-bids", str(root), "--dataset", name, "--register"])
    assert result.exit_code == 2
    assert f"{name!r} cannot be a dataset's storage prefix: {problem}" in result.output
    assert table_counts() == before
