"""load_file/upload.py: upload a tree to both backends as it is; skips, resume after a kill."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from app.extensions import db
from app.storage import LocalStorage, TransientStorageError, storage_from_config
from globals import ROOT
from load_file.check import compare_tree
from load_file.tree import plan_tree
from load_file.upload import UploadReport, upload_tree, with_retries
from tests.support.apps import make_app, new_bucket
from tests.support.dataset_tree import IGNORED, KEYS, T1_NII, TREE, write_tree
from tests.support.factories import make_dataset


def test_upload_stores_the_tree_as_it_is_and_leaves_out_hidden_files_and_archives(
        storage, tmp_path):
    source = write_tree(tmp_path / "src")
    report = upload_tree(storage, source, "DS", progress=False)

    assert (report.uploaded, report.skipped, report.failed) == (KEYS, [], {})
    assert report.ignored == IGNORED
    assert [info.key for info in storage.list("DS/")] == KEYS
    # Every file is stored byte for byte under its own name (a .nii stays .nii), with its
    # SHA-256 recorded.
    assert storage.read("DS/sub-01/anat/sub-01_T1w.nii") == T1_NII
    for relative in ("participants.tsv", "sub-01/anat/sub-01_T1w.nii",
                     "sub-02/dwi/sub-02_dwi.nii.gz", "sub-01/func/sub-01_task-rest_physio.tsv.gz"):
        assert storage.read(f"DS/{relative}") == TREE[relative]
        assert storage.stat(f"DS/{relative}").sha256 == hashlib.sha256(TREE[relative]).hexdigest()


def test_second_upload_skips_every_file(storage, tmp_path):
    source = write_tree(tmp_path / "src")
    upload_tree(storage, source, "DS", progress=False)
    again = upload_tree(storage, source, "DS", progress=False)
    assert (again.uploaded, again.skipped, again.failed) == ([], KEYS, {})


def test_a_changed_file_of_the_same_size_is_uploaded_again(storage, tmp_path):
    source = write_tree(tmp_path / "src")
    upload_tree(storage, source, "DS", progress=False)
    (source / "participants.tsv").write_bytes(b"participant_id\tsex\nsub-01\tM\nsub-02\tF\n")
    again = upload_tree(storage, source, "DS", progress=False)
    assert again.uploaded == ["DS/participants.tsv"]
    assert len(again.skipped) == 5
    assert storage.read("DS/participants.tsv") == b"participant_id\tsex\nsub-01\tM\nsub-02\tF\n"


def test_dry_run_uploads_nothing(storage, tmp_path):
    source = write_tree(tmp_path / "src")
    storage.put("DS/participants.tsv", TREE["participants.tsv"])
    report = upload_tree(storage, source, "DS", dry_run=True, progress=False)
    assert report.uploaded == [key for key in KEYS if key != "DS/participants.tsv"]
    assert report.skipped == ["DS/participants.tsv"]
    assert [info.key for info in storage.list("DS/")] == ["DS/participants.tsv"]
    assert report.summary().startswith("to upload: 5, skipped (already present): 1")


def test_plan_puts_the_tree_under_the_prefix(tmp_path):
    source = write_tree(tmp_path / "src")
    plan = plan_tree(source, "")
    assert [item.key for item in plan.files] == [key.removeprefix("DS/") for key in KEYS]
    assert (plan.ignored, plan.refused) == (IGNORED, {})


def test_a_file_that_cannot_be_stored_is_reported_and_the_others_go(tmp_path):
    storage = LocalStorage(tmp_path / "storage")
    # A folder where the object's file should go: the local backend cannot write it.
    storage.put("DS/participants.tsv/blocker", b"x")
    report = upload_tree(storage, write_tree(tmp_path / "src"), "DS", progress=False)
    assert list(report.failed) == ["DS/participants.tsv"]
    assert "Is a directory" in report.failed["DS/participants.tsv"]
    assert report.uploaded == [key for key in KEYS if key != "DS/participants.tsv"]
    assert not report.ok
    assert "  failed DS/participants.tsv: " in report.summary()


def test_with_retries_retries_transient_errors_then_gives_up():
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise TransientStorageError("503 Slow Down")
        return "done"

    assert with_retries(flaky, attempts=3, backoff=0, what="k") == "done"
    assert len(calls) == 3
    calls.clear()
    with pytest.raises(TransientStorageError, match="Slow Down"):
        with_retries(flaky, attempts=2, backoff=0, what="k")
    assert len(calls) == 2


def test_upload_multipart_above_the_threshold(cos_storage, tmp_path):
    big = os.urandom(6 * 1024 * 1024)
    source = write_tree(tmp_path / "src", {"sub-01/dwi/sub-01_dwi.nii.gz": big})
    cos_storage.multipart_threshold = 1024 * 1024
    report = upload_tree(cos_storage, source, "DS", progress=False)
    assert report.uploaded == ["DS/sub-01/dwi/sub-01_dwi.nii.gz"]
    info = cos_storage.stat("DS/sub-01/dwi/sub-01_dwi.nii.gz")
    assert info.etag.endswith("-2")  # two parts: 5 MiB and 1 MiB
    assert info.sha256 == hashlib.sha256(big).hexdigest()
    assert cos_storage.read("DS/sub-01/dwi/sub-01_dwi.nii.gz") == big
    assert upload_tree(cos_storage, source, "DS", progress=False).skipped == [
        "DS/sub-01/dwi/sub-01_dwi.nii.gz"]


def _count_puts(storage) -> list[str]:
    """Record the key of every PUT request the storage's S3 client sends."""
    sent: list[str] = []
    for event in ("PutObject", "CreateMultipartUpload"):
        storage.client.meta.events.register(
            f"before-send.s3.{event}", lambda request, **_: sent.append(request.url))
    return sent


def test_upload_killed_midway_resumes_without_resending(s3_server, tmp_path):
    """Kill a real upload process after some objects exist, re-run: the rest is sent, only."""
    files = {f"sub-{n:03d}/anat/sub-{n:03d}_T1w.nii": os.urandom(512 * 1024) for n in range(60)}
    source = write_tree(tmp_path / "src", files)
    bucket = new_bucket(s3_server)
    settings = s3_server.settings(bucket)
    database_url = f"sqlite:///{tmp_path / 'mbid.db'}"
    app = make_app(database_url)
    with app.app_context():
        db.create_all()
        make_dataset(db.session, designation="KILL", storage_prefix="kill/prefix")
        db.session.commit()
        db.engine.dispose()

    env = {**os.environ, "FLASK_CONFIG": "testing", "DATABASE_URL": database_url,
           **{name: value if isinstance(value, str) else json.dumps(value)
              for name, value in settings.items()}}
    log_path = tmp_path / "upload.log"
    storage = storage_from_config(settings)
    with log_path.open("wb") as log_file:
        # Run from an unrelated folder: the script must not depend on the working directory.
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "load_file" / "upload.py"), "KILL", str(source),
             "--workers", "1"], cwd=tmp_path, env=env, stdout=log_file, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and process.poll() is None:
                if len(list(storage.list("kill/prefix/"))) >= 5:
                    break
                time.sleep(0.05)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
    assert process.returncode == -signal.SIGKILL, log_path.read_text()

    before = [info.key for info in storage.list("kill/prefix/")]
    assert 5 <= len(before) < 60, log_path.read_text()
    every_key = sorted(f"kill/prefix/{relative}" for relative in files)

    puts = _count_puts(storage)
    report = upload_tree(storage, source, "kill/prefix", workers=2, progress=False)

    assert report.skipped == before
    assert report.uploaded == sorted(set(every_key) - set(before))
    assert report.failed == {}
    assert len(puts) == 60 - len(before)  # one PUT per missing file, none for the others
    assert [info.key for info in storage.list("kill/prefix/")] == every_key
    assert compare_tree(storage, source, "kill/prefix", progress=False) == []


def test_report_summary_counts():
    report = UploadReport(uploaded=["a"], skipped=["b", "c"], failed={"d": "boom"},
                          ignored={".x": "hidden file"})
    assert report.summary() == ("uploaded: 1, skipped (already present): 2, ignored (hidden "
                                "files, archives): 1, failed: 1\n  failed d: boom")
