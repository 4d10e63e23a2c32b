"""POST /claims and the lease routes over HTTP: scopes, filters, tokens, outputs, failures."""
from __future__ import annotations

import hashlib
import threading

import pytest
from mbid_client import Client
from sqlalchemy import select

from app.models import Claim, PreprocessTaskFile, Scope
from app.processing.provenance import with_id
from tests.support.apps import table_counts
from tests.support.factories import bearer, make_api_key, make_image, make_subject
from tests.support.servers import LiveServer

pytestmark = pytest.mark.storage("local")


@pytest.fixture
def worker(session, world):
    """POST/PUT as a key with the worker scope: worker("post", "/claims", json=...)."""
    _, token = make_api_key(session, scopes=[Scope.WORKER, Scope.READ])
    session.commit()
    return token


def call(client, token, method, path, headers=None, **kwargs):
    return getattr(client, method)(f"/api/v1{path}", headers={**bearer(token), **(headers or {})},
                                   **kwargs)


def claim_body(**overrides):
    return {"task": "mask", "worker": "test", **overrides}


def test_claiming_needs_the_worker_scope(client, session, world):
    _, reader = make_api_key(session, scopes=[Scope.READ])
    session.commit()
    response = call(client, reader, "post", "/claims", json=claim_body())
    assert response.status_code == 403
    assert response.get_json()["message"] == "this API key lacks the 'worker' scope"


def test_claim_takes_filtered_images_once(client, world, worker):
    first = call(client, worker, "post", "/claims", json=claim_body(limit=10),
                 query_string={"type": "T1", "dataset": "ALPHA"})
    assert first.status_code == 200, first.get_json()
    items = first.get_json()["items"]
    assert world.names("images", [item["image_id"] for item in items]) == ["i1", "i3", "i4"]
    assert items[0]["images"] == [{"id": world.id("images", "i1"), "type": "T1",
                                   "path": "ALPHA/ann/i1.nii.gz", "checksum": "c1",
                                   "file_size": 1001}]
    assert {item["state"] for item in items} == {"leased"}
    again = call(client, worker, "post", "/claims", json=claim_body(limit=10),
                 query_string={"type": "T1", "dataset": "ALPHA"})
    assert again.get_json() == {"items": []}


@pytest.mark.parametrize("query, body, parameter", [
    ({"colour": "red"}, claim_body(), "colour"),
    ({"dataset": "NOPE"}, claim_body(), "dataset"),
    ({}, claim_body(limit=0), "limit"),
    ({}, claim_body(task="a b"), "task"),
    ({}, {"task": "mask"}, "worker"),
    ({}, claim_body(extra=1), "extra"),
])
def test_bad_claim_requests_name_the_parameter(client, worker, query, body, parameter):
    response = call(client, worker, "post", "/claims", json=body, query_string=query)
    assert response.status_code == 400
    assert parameter in response.get_json()["errors"]


def test_a_key_claims_only_the_datasets_it_sees(client, session, world):
    _, token = make_api_key(session, scopes=[Scope.WORKER], datasets=[world.datasets["BETA"]])
    session.commit()
    items = call(client, token, "post", "/claims", json=claim_body(limit=20)).get_json()["items"]
    assert world.names("images", [item["image_id"] for item in items]) == ["i5", "i6", "i7",
                                                                           "i8"]


def test_a_subject_claim_lists_the_subjects_images(client, world, worker):
    items = call(client, worker, "post", "/claims", json=claim_body(per_subject=True),
                 query_string={"dataset": "ALPHA"}).get_json()["items"]
    assert [(item["subject_id"], item["image_id"]) for item in items] == [
        (world.id("subjects", "ann"), None)]
    assert world.names("images", [image["id"] for image in items[0]["images"]]) == [
        "i1", "i2", "i3"]


def test_upload_complete_and_the_lease_token(client, session, world, worker):
    lease = call(client, worker, "post", "/claims", json=claim_body(),
                 query_string={"type": "DWI"}).get_json()["items"][0]
    claim_id, token = lease["claim_id"], lease["lease_token"]
    assert call(client, worker, "post", f"/claims/{claim_id}/renew",
                json={"lease_token": "wrong"}).status_code == 409
    renewed = call(client, worker, "post", f"/claims/{claim_id}/renew",
                   json={"lease_token": token, "lease_seconds": 600})
    assert renewed.status_code == 200
    assert renewed.get_json()["lease_expires_at"] > lease["lease_expires_at"]

    refused = call(client, worker, "put", f"/claims/{claim_id}/files/mask.nii.gz",
                   data=b"mask", headers={"X-Lease-Token": "wrong"})
    assert refused.status_code == 409
    upload = call(client, worker, "put", f"/claims/{claim_id}/files/mask.nii.gz", data=b"mask",
                  headers={"X-Lease-Token": token})
    assert upload.status_code == 201
    key = f"derived/mask/image-{world.id('images', 'i2')}/mask.nii.gz"
    assert upload.get_json() == {"key": key, "size": 4,
                                 "sha256": hashlib.sha256(b"mask").hexdigest()}
    record = {"module": {"name": "mask", "version": "1"}, "container": None, "user": "u@h",
              "start_time": "2026-12-01T12:00:00+00:00", "duration": 1.5,
              "inputs": [{"key": "ALPHA/ann/i2.nii.gz", "sha256": "0" * 64}],
              "outputs": [{"key": key, "sha256": "f" * 64}], "parameters": {}, "command": "x"}
    outputs = [{"key": key, "file_type": "brain_mask", "qc_value": 0.5}]
    before = table_counts()
    wrong = call(client, worker, "post", f"/claims/{claim_id}/complete",
                 json={"lease_token": token, "outputs": outputs, "provenance": record})
    assert wrong.status_code == 400
    assert "is not the record's" in wrong.get_json()["message"]
    assert table_counts() == before

    record["outputs"][0]["sha256"] = hashlib.sha256(b"mask").hexdigest()
    done = call(client, worker, "post", f"/claims/{claim_id}/complete",
                json={"lease_token": token, "outputs": outputs, "provenance": record})
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert body["claim"]["state"] == "done"
    assert body["provenance_id"] == with_id(record)["id"]
    row = session.get(PreprocessTaskFile, body["derived_ids"][0])
    assert (row.path, row.file_size, row.qc_value) == (key, 4, 0.5)
    assert call(client, worker, "post", f"/claims/{claim_id}/complete",
                json={"lease_token": token, "outputs": [], "provenance": record}
                ).status_code == 409


def test_failures_are_retried_up_to_the_configured_count(client, session, world, worker):
    states = []
    for _ in range(3):
        lease = call(client, worker, "post", "/claims", json=claim_body(),
                     query_string={"type": "FieldMap"}).get_json()["items"][0]
        failed = call(client, worker, "post", f"/claims/{lease['claim_id']}/fail",
                      json={"lease_token": lease["lease_token"], "error": "disk full"})
        states.append(failed.get_json()["state"])
    assert states == ["pending", "pending", "failed"]
    assert call(client, worker, "post", "/claims", json=claim_body(),
                query_string={"type": "FieldMap"}).get_json() == {"items": []}
    row = session.scalar(select(Claim).where(Claim.image_id == world.id("images", "i7")))
    assert (row.failures, row.last_error) == (3, "disk full")


def test_concurrent_workers_over_http_complete_each_image_once(app, session):
    """Four threads claim and complete 60 images through a live server at once."""
    subject = make_subject(session)
    images = [make_image(session, subject=subject) for _ in range(60)]
    _, token = make_api_key(session, scopes=[Scope.WORKER])
    session.commit()
    designation = subject.dataset.designation
    record = {"module": {"name": "noop", "version": "1"}, "container": None, "user": "u@h",
              "start_time": "2026-12-01T12:00:00+00:00", "duration": 0, "inputs": [],
              "outputs": [], "parameters": {}, "command": "noop"}
    completed: list[int] = []
    errors: list[Exception] = []

    def work(api: Client, name: str) -> None:
        try:
            while True:
                leases = api.request("POST", "/claims", params={"dataset": designation},
                                     json=claim_body(task="noop", worker=name, limit=3))
                leases = leases.json()["items"]
                if not leases:
                    return
                for lease in leases:
                    api.request("POST", f"/claims/{lease['claim_id']}/complete", json={
                        "lease_token": lease["lease_token"], "provenance": record})
                    completed.append(lease["image_id"])
        except Exception as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)

    with LiveServer(app) as server:
        threads = [threading.Thread(target=work, args=(Client(server.url, token),
                                                       f"worker-{n}")) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []
    assert sorted(completed) == [image.id for image in images]


@pytest.mark.parametrize("body", [b"\x10D\xff", b"{not json", b"[]"])
def test_a_body_that_is_not_a_json_object_is_a_400(client, worker, body):
    response = call(client, worker, "post", "/claims", data=body,
                    headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["status"] == 400 and response.get_json()["errors"]


@pytest.mark.parametrize("field, value", [
    ("worker", "a\x00b"), ("worker", "\ud800"), ("worker", "x" * 256), ("task", "a\x00"),
])
def test_text_the_database_cannot_store_is_a_400(client, worker, field, value):
    response = call(client, worker, "post", "/claims", json=claim_body(**{field: value}))
    assert response.status_code == 400
    assert list(response.get_json()["errors"]) == [field]


@pytest.mark.parametrize("bad", ["nul\x00", "\udc80"])
def test_a_provenance_record_with_unstorable_text_is_a_400(client, world, worker, bad):
    lease = call(client, worker, "post", "/claims", json=claim_body()).get_json()["items"][0]
    record = {"module": {"name": "m", "version": "1"}, "container": None, "user": "u@h",
              "start_time": "2026-12-01T12:00:00+00:00", "duration": 0, "inputs": [],
              "outputs": [], "parameters": {"note": bad}, "command": "x"}
    response = call(client, worker, "post", f"/claims/{lease['claim_id']}/complete",
                    json={"lease_token": lease["lease_token"], "provenance": record})
    assert response.status_code == 400
    assert list(response.get_json()["errors"]) == ["provenance"]
