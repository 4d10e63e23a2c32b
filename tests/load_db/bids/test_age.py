"""Age at scan in BIDS datasets without session dates: a subject's only visit is placed at day 0
(participants.tsv's age is its age at scan, basis "participant"); several undated sessions stay
undated, and the load report counts the images left without an age."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from load_db.bids import NO_SESSION_VISIT, read_bids
from load_db.bids.load import NO_AGE
from tests.support.files import write_tree

NII = b"\x00" * 348
DATASET = "AGES"


def undated_tree(root: Path) -> Path:
    """sub-01 (34) and sub-02 (58) with one undated session each, sub-03 (41) with two, sub-04
    (no age) with one; sub-01's lone session is listed in a sessions.tsv without acq_time."""
    return write_tree(root, {
        "participants.tsv": [["participant_id", "age", "sex"], ["sub-01", "34", "F"],
                             ["sub-02", "58", "M"], ["sub-03", "41", "F"],
                             ["sub-04", "n/a", "M"]],
        "sub-01/sub-01_sessions.tsv": [["session_id", "systolic_blood_pressure"],
                                       ["ses-01", "112"]],
        "sub-01/ses-01/anat/sub-01_ses-01_T1w.nii.gz": NII,
        "sub-01/ses-01/func/sub-01_ses-01_task-rest_bold.nii.gz": NII,
        "sub-02/ses-pre/anat/sub-02_ses-pre_T1w.nii.gz": NII,
        "sub-03/ses-01/anat/sub-03_ses-01_T1w.nii.gz": NII,
        "sub-03/ses-02/anat/sub-03_ses-02_T1w.nii.gz": NII,
        "sub-04/ses-01/anat/sub-04_ses-01_T1w.nii.gz": NII,
    })


def visit_days(frames) -> list[list]:
    return frames.visits[["subject", "external_id", "days_since_baseline",
                          "days_assumed"]].values.tolist()


def test_a_lone_undated_session_is_placed_at_day_zero_and_several_stay_undated(tmp_path):
    assert visit_days(read_bids(undated_tree(tmp_path))) == [
        ["01", "01", 0, True], ["02", "pre", 0, True], ["03", "01", None, False],
        ["03", "02", None, False], ["04", "01", 0, True]]


def test_a_dated_session_keeps_its_day_and_a_lone_undated_one_gets_zero(tmp_path):
    root = write_tree(tmp_path, {
        "sub-01/sub-01_sessions.tsv": [["session_id", "acq_time"], ["ses-2", "2001-03-15"],
                                       ["ses-1", "2001-01-01"]],
        "sub-02/sub-02_sessions.tsv": [["session_id", "acq_time"], ["ses-a", "n/a"]],
        "sub-01/ses-1/anat/sub-01_ses-1_T1w.nii.gz": NII,
        "sub-02/ses-a/anat/sub-02_ses-a_T1w.nii.gz": NII,
    })
    assert visit_days(read_bids(root)) == [
        ["01", "1", 0, False], ["01", "2", 73, False], ["02", "a", 0, True]]


def test_an_acq_time_that_is_not_a_date_leaves_a_lone_session_undated(tmp_path):
    root = write_tree(tmp_path, {
        "sub-01/sub-01_sessions.tsv": [["session_id", "acq_time"], ["ses-1", "soon"]],
        "sub-01/ses-1/anat/sub-01_ses-1_T1w.nii.gz": NII})
    visits = read_bids(root).visits
    assert "days_since_baseline" not in visits.columns
    assert visits["days_assumed"].tolist() == [False]


def test_without_sessions_the_one_visit_per_subject_is_assumed_at_day_zero(tmp_path):
    root = write_tree(tmp_path, {"participants.tsv": [["participant_id", "age"], ["sub-01", "30"]],
                                 "sub-01/anat/sub-01_T1w.nii.gz": NII})
    assert visit_days(read_bids(root)) == [["01", NO_SESSION_VISIT, 0, True]]


def test_several_undated_sessions_leave_the_days_column_out(tmp_path):
    root = write_tree(tmp_path, {"sub-01/ses-1/anat/sub-01_ses-1_T1w.nii.gz": NII,
                                 "sub-01/ses-2/anat/sub-01_ses-2_T1w.nii.gz": NII})
    visits = read_bids(root).visits
    assert "days_since_baseline" not in visits.columns
    assert visits["days_assumed"].tolist() == [False, False]


def load(app, root: Path, dataset: str = DATASET) -> dict:
    result = app.test_cli_runner().invoke(
        args=["load-bids", str(root), "--dataset", dataset, "--register", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def images(client, headers, **params) -> list[dict]:
    answer = client.get("/api/v1/images", query_string={"per_page": 100, **params},
                        headers=headers)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["items"]


def test_participants_age_is_the_age_at_scan_of_a_lone_session(app, session, client,
                                                                 auth_headers, tmp_path):
    report = load(app, undated_tree(tmp_path))
    rows = images(client, auth_headers, dataset=DATASET, sort="id")
    by_path = {row["path"].split("/")[-1]: (row["age_at_scan"], row["age_basis"])
               for row in rows}
    assert by_path == {
        "sub-01_ses-01_T1w.nii.gz": (34.0, "participant"),
        "sub-01_ses-01_task-rest_bold.nii.gz": (34.0, "participant"),
        "sub-02_ses-pre_T1w.nii.gz": (58.0, "participant"),
        "sub-03_ses-01_T1w.nii.gz": (None, None),
        "sub-03_ses-02_T1w.nii.gz": (None, None),
        "sub-04_ses-01_T1w.nii.gz": (None, None)}
    found = images(client, auth_headers, dataset=DATASET, age_min=30)
    assert sorted(row["subject_external_id"] for row in found) == ["01", "01", "02"]
    assert report["notes"] == {NO_AGE: 3}
    assert report["examples"][NO_AGE] == [
        f"{DATASET}/sub-03/ses-01/anat/sub-03_ses-01_T1w.nii.gz",
        f"{DATASET}/sub-03/ses-02/anat/sub-03_ses-02_T1w.nii.gz",
        f"{DATASET}/sub-04/ses-01/anat/sub-04_ses-01_T1w.nii.gz"]
    # A re-load that reads nothing again still counts them.
    assert load(app, tmp_path)["notes"] == {NO_AGE: 3}


def test_a_dated_visit_gives_the_session_basis(app, session, client, auth_headers, tmp_path):
    root = write_tree(tmp_path, {
        "participants.tsv": [["participant_id", "age"], ["sub-01", "20"]],
        "sub-01/sub-01_sessions.tsv": [["session_id", "acq_time"], ["ses-1", "2001-01-01"],
                                       ["ses-2", "2002-01-01"]],
        "sub-01/ses-1/anat/sub-01_ses-1_T1w.nii.gz": NII,
        "sub-01/ses-2/anat/sub-01_ses-2_T1w.nii.gz": NII,
    })
    report = load(app, root, "DATED")
    rows = images(client, auth_headers, dataset="DATED", sort="id")
    assert [(row["age_at_scan"], row["age_basis"]) for row in rows] == [
        (20.0, "session"), (pytest.approx(20 + 365 / 365.25), "session")]
    assert NO_AGE not in report["notes"]


@pytest.mark.parametrize(("name", "without_age", "basis"), [
    # two undated sessions per subject: no age can be placed, and the report says so
    ("synthetic", 20, None),
    # no sessions: one visit per subject, at participants.tsv's age
    ("ds001", 0, "participant"),
    # test and retest sessions without dates, and no age in participants.tsv
    ("ds114", 40, None),
])
def test_real_datasets_without_session_dates(app, session, client, auth_headers, shared_data,
                                             name, without_age, basis):
    report = load(app, shared_data / "bids" / name, name)
    assert report["notes"].get(NO_AGE, 0) == without_age
    rows = images(client, auth_headers, dataset=name, per_page=1000)
    assert {row["age_basis"] for row in rows} == {basis}
    assert sum(row["age_at_scan"] is None for row in rows) == without_age
