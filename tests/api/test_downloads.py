"""GET /api/v1/images/{id}/download on both databases and both storage backends."""
from __future__ import annotations

import gzip
import urllib.request

import pytest

from app.models.base import utcnow
from app.storage import get_storage
from load_file.upload import upload_tree
from tests.support.dataset_tree import T1_NII, TREE, write_tree
from tests.support.factories import make_dataset, make_image, make_subject


@pytest.fixture(scope="module")
def app(storage_app):
    return storage_app


@pytest.fixture
def uploaded(session, tmp_path):
    """A dataset whose tree is uploaded, and its DWI and T1 images (the T1 stored gzipped)."""
    dataset = make_dataset(session)
    upload_tree(get_storage(), write_tree(tmp_path / "src"), dataset.storage_prefix,
                progress=False)
    subject = make_subject(session, dataset=dataset)
    dwi = make_image(session, subject=subject,
                     path=f"{dataset.storage_prefix}/sub-02/dwi/sub-02_dwi.nii.gz")
    t1 = make_image(session, subject=subject,
                    path=f"{dataset.storage_prefix}/sub-01/anat/sub-01_T1w.nii.gz")
    session.commit()
    return dwi, t1


def download(client, image_id, headers) -> bytes:
    """Follow the route to the bytes: the redirect (S3/COS) or the streamed body (local)."""
    response = client.get(f"/api/v1/images/{image_id}/download", headers=headers)
    if get_storage().shareable_urls:
        assert response.status_code == 302
        assert response.location.startswith(get_storage().service_endpoint)
        with urllib.request.urlopen(response.location) as fetched:
            return fetched.read()
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/octet-stream"
    return response.get_data()


def test_download_gives_the_uploaded_bytes(client, auth_headers, uploaded):
    dwi, t1 = uploaded
    assert download(client, dwi.id, auth_headers) == TREE["sub-02/dwi/sub-02_dwi.nii.gz"]
    assert gzip.decompress(download(client, t1.id, auth_headers)) == T1_NII


def test_download_headers_name_the_file_or_the_url_expiry(client, auth_headers, uploaded):
    dwi, _ = uploaded
    response = client.get(f"/api/v1/images/{dwi.id}/download", headers=auth_headers)
    if get_storage().shareable_urls:
        assert "X-Amz-Expires=3600" in response.location
    else:
        assert response.headers["Content-Disposition"] == 'attachment; filename="sub-02_dwi.nii.gz"'
        assert response.headers["Content-Length"] == "2048"


def test_unknown_image_is_404_json(client, auth_headers):
    response = client.get("/api/v1/images/987654/download", headers=auth_headers)
    assert response.status_code == 404
    assert response.get_json() == {"status": 404, "error": "Not Found",
                                   "message": "image 987654 not found"}


def test_soft_deleted_image_is_404(client, auth_headers, uploaded, session):
    dwi, _ = uploaded
    dwi.deleted_at = utcnow()
    session.commit()
    response = client.get(f"/api/v1/images/{dwi.id}/download", headers=auth_headers)
    assert response.status_code == 404
    assert response.get_json()["message"] == f"image {dwi.id} not found"


def test_image_whose_object_is_missing_is_404_json(client, auth_headers, session):
    image = make_image(session, path="NOWHERE/sub-01_T1w.nii.gz")
    session.commit()
    response = client.get(f"/api/v1/images/{image.id}/download", headers=auth_headers)
    assert response.status_code == 404
    assert response.get_json() == {
        "status": 404, "error": "Not Found",
        "message": f"the file of image {image.id} is missing from storage"}


def test_download_needs_a_token(client, uploaded):
    dwi, _ = uploaded
    assert client.get(f"/api/v1/images/{dwi.id}/download").status_code == 401


def test_download_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert sorted(paths["/api/v1/images/{image_id}/download"]["get"]["responses"]) == [
        "200", "302", "404", "default"]
