"""`flask load-bids`: the real datasets loaded once, visits and scanners, dry runs, refusals."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.models import Dataset, Image, LoadRun, Scanner, Subject, Visit
from tests.support.apps import data_counts
from tests.support.bids import BIDS_DATASETS, TYPES, expected_bids, small_dataset
from tests.support.factories import make_dataset


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
    assert "no dataset 'NOPE' (known: " in result.output
    assert "; --register creates it" in result.output
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
