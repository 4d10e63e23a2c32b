"""The worker kit against a live server: the example module over the bundled HCP data, on both
databases and both storage backends; provenance that verifies, and fails once tampered with."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from mbid_client import Client
from mbid_client.modules import BrainExtentMask
from mbid_client.worker import Module, Output, Worker, container_labels
from sqlalchemy import select

from app.models import Claim, Dataset, Image, PreprocessState, Scope
from app.storage import get_storage
from globals import DATA_DIR
from tests.support.examples import flask_load
from tests.support.factories import bearer, make_api_key
from tests.support.servers import LiveServer

HCP_IMAGES = 11


@pytest.fixture
def hcp(app, session) -> list[Image]:
    """The HCP example loaded, its files uploaded; its images in id order."""
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed"]).exit_code == 0
    assert flask_load(app, "HCP").exit_code == 0
    result = runner.invoke(args=["upload", "HCP", str(DATA_DIR / "HCP")])
    assert result.exit_code == 0, result.output
    session.expire_all()
    return session.scalars(select(Image).join(Dataset).where(Dataset.designation == "HCP")
                           .order_by(Image.id)).all()


@pytest.fixture
def worker_token(session) -> str:
    _, token = make_api_key(session, scopes=[Scope.WORKER, Scope.DOWNLOAD, Scope.READ])
    session.commit()
    return token


def canonical_sha256(record: Mapping[str, Any]) -> str:
    """The record id, computed here independently of app.processing.provenance."""
    body = {name: value for name, value in record.items() if name != "id"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def test_example_module_runs_over_hcp_with_verifiable_provenance(
        app, session, client, hcp, worker_token):
    assert len(hcp) == HCP_IMAGES
    with LiveServer(app) as server:
        worker = Worker(Client(server.url, worker_token), BrainExtentMask(),
                        parameters={"fraction": 0.2}, filters={"dataset": "HCP"},
                        lease_seconds=30, batch=4)
        assert worker.run() == {"completed": HCP_IMAGES, "failed": 0, "lost": 0}
        assert worker.run() == {"completed": 0, "failed": 0, "lost": 0}
    storage = get_storage()
    headers = bearer(worker_token)
    session.expire_all()
    assert {image.preprocessed for image in hcp} == {PreprocessState.MINIMAL}
    derived_ids = []
    for image in hcp:
        listing = client.get(f"/api/v1/images/{image.id}/derived", headers=headers).get_json()
        assert [(item["file_type"], item["module"], item["version"])
                for item in listing["items"]] == [("brain_mask", "brain_extent_mask", "1.0.0")]
        derived = client.get(f"/api/v1/derived/{listing['items'][0]['id']}",
                             headers=headers).get_json()
        record = derived["provenance"]
        assert record["id"] == canonical_sha256(record) == derived["provenance_id"]
        assert record["inputs"] == [{"key": image.path, "sha256": image.checksum}]
        key = f"derived/brain_extent_mask/image-{image.id}/{image.path.rsplit('/', 1)[-1][:-7]}"
        assert record["outputs"] == [{"key": f"{key}_mask.nii.gz",
                                      "sha256": derived["checksum"]}]
        output_bytes = storage.read(derived["path"])
        assert hashlib.sha256(output_bytes).hexdigest() == derived["checksum"]
        assert len(output_bytes) == derived["file_size"]
        assert json.loads(storage.read(derived["path"] + ".prov")) == record
        assert record["parameters"] == {"fraction": 0.2}
        assert record["module"] == {"name": "brain_extent_mask", "version": "1.0.0"}
        assert "@" in record["user"] and record["duration"] >= 0
        assert 0 < derived["qc_value"] < 1
        derived_ids.append(derived["id"])

    # The mask is a real mask of the input: same shape, only 0 and 1.
    verification = client.get(f"/api/v1/derived/{derived_ids[0]}/verify",
                              headers=headers).get_json()
    assert verification["valid"] and verification["id_matches"]
    assert [(item["role"], item["matches"]) for item in verification["files"]] == [
        ("input", True), ("output", True)]

    # Tampering: a changed output, then a changed .prov object, each fails verification.
    first = client.get(f"/api/v1/derived/{derived_ids[0]}", headers=headers).get_json()
    storage.put(first["path"], b"not the mask any more")
    tampered = client.get(f"/api/v1/derived/{derived_ids[0]}/verify",
                          headers=headers).get_json()
    assert not tampered["valid"]
    assert [(item["role"], item["matches"]) for item in tampered["files"]] == [
        ("input", True), ("output", False)]
    second = client.get(f"/api/v1/derived/{derived_ids[1]}", headers=headers).get_json()
    storage.put(second["path"] + ".prov", b'{"id": "forged"}')
    forged = client.get(f"/api/v1/derived/{derived_ids[1]}/verify",
                        headers=headers).get_json()
    assert not forged["valid"] and forged["prov_objects"][0]["matches"] is False
    untouched = client.get(f"/api/v1/derived/{derived_ids[2]}/verify",
                           headers=headers).get_json()
    assert untouched["valid"]


class Broken(Module):
    name, version = "broken", "0.1"

    def run(self, inputs: list[Path], parameters: Mapping[str, Any]) -> list[Output]:
        raise ValueError(f"cannot process {len(inputs)} input")


def test_a_failing_module_fails_its_claim_and_it_is_retried(app, session, hcp, worker_token):
    with LiveServer(app) as server:
        worker = Worker(Client(server.url, worker_token), Broken(),
                        filters={"dataset": "HCP"}, batch=1)
        assert worker.run(max_claims=2) == {"completed": 0, "failed": 2, "lost": 0}
    session.expire_all()
    claims = session.scalars(select(Claim).where(Claim.task == "broken")
                             .order_by(Claim.id)).all()
    # The first image failed twice (retried: PROCESSING_MAX_FAILURES is 3), still pending.
    assert [(c.image_id, c.failures, c.state.value) for c in claims[:1]] == [
        (hcp[0].id, 2, "pending")]
    assert claims[0].last_error == "ValueError: cannot process 1 input"
    assert hcp[0].preprocessed == PreprocessState.NONE


def test_container_labels_come_from_the_environment():
    assert container_labels({}) is None
    assert container_labels({"MBID_CONTAINER_IMAGE": "mbid/mask", "MBID_CONTAINER_TAG": "1.0",
                             "OTHER": "x"}) == {"image": "mbid/mask", "tag": "1.0"}


class SubjectSizes(Module):
    """Writes, for a whole subject, one small file per image: its size in bytes."""

    name, version = "subject_sizes", "1.0"

    def run(self, inputs: list[Path], parameters: Mapping[str, Any]) -> list[Output]:
        outputs = []
        for path in inputs:
            target = self.workdir / f"size-{path.parent.name}.txt"
            target.write_text(str(path.stat().st_size))
            outputs.append(Output(target, "size", image_id=int(path.parent.name)))
        return outputs


def test_a_subject_claim_processes_all_its_images_at_once(app, session, client, hcp,
                                                           worker_token):
    with LiveServer(app) as server:
        worker = Worker(Client(server.url, worker_token), SubjectSizes(),
                        filters={"dataset": "HCP"}, per_subject=True, batch=20)
        assert worker.run() == {"completed": HCP_IMAGES, "failed": 0, "lost": 0}
    claims = session.scalars(select(Claim).where(Claim.task == "subject_sizes")).all()
    assert {claim.image_id for claim in claims} == {None}
    for image in hcp:
        items = client.get(f"/api/v1/images/{image.id}/derived",
                           headers=bearer(worker_token)).get_json()["items"]
        assert [(item["file_type"], item["path"]) for item in items] == [
            ("size", f"derived/subject_sizes/subject-{image.subject_id}/size-{image.id}.txt")]
        assert get_storage().read(items[0]["path"]) == str(image.file_size).encode()
