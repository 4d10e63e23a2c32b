"""`flask load-dicom --storage-prefix`: the same load from object storage as from disk."""
from __future__ import annotations

import gzip
import json
import os

import pytest
from ibm_botocore.exceptions import ClientError
from sqlalchemy import select

from app.extensions import db
from app.models import Image
from app.storage import get_storage
from load_file.upload import upload_tree
from tests.support.apps import data_counts

SERIES = ("dcm_qa_ge/01_Ax_DWI_TENSOR_R2", "dcm_qa_xa30/8_gre_field_mapping",
          "dcm_qa_xa30/99_Phoenix_Document")


pytestmark = pytest.mark.storage("each")


def _images() -> list[tuple]:
    return sorted((i.path, i.type.value, i.file_size, i.days_since_baseline,
                   i.metadata_json["rule"], i.subject.external_id)
                  for i in db.session.scalars(select(Image)))


def test_loading_from_storage_gives_what_loading_from_disk_gives(app, session, copy_dicom,
                                                                 tmp_path):
    source = tmp_path / "src"
    for series in SERIES:
        copy_dicom(series, f"src/{series}")
    # One file gzipped, one non-DICOM file: read through gzip, skipped and counted.
    first = next((source / SERIES[0]).iterdir())
    first.with_name(first.name + ".gz").write_bytes(gzip.compress(first.read_bytes()))
    first.unlink()
    (source / "README.txt").write_text("not DICOM")
    upload_tree(get_storage(), source, "X", progress=False)
    runner = app.test_cli_runner()

    stored = runner.invoke(args=["load-dicom", "X", "--storage-prefix", "X",
                                 "--register", "--json"])
    assert stored.exit_code == 0, stored.output
    from_storage = _images()
    assert [(path, kind) for path, kind, *_ in from_storage] == [
        ("X/dcm_qa_ge/01_Ax_DWI_TENSOR_R2", "DWI"),
        ("X/dcm_qa_xa30/8_gre_field_mapping", "FieldMap")]
    report = json.loads(stored.output)
    assert report["ignored"] == {"non-DICOM file skipped": 1,
                                 "structured report, not an image": 1}

    local = runner.invoke(args=["load-dicom", "x", str(source), "--json"])  # any case
    assert local.exit_code == 0, local.output
    assert json.loads(local.output)["tables"]["image"] == {"inserted": 0, "updated": 0,
                                                           "unchanged": 2}
    assert _images() == from_storage


def test_root_and_storage_prefix_are_exclusive(app, session, tmp_path):
    runner = app.test_cli_runner()
    neither = runner.invoke(args=["load-dicom", "X", "--register"])
    both = runner.invoke(args=["load-dicom", "X", str(tmp_path), "--storage-prefix", "X",
                               "--register"])
    assert (neither.exit_code, both.exit_code) == (2, 2)
    assert "give either ROOT or --storage-prefix" in neither.output
    bad = runner.invoke(args=["load-dicom", "X", "--storage-prefix", "../up", "--register"])
    assert bad.exit_code == 2 and "--storage-prefix" in bad.output


def _plant(storage, key: bytes, body: bytes) -> bool:
    """Write an object whose key breaks the key rule, as another tool could (storage.put
    refuses it): a file in the local root, or a raw S3 put. False when the backend cannot
    hold such a name at all (S3 keys are UTF-8 text; moto's server refuses a newline)."""
    if hasattr(storage, "root"):
        path = os.path.join(bytes(storage.root), key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(body)
        return True
    try:
        text = key.decode("utf-8")
    except UnicodeDecodeError:
        return False
    try:
        storage.client.put_object(Bucket=storage.bucket, Key=text, Body=body)
    except ClientError:
        return False
    return True


BAD_NAMES = {b"BADKEYS/a\\b.dcm": "it contains a backslash",
             b"BADKEYS/a\nb.dcm": "it contains a control character",
             b"BADKEYS/caf\xe9.dcm": "it is not valid Unicode text"}


def test_objects_whose_names_storage_refuses_are_reported_and_left_out(app, session,
                                                                       copy_dicom, tmp_path):
    storage = get_storage()
    source = copy_dicom(SERIES[1], "src/fmap")
    upload_tree(storage, tmp_path / "src", "BADKEYS", progress=False)
    body = next(source.iterdir()).read_bytes()
    planted = {key: why for key, why in BAD_NAMES.items() if _plant(storage, key, body)}
    runner = app.test_cli_runner()
    before = data_counts()

    strict = runner.invoke(args=["load-dicom", "BADKEYS", "--storage-prefix", "BADKEYS",
                                 "--register", "--strict"])
    assert strict.exit_code == 2, strict.output
    assert "Traceback" not in strict.output
    assert ": not a file of the dataset: name not allowed in object storage: it " in strict.output
    assert data_counts() == before

    result = runner.invoke(args=["load-dicom", "BADKEYS", "--storage-prefix", "BADKEYS",
                                 "--register", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert {reason: count for reason, count in report["ignored"].items()
            if "object storage" in reason} == {
        f"name not allowed in object storage: {why}": 1 for why in planted.values()}
    assert [path for path, *_ in _images()] == ["BADKEYS/fmap"]
