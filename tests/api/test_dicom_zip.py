"""GET /images/{id}/download of a DICOM series: a zip of its files, or a manifest of URLs."""
from __future__ import annotations

import hashlib
import io
import urllib.request
import zipfile

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Image
from app.storage import get_storage

SERIES = "dcm_qa_xa30/8_gre_field_mapping"


pytestmark = pytest.mark.storage("each")


@pytest.fixture
def series(app, session, copy_dicom, tmp_path):
    """The two-file field-map series, loaded into dataset X and uploaded; the folder on
    disk."""
    source = copy_dicom(SERIES, "src/fmap")
    runner = app.test_cli_runner()
    for args in (["load-dicom", "X", str(tmp_path / "src"), "--register", "--workers", "1"],
                 ["upload", "X", str(tmp_path / "src")]):  # the upload records checksums
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    return db.session.scalar(select(Image)), source


def test_a_dicom_series_downloads_as_a_zip_or_a_manifest_of_its_files(client, auth_headers,
                                                                       series):
    image, source = series
    assert image.path == "X/fmap"
    expected = {file.name: file.read_bytes() for file in source.iterdir()}
    # The file-set checksum, computed here: SHA-256 of the `sha256sum` listing, names sorted.
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in expected.items()}
    listing = "".join(f"{digests[name]}  {name}\n" for name in sorted(expected))
    set_checksum = hashlib.sha256(listing.encode()).hexdigest()
    response = client.get(f"/api/v1/images/{image.id}/download", headers=auth_headers)
    assert response.status_code == 200
    assert response.headers["X-Checksum-SHA256"] == set_checksum == image.checksum
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="fmap.zip"; filename*=UTF-8\'\'fmap.zip')
    if get_storage().shareable_urls:
        manifest = response.get_json()
        assert (manifest["image"], manifest["expires_in"], manifest["name"],
                manifest["checksum"]) == (image.id, 3600, "fmap.zip", set_checksum)
        assert [(f["name"], f["size"], f["sha256"]) for f in manifest["files"]] == \
            [(name, len(data), digests[name]) for name, data in sorted(expected.items())]
        for entry in manifest["files"]:
            with urllib.request.urlopen(entry["url"]) as fetched:
                assert fetched.read() == expected[entry["name"]]
        return
    assert response.headers["Content-Type"] == "application/zip"
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
