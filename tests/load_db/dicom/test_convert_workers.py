"""Two `flask convert` processes on one dataset at once: through the claims of the dcm2niix
task, every image of the shared DICOM corpus is converted exactly once."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import Claim, ClaimState, ConvertedFile, Image
from app.storage import get_storage
from globals import ROOT
from load_file.upload import upload_tree

pytestmark = pytest.mark.storage("local")

WORKERS = ("w1", "w2")


def start_convert(app: Flask, worker: str) -> subprocess.Popen:
    """`flask convert X --json --worker WORKER` in a process of its own, on the app's database
    and storage."""
    environment = {**os.environ, "FLASK_APP": "run.py", "FLASK_CONFIG": "testing",
                   "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
                   "STORAGE_BACKEND": "local",
                   "LOCAL_STORAGE_ROOT": app.config["LOCAL_STORAGE_ROOT"]}
    return subprocess.Popen([sys.executable, "-m", "flask", "convert", "X", "--json",
                             "--worker", worker], cwd=ROOT, env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_workers_convert_each_image_once(app, seeded, corpus):
    upload_tree(get_storage(), corpus, "X", progress=False)
    loaded = app.test_cli_runner().invoke(args=["load-dicom", str(corpus), "--dataset", "X",
                                                "--register", "--workers", "1"])
    assert loaded.exit_code == 0, loaded.output
    image_ids = set(db.session.scalars(select(Image.id)))
    db.session.commit()

    processes = [start_convert(app, worker) for worker in WORKERS]
    reports = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        reports.append(json.loads(out))
    converted = [[item["image_id"] for item in report["images"]] for report in reports]
    assert sorted(converted[0] + converted[1]) == sorted(image_ids)
    claims = db.session.execute(select(Claim.image_id, Claim.state, Claim.attempts, Claim.worker)
                                .where(Claim.task == "dcm2niix")).all()
    assert sorted(row.image_id for row in claims) == sorted(image_ids)
    assert {(row.state, row.attempts) for row in claims} == {(ClaimState.DONE, 1)}
    assert {row.image_id: row.worker for row in claims} == {
        image_id: worker for worker, ids in zip(WORKERS, converted, strict=True)
        for image_id in ids}
    assert set(db.session.scalars(select(ConvertedFile.image_id).where(
        ConvertedFile.role == "nifti"))) == image_ids
