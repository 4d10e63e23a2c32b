"""GET /images/{id}/download of a DICOM series: a zip of its files, or a manifest of URLs."""
from __future__ import annotations

import io
import urllib.request
import zipfile

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Image
from app.storage import get_storage
from load_file.upload import upload_tree

SERIES = "dcm_qa_xa30/8_gre_field_mapping"


pytestmark = pytest.mark.storage("each")


@pytest.fixture
def series(app, session, copy_dicom, tmp_path):
    """The two-file field-map series, uploaded and loaded into dataset X; the folder on disk."""
    source = copy_dicom(SERIES, "src/fmap")
    result = app.test_cli_runner().invoke(args=["load-dicom", str(tmp_path / "src"),
                                                "--dataset", "X", "--register", "--workers", "1"])
    assert result.exit_code == 0, result.output
    upload_tree(get_storage(), tmp_path / "src", "X", progress=False)
    return db.session.scalar(select(Image)), source


def test_a_dicom_series_downloads_as_a_zip_or_a_manifest_of_its_files(client, auth_headers,
                                                                       series):
    image, source = series
    assert image.path == "X/fmap"
    expected = {file.name: file.read_bytes() for file in source.iterdir()}
    response = client.get(f"/api/v1/images/{image.id}/download", headers=auth_headers)
    assert response.status_code == 200
    if get_storage().shareable_urls:
        manifest = response.get_json()
        assert (manifest["image"], manifest["expires_in"]) == (image.id, 3600)
        assert [(f["name"], f["size"]) for f in manifest["files"]] == \
            [(name, len(data)) for name, data in sorted(expected.items())]
        for entry in manifest["files"]:
            with urllib.request.urlopen(entry["url"]) as fetched:
                assert fetched.read() == expected[entry["name"]]
        return
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Content-Disposition"] == 'attachment; filename="fmap.zip"'
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        assert sorted(archive.namelist()) == sorted(expected)
        assert {name: archive.read(name) for name in archive.namelist()} == expected


def test_a_series_whose_files_are_not_uploaded_is_404(client, auth_headers, app, session,
                                                      copy_dicom, tmp_path):
    copy_dicom(SERIES, "src/gone")
    result = app.test_cli_runner().invoke(args=["load-dicom", str(tmp_path / "src"),
                                                "--dataset", "X", "--register", "--workers", "1"])
    assert result.exit_code == 0, result.output
    image = db.session.scalar(select(Image))
    response = client.get(f"/api/v1/images/{image.id}/download", headers=auth_headers)
    assert response.status_code == 404
    assert response.get_json()["message"] == \
        f"the files of image {image.id} are missing from storage"
