"""read_bids over a small tree and the real BIDS example datasets of ../shared/data/bids
(against their expected.json): participants, sessions, inheritance, file trees, errors."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from load_db.bids import NO_SESSION_VISIT, LocalTree, read_bids
from load_db.bids.values import parse_tsv
from load_db.engine import LoadError
from tests.support.bids import BIDS_DATASETS, NII, TYPES, expected_bids, small_dataset
from tests.support.files import write_tree


# ---------------------------------------------------------------------------- a whole small tree
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
