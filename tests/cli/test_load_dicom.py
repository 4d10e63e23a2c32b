"""`flask load-dicom --storage-prefix`: the same load from object storage as from disk."""
from __future__ import annotations

import gzip
import json
import shutil

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Image
from app.storage import get_storage
from load_file.upload import upload_tree

SERIES = ("dcm_qa_ge/01_Ax_DWI_TENSOR_R2", "dcm_qa_xa30/8_gre_field_mapping",
          "dcm_qa_xa30/99_Phoenix_Document")


@pytest.fixture(scope="module")
def app(storage_app):
    return storage_app


def _images() -> list[tuple]:
    return sorted((i.path, i.type.value, i.file_size, i.days_since_baseline,
                   i.metadata_json["rule"], i.subject.external_id)
                  for i in db.session.scalars(select(Image)))


def test_loading_from_storage_gives_what_loading_from_disk_gives(app, session, shared_data,
                                                                 tmp_path):
    source = tmp_path / "src"
    for series in SERIES:
        shutil.copytree(shared_data / "dicom" / series, source / series)
    # One file gzipped, one non-DICOM file: read through gzip, skipped and counted.
    first = next((source / SERIES[0]).iterdir())
    first.with_name(first.name + ".gz").write_bytes(gzip.compress(first.read_bytes()))
    first.unlink()
    (source / "README.txt").write_text("not DICOM")
    upload_tree(get_storage(), source, "X", progress=False)
    runner = app.test_cli_runner()

    stored = runner.invoke(args=["load-dicom", "--storage-prefix", "X", "--dataset", "X",
                                 "--register", "--json"])
    assert stored.exit_code == 0, stored.output
    from_storage = _images()
    assert [(path, kind) for path, kind, *_ in from_storage] == [
        ("X/dcm_qa_ge/01_Ax_DWI_TENSOR_R2", "DWI"),
        ("X/dcm_qa_xa30/8_gre_field_mapping", "FieldMap")]
    report = json.loads(stored.output)
    assert report["ignored"] == {"non-DICOM file skipped": 1,
                                 "structured report, not an image": 1}

    local = runner.invoke(args=["load-dicom", str(source), "--dataset", "X", "--json"])
    assert local.exit_code == 0, local.output
    assert json.loads(local.output)["tables"]["image"] == {"inserted": 0, "updated": 0,
                                                           "unchanged": 2}
    assert _images() == from_storage


def test_root_and_storage_prefix_are_exclusive(app, session, tmp_path):
    runner = app.test_cli_runner()
    neither = runner.invoke(args=["load-dicom", "--dataset", "X"])
    both = runner.invoke(args=["load-dicom", str(tmp_path), "--storage-prefix", "X",
                               "--dataset", "X"])
    assert (neither.exit_code, both.exit_code) == (2, 2)
    assert "give either ROOT or --storage-prefix" in neither.output
    bad = runner.invoke(args=["load-dicom", "--storage-prefix", "../up", "--dataset", "X"])
    assert bad.exit_code == 2 and "--storage-prefix" in bad.output
