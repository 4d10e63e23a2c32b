"""app/storage/config.py: the backend chosen by configuration, built once per app."""
from __future__ import annotations

import pytest

from app.storage import (
    CosStorage,
    LocalStorage,
    PresignNotSupported,
    StorageConfigError,
    storage_from_config,
)
from tests.support.apps import make_app


def test_storage_from_config_local(tmp_path):
    storage = storage_from_config({"STORAGE_BACKEND": "local", "LOCAL_STORAGE_ROOT": str(tmp_path)})
    assert isinstance(storage, LocalStorage)
    assert storage.root == tmp_path.resolve()
    assert storage.shareable_urls is False


def test_storage_from_config_iam_builds_an_iam_client_that_cannot_presign():
    storage = storage_from_config({
        "STORAGE_BACKEND": "cos", "BUCKET": "mbid",
        "COS_CREDENTIALS": {"apikey": "placeholder", "resource_instance_id": "crn:v1:test"},
        "AUTH_ENDPOINT": "https://iam.example.test/identity/token",
        "SERVICE_ENDPOINT": "https://s3.example.test"})
    assert isinstance(storage, CosStorage)
    assert (storage.auth, storage.shareable_urls) == ("iam", False)
    assert storage.client.meta.config.signature_version == "oauth"
    with pytest.raises(PresignNotSupported, match="HMAC"):
        storage.presigned_url("DS/a")


def test_hmac_is_preferred_when_credentials_hold_both(s3_server):
    settings = s3_server.settings("mbid-both")
    settings["COS_CREDENTIALS"] = {**settings["COS_CREDENTIALS"], "apikey": "placeholder",
                                   "resource_instance_id": "crn:v1:test"}
    assert storage_from_config(settings).auth == "hmac"


@pytest.mark.parametrize(("settings", "message"), [
    ({"STORAGE_BACKEND": "ftp"}, "unknown STORAGE_BACKEND 'ftp'"),
    ({"STORAGE_BACKEND": "local", "LOCAL_STORAGE_ROOT": ""}, "LOCAL_STORAGE_ROOT is empty"),
    ({"STORAGE_BACKEND": "cos", "BUCKET": "", "SERVICE_ENDPOINT": "http://x"}, "BUCKET is empty"),
    ({"STORAGE_BACKEND": "cos", "BUCKET": "b", "SERVICE_ENDPOINT": ""},
     "SERVICE_ENDPOINT is empty"),
    ({"STORAGE_BACKEND": "cos", "BUCKET": "b", "SERVICE_ENDPOINT": "http://x",
      "COS_CREDENTIALS": {}}, "COS_CREDENTIALS needs apikey"),
    ({"STORAGE_BACKEND": "cos", "BUCKET": "b", "SERVICE_ENDPOINT": "http://x",
      "COS_CREDENTIALS": {"apikey": "k"}}, "needs resource_instance_id"),
    ({"STORAGE_BACKEND": "cos", "BUCKET": "b", "SERVICE_ENDPOINT": "http://x",
      "COS_CREDENTIALS": {"cos_hmac_keys": {"access_key_id": "a"}}},
     "needs access_key_id and secret_access_key"),
])
def test_storage_from_config_rejects_incomplete_settings(settings, message):
    with pytest.raises(StorageConfigError, match=message):
        storage_from_config(settings)


def test_get_storage_is_built_from_the_app_config_once(s3_server):
    from app.storage import get_storage

    app = make_app("sqlite://", **s3_server.settings("mbid-app"))
    with app.app_context():
        storage = get_storage()
        assert isinstance(storage, CosStorage)
        assert (storage.bucket, storage.service_endpoint) == ("mbid-app", s3_server.endpoint_url)
        assert get_storage() is storage
