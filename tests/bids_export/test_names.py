"""Where exported files go (app/bids_export/names.py) and which stored files an image is
exported from (app/bids_export/files.py): pure, no database."""
from __future__ import annotations

import pytest

from app.bids_export.dataset import retarget_intended_for
from app.bids_export.files import StoredSidecars, export_files
from app.bids_export.names import (
    NoBidsName,
    Placement,
    bids_target,
    number_runs,
    session_labels,
    subject_labels,
)


def test_subject_labels_join_study_and_id_and_never_collide():
    keys = [("OASIS", "OAS3_0001"), ("ds114", "sub-01"), ("ds1", "1401"), ("ds-114", "01"),
            ("HCP", "100206")]
    assert subject_labels(keys) == ["sub-OASISOAS30001", "sub-ds11401", "sub-ds11401dup2",
                                    "sub-ds11401dup3", "sub-HCP100206"]
    assert subject_labels(keys) == subject_labels(list(keys))  # deterministic


def test_session_labels_are_the_visit_ids_made_alphanumeric():
    assert session_labels(["d0000", "v-1", "v1", None]) == [
        "ses-d0000", "ses-v1", "ses-v1dup2", "ses-novisit"]


@pytest.mark.parametrize(("key", "image_type", "path"), [
    # A BIDS source keeps its datatype, suffix and entities (sub and ses are the export's).
    ("ds/sub-01/ses-a/func/sub-01_ses-a_task-rest_acq-mb_run-2_bold.nii.gz", "rsfMRI",
     "sub-X/ses-Y/func/sub-X_ses-Y_task-rest_acq-mb_run-2_bold.nii.gz"),
    ("ds/sub-01/fmap/sub-01_magnitude1.nii", "FieldMap",
     "sub-X/ses-Y/fmap/sub-X_ses-Y_magnitude1.nii"),
    ("ds/sub-01/ses-a/dwi/sub-01_ses-a_dir-AP_dwi.nii.gz", "DWI",
     "sub-X/ses-Y/dwi/sub-X_ses-Y_dir-AP_dwi.nii.gz"),
    # Any other name gets the type's.
    ("HCP/100206/unprocessed/3T/T1w_MPR1/100206_3T_T1w_MPR1.nii.gz", "T1",
     "sub-X/ses-Y/anat/sub-X_ses-Y_T1w.nii.gz"),
    ("X/scan/rest.nii", "rsfMRI", "sub-X/ses-Y/func/sub-X_ses-Y_task-rest_bold.nii"),
    ("X/sub-01/other/sub-01_T1w.nii.gz", "T1", "sub-X/ses-Y/anat/sub-X_ses-Y_T1w.nii.gz"),
])
def test_bids_target(key, image_type, path):
    assert bids_target(key, image_type).path("sub-X", "ses-Y") == path


def test_a_field_map_or_mammogram_without_a_bids_source_has_no_place():
    for image_type in ("FieldMap", "Mammogram"):
        with pytest.raises(NoBidsName, match=image_type):
            bids_target("X/series/1.nii.gz", image_type)


def test_runs_number_images_that_would_share_a_path_in_key_order():
    def place(image_id, key, session="ses-1"):
        return Placement(image_id, key, "sub-A", session, bids_target(key, "T1"))

    placed = number_runs([place(1, "X/b/T1_MPR2.nii.gz"), place(2, "X/a/T1_MPR1.nii.gz"),
                          place(3, "X/c/T1.nii.gz", "ses-2"),
                          place(4, "X/sub-1/anat/sub-1_run-07_T1w.nii.gz", "ses-3")])
    assert {p.image_id: p.path for p in placed} == {
        2: "sub-A/ses-1/anat/sub-A_ses-1_run-1_T1w.nii.gz",
        1: "sub-A/ses-1/anat/sub-A_ses-1_run-2_T1w.nii.gz",
        3: "sub-A/ses-2/anat/sub-A_ses-2_T1w.nii.gz",
        4: "sub-A/ses-3/anat/sub-A_ses-3_run-07_T1w.nii.gz"}
    assert [p.path for p in placed] == sorted(p.path for p in placed)


def test_export_files_follow_bids_inheritance_up_to_the_dataset_prefix():
    stored = StoredSidecars([
        "ds/dwi.bval", "ds/dwi.bvec", "ds/sub-01/sub-01_dwi.bval",
        "ds/task-rest_bold.json", "ds/bold.json", "ds/task-other_bold.json",
        "ds/sub-01/ses-a/func/sub-01_ses-a_task-rest_bold.json",
        "ds/sub-01/ses-a/func/sub-01_ses-a_task-rest_bold.nii.gz",
        "ds/README", "ds/participants.json", "up.bval"])
    bold = "ds/sub-01/ses-a/func/sub-01_ses-a_task-rest_bold.nii.gz"
    assert export_files(bold, False, stored, "ds") == {
        "nifti": bold, "bval": None, "bvec": None,
        "sidecar": ["ds/bold.json", "ds/task-rest_bold.json",
                    "ds/sub-01/ses-a/func/sub-01_ses-a_task-rest_bold.json"]}
    dwi = "ds/sub-01/ses-a/dwi/sub-01_ses-a_dwi.nii.gz"
    assert export_files(dwi, False, stored, "ds") == {
        "nifti": dwi, "sidecar": [], "bval": "ds/sub-01/sub-01_dwi.bval", "bvec": "ds/dwi.bvec"}
    # A DICOM series (a set of files) or a file that is not NIfTI has nothing to export.
    assert export_files("ds/series", True, stored, "ds") is None
    assert export_files("ds/sub-01/anat/sub-01_T1w.mgz", False, stored, "ds") is None


def test_intended_for_names_the_exported_files_and_drops_the_others():
    fmap = "ds/sub-01/ses-1/fmap/sub-01_ses-1_phasediff.nii.gz"
    new_paths = {"ds/sub-01/ses-1/func/sub-01_ses-1_task-rest_bold.nii.gz":
                 "sub-ds01/ses-1/func/sub-ds01_ses-1_task-rest_bold.nii.gz"}
    assert retarget_intended_for(
        ["ses-1/func/sub-01_ses-1_task-rest_bold.nii.gz",
         "ses-1/func/sub-01_ses-1_task-motor_bold.nii.gz",
         "bids::sub-01/ses-1/func/sub-01_ses-1_task-rest_bold.nii.gz", 7],
        fmap, new_paths) == ["ses-1/func/sub-ds01_ses-1_task-rest_bold.nii.gz",
                             "bids::sub-ds01/ses-1/func/sub-ds01_ses-1_task-rest_bold.nii.gz"]
    assert retarget_intended_for("ses-1/func/sub-01_ses-1_task-rest_bold.nii.gz", fmap,
                                 new_paths) == ["ses-1/func/sub-ds01_ses-1_task-rest_bold.nii.gz"]
    assert retarget_intended_for(["x.nii.gz"], "flat/phasediff.nii.gz", new_paths) == []
