"""Re-loads of a BIDS tree read only what changed since the last load of the same source, and
write exactly the rows a full read would."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from app.models import Dataset, Image, LoadManifest, Sex, Subject
from load_db.bids.load import (
    FULL_READ,
    GONE_FILE,
    IMAGE_RESTORED,
    IMAGE_SOFT_DELETED,
    ReadPlan,
    plan_read,
)
from load_db.engine.manifest import FileChanges
from tests.support.files import set_modified, write_tree

DATASET = "INCREMENTAL"
# Files written this long ago count as settled: their versions are trusted by the next load.
AGO = 3600


def sidecar(echo_time: float) -> dict:
    return {"Manufacturer": "Siemens", "MagneticFieldStrength": 3, "EchoTime": echo_time}


def subject_files(label: str, echo_time: float = 0.003) -> dict:
    return {f"sub-{label}/anat/sub-{label}_T1w.nii.gz": b"\x1f\x8b t1",
            f"sub-{label}/anat/sub-{label}_T1w.json": sidecar(echo_time),
            f"sub-{label}/func/sub-{label}_task-rest_bold.nii.gz": b"\x1f\x8b bold"}


def bids_tree(root: Path) -> Path:
    """Three subjects without sessions: a T1w with its own sidecar and a resting bold that
    inherits the top-level sidecar; 12 files, 6 images."""
    write_tree(root, {
        "dataset_description.json": {"Name": "incremental", "BIDSVersion": "1.9.0"},
        "participants.tsv": [["participant_id", "sex", "age"], ["sub-01", "F", 30],
                             ["sub-02", "M", 40], ["sub-03", "F", 50]],
        "task-rest_bold.json": {"TaskName": "rest", "RepetitionTime": 2.0},
        **subject_files("01"), **subject_files("02"), **subject_files("03")})
    set_modified(root, AGO)
    return root


def load(app, root: Path, *options: str) -> dict:
    result = app.test_cli_runner().invoke(
        args=["load-bids", str(root), "--dataset", DATASET, "--register", *options, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def images(session) -> dict[str, tuple]:
    """{path relative to the dataset: (metadata, updated_at, deleted_at)}."""
    session.expire_all()
    rows = session.execute(select(Image.path, Image.metadata_json, Image.updated_at,
                                  Image.deleted_at)).all()
    return {row.path.removeprefix(f"{DATASET}/"): tuple(row[1:]) for row in rows}


def manifest(session) -> tuple:
    session.expire_all()
    row = session.execute(select(LoadManifest.files, LoadManifest.row_counts,
                                 LoadManifest.updated_at)).one()
    return tuple(row)


def written(report: dict) -> dict[str, tuple[int, int]]:
    return {table: (counts["inserted"], counts["updated"])
            for table, counts in report["tables"].items()}


UNCHANGED_TABLES = {"subject": (0, 0), "visit": (0, 0), "image": (0, 0)}


def test_an_unchanged_re_load_reads_no_file_and_writes_no_row(app, seeded, tmp_path):
    root = bids_tree(tmp_path / "ds")
    first = load(app, root)
    assert written(first) == {"subject": (3, 0), "visit": (3, 0), "scanner": (1, 0),
                              "image": (6, 0)}
    assert first["files"] == {"read": 12, "unchanged": 0, "gone": 0}
    before = images(seeded)

    again = load(app, root)
    assert written(again) == UNCHANGED_TABLES
    assert {table: counts["unchanged"] for table, counts in again["tables"].items()} == \
        {"subject": 3, "visit": 3, "image": 6}
    assert again["files"] == {"read": 0, "unchanged": 12, "gone": 0}
    assert images(seeded) == before


def test_touching_one_sidecar_rewrites_exactly_the_rows_it_feeds(app, seeded, tmp_path):
    root = bids_tree(tmp_path / "ds")
    load(app, root)
    before = images(seeded)
    # The same size, another value and modification time: only the time can tell.
    write_tree(root, {"sub-02/anat/sub-02_T1w.json": sidecar(0.004)})
    set_modified(root, AGO / 2, "sub-02/anat/sub-02_T1w.json")

    report = load(app, root)
    assert written(report) == {"subject": (0, 0), "visit": (0, 0), "scanner": (0, 0),
                               "image": (0, 1)}
    assert report["tables"]["image"]["unchanged"] == 5
    # the three files outside subject folders, and sub-02's three
    assert report["files"] == {"read": 6, "unchanged": 6, "gone": 0}
    after = images(seeded)
    touched = "sub-02/anat/sub-02_T1w.nii.gz"
    assert after[touched][0] == {**before[touched][0], "EchoTime": 0.004}
    assert after[touched][1] > before[touched][1]
    assert {path: row for path, row in after.items() if path != touched} == \
        {path: row for path, row in before.items() if path != touched}


def test_a_changed_top_level_sidecar_rewrites_every_image_it_feeds(app, seeded, tmp_path):
    root = bids_tree(tmp_path / "ds")
    load(app, root)
    before = images(seeded)
    write_tree(root, {"task-rest_bold.json": {"TaskName": "rest", "RepetitionTime": 3.0}})
    set_modified(root, AGO / 2, "task-rest_bold.json")

    report = load(app, root)
    assert report["files"] == {"read": 12, "unchanged": 0, "gone": 0}
    assert written(report)["image"] == (0, 3)
    after = images(seeded)
    bold = [path for path in after if path.endswith("_bold.nii.gz")]
    assert len(bold) == 3
    for path in bold:
        assert after[path][0] == {"TaskName": "rest", "RepetitionTime": 3.0}
        assert after[path][1] > before[path][1]
    assert all(after[path] == before[path] for path in after if path not in bold)


def test_a_deleted_image_file_is_reported_and_its_image_soft_deleted(app, seeded, client,
                                                                     auth_headers, tmp_path):
    root = bids_tree(tmp_path / "ds")
    load(app, root)
    gone = "sub-03/func/sub-03_task-rest_bold.nii.gz"
    (root / gone).unlink()

    result = app.test_cli_runner().invoke(
        args=["load-bids", str(root), "--dataset", DATASET])
    assert result.exit_code == 0, result.output
    assert f"note 1: {GONE_FILE} (e.g. {gone})" in result.output
    assert f"note 1: {IMAGE_SOFT_DELETED} (e.g. {DATASET}/{gone})" in result.output
    assert "files: 5 read, 6 unchanged since the last load (not read again), 1 gone" \
        in result.output
    assert images(seeded)[gone][2] is not None
    listed = client.get(f"/api/v1/images?dataset={DATASET}&per_page=100", headers=auth_headers)
    assert listed.status_code == 200
    paths = {image["path"] for image in listed.get_json()["items"]}
    assert len(paths) == 5 and f"{DATASET}/{gone}" not in paths

    # The file back: its image is listed again.
    write_tree(root, {gone: b"\x1f\x8b bold"})
    set_modified(root, AGO, gone)
    report = load(app, root)
    assert report["notes"] == {IMAGE_RESTORED: 1}
    assert images(seeded)[gone][2] is None


def test_full_reads_every_file_and_finds_every_row_unchanged(app, seeded, tmp_path):
    root = bids_tree(tmp_path / "ds")
    load(app, root)
    report = load(app, root, "--full")
    assert report["files"] == {"read": 12, "unchanged": 0, "gone": 0}
    assert {table: (counts["inserted"], counts["updated"], counts["unchanged"])
            for table, counts in report["tables"].items()} == {
        "subject": (0, 0, 3), "visit": (0, 0, 3), "scanner": (0, 0, 1), "image": (0, 0, 6)}


def test_a_subject_added_writes_only_its_rows(app, seeded, tmp_path):
    root = bids_tree(tmp_path / "ds")
    load(app, root)
    write_tree(root, subject_files("04"))
    set_modified(root, AGO, *subject_files("04"))

    report = load(app, root)
    assert written(report) == {"subject": (1, 0), "visit": (1, 0), "scanner": (0, 0),
                               "image": (2, 0)}
    assert {table: counts["unchanged"] for table, counts in report["tables"].items()} == \
        {"subject": 3, "visit": 3, "scanner": 1, "image": 6}
    assert report["files"] == {"read": 6, "unchanged": 9, "gone": 0}
    assert len(images(seeded)) == 8


def test_a_failed_incremental_load_leaves_rows_and_manifest_as_they_were(app, seeded, tmp_path):
    root = bids_tree(tmp_path / "ds")
    load(app, root)
    rows, recorded = images(seeded), manifest(seeded)
    write_tree(root, {"sub-02/anat/sub-02_T1w.json": sidecar(0.004),
                      "sub-03/anat/sub-03_T1w.json": "{corrupt"})
    set_modified(root, AGO / 2, "sub-02/anat/sub-02_T1w.json", "sub-03/anat/sub-03_T1w.json")

    result = app.test_cli_runner().invoke(args=["load-bids", str(root), "--dataset", DATASET])
    assert result.exit_code == 2
    assert "sub-03_T1w.json" in result.output and "corrupt JSON" in result.output
    assert images(seeded) == rows
    assert manifest(seeded) == recorded

    # Repaired, the next load still sees sub-02's sidecar as changed: the manifest kept the
    # version of the last load that succeeded.
    write_tree(root, {"sub-03/anat/sub-03_T1w.json": sidecar(0.003)})
    set_modified(root, AGO / 2, "sub-03/anat/sub-03_T1w.json")
    report = load(app, root)
    assert written(report)["image"] == (0, 1)
    assert images(seeded)["sub-02/anat/sub-02_T1w.nii.gz"][0]["EchoTime"] == 0.004


@pytest.mark.parametrize("change", ["rows deleted", "files just written"])
def test_what_cannot_be_trusted_is_read_in_full(app, seeded, tmp_path, change):
    root = bids_tree(tmp_path / "ds")
    load(app, root)
    if change == "rows deleted":  # by something else than a load: the totals differ
        dataset_id = seeded.scalar(select(Dataset.id).where(Dataset.designation == DATASET))
        seeded.execute(Image.__table__.delete().where(Image.dataset_id == dataset_id))
        seeded.commit()
    else:  # modified within the clock's resolution of the listing: a version not trusted
        set_modified(root, 0)
    report = load(app, root)
    assert report["files"]["read"] == 12
    assert report["tables"]["image"]["inserted"] == (6 if change == "rows deleted" else 0)
    assert len(images(seeded)) == 6


@pytest.mark.parametrize(("changed", "gone", "plan"), [
    (set(), set(), ReadPlan(frozenset())),
    ({"sub-01/anat/a.json"}, {"sub-02/ses-1/func/b.nii.gz"}, ReadPlan(frozenset({"01", "02"}))),
    ({"sub-01/anat/a.json", "participants.tsv"}, set(), ReadPlan(frozenset({"01"}), True)),
    ({"participants.json"}, set(), ReadPlan(frozenset(), True)),
    (set(), {"task-rest_bold.json"}, FULL_READ),
    ({"phenotype/scores.tsv", "sub-01/anat/a.json"}, set(), FULL_READ),
    ({"sub-01"}, set(), FULL_READ),  # a file named like a subject folder, at the top
])
def test_a_re_load_reads_again_only_what_changed_files_feed(changed, gone, plan):
    assert plan_read(FileChanges(frozenset(changed), frozenset(gone), 0)) == plan


def test_a_changed_participants_tsv_rewrites_subject_rows_and_reads_no_subject_folder(
        app, seeded, tmp_path):
    root = bids_tree(tmp_path / "ds")
    load(app, root)
    before = images(seeded)
    write_tree(root, {"participants.tsv": [["participant_id", "sex", "age"], ["sub-01", "F", 30],
                                           ["sub-02", "F", 40], ["sub-03", "F", 50],
                                           ["sub-05", "M", 60]]})
    set_modified(root, AGO / 2, "participants.tsv")

    report = load(app, root)
    assert report["files"] == {"read": 3, "unchanged": 9, "gone": 0}
    # sub-05 is listed without a folder: a subject, and (no sessions) its one visit
    assert {table: (counts["inserted"], counts["updated"], counts["unchanged"])
            for table, counts in report["tables"].items()} == {
        "subject": (1, 1, 2), "visit": (1, 0, 3), "scanner": (0, 0, 0), "image": (0, 0, 6)}
    assert seeded.execute(select(Subject.external_id, Subject.sex).order_by(
        Subject.external_id)).all() == [("01", Sex.FEMALE), ("02", Sex.FEMALE),
                                        ("03", Sex.FEMALE), ("05", Sex.MALE)]
    assert images(seeded) == before
