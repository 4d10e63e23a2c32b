"""app/storage.py: every method on both backends (a local folder, moto's S3 server over HTTP)."""
from __future__ import annotations

import hashlib
import io
import os
import urllib.request

import pytest

from app.storage import (
    CosStorage,
    InvalidKey,
    LocalStorage,
    ObjectInfo,
    ObjectNotFound,
    PresignNotSupported,
    StorageConfigError,
    StorageError,
    StorageTree,
    TransientStorageError,
    join_key,
    presigned_urls,
    storage_from_config,
    validate_key,
)
from tests.support.apps import make_app, new_bucket
from tests.support.servers import IamTokenServer


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_put_then_stat_read_open_and_read_text(storage):
    data = b"participant_id\tsex\nsub-01\tF\n"
    put = storage.put("DS/participants.tsv", data)
    assert (put.key, put.size) == ("DS/participants.tsv", 28)

    info = storage.stat("DS/participants.tsv")
    assert (info.key, info.size, info.sha256) == ("DS/participants.tsv", 28, sha(data))
    assert storage.read("DS/participants.tsv") == data
    assert storage.read_text("DS/participants.tsv") == "participant_id\tsex\nsub-01\tF\n"
    with storage.open("DS/participants.tsv") as stream:
        assert stream.read(14) == b"participant_id"
    assert storage.exists("DS/participants.tsv") is True
    assert storage.exists("DS/participants.json") is False


def test_put_accepts_bytes_a_path_and_a_file_and_replaces(storage, tmp_path):
    source = tmp_path / "scan.bin"
    source.write_bytes(b"from a path")
    storage.put("k/bytes", b"from bytes")
    storage.put("k/path", source)
    storage.put("k/file", io.BytesIO(b"from a file"))
    assert [storage.read(k) for k in ("k/bytes", "k/path", "k/file")] == [
        b"from bytes", b"from a path", b"from a file"]

    storage.put("k/bytes", b"replaced")
    assert storage.read("k/bytes") == b"replaced"
    assert storage.stat("k/bytes").sha256 == sha(b"replaced")


def test_list_is_prefix_matched_and_in_key_order(storage):
    for key in ("DS/sub-02/anat.nii.gz", "DS/sub-01/anat.nii.gz", "DS/README", "DS2/README",
                "other/x"):
        storage.put(key, key.encode())
    assert [(i.key, i.size) for i in storage.list("DS/")] == [
        ("DS/README", 9), ("DS/sub-01/anat.nii.gz", 21), ("DS/sub-02/anat.nii.gz", 21)]
    assert [i.key for i in storage.list("DS")] == [
        "DS/README", "DS/sub-01/anat.nii.gz", "DS/sub-02/anat.nii.gz", "DS2/README"]
    assert [i.key for i in storage.list("DS/sub-0")] == [
        "DS/sub-01/anat.nii.gz", "DS/sub-02/anat.nii.gz"]
    assert len(list(storage.list())) == 5
    assert list(storage.list("nothing/")) == []


def test_missing_object_is_object_not_found(storage):
    with pytest.raises(ObjectNotFound, match="no object 'DS/absent'"):
        storage.stat("DS/absent")
    with pytest.raises(ObjectNotFound):
        storage.read("DS/absent")
    with pytest.raises(ObjectNotFound):
        storage.open("DS/absent")


def test_delete_removes_and_ignores_absent(storage):
    storage.put("DS/a", b"a")
    storage.delete("DS/a")
    storage.delete("DS/a")
    assert storage.exists("DS/a") is False


def test_presigned_url_reads_the_exact_bytes(storage):
    data = os.urandom(3000)
    storage.put("DS/sub-01/anat/sub-01_T1w.nii.gz", data)
    url = storage.presigned_url("DS/sub-01/anat/sub-01_T1w.nii.gz", expires_in=60)
    # http:// to the S3 server for cos, file:// for the local folder.
    assert url.startswith("http://127.0.0.1:" if storage.backend == "cos" else "file:///")
    with urllib.request.urlopen(url) as response:
        assert response.read() == data
    assert presigned_urls(["DS/sub-01/anat/sub-01_T1w.nii.gz"], 60, storage=storage).keys() == {
        "DS/sub-01/anat/sub-01_T1w.nii.gz"}


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
    assert (info.size, info.sha256) == (6 * 1024 * 1024, sha(data))
    assert cos_storage.read("DS/big.bin") == data


BAD_KEYS = [
    ("", "empty"),
    ("/etc/passwd", "absolute path"),
    ("DS/../secret", "'..' path segment"),
    ("..", "'..' path segment"),
    ("DS\\sub-01", "backslash"),
    ("DS//sub-01", "empty path segment"),
    ("DS/sub-01/", "empty path segment"),
    ("DS/./a", "'.' path segment"),
    ("DS/a\nb", "control character"),
    ("a" * 1025, "longer than 1024 bytes"),
]


@pytest.mark.parametrize(("key", "problem"), BAD_KEYS)
def test_validate_key_rejects_bad_keys(key, problem):
    with pytest.raises(InvalidKey, match=problem):
        validate_key(key)


@pytest.mark.parametrize(("key", "problem"), BAD_KEYS)
def test_every_method_rejects_bad_keys(storage, key, problem):
    for call in (storage.stat, storage.read, storage.open, storage.presigned_url,
                 storage.delete, lambda k: storage.put(k, b"x")):
        with pytest.raises(InvalidKey, match=problem):
            call(key)


def test_local_keys_cannot_escape_the_root(tmp_path):
    storage = LocalStorage(tmp_path / "root")
    with pytest.raises(InvalidKey):
        storage.put("../outside", b"x")
    with pytest.raises(InvalidKey):
        list(storage.list("../"))
    assert not (tmp_path / "outside").exists()


def test_join_key():
    assert join_key("DS", "sub-01/anat.nii.gz") == "DS/sub-01/anat.nii.gz"
    assert join_key("DS/", "README") == "DS/README"
    assert join_key("", "README") == "README"
    with pytest.raises(InvalidKey):
        join_key("DS", "../README")


def test_local_put_is_atomic_and_leaves_no_temporary(tmp_path):
    storage = LocalStorage(tmp_path)
    storage.put("DS/a", b"abc")
    assert sorted(p.name for p in (tmp_path / "DS").iterdir()) == ["a"]
    # A temporary left by a killed put is not an object.
    (tmp_path / "DS" / ".mbid-tmp-dead").write_bytes(b"partial")
    assert [i.key for i in storage.list("DS/")] == ["DS/a"]


def test_storage_tree_lists_once_and_reads_only_what_is_asked(storage):
    storage.put("DS/participants.tsv", b"participant_id\nsub-01\n")
    storage.put("DS/sub-01/anat/sub-01_T1w.json", b'{"RepetitionTime": 2.3}')
    storage.put("DS/sub-01/anat/sub-01_T1w.nii.gz", b"\x1f\x8b" + bytes(98))
    storage.put("DSX/README", b"another dataset")
    tree = StorageTree(storage, "DS")
    assert tree.files() == [("participants.tsv", 22), ("sub-01/anat/sub-01_T1w.json", 23),
                            ("sub-01/anat/sub-01_T1w.nii.gz", 100)]
    assert tree.read_text("sub-01/anat/sub-01_T1w.json") == '{"RepetitionTime": 2.3}'
    storage.put("DS/late.txt", b"after the listing")
    assert [path for path, _ in tree.files()] == [
        "participants.tsv", "sub-01/anat/sub-01_T1w.json", "sub-01/anat/sub-01_T1w.nii.gz"]
    with pytest.raises(InvalidKey):
        tree.read_text("../DSX/README")
    assert StorageTree(storage, "").files()[0] == ("DS/late.txt", 17)


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


def test_unreachable_endpoint_is_a_transient_error():
    hmac = {"cos_hmac_keys": {"access_key_id": "a", "secret_access_key": "b"}}
    # Port 9 (discard) on 127.0.0.1: nothing listens, the connection is refused at once.
    storage = CosStorage("mbid", hmac, "http://127.0.0.1:9", max_attempts=1, connect_timeout=1)
    with pytest.raises(TransientStorageError):
        storage.stat("DS/a")
    with pytest.raises(TransientStorageError):
        storage.put("DS/a", b"a")


def test_get_storage_is_built_from_the_app_config_once(s3_server):
    from app.storage import get_storage

    app = make_app("sqlite://", **s3_server.settings("mbid-app"))
    with app.app_context():
        storage = get_storage()
        assert isinstance(storage, CosStorage)
        assert (storage.bucket, storage.service_endpoint) == ("mbid-app", s3_server.endpoint_url)
        assert get_storage() is storage


def test_object_info_is_a_value():
    assert ObjectInfo("a", 1) == ObjectInfo("a", 1, None, None)


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
