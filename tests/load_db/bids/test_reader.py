"""The generic BIDS adapter: file names, type rules, inheritance, participants, sessions, errors,
and the five real BIDS example datasets of ../shared/data/bids against their expected.json."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.models import Dataset, Image, LoadRun, Scanner, Subject, Visit
from app.models.enums import Handedness, Sex
from load_db.bids import NO_SESSION_VISIT, LocalTree, read_bids
from load_db.bids.entities import is_skipped, parse_name, parse_path
from load_db.bids.mapping import image_type, to_handedness, to_sex
from load_db.bids.values import parse_tsv
from load_db.engine import LoadError
from load_db.engine.cells import to_value
from tests.support.apps import data_counts
from tests.support.factories import make_dataset
from tests.support.files import write_tree

NII = b"\x00" * 348  # the size of a NIfTI-1 header: enough to check file sizes
BIDS_DATASETS = ("ds001", "ds114", "synthetic", "7t_trt", "eyetracking_fmri")
TYPES = ("T1", "DWI", "rsfMRI", "FieldMap")


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


# ---------------------------------------------------------------------------- type rules
@pytest.mark.parametrize(("datatype", "name", "kind"), [
    ("anat", "sub-01_T1w.nii.gz", "T1"),
    ("anat", "sub-01_acq-mprage_run-2_T1w.nii", "T1"),
    ("anat", "sub-01_T2w.nii.gz", None),
    ("anat", "sub-01_T1map.nii.gz", None),
    ("anat", "sub-01_inplaneT2.nii.gz", None),
    ("dwi", "sub-01_dwi.nii.gz", "DWI"),
    ("dwi", "sub-01_dir-AP_dwi.nii.gz", "DWI"),
    ("dwi", "sub-01_sbref.nii.gz", None),
    ("func", "sub-01_task-rest_bold.nii.gz", "rsfMRI"),
    ("func", "sub-01_task-Rest_bold.nii.gz", "rsfMRI"),
    ("func", "sub-01_task-RESTINGSTATE_bold.nii.gz", "rsfMRI"),
    ("func", "sub-01_task-eyesclosedrest_run-1_bold.nii.gz", "rsfMRI"),
    ("func", "sub-01_task-nback_bold.nii.gz", None),
    ("func", "sub-01_bold.nii.gz", None),  # no task: not rest
    ("func", "sub-01_task-rest_sbref.nii.gz", None),
    ("func", "sub-01_task-rest_acq-rest_cbv.nii.gz", None),
    *(("fmap", f"sub-01_{suffix}.nii.gz", "FieldMap") for suffix in
      ("phasediff", "phase1", "phase2", "magnitude", "magnitude1", "magnitude2", "fieldmap")),
    ("fmap", "sub-01_dir-PA_epi.nii.gz", "FieldMap"),
    ("fmap", "sub-01_TB1map.nii.gz", None),
    ("perf", "sub-01_asl.nii.gz", None),
    ("anat", "sub-01_dwi.nii.gz", None),  # the folder counts, not only the suffix
    ("func", "sub-01_T1w.nii.gz", None),
])
def test_every_type_rule(datatype, name, kind):
    parsed = parse_name(name)
    found = image_type(datatype, parsed.suffix, parsed.entities)
    assert (found.value if found else None) == kind


# ---------------------------------------------------------------------------- values and mappings
@pytest.mark.parametrize(("text", "value"), [
    ("12", 12), ("-3", -3), ("500.75", 500.75), ("1e3", 1000.0), ("n/a", None), ("", None),
    ("  7 ", 7), ("left", "left"), ("inf", "inf"), ("NaN", None), ("01", "01"), ("0", 0),
    ("0.25", 0.25), (".5", 0.5), ("-1.5e-3", -0.0015), ("1e400", "1e400"), ("12a", "12a"),
    ("0x1F", "0x1F"), ("1_000", "1_000"),
])
def test_cells_become_numbers_none_or_text(text, value):
    assert to_value(text) == value
    assert type(to_value(text)) is type(value)


@pytest.mark.parametrize(("code", "decoded", "sex"), [
    ("M", "Male", Sex.MALE), ("F", "Female", Sex.FEMALE), ("male", "male", Sex.MALE),
    ("FEMALE", "FEMALE", Sex.FEMALE), ("1", "Male", Sex.MALE), ("2", "Female", Sex.FEMALE),
    ("O", "O", Sex.OTHER), ("n/a", "n/a", Sex.UNKNOWN), ("X", "X", Sex.UNKNOWN),
])
def test_sex_lookup(code, decoded, sex):
    assert to_sex(code, decoded) is sex


@pytest.mark.parametrize(("code", "decoded", "hand"), [
    ("R", "R", Handedness.RIGHT), ("right", "right", Handedness.RIGHT),
    ("L", "L", Handedness.LEFT), ("left", "left", Handedness.LEFT),
    ("A", "A", Handedness.AMBIDEXTROUS), ("ambidextrous", "ambidextrous", Handedness.AMBIDEXTROUS),
    ("1", "right", Handedness.RIGHT),  # decoded by participants.json Levels
    ("100", "100", Handedness.RIGHT), ("86", "86", Handedness.RIGHT),  # Edinburgh quotients
    ("40", "40", Handedness.AMBIDEXTROUS), ("-40", "-40", Handedness.LEFT),
    ("-75", "-75", Handedness.LEFT), ("0", "0", Handedness.AMBIDEXTROUS),
    ("250", "250", Handedness.UNKNOWN), ("n/a", "n/a", Handedness.UNKNOWN),
    ("?", "?", Handedness.UNKNOWN),
])
def test_handedness_lookup(code, decoded, hand):
    assert to_handedness(code, decoded) is hand


# ---------------------------------------------------------------------------- a whole small tree
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


def test_participants_give_subjects_with_levels_read_and_codes_kept(tmp_path):
    frames = read_bids(small_dataset(tmp_path), storage_prefix="SMALL")
    subjects = frames.subjects.drop(columns="source_file").to_dict("records")
    assert subjects == [
        {"external_id": "01", "sex": "male", "handedness": "right", "age_at_baseline": 30.5,
         "metadata": {"group": 0}, "source_row": 2},
        {"external_id": "02", "sex": "female", "handedness": "right", "age_at_baseline": None,
         "metadata": {"group": 1}, "source_row": 3},
        # only a sub-* folder: kept, with nothing known about it
        {"external_id": "03", "sex": "unknown", "handedness": "unknown", "age_at_baseline": None,
         "metadata": {}, "source_row": None},
    ]
    assert frames.subjects["source_file"].tolist() == [str(tmp_path / "participants.tsv")] * 2 \
        + [None]


def test_visits_are_sessions_tsv_rows_plus_sessions_holding_files(tmp_path):
    frames = read_bids(small_dataset(tmp_path), storage_prefix="SMALL")
    visits = frames.visits[["subject", "external_id", "symptoms", "source_row"]]
    assert visits.to_dict("records") == [
        {"subject": "01", "external_id": "1", "symptoms": {"bdi_total": 12, "note": None},
         "source_row": 2},
        {"subject": "01", "external_id": "2", "symptoms": {"bdi_total": 7.5, "note": "late"},
         "source_row": 3},
        # listed in sessions.tsv without any file: still a visit
        {"subject": "01", "external_id": "3", "symptoms": {"bdi_total": 3, "note": "no scan"},
         "source_row": 4},
        {"subject": "02", "external_id": "1", "symptoms": None, "source_row": None},
        {"subject": "03", "external_id": "a", "symptoms": None, "source_row": None},
    ]
    assert frames.has_sessions is True


def test_sessions_tsv_acq_time_gives_days_since_the_first_session(tmp_path):
    root = write_tree(tmp_path, {
        "sub-01/sub-01_sessions.tsv": [["session_id", "acq_time"],
                                       ["ses-2", "1890-03-15T08:00:00"],
                                       ["ses-1", "1890-01-01T17:30:00"],
                                       ["ses-3", "n/a"]],
        "sub-02/sub-02_sessions.tsv": [["session_id", "acq_time"],
                                       ["ses-a", "2001-05-05T00:00:00Z"]],
        "sub-02/ses-b/anat/sub-02_ses-b_T1w.nii.gz": NII,
    })
    visits = read_bids(root, storage_prefix="X").visits
    assert visits[["subject", "external_id", "days_since_baseline"]].values.tolist() == [
        ["01", "1", 0], ["01", "2", 73], ["01", "3", None], ["02", "a", 0], ["02", "b", None]]


def test_without_acq_time_only_a_subjects_lone_session_gets_a_day(tmp_path):
    frames = read_bids(small_dataset(tmp_path), storage_prefix="SMALL")
    # sub-01's three sessions stay undated; sub-02 and sub-03 have one each: day 0, assumed
    assert frames.visits[["subject", "external_id", "days_since_baseline",
                          "days_assumed"]].values.tolist() == [
        ["01", "1", None, False], ["01", "2", None, False], ["01", "3", None, False],
        ["02", "1", 0, True], ["03", "a", 0, True]]


def test_images_get_type_path_size_visit_and_scanner(tmp_path):
    frames = read_bids(small_dataset(tmp_path), storage_prefix="SMALL/")
    images = frames.images[["subject", "visit", "path", "type", "file_size", "manufacturer",
                            "model", "serial", "field_strength"]]
    assert images.to_dict("records") == [
        {"subject": "01", "visit": "1", "path": "SMALL/sub-01/ses-1/anat/sub-01_ses-1_T1w.nii.gz",
         "type": "T1", "file_size": 348, "manufacturer": "GE", "model": "Signa", "serial": "42",
         "field_strength": 3.0},
        {"subject": "01", "visit": "1",
         "path": "SMALL/sub-01/ses-1/func/sub-01_ses-1_task-rest_run-1_bold.nii.gz",
         "type": "rsfMRI", "file_size": 348, "manufacturer": "Siemens", "model": None,
         "serial": None, "field_strength": None},
        {"subject": "01", "visit": "1",
         "path": "SMALL/sub-01/ses-1/func/sub-01_ses-1_task-rest_run-2_bold.nii.gz",
         "type": "rsfMRI", "file_size": 348, "manufacturer": "Siemens", "model": None,
         "serial": None, "field_strength": None},
        {"subject": "02", "visit": "1", "path": "SMALL/sub-02/ses-1/dwi/sub-02_ses-1_dwi.nii.gz",
         "type": "DWI", "file_size": 696, "manufacturer": None, "model": None, "serial": None,
         "field_strength": None},
        {"subject": "02", "visit": "1",
         "path": "SMALL/sub-02/ses-1/fmap/sub-02_ses-1_phasediff.nii.gz", "type": "FieldMap",
         "file_size": 348, "manufacturer": None, "model": None, "serial": None,
         "field_strength": None},
        {"subject": "03", "visit": "a", "path": "SMALL/sub-03/ses-a/anat/sub-03_ses-a_T1w.nii",
         "type": "T1", "file_size": 348, "manufacturer": None, "model": None, "serial": None,
         "field_strength": None},
    ]


def test_other_nifti_files_are_ignored_and_counted_by_reason(tmp_path):
    frames = read_bids(small_dataset(tmp_path), storage_prefix="SMALL")
    assert frames.ignored.to_dict("records") == [
        {"subject": "01", "visit": "1", "path": "sub-01/ses-1/anat/sub-01_ses-1_T2w.nii.gz",
         "reason": "not an MBID image type: anat/T2w"},
        {"subject": "01", "visit": "2",
         "path": "sub-01/ses-2/func/sub-01_ses-2_task-nback_bold.nii.gz",
         "reason": "not an MBID image type: func/bold"},
    ]
    # derivatives/, sourcedata/, code/ and dot-files count nowhere
    assert dict(frames.report.ignored) == {"not an MBID image type: anat/T2w": 1,
                                           "not an MBID image type: func/bold": 1}
    assert frames.report.examples == {
        "not an MBID image type: anat/T2w": ["sub-01/ses-1/anat/sub-01_ses-1_T2w.nii.gz"],
        "not an MBID image type: func/bold":
            ["sub-01/ses-2/func/sub-01_ses-2_task-nback_bold.nii.gz"]}


def test_sidecar_inheritance_nearer_overrides_key_by_key(tmp_path):
    frames = read_bids(small_dataset(tmp_path), storage_prefix="SMALL")
    metadata = dict(zip(frames.images["source_file"], frames.images["metadata"], strict=True))
    # root, then subject level, then the file's own sidecar
    assert metadata["sub-01/ses-1/func/sub-01_ses-1_task-rest_run-1_bold.nii.gz"] == \
        {"Manufacturer": "Siemens", "RepetitionTime": 1.5, "Level": "file"}
    # the run-1 sidecar has an entity run-2 lacks: it does not apply
    assert metadata["sub-01/ses-1/func/sub-01_ses-1_task-rest_run-2_bold.nii.gz"] == \
        {"Manufacturer": "Siemens", "RepetitionTime": 1.5, "Level": "subject"}
    # another suffix (T1w) never gets a bold sidecar, nor another subject's
    assert metadata["sub-01/ses-1/anat/sub-01_ses-1_T1w.nii.gz"] == {
        "Manufacturer": "GE", "ManufacturersModelName": "Signa", "DeviceSerialNumber": 42,
        "MagneticFieldStrength": 3}
    assert metadata["sub-02/ses-1/dwi/sub-02_ses-1_dwi.nii.gz"] == {}


def test_within_one_folder_the_more_specific_sidecar_wins(tmp_path):
    root = write_tree(tmp_path, {
        "task-rest_bold.json": {"A": "task", "B": "task"},
        "bold.json": {"A": "any", "B": "any", "C": "any"},
        "task-rest_acq-x_bold.json": {"A": "task+acq"},
        "task-other_bold.json": {"A": "other task"},
        "sub-01/func/sub-01_task-rest_acq-x_bold.nii.gz": NII,
    })
    assert read_bids(root, storage_prefix="D").images["metadata"].tolist() == \
        [{"A": "task+acq", "B": "task", "C": "any"}]


def test_a_dataset_without_sessions_has_one_baseline_visit_per_subject(tmp_path):
    root = write_tree(tmp_path, {
        "participants.tsv": [["participant_id", "gender"], ["sub-01", "F"], ["sub-02", "M"]],
        "sub-01/anat/sub-01_T1w.nii.gz": NII,
        "sub-01/func/sub-01_task-rest_bold.nii.gz": NII,
        "sub-03/anat/sub-03_T1w.nii.gz": NII,
    })
    frames = read_bids(root, storage_prefix="")
    assert frames.subjects[["external_id", "sex"]].values.tolist() == \
        [["01", "female"], ["02", "male"], ["03", "unknown"]]
    assert frames.visits[["subject", "external_id", "days_since_baseline"]].values.tolist() == \
        [["01", NO_SESSION_VISIT, 0], ["02", NO_SESSION_VISIT, 0], ["03", NO_SESSION_VISIT, 0]]
    assert frames.images[["visit", "path"]].values.tolist() == [
        [NO_SESSION_VISIT, "sub-01/anat/sub-01_T1w.nii.gz"],
        [NO_SESSION_VISIT, "sub-01/func/sub-01_task-rest_bold.nii.gz"],
        [NO_SESSION_VISIT, "sub-03/anat/sub-03_T1w.nii.gz"]]
    assert frames.has_sessions is False


def test_without_participants_tsv_subjects_come_from_folders_and_keep_their_columns(tmp_path):
    root = write_tree(tmp_path, {"sub-b/anat/sub-b_T1w.nii.gz": NII,
                                 "sub-a/anat/sub-a_T1w.nii.gz": NII})
    subjects = read_bids(root, storage_prefix="X").subjects
    # no sex / handedness / age / metadata columns: the engine leaves those untouched
    assert subjects.columns.tolist() == ["external_id", "source_file", "source_row"]
    assert subjects["external_id"].tolist() == ["a", "b"]


def test_local_tree_lists_every_file_with_its_size_and_prunes_folders(tmp_path):
    write_tree(tmp_path, {"a.txt": "abc", "x/y/z.bin": b"12345", "skip/me.txt": "no",
                          "x/skip/kept.txt": ""})
    tree = LocalTree(tmp_path, prune=lambda folder: folder == "skip")
    assert sorted(tree.files()) == [("a.txt", 3), ("x/skip/kept.txt", 0), ("x/y/z.bin", 5)]
    assert tree.read_text("x/y/z.bin") == "12345"


def test_any_file_tree_can_be_read(tmp_path):
    """A tree that is not on disk (as object storage will be) gives the same frames."""
    small_dataset(tmp_path)
    local = LocalTree(tmp_path)

    class MemoryTree:
        def __init__(self):
            self.contents = {path: size for path, size in local.files()}

        def files(self):
            return self.contents.items()

        def read_text(self, path):
            return local.read_text(path)

    in_memory, on_disk = (read_bids(tree, storage_prefix="S") for tree in (MemoryTree(), tmp_path))
    assert in_memory.images.drop(columns="metadata").equals(on_disk.images.drop(columns="metadata"))
    assert in_memory.visits["external_id"].tolist() == on_disk.visits["external_id"].tolist()
    # errors name the relative path when the tree has no local root
    assert in_memory.subjects["source_file"].iloc[0] == "participants.tsv"


# ---------------------------------------------------------------------------- bad input
def error_of(root: Path) -> LoadError:
    with pytest.raises(LoadError) as caught:
        read_bids(root, storage_prefix="X")
    return caught.value


def test_participants_tsv_without_participant_id_names_file_row_and_column(tmp_path):
    write_tree(tmp_path, {"participants.tsv": [["subject", "sex"], ["sub-01", "F"]]})
    error = error_of(tmp_path)
    assert (error.file, error.row, error.column) == (str(tmp_path / "participants.tsv"), 1,
                                                     "participant_id")
    assert error.message == "missing required column (found: subject, sex)"


@pytest.mark.parametrize("second_id", ["sub-01", "01"])
def test_duplicate_participant_ids_name_file_row_and_column(tmp_path, second_id):
    write_tree(tmp_path, {"participants.tsv": [["participant_id", "sex"], ["sub-01", "F"],
                                               ["sub-02", "M"], [second_id, "M"]]})
    error = error_of(tmp_path)
    assert (error.file, error.row, error.column) == (str(tmp_path / "participants.tsv"), 4,
                                                     "participant_id")
    assert "first at row 2" in error.message


def test_an_empty_participant_id_names_its_row(tmp_path):
    write_tree(tmp_path, {"participants.tsv": "participant_id\tsex\nsub-01\tF\n\tM\n"})
    error = error_of(tmp_path)
    assert (error.row, error.column, error.message) == (3, "participant_id", "empty value")


@pytest.mark.parametrize(("text", "row", "column", "message"), [
    ("session_id\tscore\nses-1\t3\nses-2\n", 3, "score", "1 cells where the header has 2"),
    ("session_id\tscore\nses-1\t3\t4\t5\n", 2, "score",
     "4 cells where the header has 2: extra value '4' after the last column"),
    ("score\tmood\n3\t4\n", 1, "session_id", "missing required column (found: score, mood)"),
    ("session_id\tscore\nses-1\t3\nses-1\t4\n", 3, "session_id",
     "duplicate value 'ses-1' (first at row 2)"),
    ("session_id\tscore\tscore\n", 1, "score", "repeated column name"),
    ("", 1, None, "empty file: no header row"),
])
def test_unparsable_sessions_tsv_names_file_row_and_column(tmp_path, text, row, column, message):
    write_tree(tmp_path, {"sub-01/sub-01_sessions.tsv": text,
                          "sub-01/ses-1/anat/sub-01_ses-1_T1w.nii.gz": NII})
    error = error_of(tmp_path)
    assert (error.file, error.row, error.column, error.message) == \
        (str(tmp_path / "sub-01" / "sub-01_sessions.tsv"), row, column, message)


def test_a_trailing_tab_is_not_an_extra_cell():
    columns, rows = parse_tsv("session_id\tscore \nses-1\t3\t\n", "f.tsv")
    assert (columns, rows) == (["session_id", "score"],
                               [(2, {"session_id": "ses-1", "score": "3"})])


def test_a_corrupt_sidecar_names_the_json_file_and_line(tmp_path):
    write_tree(tmp_path, {"sub-01/anat/sub-01_T1w.nii.gz": NII,
                          "sub-01/anat/sub-01_T1w.json": '{\n  "EchoTime": 0.003,\n  "Flip": }\n'})
    error = error_of(tmp_path)
    assert (error.file, error.row) == (str(tmp_path / "sub-01" / "anat" / "sub-01_T1w.json"), 3)
    assert error.message == "corrupt JSON: Expecting value (line 3, character 11)"


def test_a_sidecar_that_is_not_an_object_is_refused(tmp_path):
    write_tree(tmp_path, {"sub-01/anat/sub-01_T1w.nii.gz": NII, "T1w.json": "[1, 2]"})
    error = error_of(tmp_path)
    assert (error.file, error.message) == (str(tmp_path / "T1w.json"),
                                           "a JSON object was expected, found list")


def test_a_corrupt_participants_json_names_it(tmp_path):
    write_tree(tmp_path, {"participants.tsv": [["participant_id"], ["sub-01"]],
                          "participants.json": "{"})
    error = error_of(tmp_path)
    assert (error.file, error.row) == (str(tmp_path / "participants.json"), 1)


def test_a_session_folder_outside_any_subject_folder_is_refused(tmp_path):
    write_tree(tmp_path, {"sub-01/ses-1/anat/sub-01_ses-1_T1w.nii.gz": NII,
                          "ses-2/anat/sub-01_ses-2_T1w.nii.gz": NII})
    error = error_of(tmp_path)
    assert error.file == str(tmp_path / "ses-2" / "anat" / "sub-01_ses-2_T1w.nii.gz")
    assert error.message == "session folder 'ses-2' is not inside a subject (sub-*) folder"


def test_a_sidecar_that_is_not_utf8_names_it(tmp_path):
    write_tree(tmp_path, {"sub-01/anat/sub-01_T1w.nii.gz": NII,
                          "sub-01/anat/sub-01_T1w.json": b'{"Manufacturer": "\xff"}'})
    error = error_of(tmp_path)
    assert (error.file, error.message) == (
        str(tmp_path / "sub-01" / "anat" / "sub-01_T1w.json"),
        "not UTF-8 text: invalid start byte at byte 18")


def test_an_age_that_is_not_a_number_is_left_empty_and_reported(tmp_path):
    write_tree(tmp_path, {"participants.tsv": [["participant_id", "age_at_scan"],
                                               ["sub-01", "89+"], ["sub-02", "n/a"]]})
    frames = read_bids(tmp_path, storage_prefix="X")
    assert frames.subjects["age_at_baseline"].tolist() == [None, None]
    assert dict(frames.report.ignored) == \
        {"participants.tsv: age is not a number (column 'age_at_scan')": 1}
    assert frames.report.examples == \
        {"participants.tsv: age is not a number (column 'age_at_scan')": ["row 2: '89+'"]}


def test_a_dangling_symlink_is_listed_without_a_size(tmp_path):
    (tmp_path / "sub-01" / "anat").mkdir(parents=True)
    (tmp_path / "sub-01" / "anat" / "sub-01_T1w.nii.gz").symlink_to(tmp_path / "annex" / "gone")
    frames = read_bids(tmp_path, storage_prefix="X")
    assert frames.images[["path", "file_size"]].values.tolist() == \
        [["X/sub-01/anat/sub-01_T1w.nii.gz", None]]


# ---------------------------------------------------------------------------- real datasets
def expected_bids(shared_data: Path) -> dict:
    return json.loads((shared_data / "bids" / "expected.json").read_text())


@pytest.mark.parametrize("name", BIDS_DATASETS)
def test_real_bids_datasets_give_the_expected_counts(shared_data, name):
    expected = expected_bids(shared_data)[name]
    frames = read_bids(shared_data / "bids" / name, storage_prefix=name)

    assert len(frames.subjects) == expected["subjects"]
    assert len(frames.visits) == expected["visits"]
    assert {kind: int((frames.images["type"] == kind).sum()) for kind in TYPES} == \
        expected["images"]
    assert len(frames.ignored) == sum(frames.report.ignored.values()) == expected["ignored_images"]
    assert dict(frames.report.ignored) == {f"not an MBID image type: {key}": count for key, count
                                           in expected["ignored_by_datatype_suffix"].items()}

    images = frames.images
    per_type = Counter(zip(images["subject"], images["visit"], images["type"], strict=True))
    ignored = Counter(zip(frames.ignored["subject"], frames.ignored["visit"], strict=True))
    per_visit = [{"subject": subject, "session": None if visit == NO_SESSION_VISIT else visit,
                  **{kind: per_type[(subject, visit, kind)] for kind in TYPES},
                  "ignored": ignored[(subject, visit)]}
                 for subject, visit in zip(frames.visits["subject"], frames.visits["external_id"],
                                           strict=True)]
    key = lambda row: (row["subject"], row["session"] or "")  # noqa: E731
    assert sorted(per_visit, key=key) == sorted(expected["per_visit"], key=key)


def test_real_sessions_tsv_columns_become_stripped_symptoms(shared_data):
    expected = expected_bids(shared_data)["7t_trt"]
    visits = read_bids(shared_data / "bids" / "7t_trt", storage_prefix="7t_trt").visits
    wanted = sorted(column.strip() for column in expected["sessions_tsv_columns"]
                    if column != "session_id")
    assert all(sorted(symptoms) == wanted for symptoms in visits["symptoms"])
    first = visits["symptoms"].iloc[0]
    assert (first["CCPT_avg_succ_RT"], first["CCPT_avg_FN_RT"], first["subject_id"]) == \
        (500.7708333333333, None, 1)


@pytest.mark.parametrize(("name", "first_subject"), [
    ("7t_trt", {"external_id": "01", "sex": "female", "handedness": "right",
                "age_at_baseline": 29.0, "metadata": {"number_of_scans_before": 17}}),
    ("ds114", {"external_id": "01", "handedness": "left", "metadata": {}}),
    ("ds001", {"external_id": "01", "sex": "female", "age_at_baseline": 26.0, "metadata": {}}),
])
def test_real_participants(shared_data, name, first_subject):
    subjects = read_bids(shared_data / "bids" / name, storage_prefix=name).subjects
    assert subjects.drop(columns=["source_file", "source_row"]).iloc[0].to_dict() == first_subject


def test_real_sidecar_scanners(shared_data):
    images = read_bids(shared_data / "bids" / "eyetracking_fmri", storage_prefix="E").images
    scanners = Counter(zip(images["manufacturer"], images["model"], images["field_strength"],
                           strict=True))
    assert scanners == {("Siemens", "Prisma", 3.0): 6, (None, None, None): 1}


# ---------------------------------------------------------------------------- flask load-bids
def load_bids_cli(app, root: Path, *options: str):
    """Run `flask load-bids ROOT OPTIONS --json`; return (result, report dict or None)."""
    result = app.test_cli_runner().invoke(args=["load-bids", str(root), *options, "--json"])
    report = json.loads(result.output) if result.exit_code == 0 else None
    return result, report


def rows_of(session, dataset: str) -> dict[str, object]:
    """What the database holds for `dataset`: subjects, visits, images per type, linked images."""
    dataset_id = session.scalar(select(Dataset.id).where(Dataset.designation == dataset))
    subjects = select(Subject.id).where(Subject.dataset_id == dataset_id)
    images = session.execute(select(Image.type, Image.visit_id).where(
        Image.dataset_id == dataset_id)).all()
    return {
        "subjects": session.scalar(select(func.count()).select_from(subjects.subquery())),
        "visits": session.scalar(select(func.count()).where(Visit.subject_id.in_(subjects))),
        "images": {kind: sum(1 for row in images if row.type == kind) for kind in TYPES},
        "images without visit": sum(1 for row in images if row.visit_id is None),
    }


@pytest.mark.parametrize("name", BIDS_DATASETS)
def test_flask_load_bids_loads_each_real_dataset_once(app, session, shared_data, name):
    expected = expected_bids(shared_data)[name]
    result, report = load_bids_cli(app, shared_data / "bids" / name, "--dataset", name,
                                   "--register")
    assert result.exit_code == 0, result.output
    assert rows_of(session, name) == {"subjects": expected["subjects"],
                                      "visits": expected["visits"], "images": expected["images"],
                                      "images without visit": 0}
    n_images = sum(expected["images"].values())
    assert report["tables"]["subject"] == {"inserted": expected["subjects"], "updated": 0,
                                           "unchanged": 0}
    assert report["tables"]["visit"] == {"inserted": expected["visits"], "updated": 0,
                                         "unchanged": 0}
    assert report["tables"]["image"] == {"inserted": n_images, "updated": 0, "unchanged": 0}
    assert report["ignored"] == {f"not an MBID image type: {key}": count for key, count
                                 in expected["ignored_by_datatype_suffix"].items()}
    assert session.scalar(select(LoadRun.loader).where(LoadRun.dataset_id.is_not(None))) == \
        "load-bids"

    again, second = load_bids_cli(app, shared_data / "bids" / name, "--dataset", name)
    assert again.exit_code == 0, again.output
    for table, counts in second["tables"].items():
        assert (table, counts["inserted"], counts["updated"]) == (table, 0, 0)
    assert second["tables"]["image"]["unchanged"] == n_images
    assert rows_of(session, name)["images"] == expected["images"]


def test_images_land_in_the_visit_of_their_session_with_their_scanner(app, session, shared_data):
    result, _ = load_bids_cli(app, shared_data / "bids" / "eyetracking_fmri", "--dataset",
                              "eyetracking", "--register")
    assert result.exit_code == 0, result.output
    rows = session.execute(
        select(Image.path, Visit.external_id, Subject.external_id, Scanner.manufacturer,
               Scanner.model, Scanner.field_strength, Image.file_size)
        .join(Visit, Image.visit_id == Visit.id).join(Subject, Image.subject_id == Subject.id)
        .outerjoin(Scanner, Image.scanner_id == Scanner.id).order_by(Image.path)).all()
    assert [tuple(row) for row in rows] == [
        ("eyetracking/sub-01/ses-01/anat/sub-01_ses-01_T1w.nii.gz", "01", "01", "Siemens",
         "Prisma", 3.0, 0),
        ("eyetracking/sub-01/ses-01/fmap/sub-01_ses-01_dir-AP_epi.nii.gz", "01", "01", "Siemens",
         "Prisma", 3.0, 0),
        ("eyetracking/sub-01/ses-01/fmap/sub-01_ses-01_dir-PA_epi.nii.gz", "01", "01", "Siemens",
         "Prisma", 3.0, 0),
        ("eyetracking/sub-01/ses-01/fmap/sub-01_ses-01_fieldmap.nii.gz", "01", "01", "Siemens",
         "Prisma", 3.0, 0),
        ("eyetracking/sub-01/ses-01/fmap/sub-01_ses-01_magnitude.nii.gz", "01", "01", None, None,
         None, 0),
        ("eyetracking/sub-01/ses-01/func/sub-01_ses-01_task-rest_run-01_bold.nii.gz", "01", "01",
         "Siemens", "Prisma", 3.0, 0),
        ("eyetracking/sub-01/ses-01/func/sub-01_ses-01_task-rest_run-02_bold.nii.gz", "01", "01",
         "Siemens", "Prisma", 3.0, 0),
    ]
    subject = session.scalar(select(Subject))
    assert (subject.sex, subject.age_at_baseline, subject.metadata_json) == \
        ("male", 35.0, {"GUID": "19B10ABE8F9F", "eTIV": 1775498})


def test_dry_run_writes_nothing_and_reports_everything(app, session, tmp_path):
    root = small_dataset(tmp_path)
    make_dataset(session, designation="SMALL", storage_prefix="small")
    session.commit()
    before = data_counts()
    result, report = load_bids_cli(app, root, "--dataset", "SMALL", "--dry-run")
    assert result.exit_code == 0, result.output
    assert data_counts() == before
    assert report["dry_run"] is True
    assert {table: counts["inserted"] for table, counts in report["tables"].items()} == \
        {"subject": 3, "visit": 5, "scanner": 2, "image": 6}


def test_the_dataset_storage_prefix_starts_every_image_path(app, session, tmp_path):
    make_dataset(session, designation="SMALL", storage_prefix="bucket/small")
    session.commit()
    result, _ = load_bids_cli(app, small_dataset(tmp_path), "--dataset", "SMALL")
    assert result.exit_code == 0, result.output
    paths = session.scalars(select(Image.path).order_by(Image.path)).all()
    assert paths[0] == "bucket/small/sub-01/ses-1/anat/sub-01_ses-1_T1w.nii.gz"
    assert all(path.startswith("bucket/small/sub-") for path in paths)
    symptoms = session.scalar(select(Visit.symptoms).where(Visit.external_id == "2"))
    assert symptoms == {"bdi_total": 7.5, "note": "late"}


def test_an_unknown_dataset_is_refused_with_exit_code_2(app, session, tmp_path):
    before = data_counts()
    result, _ = load_bids_cli(app, small_dataset(tmp_path), "--dataset", "NOPE")
    assert result.exit_code == 2
    assert "unknown dataset 'NOPE'" in result.output
    assert "datasets_list.xls" in result.output
    assert data_counts() == before


def test_bad_input_stops_the_command_with_exit_code_2_and_writes_nothing(app, session, tmp_path):
    root = small_dataset(tmp_path)
    (root / "sub-02" / "ses-1" / "dwi" / "sub-02_ses-1_dwi.json").write_text("{oops")
    before = data_counts()
    result, _ = load_bids_cli(app, root, "--dataset", "SMALL", "--register")
    assert result.exit_code == 2
    assert f"{root / 'sub-02' / 'ses-1' / 'dwi' / 'sub-02_ses-1_dwi.json'}, row 1" in result.output
    assert "nothing was written" in result.output
    assert data_counts() == before
