"""app/storage/cos.py: the IBM COS / S3 backend against moto's S3 server over HTTP."""
from __future__ import annotations

import hashlib
import os

import pytest

from app.storage import (
    CosStorage,
    StorageError,
    TransientStorageError,
    storage_from_config,
)
from tests.support.apps import new_bucket
from tests.support.servers import IamTokenServer


def test_cos_presigned_url_expires_and_is_shareable(cos_storage):
    cos_storage.put("DS/a.txt", b"a")
    url = cos_storage.presigned_url("DS/a.txt", expires_in=120)
    assert "X-Amz-Expires=120" in url and "X-Amz-Signature=" in url
    assert cos_storage.shareable_urls is True
    assert cos_storage.auth == "hmac"


def test_cos_multipart_put_above_threshold(cos_storage, tmp_path):
    cos_storage.multipart_threshold = 1024 * 1024
    data = os.urandom(6 * 1024 * 1024)
    (tmp_path / "big.bin").write_bytes(data)
    info = cos_storage.put("DS/big.bin", tmp_path / "big.bin")
    # S3 parts are at least 5 MiB, so 6 MiB goes as 2 parts; a multipart ETag ends in -<parts>.
    assert info.etag.endswith("-2")
    assert (info.size, info.sha256) == (6 * 1024 * 1024, hashlib.sha256(data).hexdigest())
    assert cos_storage.read("DS/big.bin") == data


def test_unreachable_endpoint_is_a_transient_error():
    hmac = {"cos_hmac_keys": {"access_key_id": "a", "secret_access_key": "b"}}
    # Port 9 (discard) on 127.0.0.1: nothing listens, the connection is refused at once.
    storage = CosStorage("mbid", hmac, "http://127.0.0.1:9", max_attempts=1, connect_timeout=1)
    with pytest.raises(TransientStorageError):
        storage.stat("DS/a")
    with pytest.raises(TransientStorageError):
        storage.put("DS/a", b"a")


def test_iam_credentials_get_a_token_then_reach_the_service(s3_server):
    """The IAM path end to end: API key -> token endpoint -> bearer requests to S3."""
    bucket = new_bucket(s3_server)
    token_server = IamTokenServer().start()
    try:
        storage = storage_from_config({
            "STORAGE_BACKEND": "cos", "BUCKET": bucket, "AUTH_ENDPOINT": token_server.url,
            "SERVICE_ENDPOINT": s3_server.endpoint_url,
            "COS_CREDENTIALS": {"apikey": "placeholder-api-key",
                                "resource_instance_id": "crn:v1:test"}})
        seen = []
        storage.client.meta.events.register(
            "before-send.s3.*", lambda request, **_: seen.append(request.headers["Authorization"]))
        storage.put("DS/a.txt", b"through IAM")
        assert storage.read("DS/a.txt") == b"through IAM"
    finally:
        token_server.stop()
    assert token_server.requests[0]["apikey"] == ["placeholder-api-key"]
    assert token_server.requests[0]["grant_type"] == ["urn:ibm:params:oauth:grant-type:apikey"]
    assert {value.decode() if isinstance(value, bytes) else value for value in seen} == {
        f"Bearer {IamTokenServer.TOKEN}"}


def test_a_refused_put_is_a_permanent_error(s3_server, tmp_path):
    storage = storage_from_config(s3_server.settings("mbid-no-such-bucket"))
    (tmp_path / "a.bin").write_bytes(b"a")
    for data in (tmp_path / "a.bin", b"a"):  # upload_file and upload_fileobj report differently
        with pytest.raises(StorageError, match="NoSuchBucket") as raised:
            storage.put("DS/a.bin", data)
        assert not isinstance(raised.value, TransientStorageError)
