"""app/storage/base.py: the interface, every method on both backends (a folder, moto S3)."""
from __future__ import annotations

import hashlib
import io
import os
import urllib.request

import pytest

from app.storage import (
    InvalidKey,
    ObjectInfo,
    ObjectNotFound,
    presigned_urls,
)


def test_put_then_stat_read_open_and_read_text(storage):
    data = b"participant_id\tsex\nsub-01\tF\n"
    put = storage.put("DS/participants.tsv", data)
    assert (put.key, put.size) == ("DS/participants.tsv", 28)

    info = storage.stat("DS/participants.tsv")
    assert (info.key, info.size, info.sha256) == (
        "DS/participants.tsv", 28, hashlib.sha256(data).hexdigest())
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
    assert storage.stat("k/bytes").sha256 == hashlib.sha256(b"replaced").hexdigest()


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


@pytest.mark.parametrize(("key", "problem"), [
    ("/etc/passwd", "absolute path"), ("DS/../secret", "'..' path segment"),
    ("DS/a\nb", "control character")])
def test_every_method_rejects_bad_keys(storage, key, problem):
    for call in (storage.stat, storage.read, storage.open, storage.presigned_url,
                 storage.delete, lambda k: storage.put(k, b"x")):
        with pytest.raises(InvalidKey, match=problem):
            call(key)


def test_object_info_is_a_value():
    assert ObjectInfo("a", 1) == ObjectInfo("a", 1, None, None)
