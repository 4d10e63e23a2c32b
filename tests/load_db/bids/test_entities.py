"""BIDS file names and paths: entities, suffix, extension, and what is outside BIDS."""
from __future__ import annotations

import pytest

from load_db.bids.entities import is_skipped, parse_name, parse_path


# ---------------------------------------------------------------------------- file names
@pytest.mark.parametrize(("name", "entities", "suffix", "extension"), [
    ("sub-01_T1w.nii.gz", {"sub": "01"}, "T1w", ".nii.gz"),
    ("sub-01_ses-1_task-rest_acq-fullbrain_run-2_bold.nii.gz",
     {"sub": "01", "ses": "1", "task": "rest", "acq": "fullbrain", "run": "2"}, "bold", ".nii.gz"),
    ("sub-01_ses-01_dir-AP_epi.json", {"sub": "01", "ses": "01", "dir": "AP"}, "epi", ".json"),
    ("sub-02_echo-1_part-mag_MEGRE.nii", {"sub": "02", "echo": "1", "part": "mag"}, "MEGRE",
     ".nii"),
    ("sub-01_ses-1_task-rest_physio.tsv.gz", {"sub": "01", "ses": "1", "task": "rest"}, "physio",
     ".tsv.gz"),
    ("task-rest_acq-prefrontal_bold.json", {"task": "rest", "acq": "prefrontal"}, "bold", ".json"),
    ("physio.json", {}, "physio", ".json"),
    ("sub-01_sessions.tsv", {"sub": "01"}, "sessions", ".tsv"),
    ("dwi.bval", {}, "dwi", ".bval"),
    ("README", {}, "README", ""),
])
def test_file_names_parse_into_entities_suffix_and_extension(name, entities, suffix, extension):
    parsed = parse_name(name)
    assert (dict(parsed.entities), parsed.suffix, parsed.extension, parsed.valid) == \
        (entities, suffix, extension, True)
    assert list(parsed.entities) == list(entities)  # the file's order is kept


def test_a_name_with_a_part_that_is_not_key_value_is_not_a_valid_bids_name():
    assert parse_name("dataset_description.json").valid is False


@pytest.mark.parametrize(("path", "subject", "session", "datatype"), [
    ("sub-01/anat/sub-01_T1w.nii.gz", "01", None, "anat"),
    ("sub-01/ses-retest/dwi/sub-01_ses-retest_dwi.nii.gz", "01", "retest", "dwi"),
    ("sub-01/sub-01_sessions.tsv", "01", None, None),
    ("sub-01/ses-1/sub-01_ses-1_scans.tsv", "01", "1", None),
    ("participants.tsv", None, None, None),
    ("task-rest_bold.json", None, None, None),
])
def test_paths_locate_subject_session_and_datatype(path, subject, session, datatype):
    located = parse_path(path)
    assert (located.subject, located.session, located.datatype) == (subject, session, datatype)


@pytest.mark.parametrize(("path", "skipped"), [
    ("derivatives/fmriprep/sub-01/anat/sub-01_T1w.nii.gz", True),
    ("sourcedata/sub-01/anat/sub-01_T1w.nii.gz", True),
    ("code/convert.py", True),
    ("stimuli/image.png", True),
    (".git/config", True),
    ("sub-01/.DS_Store", True),
    ("sub-01/anat/.sub-01_T1w.nii.gz", True),
    ("sub-01/anat/sub-01_T1w.nii.gz", False),
    ("code", False),  # a file named like a skipped folder is not a folder
    ("sub-01/code/sub-01_T1w.nii.gz", False),  # only the top-level folders are outside BIDS
])
def test_derivatives_sourcedata_code_stimuli_and_dot_files_are_skipped(path, skipped):
    assert is_skipped(path) is skipped
