"""Hostile loader input (issue 10): each is a clean exit 2 naming the file, or a report line;
a rejected load leaves every table as it was. On SQLite and PostgreSQL."""
from __future__ import annotations

import json
import math
import os
import sqlite3
import subprocess
import sys
import time

import pytest
from sqlalchemy import create_engine, select, text

from app.models import Image, Scanner, Subject, Visit
from globals import ROOT
from load_db.engine.runner import dataset_lock_key
from tests.support.apps import data_counts
from tests.support.files import write_tree

NII = b"\x1f\x8b" + b"\0" * 30
LONG_ID = "x" * 65
T1 = "sub-01/ses-1/anat/sub-01_ses-1_T1w"


def tree(**changes):
    """A one-subject BIDS tree, with files replaced (path: content) or removed (path: None)."""
    files = {
        "dataset_description.json": {"Name": "hostile", "BIDSVersion": "1.9.0"},
        "participants.tsv": [["participant_id", "age", "note"], ["sub-01", "30", "ok"]],
        "sub-01/sub-01_sessions.tsv": [["session_id", "acq_time"],
                                       ["ses-1", "2020-01-02T10:00:00"]],
        f"{T1}.nii.gz": NII,
        f"{T1}.json": {"Manufacturer": "Siemens", "MagneticFieldStrength": 3,
                       "RepetitionTime": 2.0},
    }
    files.update({path.replace("__", "/"): content for path, content in changes.items()})
    return {path: content for path, content in files.items() if content is not None}


def sidecar(**fields):
    return {"Manufacturer": "Siemens", "MagneticFieldStrength": 3, "RepetitionTime": 2.0,
            **fields}


def participants(*row):
    return [["participant_id", "age", "note"], list(row)]


T1_JSON = f"{T1}.json"
# (case, the tree's changed files, the dataset name) -> what the error names
REJECTED = [
    ("id over 64 characters", {"participants.tsv": participants(f"sub-{LONG_ID}", "30", "ok"),
                               "sub-01": None}, "HOSTILE",
     "participants.tsv, row 2, column 'external_id': 65 characters, more than the 64"),
    ("manufacturer over 128", {T1_JSON: sidecar(Manufacturer="M" * 129)}, "HOSTILE",
     f"{T1}.nii.gz, column 'manufacturer': 129 characters, more than the 128"),
    ("dataset name over 64", {}, "D" * 65,
     "65 characters, more than the 64 the column holds"),
    ("NUL in a TSV id cell", {"participants.tsv": participants("sub-0\x001", "30", "ok")},
     "HOSTILE", "participants.tsv, row 2, column 'external_id': NUL character"),
    ("NUL in a JSON text column", {T1_JSON: sidecar(Manufacturer="Sie\x00mens")}, "HOSTILE",
     f"{T1}.nii.gz, column 'manufacturer': NUL character"),
    ("age -5", {"participants.tsv": participants("sub-01", "-5", "ok")}, "HOSTILE",
     "participants.tsv, row 2, column 'age_at_baseline': -5.0 is outside 0..150"),
    ("age 300", {"participants.tsv": participants("sub-01", "300", "ok")}, "HOSTILE",
     "participants.tsv, row 2, column 'age_at_baseline': 300.0 is outside 0..150"),
    ("sidecar nested 100,000 deep", {T1_JSON: '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"},
     "HOSTILE", f"{T1_JSON}: unusable JSON: nested deeper than 100 levels"),
    ("5,000-digit number in a sidecar", {T1_JSON: '{"EchoTime": ' + "9" * 5_000 + "}"},
     "HOSTILE", f"{T1_JSON}: unusable JSON: an integer of 5000 digits (more than 100)"),
    ("days beyond a century", {"sub-01/sub-01_sessions.tsv": [
        ["session_id", "acq_time"], ["ses-0", "1900-01-01"], ["ses-1", "2020-01-02"]]},
     "HOSTILE", "column 'days_since_baseline': 43830 is outside -36525..36525"),
]
# (case, the tree's changed files) -> a line of the report, and what was stored
REPORTED = [
    ("NUL in a TSV metadata cell", {"participants.tsv": participants("sub-01", "30", "o\x00k")},
     "note 1: metadata: NUL characters removed from a JSON value"),
    ("\\u0000 in JSON", {T1_JSON: sidecar(Note="a\x00b")},
     "note 1: metadata: NUL characters removed from a JSON value"),
    ("NaN in a sidecar", {T1_JSON: sidecar(RepetitionTime=math.nan)},
     "note 1: metadata: NaN or Infinity in a JSON value, stored as null"),
    ("Infinity as field strength", {T1_JSON: sidecar(MagneticFieldStrength=math.inf)},
     "ignored 1: sidecar MagneticFieldStrength: not a finite number, left out"),
    ("bad acq_time", {"sub-01/sub-01_sessions.tsv": [["session_id", "acq_time"],
                                                     ["ses-1", "yesterday"]]},
     "ignored 1: sessions.tsv: acq_time is not an ISO 8601 date, the visit's day is left "
     "unknown"),
    ("object Manufacturer", {T1_JSON: sidecar(Manufacturer={"x": 1})},
     "ignored 1: sidecar Manufacturer: not text, left out"),
    ("metadata over 64 KiB", {T1_JSON: sidecar(SliceTiming=[0.5] * 20_000)},
     "note 1: metadata: document over 64 KiB, its largest fields left out (MAX_JSON_BYTES)"),
]


def load_bids(app, root, dataset="HOSTILE", *options):
    return app.test_cli_runner().invoke(
        args=["load-bids", str(root), "--dataset", dataset, "--register", *options])


@pytest.mark.parametrize(("case", "changes", "dataset", "message"), REJECTED,
                         ids=[case for case, *_ in REJECTED])
def test_rejected_input_exits_2_naming_the_file_and_writes_nothing(app, seeded, tmp_path, case,
                                                                   changes, dataset, message):
    assert load_bids(app, write_tree(tmp_path / "good", tree()), "KEPT").exit_code == 0
    before = data_counts()
    root = write_tree(tmp_path / "bad", tree(**changes))
    result = load_bids(app, root, dataset)
    assert result.exit_code == 2, result.output
    assert message in result.output and "(nothing was written)" in result.output
    assert "Traceback" not in result.output
    assert data_counts() == before


@pytest.mark.parametrize(("case", "changes", "line"), REPORTED, ids=[c for c, *_ in REPORTED])
def test_reported_input_loads_clean_values_and_says_so(app, seeded, tmp_path, case, changes,
                                                       line):
    result = load_bids(app, write_tree(tmp_path / "ds", tree(**changes)))
    assert result.exit_code == 0, result.output
    assert [report_line for report_line in result.output.splitlines()
            if report_line.startswith(line)] != []
    image = seeded.scalar(select(Image))
    metadata_text = json.dumps(image.metadata_json)
    assert "NaN" not in metadata_text and "Infinity" not in metadata_text
    assert "\\u0000" not in metadata_text and len(metadata_text) <= 64 * 1024
    assert [s.manufacturer for s in seeded.scalars(select(Scanner))] in (["Siemens"], [])
    subject = seeded.scalar(select(Subject))
    assert "\x00" not in json.dumps(subject.metadata_json)


def test_the_report_keeps_the_small_fields_of_a_capped_sidecar(app, seeded, tmp_path):
    changes = {T1_JSON: sidecar(SliceTiming=[0.5] * 20_000)}
    assert load_bids(app, write_tree(tmp_path / "ds", tree(**changes))).exit_code == 0
    assert seeded.scalar(select(Image)).metadata_json == {
        "Manufacturer": "Siemens", "MagneticFieldStrength": 3, "RepetitionTime": 2.0}


def test_a_5000_digit_number_in_a_tsv_cell_is_kept_as_text(app, seeded, tmp_path):
    changes = {"participants.tsv": participants("sub-01", "30", "9" * 5_000)}
    result = load_bids(app, write_tree(tmp_path / "ds", tree(**changes)))
    assert result.exit_code == 0, result.output
    assert seeded.scalar(select(Subject)).metadata_json["note"] == "9" * 5_000


def test_a_bad_acq_time_leaves_the_day_unknown(app, seeded, tmp_path):
    changes = {"sub-01/sub-01_sessions.tsv": [["session_id", "acq_time"], ["ses-1", "soon"]]}
    assert load_bids(app, write_tree(tmp_path / "ds", tree(**changes))).exit_code == 0
    assert seeded.scalar(select(Visit)).days_since_baseline is None


# ---------------------------------------------------------------------------- two loads at once

def flask(database_url, *args):
    env = {**os.environ, "FLASK_APP": "app", "FLASK_CONFIG": "testing",
           "DATABASE_URL": database_url}
    return subprocess.Popen([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_loads_of_one_dataset_at_once_never_fail_with_a_database_error(
        app, seeded, tmp_path, database_url):
    root = write_tree(tmp_path / "ds", tree())
    processes = [flask(database_url, "load-bids", str(root), "--dataset", "RACE", "--register")
                 for _ in range(2)]
    outcomes = [(process.wait(120), *process.communicate()) for process in processes]
    for code, _, stderr in outcomes:
        assert code in (0, 2), stderr
        assert "Traceback" not in stderr and "UniqueViolation" not in stderr
        if code == 2:
            assert "another load of RACE is running" in stderr
    assert 0 in [code for code, _, _ in outcomes]
    seeded.expire_all()
    assert [s.external_id for s in seeded.scalars(select(Subject))] == ["01"]


def test_a_load_while_another_holds_the_dataset_waits_or_stops_cleanly(
        app, seeded, tmp_path, database_url):
    root = write_tree(tmp_path / "ds", tree())
    engine = create_engine(database_url)
    with engine.connect() as holder:
        if engine.dialect.name == "postgresql":
            holder.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                           {"key": dataset_lock_key("busy")})
            process = flask(database_url, "load-bids", str(root), "--dataset", "BUSY",
                            "--register")
            code, (_, stderr) = process.wait(120), process.communicate()
            assert code == 2
            assert ("Error: another load of BUSY is running: try again when it is done "
                    "(nothing was written)") in stderr
            holder.rollback()
        else:
            raw = sqlite3.connect(engine.url.database, isolation_level=None)
            raw.execute("BEGIN IMMEDIATE")  # another writer holds the database
            process = flask(database_url, "load-bids", str(root), "--dataset", "BUSY",
                            "--register")
            time.sleep(2)
            assert process.poll() is None  # it waits rather than failing
            raw.execute("ROLLBACK")
            raw.close()
            code, (_, stderr) = process.wait(120), process.communicate()
            assert code == 0, stderr
    engine.dispose()
