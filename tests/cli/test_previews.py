"""`flask previews DATASET` makes the previews missing, reports failures, and is idempotent."""
from __future__ import annotations

import gzip

import pytest

from app.storage import get_storage
from globals import DATA_DIR
from tests.support.factories import make_dataset, make_derived_file, make_image, make_subject

HCP_T1 = DATA_DIR / "HCP" / "100206" / "unprocessed" / "3T" / "T1w_MPR1" / \
    "100206_3T_T1w_MPR1.nii.gz"
# A real NIfTI header with none of its voxels after it.
HEADER_ONLY = "bids/synthetic/sub-02/ses-01/anat/sub-02_ses-01_T1w.nii"


pytestmark = pytest.mark.storage("local")


def test_previews_are_made_once_and_failures_reported(app, session, shared_data):
    subject = make_subject(session, dataset=make_dataset(session, designation="PREV",
                                                         storage_prefix="PREV"))
    stored = make_image(session, subject=subject, path="PREV/a_T1w.nii.gz")
    absent = make_image(session, subject=subject, path="PREV/b_T1w.nii.gz")
    header_only = make_image(session, subject=subject, path="PREV/c_T1w.nii")
    truncated = make_image(session, subject=subject, path="PREV/d_T1w.nii.gz")
    make_image(session, subject=subject, path="PREV/notes.txt")  # not NIfTI: no preview
    mask = make_derived_file(session, image=stored, path="derived/mask/a_mask.nii.gz")
    session.commit()
    storage = get_storage()
    t1 = HCP_T1.read_bytes()
    for key in (stored.path, mask.path):
        storage.put(key, t1)
    storage.put(header_only.path, (shared_data / HEADER_ONLY).read_bytes())
    storage.put(truncated.path, t1[:100])
    runner = app.test_cli_runner()

    first = runner.invoke(args=["previews", "PREV"])
    # Some previews failed, others were made: the failures are reported, the command succeeds.
    assert first.exit_code == 0, first.output
    assert first.exception is None
    lines = first.output.splitlines()
    assert lines[-1] == "previews made: 2, already present: 0, failed: 3"
    assert lines[:3] == [
        f"failed: {absent.path}: the file is missing from storage",
        f"failed: {header_only.path}: truncated: its header describes 134218080 bytes, the file "
        "holds 352",
        f"failed: {truncated.path}: not a readable NIfTI image: Compressed file ended before the "
        "end-of-stream marker was reached"]
    assert storage.exists(f"previews/image/{stored.id}.png")
    assert storage.exists(f"previews/derived/{mask.id}.png")

    for key in (absent.path, header_only.path, truncated.path):
        storage.put(key, t1)
    second = runner.invoke(args=["previews", "PREV"])
    assert second.exit_code == 0
    assert second.output.splitlines()[-1] == "previews made: 3, already present: 2, failed: 0"

    # A changed file gets a new preview; a file gone takes its preview with it.
    storage.put(stored.path, gzip.compress(gzip.decompress(t1)[:352] + bytes(64)))
    storage.delete(absent.path)
    third = runner.invoke(args=["previews", "PREV"])
    assert third.exit_code == 0
    assert third.output.splitlines() == [
        f"failed: {absent.path}: the file is missing from storage",
        "previews made: 1, already present: 3, failed: 1"]
    assert not storage.exists(f"previews/image/{absent.id}.png")


def test_every_preview_failing_is_exit_code_1(app, session):
    subject = make_subject(session, dataset=make_dataset(session, designation="BROKEN"))
    image = make_image(session, subject=subject, path="BROKEN/a_T1w.nii.gz")
    session.commit()
    get_storage().put(image.path, b"not a nifti")
    result = app.test_cli_runner().invoke(args=["previews", "BROKEN"])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.output.splitlines()[-1] == "previews made: 0, already present: 0, failed: 1"


def test_an_unknown_dataset_is_bad_input(app, session):
    result = app.test_cli_runner().invoke(args=["previews", "NOPE"])
    assert result.exit_code == 2
    assert "no dataset 'NOPE' (known: " in result.output
