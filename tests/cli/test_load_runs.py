"""A load records `running` before its transaction: one killed with SIGKILL mid-load is seen
as `interrupted` by /load_runs and `flask load-runs`, having written nothing else. Registering
and deleting a dataset are in the audit log."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.pool import NullPool

from app.models import AuditEvent, Dataset, LoadRun, LoadStatus, Subject
from globals import ROOT
from tests.support.factories import bearer, make_api_key
from tests.support.files import write_tree

SUBJECTS = 3000
KILL_WITHIN = 120  # seconds: the load must have started by then


def bids_tree(root, subjects: int):
    """A BIDS dataset of `subjects` subjects with one T1w each (big enough to take a while)."""
    files = {"dataset_description.json": '{"Name": "killed", "BIDSVersion": "1.8.0"}',
             "participants.tsv": "participant_id\tage\n" + "".join(
                 f"sub-{n:05d}\t{20 + n % 60}\n" for n in range(subjects))}
    for n in range(subjects):
        files[f"sub-{n:05d}/anat/sub-{n:05d}_T1w.nii.gz"] = b"\x1f\x8b stand-in"
        files[f"sub-{n:05d}/anat/sub-{n:05d}_T1w.json"] = '{"RepetitionTime": 2.3}'
    return write_tree(root, files)


def running_run(engine) -> int | None:
    with engine.connect() as connection:
        return connection.execute(text("SELECT id FROM load_run WHERE status = 'running'")
                                  ).scalar()


def test_a_load_killed_with_sigkill_is_shown_interrupted(app, session, database_url,
                                                         tmp_path):
    root = bids_tree(tmp_path / "bids", SUBJECTS)
    env = {**os.environ, "FLASK_APP": "app", "FLASK_CONFIG": "testing",
           "DATABASE_URL": database_url}
    engine = create_engine(database_url, poolclass=NullPool)
    log = tmp_path / "load.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "load-bids", "KILLED", str(root), "--register"],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + KILL_WITHIN
            while time.monotonic() < deadline and process.poll() is None:
                if running_run(engine) is not None:
                    break
                time.sleep(0.01)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
    engine.dispose()
    assert process.returncode == -signal.SIGKILL, log.read_text()

    session.expire_all()
    run = session.scalar(select(LoadRun))
    assert (run.status, run.pid, run.finished_at, run.loader) == (
        LoadStatus.RUNNING, process.pid, None, "load-bids")
    # Nothing of the load itself was written: not even the dataset it registers.
    assert session.scalar(select(func.count()).select_from(Subject)) == 0
    assert session.scalar(select(Dataset).where(Dataset.designation == "KILLED")) is None

    _, token = make_api_key(session)
    session.commit()
    listed = app.test_client().get("/api/v1/load_runs", headers=bearer(token)).get_json()
    assert [(item["id"], item["status"], item["finished_at"]) for item in listed["items"]] == [
        (run.id, "interrupted", None)]
    assert "pid" not in listed["items"][0] and "host" not in listed["items"][0]
    shown = app.test_cli_runner().invoke(args=["load-runs", "--json"])
    assert [(item["id"], item["status"]) for item in json.loads(shown.output)] == [
        (run.id, "interrupted")]
    assert "\tload-bids\t-\tinterrupted" in app.test_cli_runner().invoke(
        args=["load-runs"]).output


def test_a_load_records_running_then_how_it_ended(app, session, tmp_path):
    root = bids_tree(tmp_path / "bids", 2)
    runner = app.test_cli_runner()
    loaded = runner.invoke(args=["load-bids", "SMALL", str(root), "--register"])
    assert loaded.exit_code == 0, loaded.output
    session.expire_all()
    run = session.scalar(select(LoadRun))
    assert (run.status, run.pid, run.finished_at is not None, run.dataset_id is not None) == (
        LoadStatus.SUCCEEDED, os.getpid(), True, True)
    # A failed load finishes its own row as failed (one row per run): here a participant twice.
    participants = root / "participants.tsv"
    participants.write_text(participants.read_text() + "sub-00000\t40\n")
    failed = runner.invoke(args=["load-bids", "SMALL", str(root)])
    assert failed.exit_code == 2, failed.output
    session.expire_all()
    assert [run.status for run in session.scalars(select(LoadRun).order_by(LoadRun.id))] == [
        LoadStatus.SUCCEEDED, LoadStatus.FAILED]


def test_registering_and_deleting_a_dataset_is_audited(app, session, tmp_path):
    root = bids_tree(tmp_path / "bids", 1)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["load-bids", "NEWSET", str(root), "--register",
                               "--dry-run"]).exit_code == 0
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0  # rolled back
    assert runner.invoke(args=["load-bids", "NEWSET", str(root),
                               "--register"]).exit_code == 0
    assert runner.invoke(args=["dataset", "delete", "NEWSET"]).exit_code == 0
    assert runner.invoke(args=["dataset", "delete", "NEWSET", "--purge", "--yes"]).exit_code == 0
    session.expire_all()
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(event.action.value, event.key_name.startswith("cli:"),
             [dataset.designation for dataset in event.datasets],
             {name: event.details[name] for name in ("dataset", "purge") if name in event.details})
            for event in events] == [
        ("dataset_register", True, [], {"dataset": "NEWSET"}),  # its link went with the purge
        ("dataset_delete", True, [], {"dataset": "NEWSET", "purge": False}),
        ("dataset_delete", True, [], {"dataset": "NEWSET", "purge": True}),
    ]
    logged = runner.invoke(args=["audit", "--action", "dataset_delete"]).output
    assert logged.count("\tdataset_delete\t-\t") == 2
