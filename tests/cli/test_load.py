"""`flask load`: the report once on stdout (text or JSON), logs on stderr, failures recorded."""
import json
import os
import shutil
import subprocess
import sys

import pytest
from sqlalchemy import select

from app.models import Dataset, LoadRun, LoadStatus
from globals import ROOT, SEED_DIR
from tests.support.apps import data_counts
from tests.support.examples import copy_example, flask_load, replace_in

OASIS_REPORT = """dataset_condition: 15 inserted, 0 updated, 0 unchanged
subject: 14 inserted, 0 updated, 0 unchanged
visit: 24 inserted, 0 updated, 0 unchanged
assessment: 139 inserted, 0 updated, 0 unchanged
scanner: 3 inserted, 0 updated, 0 unchanged
image: 23 inserted, 0 updated, 0 unchanged
ignored 1: not an MBID image type: anat/FLAIR (e.g. sub-OAS30004/ses-d0000/anat/sub-OAS30004_ses-d0000_FLAIR.nii.gz)
ignored 1: not an MBID image type: anat/T2w (e.g. sub-OAS30001/ses-d0129/anat/sub-OAS30001_ses-d0129_T2w.nii.gz)
note 2: image has no visit on or before its acquisition day: stored without a visit (e.g. OASIS/bids/sub-OAS30003/ses-d0000/anat/sub-OAS30003_ses-d0000_T1w.nii.gz, OASIS/bids/sub-OAS30012/ses-d0000/anat/sub-OAS30012_ses-d0000_T1w.nii.gz)
"""  # noqa: E501


def flask(database_url, *args):
    """Run `flask ARGS` in a fresh process on the test database; return the completed process."""
    env = {**os.environ, "FLASK_APP": "app", "FLASK_CONFIG": "testing",
           "DATABASE_URL": database_url}
    return subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)


def test_the_report_is_printed_once_on_stdout_and_the_log_agrees(seeded, database_url):
    result = flask(database_url, "load", "oasis")
    assert result.returncode == 0, result.stderr
    assert result.stdout == OASIS_REPORT
    assert ("load OASIS finished: dataset_condition +15 ~0 =0; subject +14 ~0 =0; "
            "visit +24 ~0 =0; assessment +139 ~0 =0; scanner +3 ~0 =0; image +23 ~0 =0; "
            "ignored 2") in result.stderr
    again = flask(database_url, "load", "OASIS", "--json")
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["tables"]["image"] == {"inserted": 0, "updated": 0, "unchanged": 23}
    assert report["ignored"] == {"not an MBID image type: anat/FLAIR": 1,
                                 "not an MBID image type: anat/T2w": 1}


def test_seed_prints_its_report_once_and_as_json(app, session):
    result = app.test_cli_runner().invoke(args=["seed", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["tables"]["dataset"]["inserted"] == 13
    text = app.test_cli_runner().invoke(args=["seed"]).output
    assert text.splitlines()[0] == "dataset: 0 inserted, 0 updated, 13 unchanged"
    assert text.count("dataset:") == 1


def test_a_failed_load_is_recorded_and_leaves_the_rows_as_they_were(app, seeded, tmp_path):
    assert flask_load(app, "OASIS").exit_code == 0
    before = data_counts()
    broken = copy_example(tmp_path, "OASIS")
    replace_in(broken / "OASIS3_clinical_data.csv", "OAS30002,71.4", "OAS30002,sixty")
    result = flask_load(app, "OASIS", broken)
    assert result.exit_code == 2
    where = f"{broken / 'OASIS3_clinical_data.csv'}, row 5, column 'ageAtEntry'"
    assert f"Error: {where}: not a number: 'sixty' (nothing was written)" in result.output
    assert data_counts() == before
    runs = seeded.scalars(select(LoadRun).order_by(LoadRun.id)).all()
    assert [(run.loader, run.status) for run in runs] == [
        ("seed", LoadStatus.SUCCEEDED), ("load OASIS", LoadStatus.SUCCEEDED),
        ("load OASIS", LoadStatus.FAILED)]
    failed = runs[-1]
    assert failed.error == f"{where}: not a number: 'sixty'"
    assert failed.dataset_id == seeded.scalar(
        select(Dataset.id).where(Dataset.designation == "OASIS"))
    assert failed.report is None and failed.started_at <= failed.finished_at

    listed = app.test_cli_runner().invoke(args=["load-runs", "oasis"])
    lines = listed.output.splitlines()
    assert len(lines) == 2
    assert lines[0].split("\t")[1:] == ["load OASIS", "OASIS", "failed", failed.error]
    assert lines[1].split("\t")[1:] == ["load OASIS", "OASIS", "succeeded"]
    as_json = json.loads(app.test_cli_runner().invoke(args=["load-runs", "--json"]).output)
    assert [(run["loader"], run["dataset"], run["status"]) for run in as_json] == [
        ("load OASIS", "OASIS", "failed"), ("load OASIS", "OASIS", "succeeded"),
        ("seed", None, "succeeded")]
    assert as_json[1]["report"]["tables"]["image"]["inserted"] == 23


def test_load_needs_a_dataset_or_all_examples(app, seeded):
    result = app.test_cli_runner().invoke(args=["load"])
    assert result.exit_code == 2
    assert "give either DATASET or --all-examples (exactly one)" in result.output


def test_all_examples_strict_is_strict_where_a_dataset_has_a_strict_mode(app, seeded):
    result = app.test_cli_runner().invoke(args=["load", "--all-examples", "--strict"])
    assert result.exit_code == 0, result.output
    assert "OMI-DB:\ndataset_condition: 4 inserted" in result.output
    assert "HCP:\ndataset_condition: 1 inserted" in result.output


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_a_damaged_seed_spreadsheet_exits_2_naming_it(app, seeded, tmp_path, damage):
    seed_dir = shutil.copytree(SEED_DIR, tmp_path / "seed")
    workbook = seed_dir / "datasets_list.xls"
    whole = workbook.read_bytes()
    workbook.write_bytes({"truncated": whole[:3000], "garbage": whole[:512] + bytes(
        range(256)) * 8, "empty": b""}[damage])
    before = data_counts()
    result = app.test_cli_runner().invoke(args=["seed", "--seed-dir", str(seed_dir)])
    assert result.exit_code == 2, result.output
    assert result.output.startswith(
        f"Error: {workbook}: cannot be read as a XLS table (damaged or not a spreadsheet: ")
    assert result.output.endswith("(nothing was written)\n")
    assert "Traceback" not in result.output and "WARNING" not in result.output
    assert data_counts() == before
