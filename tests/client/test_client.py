"""mbid_client against a live server (HTTP on 127.0.0.1), on SQLite and PostgreSQL, with local
and S3 storage: typed DataFrames, paging, errors, cohorts, and downloads with resume."""
from __future__ import annotations

import hashlib

import pandas as pd
import pytest
import requests
from mbid_client import (
    BadRequest,
    ChecksumMismatch,
    Client,
    Forbidden,
    NotFound,
    ServerError,
    Unauthorized,
)
from mbid_client import client as client_module

from app.models import QcState, Scope
from tests.support.factories import make_api_key
from tests.support.servers import FlakyServer, RequestLog


def api_total(live_server, token, path, **params) -> int:
    answer = requests.get(f"{live_server.url}/api/v1{path}", params=params,
                          headers={"Authorization": f"Bearer {token}"}, timeout=30)
    return answer.json()["total"]


def test_images_are_a_typed_frame_equal_to_the_apis_total(mbid, live_server, token, world):
    frame = mbid.images(type="T1", sex="female", age_min=60)
    assert frame.shape[0] == api_total(live_server, token, "/images", type="T1", sex="female",
                                       age_min=60) == 4
    assert world.names("images", frame["id"].tolist()) == ["i1", "i3", "i6", "i8"]
    assert (str(frame["id"].dtype), str(frame["age_at_scan"].dtype),
            str(frame["dataset"].dtype)) == ("Int64", "Float64", "string")
    assert list(frame.columns)[:3] == ["id", "dataset", "subject_id"]


def test_pages_are_walked_by_cursor(mbid, world, monkeypatch):
    monkeypatch.setattr(client_module, "PER_PAGE", 3)
    frame = mbid.images()
    assert world.names("images", frame["id"].tolist()) == [
        "i1", "i2", "i3", "i4", "i5", "i6", "i7", "i8"]


def test_subjects_visits_and_stats(mbid, world):
    subjects = mbid.subjects(visit_has_type=["T1", "DWI"])
    assert subjects["external_id"].tolist() == ["ann"]
    visits = mbid.visits(dataset="BETA")
    assert visits["external_id"].tolist() == ["c0", "c1", "d0", "e0"]
    assert visits["days_since_baseline"].isna().tolist() == [False] * 4
    stats = mbid.stats(type="T1")
    assert (stats["images"], stats["subjects"]) == (5, 4)
    assert stats["sex"].set_index("sex")["images"].to_dict() == {"female": 4, "male": 1}
    assert str(stats["groups"]["images"].dtype) == "Int64"


def test_read_helpers_cover_datasets_single_rows_and_master_lists(mbid, session, world):
    datasets = mbid.datasets()
    assert datasets["designation"].tolist() == ["ALPHA", "BETA"]  # GONE is deleted
    assert datasets.set_index("designation")["subject_count"].to_dict() == {"ALPHA": 2, "BETA": 3}
    beta = mbid.dataset("beta")
    assert (beta["id"], beta["designation"]) == (world.id("datasets", "BETA"), "BETA")
    assert mbid.dataset(world.id("datasets", "ALPHA"))["designation"] == "ALPHA"
    for missing in ("GONE", "nope"):
        with pytest.raises(NotFound, match=f"no dataset '{missing}'"):
            mbid.dataset(missing)

    i5 = world.id("images", "i5")
    image = mbid.image(i5)
    assert (image["id"], image["type"], image["dataset"]) == (i5, "rsfMRI", "BETA")
    subject = mbid.subject(world.id("subjects", "cat"))
    assert sorted(visit["external_id"] for visit in subject["visits"]) == ["c0", "c1"]
    assert [i["id"] for i in mbid.visit(world.id("visits", "c1"))["images"]] == [i5]
    assert mbid.image_qc(i5)["qc_state"] == "new"
    assert mbid.derived(i5) == []
    assert mbid.conditions()["designation"].tolist() == sorted(
        condition.designation for condition in world.conditions.values())
    assert sorted(mbid.scanners(dataset="BETA")["manufacturer"].str.lower()) == ["philips"]
    assert mbid.load_runs().empty

    world.images["i5"].qc_state = QcState.BLACKLISTED
    session.commit()
    with pytest.raises(NotFound):
        mbid.image(i5)
    assert mbid.image(i5, qc="all")["qc_state"] == "blacklisted"


def test_meta_filters_pass_through(mbid, world):
    frame = mbid.images(meta={"RepetitionTime_max": 2.5})
    assert world.names("images", frame["id"].tolist()) == ["i1"]


def test_errors_are_typed_and_carry_the_apis_message(mbid, live_server, session, world):
    with pytest.raises(BadRequest) as bad:
        mbid.images(age_min="old")
    assert "age_min" in bad.value.errors and "Not a valid number" in bad.value.message
    with pytest.raises(NotFound, match="no cohort with id 999999"):
        mbid.cohort(999999)
    with pytest.raises(Unauthorized, match="invalid or revoked API key"):
        Client(live_server.url, "mbid_wrong").images()
    from app.models import Scope
    from tests.support.factories import make_api_key

    _, reader = make_api_key(session, scopes=[Scope.READ])
    session.commit()
    with pytest.raises(Forbidden, match="lacks the 'write' scope"):
        Client(live_server.url, reader).create_cohort("no", type="T1")


def test_transient_errors_are_retried():
    """A server that fails twice with 503 (Retry-After: 0), then answers: one call succeeds."""
    with FlakyServer([503, 503], {"images": 8}) as server:
        assert Client(server.url, "t", retries=3).get_json("/stats") == {"images": 8}
    assert server.requests == [("GET", "/api/v1/stats")] * 3


def test_a_get_gives_up_after_its_retries_with_the_servers_error():
    with FlakyServer([502, 504, 429], {"images": 8}) as server, \
            pytest.raises(ServerError, match="504: busy"):
        Client(server.url, "t", retries=1, backoff=0.01).get_json("/stats")
    assert len(server.requests) == 2


@pytest.mark.parametrize(("status", "calls"), [(503, 2), (429, 2)])
def test_a_post_is_repeated_when_the_server_did_nothing(status, calls):
    with FlakyServer([status], {"id": 1}) as server:
        Client(server.url, "t", retries=2).request("POST", "/cohorts", json={"name": "x"})
    assert server.requests == [("POST", "/api/v1/cohorts")] * calls


def test_a_post_is_not_repeated_after_a_gateway_error():
    """A 502 may come after the server acted: repeating the POST could do it twice."""
    with FlakyServer([502], {"id": 1}) as server, pytest.raises(ServerError, match="502"):
        Client(server.url, "t", retries=2).request("POST", "/cohorts", json={"name": "x"})
    assert server.requests == [("POST", "/api/v1/cohorts")]


def test_cohort_create_manifest_and_diff(mbid, session, world, stored_files):
    cohort = mbid.create_cohort("women", sex="female", type=["T1"])
    assert cohort.image_count == 4 and [c.id for c in mbid.cohorts()] == [cohort.id]
    manifest = mbid.manifest(cohort)
    assert manifest["path"].tolist() == ["ALPHA/ann/i1.nii.gz", "ALPHA/ann/i3.nii.gz",
                                         "BETA/cat/i6.nii.gz", "BETA/eve/i8.nii.gz"]
    assert str(manifest["file_size"].dtype) == "Int64" and "url" not in manifest
    assert mbid.diff(cohort).same

    world.images["i8"].deleted_at = world.images["i9"].deleted_at
    session.commit()
    diff = mbid.diff(cohort.id)
    assert not diff.same and diff.removed["path"].tolist() == ["BETA/eve/i8.nii.gz"]
    assert diff.added.empty and diff.unchanged == 3
    mbid.delete_cohort(cohort)
    assert mbid.cohorts() == []


def read_tree(root) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes()
            for path in sorted(root.rglob("*")) if path.is_file()}


def test_download_writes_identical_files_and_resumes_after_an_interruption(
        app, mbid, world, stored_files, storage_backend, s3_server, tmp_path):
    cohort = mbid.create_cohort("all", dataset=["ALPHA", "BETA"])
    dest = tmp_path / "cohort"

    def interrupt_after_three(path, outcome):
        done.append(path)
        if len(done) == 3:
            raise KeyboardInterrupt

    done: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        mbid.download(cohort, dest, progress=False, on_file=interrupt_after_three)
    assert len(read_tree(dest)) == 3
    # A partial file left by a cut connection: resumed or fetched again, and verified.
    partial = dest / "BETA" / "cat" / "i5.nii.gz.part"
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.write_bytes(stored_files["BETA/cat/i5.nii.gz"][:4])

    log = RequestLog(app.wsgi_app)
    app.wsgi_app = log
    s3_log_start = s3_server.log_size()
    try:
        report = mbid.download(cohort, dest, progress=False)
    finally:
        app.wsgi_app = log.wsgi_app
    assert sorted(report.skipped) == sorted(done)
    assert report.resumed == ["BETA/cat/i5.nii.gz"]
    assert len(report.downloaded) == len(stored_files) - len(done) - 1
    assert read_tree(dest) == stored_files
    # Only the missing bytes were asked for and sent: by the server itself (local storage), or
    # by object storage at the presigned URL the client was given (S3's own log).
    if storage_backend == "local":
        i5 = [(entry["range"], entry["status"], entry["sent"]) for entry in log.entries
              if entry["path"] == f"/api/v1/images/{world.id('images', 'i5')}/download"]
        assert i5 == [("bytes=4-", 206, len(stored_files["BETA/cat/i5.nii.gz"]) - 4)]
    else:
        i5 = [(method, status) for method, path, status in s3_server.requests_since(s3_log_start)
              if path.endswith("/BETA/cat/i5.nii.gz")]
        assert i5 == [("GET", 206)]


def test_download_of_a_query_and_a_bad_checksum(mbid, session, world, stored_files, tmp_path):
    report = mbid.download({"dataset": "BETA", "type": "T1"}, tmp_path, progress=False)
    assert sorted(report.downloaded) == ["BETA/cat/i6.nii.gz", "BETA/eve/i8.nii.gz"]
    assert read_tree(tmp_path) == {key: stored_files[key]
                                   for key in ("BETA/cat/i6.nii.gz", "BETA/eve/i8.nii.gz")}

    world.images["i4"].checksum = hashlib.sha256(b"something else").hexdigest()
    session.commit()
    with pytest.raises(ChecksumMismatch) as mismatch:
        mbid.download({"dataset": "ALPHA", "type": "T1"}, tmp_path / "alpha", progress=False)
    assert mismatch.value.paths == ["ALPHA/bob/i4.nii.gz"]
    assert not (tmp_path / "alpha" / "ALPHA" / "bob" / "i4.nii.gz").exists()
    assert (tmp_path / "alpha" / "ALPHA" / "ann" / "i1.nii.gz").read_bytes() == stored_files[
        "ALPHA/ann/i1.nii.gz"]


def test_frames_keep_their_columns_when_nothing_matches(mbid, world):
    frame = mbid.images(sex="other")
    assert frame.empty and isinstance(frame, pd.DataFrame)
    assert "age_at_scan" in frame.columns and str(frame["id"].dtype) == "Int64"


def test_download_draws_its_progress_on_stderr(mbid, world, stored_files, tmp_path, capsys):
    mbid.download({"dataset": "ALPHA"}, tmp_path, progress=True)
    size = sum(len(stored_files[key]) for key in stored_files if key.startswith(("ann", "bob")))
    last = capsys.readouterr().err.split("\r")[-1]
    assert last == f"[{'#' * 30}] 4/4 files, {size / 1e6:.1f}/{size / 1e6:.1f} MB\n"


def test_a_counts_only_key_gets_stats_with_small_counts_as_text(live_server, session, world):
    _, counts_token = make_api_key(session, scopes=[Scope.AGGREGATE])
    session.commit()
    counts = Client(live_server.url, counts_token, retries=1, backoff=0.01)
    stats = counts.stats()
    assert (stats["images"], stats["subjects"]) == (8, 5)
    by_sex = stats["sex"].set_index("sex")
    assert by_sex["images"].tolist() == [6, "<5", "<5"]
    assert str(by_sex["subjects"].dtype) == "string"
    with pytest.raises(Forbidden, match="lacks the 'read' scope"):
        counts.images()
