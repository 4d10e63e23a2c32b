"""load_file/check.py: every kind of difference between a tree on disk and its objects."""
from __future__ import annotations

import hashlib
import io
import os

from ibm_boto3.s3.transfer import TransferConfig

from load_file.check import Difference, compare_tree
from load_file.upload import upload_tree
from tests.support.dataset_tree import TREE, write_tree


def test_an_uploaded_tree_has_no_difference(storage, tmp_path):
    source = write_tree(tmp_path / "src")
    upload_tree(storage, source, "DS", progress=False)
    assert compare_tree(storage, source, "DS", progress=False) == []


def test_each_kind_of_difference_is_found(storage, tmp_path):
    source = write_tree(tmp_path / "src")
    upload_tree(storage, source, "DS", progress=False)
    storage.delete("DS/participants.tsv")
    storage.put("DS/sub-03/notes.txt", b"not on disk")
    storage.put("DS/dataset_description.json", b"{}")
    # Same size, different bytes: only the checksum tells.
    storage.put("DS/sub-01/anat/sub-01_T1w.json", b'{"MagneticFieldStrength": 7}')
    assert len(TREE["sub-01/anat/sub-01_T1w.json"]) == 28

    differences = compare_tree(storage, source, "DS", progress=False)

    good = hashlib.sha256(TREE["sub-01/anat/sub-01_T1w.json"]).hexdigest()
    bad = hashlib.sha256(b'{"MagneticFieldStrength": 7}').hexdigest()
    assert differences == [
        Difference("size", "DS/dataset_description.json", "disk 40 bytes, storage 2 bytes"),
        Difference("missing", "DS/participants.tsv", "participants.tsv is not in storage"),
        Difference("checksum", "DS/sub-01/anat/sub-01_T1w.json",
                   f"disk sha256 {good}, storage {bad}"),
        Difference("extra", "DS/sub-03/notes.txt", "no such file on disk"),
    ]


def test_objects_written_by_other_tools_are_checked_by_md5_etag_or_reported(cos_storage,
                                                                            tmp_path):
    """Objects with no sha256 metadata (e.g. from the old upload script)."""
    big = os.urandom(6 * 1024 * 1024)
    files = {"a.txt": b"alpha", "b.txt": b"bravo", "big.bin": big}
    source = write_tree(tmp_path / "src", files)
    client, bucket = cos_storage.client, cos_storage.bucket
    client.put_object(Bucket=bucket, Key="DS/a.txt", Body=b"alpha")
    client.put_object(Bucket=bucket, Key="DS/b.txt", Body=b"BRAVO")
    client.upload_fileobj(io.BytesIO(big), bucket, "DS/big.bin",
                          Config=TransferConfig(multipart_threshold=1024 * 1024))
    md5 = hashlib.md5(b"bravo").hexdigest()
    assert compare_tree(cos_storage, source, "DS", progress=False) == [
        Difference("checksum", "DS/b.txt",
                   f"disk md5 {md5}, storage ETag {hashlib.md5(b'BRAVO').hexdigest()}"),
        Difference("unverified", "DS/big.bin",
                   "the object records no sha256 and its ETag is not an MD5"),
    ]
