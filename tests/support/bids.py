"""BIDS trees for the BIDS adapter's tests: a small one written on disk, and the expected
counts of the real example datasets in ../shared/data/bids."""
from __future__ import annotations

import json
from pathlib import Path

from tests.support.files import write_tree

NII = b"\x00" * 348  # the size of a NIfTI-1 header: enough to check file sizes
BIDS_DATASETS = ("ds001", "ds114", "synthetic", "7t_trt", "eyetracking_fmri")
TYPES = ("T1", "DWI", "rsfMRI", "FieldMap")


def small_dataset(root: Path) -> Path:
    """Two subjects with sessions, one listed only as a folder, sidecars at three levels."""
    return write_tree(root, {
        "dataset_description.json": {"Name": "small", "BIDSVersion": "1.9.0"},
        "participants.tsv": [["participant_id", "sex", "age", "handedness", "group"],
                             ["sub-01", "1", "30.5", "R", "0"],
                             ["sub-02", "2", "n/a", "100", "1"]],
        "participants.json": {"sex": {"Levels": {"1": "Male", "2": "Female"}},
                              "group": {"Levels": {"0": {"Description": "healthy"},
                                                   "1": {"Description": "chronic"}}}},
        "task-rest_bold.json": {"Manufacturer": "Siemens", "RepetitionTime": 2.0, "Level": "root"},
        "sub-01/sub-01_task-rest_bold.json": {"RepetitionTime": 1.5, "Level": "subject"},
        "sub-01/sub-01_sessions.tsv": [["session_id", "bdi_total ", "note"],
                                       ["ses-1", "12", "n/a"], ["ses-2", "7.5", "late"],
                                       ["ses-3", "3", "no scan"]],
        "sub-01/ses-1/anat/sub-01_ses-1_T1w.nii.gz": NII,
        "sub-01/ses-1/anat/sub-01_ses-1_T1w.json": {
            "Manufacturer": "GE", "ManufacturersModelName": "Signa", "DeviceSerialNumber": 42,
            "MagneticFieldStrength": 3},
        "sub-01/ses-1/anat/sub-01_ses-1_T2w.nii.gz": NII,
        "sub-01/ses-1/func/sub-01_ses-1_task-rest_run-1_bold.nii.gz": NII,
        "sub-01/ses-1/func/sub-01_ses-1_task-rest_run-1_bold.json": {"Level": "file"},
        "sub-01/ses-1/func/sub-01_ses-1_task-rest_run-2_bold.nii.gz": NII,
        "sub-01/ses-1/func/sub-01_ses-1_task-rest_run-1_physio.tsv.gz": b"",
        "sub-01/ses-2/func/sub-01_ses-2_task-nback_bold.nii.gz": NII,
        "sub-02/ses-1/dwi/sub-02_ses-1_dwi.nii.gz": NII + NII,
        "sub-02/ses-1/dwi/sub-02_ses-1_dwi.bval": "0 1000\n",
        "sub-02/ses-1/fmap/sub-02_ses-1_phasediff.nii.gz": NII,
        "sub-03/ses-a/anat/sub-03_ses-a_T1w.nii": NII,
        "derivatives/fmriprep/sub-01/ses-1/anat/sub-01_ses-1_desc-preproc_T1w.nii.gz": NII,
        "sourcedata/sub-01/anat/sub-01_T1w.nii.gz": NII,
        "code/run.sh": "echo\n",
        ".git/HEAD": "ref\n",
        "sub-01/ses-1/anat/.sub-01_ses-1_T1w.nii.gz": NII,
    })


def expected_bids(shared_data: Path) -> dict:
    """The counts ../shared/data/bids/expected.json gives each real dataset."""
    return json.loads((shared_data / "bids" / "expected.json").read_text())
