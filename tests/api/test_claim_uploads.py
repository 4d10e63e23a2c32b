"""Uploads of claim outputs: streamed to storage through a spooled file, within their own size
limit (MAX_OUTPUT_UPLOAD_BYTES), past the JSON bodies' MAX_CONTENT_LENGTH; on both storage
backends."""
from __future__ import annotations

import hashlib
import io
import os

import pytest

from app.models import Scope
from app.processing.outputs import UPLOAD_SPOOL_BYTES
from app.storage import get_storage
from tests.support.factories import bearer, make_api_key

OUTPUT_LIMIT = 3 * 1024 * 1024


pytestmark = pytest.mark.storage("each")


@pytest.fixture
def limits(app):
    """Small limits for this test: JSON bodies of 1 KB, outputs of 3 MiB."""
    saved = {name: app.config[name] for name in ("MAX_CONTENT_LENGTH", "MAX_OUTPUT_UPLOAD_BYTES")}
    app.config.update(MAX_CONTENT_LENGTH=1024, MAX_OUTPUT_UPLOAD_BYTES=OUTPUT_LIMIT)
    yield
    app.config.update(saved)


@pytest.fixture
def held(client, session, world, limits):
    """(worker headers, claim id, lease token) of a claim on an image."""
    _, token = make_api_key(session, scopes=[Scope.WORKER, Scope.READ])
    session.commit()
    headers = bearer(token)
    lease = client.post("/api/v1/claims?type=DWI", json={"task": "mask", "worker": "w"},
                        headers=headers).get_json()["items"][0]
    return {**headers, "X-Lease-Token": lease["lease_token"]}, lease["claim_id"]


def test_an_output_past_the_body_limit_is_streamed_to_storage(client, world, held):
    headers, claim_id = held
    content = os.urandom(2 * UPLOAD_SPOOL_BYTES + 123)  # spooled to a temporary file
    response = client.put(f"/api/v1/claims/{claim_id}/files/big.nii.gz", data=content,
                          headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    key = f"derived/mask/image-{world.id('images', 'i2')}/big.nii.gz"
    assert response.get_json() == {"key": key, "size": len(content),
                                   "sha256": hashlib.sha256(content).hexdigest()}
    assert get_storage().read(key) == content


def test_an_output_past_its_limit_is_a_413_and_nothing_is_stored(client, world, held):
    headers, claim_id = held
    key = f"derived/mask/image-{world.id('images', 'i2')}/huge.nii.gz"
    response = client.put(f"/api/v1/claims/{claim_id}/files/huge.nii.gz",
                          data=bytes(OUTPUT_LIMIT + 1), headers=headers)
    assert response.status_code == 413
    assert response.get_json()["message"] == (
        f"the request body is larger than the limit of {OUTPUT_LIMIT} bytes")
    assert not get_storage().exists(key)


def test_a_streamed_output_without_a_length_is_cut_at_its_limit(client, world, held):
    headers, claim_id = held
    key = f"derived/mask/image-{world.id('images', 'i2')}/chunked.nii.gz"
    response = client.put(f"/api/v1/claims/{claim_id}/files/chunked.nii.gz",
                          input_stream=io.BytesIO(bytes(OUTPUT_LIMIT + 10)), headers=headers,
                          environ_base={"wsgi.input_terminated": True})
    assert response.status_code == 413
    assert response.get_json()["status"] == 413
    assert not get_storage().exists(key)


def test_a_json_body_past_its_limit_is_a_413(client, held):
    headers, claim_id = held
    response = client.post(f"/api/v1/claims/{claim_id}/fail",
                           json={"lease_token": "x", "error": "e" * 2000}, headers=headers)
    assert response.status_code == 413
    assert response.get_json()["message"] == (
        "the request body is larger than the limit of 1024 bytes")
