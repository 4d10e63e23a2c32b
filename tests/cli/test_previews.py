"""`flask previews DATASET` makes the previews missing, reports failures, and is idempotent."""
from __future__ import annotations

import pytest

from app.storage import get_storage
from globals import DATA_DIR
from tests.support.factories import make_dataset, make_derived_file, make_image, make_subject

HCP_T1 = DATA_DIR / "HCP" / "100206" / "unprocessed" / "3T" / "T1w_MPR1" / \
    "100206_3T_T1w_MPR1.nii.gz"


@pytest.fixture(scope="module")
def app(local_storage_app):
    return local_storage_app


def test_previews_are_made_once_and_failures_reported(app, session):
    subject = make_subject(session, dataset=make_dataset(session, designation="PREV",
                                                         storage_prefix="PREV"))
    stored = make_image(session, subject=subject, path="PREV/a_T1w.nii.gz")
    absent = make_image(session, subject=subject, path="PREV/b_T1w.nii.gz")
    make_image(session, subject=subject, path="PREV/notes.txt")  # not NIfTI: no preview
    mask = make_derived_file(session, image=stored, path="derived/mask/a_mask.nii.gz")
    session.commit()
    storage = get_storage()
    for key in (stored.path, mask.path):
        storage.put(key, HCP_T1.read_bytes())
    runner = app.test_cli_runner()

    first = runner.invoke(args=["previews", "PREV"])
    assert first.exit_code == 1
    assert first.output.splitlines()[-1] == "previews made: 2, already present: 0, failed: 1"
    assert f"failed: {absent.path}" in first.output
    assert storage.exists(f"previews/image/{stored.id}.png")
    assert storage.exists(f"previews/derived/{mask.id}.png")

    storage.put(absent.path, HCP_T1.read_bytes())
    second = runner.invoke(args=["previews", "PREV"])
    assert second.exit_code == 0
    assert second.output.splitlines()[-1] == "previews made: 1, already present: 2, failed: 0"


def test_an_unknown_dataset_is_bad_input(app, session):
    result = app.test_cli_runner().invoke(args=["previews", "NOPE"])
    assert result.exit_code == 2
    assert "unknown dataset NOPE" in result.output
