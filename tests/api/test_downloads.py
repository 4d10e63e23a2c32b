"""GET /api/v1/images/{id}/download on both databases and both storage backends."""
from __future__ import annotations

import os
import urllib.request
from contextlib import contextmanager

import pytest
from sqlalchemy import select

from app.api.downloads import content_disposition
from app.models import Image
from app.models.base import utcnow
from app.storage import CosStorage, get_storage, set_storage
from load_file.upload import upload_tree
from tests.support.dataset_tree import T1_NII, TREE, write_tree
from tests.support.factories import make_dataset, make_image, make_subject
from tests.support.files import write_tree as write_files
from tests.support.servers import S3ErrorServer

pytestmark = pytest.mark.storage("each")


@pytest.fixture
def uploaded(session, tmp_path):
    """A dataset whose tree is uploaded, and its DWI and T1 images (the T1 a plain .nii)."""
    dataset = make_dataset(session)
    upload_tree(get_storage(), write_tree(tmp_path / "src"), dataset.storage_prefix,
                progress=False)
    subject = make_subject(session, dataset=dataset)
    dwi = make_image(session, subject=subject,
                     path=f"{dataset.storage_prefix}/sub-02/dwi/sub-02_dwi.nii.gz")
    t1 = make_image(session, subject=subject,
                    path=f"{dataset.storage_prefix}/sub-01/anat/sub-01_T1w.nii")
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
    assert download(client, t1.id, auth_headers) == T1_NII


def test_download_headers_name_the_file_or_the_url_expiry(client, auth_headers, uploaded):
    dwi, _ = uploaded
    response = client.get(f"/api/v1/images/{dwi.id}/download", headers=auth_headers)
    if get_storage().shareable_urls:
        assert "X-Amz-Expires=3600" in response.location
    else:
        assert response.headers["Content-Disposition"] == (
            "attachment; filename=\"sub-02_dwi.nii.gz\"; filename*=UTF-8''sub-02_dwi.nii.gz")
        assert response.headers["Content-Length"] == "2048"


@pytest.mark.parametrize(("asked", "status", "start", "end"), [
    ("bytes=4-", 206, 4, 2048),      # the rest of a file cut after 4 bytes
    ("bytes=2-5", 206, 2, 6),
    ("bytes=-10", 206, 2038, 2048),  # the last 10 bytes
    ("bytes=0-", 200, 0, 2048),      # the whole file: no partial answer
    ("bytes=0-1,4-5", 200, 0, 2048),  # several ranges are not served one by one
])
def test_a_range_gets_just_those_bytes_from_either_backend(client, auth_headers, uploaded,
                                                           asked, status, start, end):
    """Local storage answers the range itself; S3/COS is redirected to, and answers it too, so
    a client resumes an interrupted download on both."""
    dwi, _ = uploaded
    content = TREE["sub-02/dwi/sub-02_dwi.nii.gz"]
    headers = {**auth_headers, "Range": asked}
    response = client.get(f"/api/v1/images/{dwi.id}/download", headers=headers)
    if get_storage().shareable_urls:
        assert response.status_code == 302
        request = urllib.request.Request(response.location, headers={"Range": asked})
        with urllib.request.urlopen(request) as fetched:
            if status == 206:
                assert (fetched.status, fetched.read()) == (206, content[start:end])
        return
    assert (response.status_code, response.get_data()) == (status, content[start:end])
    assert response.headers["Content-Length"] == str(end - start)
    assert response.headers["Accept-Ranges"] == "bytes"
    if status == 206:
        assert response.headers["Content-Range"] == f"bytes {start}-{end - 1}/2048"


def test_a_range_past_the_end_is_a_416_naming_the_size(client, auth_headers, uploaded):
    dwi, _ = uploaded
    response = client.get(f"/api/v1/images/{dwi.id}/download",
                          headers={**auth_headers, "Range": "bytes=4096-"})
    if get_storage().shareable_urls:
        assert response.status_code == 302  # S3/COS judges the range itself
        return
    assert response.status_code == 416
    assert response.headers["Content-Range"] == "bytes */2048"
    assert response.get_json()["error"] == "Requested Range Not Satisfiable"


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
        "200", "206", "302", "400", "404", "416", "502", "503", "default"]


@pytest.mark.parametrize(("filename", "header"), [
    ("sub-01_T1w.nii.gz",
     "attachment; filename=\"sub-01_T1w.nii.gz\"; filename*=UTF-8''sub-01_T1w.nii.gz"),
    ('sub-01_"quoted"_T1w.nii.gz',
     "attachment; filename=\"sub-01__quoted__T1w.nii.gz\"; "
     "filename*=UTF-8''sub-01_%22quoted%22_T1w.nii.gz"),
    ("sujet-é_100%.nii.gz",
     "attachment; filename=\"sujet-e_100_.nii.gz\"; "
     "filename*=UTF-8''sujet-%C3%A9_100%25.nii.gz"),
    ("a b;c\\d.nii", "attachment; filename=\"a b;c_d.nii\"; filename*=UTF-8''a%20b%3Bc%5Cd.nii"),
    ("脑.nii.gz", "attachment; filename=\".nii.gz\"; filename*=UTF-8''%E8%84%91.nii.gz"),
    ("脑", "attachment; filename=\"download\"; filename*=UTF-8''%E8%84%91"),
])
def test_content_disposition_quotes_any_file_name(filename, header):
    assert content_disposition(filename) == header


def test_a_file_name_with_quotes_and_accents_downloads_with_rfc_6266_headers(
        client, auth_headers, session):
    dataset = make_dataset(session)
    key = f'{dataset.storage_prefix}/sub-01/anat/sub-01_"quoted"_é_T1w.nii.gz'
    get_storage().put(key, b"\x1f\x8b quoted")
    image = make_image(session, dataset=dataset, path=key)
    session.commit()
    response = client.get(f"/api/v1/images/{image.id}/download", headers=auth_headers)
    if get_storage().shareable_urls:
        assert response.status_code == 302
        with urllib.request.urlopen(response.location) as fetched:
            assert fetched.read() == b"\x1f\x8b quoted"
    else:
        assert response.status_code == 200
        assert response.get_data() == b"\x1f\x8b quoted"
        assert response.headers["Content-Disposition"] == (
            "attachment; filename=\"sub-01__quoted__e_T1w.nii.gz\"; "
            "filename*=UTF-8''sub-01_%22quoted%22_%C3%A9_T1w.nii.gz")


@contextmanager
def storage_answering(app, status: int, code: str):
    """Make the app's storage an S3 endpoint that answers every request with one error."""
    original = get_storage()
    hmac = {"cos_hmac_keys": {"access_key_id": "a", "secret_access_key": "b"}}
    with S3ErrorServer(status, code) as server:
        set_storage(app, CosStorage("mbid", hmac, server.endpoint_url, max_attempts=1))
        try:
            yield
        finally:
            set_storage(app, original)


@pytest.mark.parametrize(("status", "code", "expected", "message"), [
    (503, "SlowDown", 503, "object storage is unavailable: try image {id} again later"),
    (500, "InternalError", 503, "object storage is unavailable: try image {id} again later"),
    (403, "AccessDenied", 502, "object storage failed to serve the file of image {id}"),
])
def test_a_storage_failure_is_a_json_error(app, client, auth_headers, session, status, code,
                                           expected, message):
    subject = make_subject(session, dataset=make_dataset(session, storage_prefix="DS"))
    image = make_image(session, subject=subject, path="DS/sub-01/anat/sub-01_T1w.nii.gz")
    session.commit()
    with storage_answering(app, status, code):
        response = client.get(f"/api/v1/images/{image.id}/download", headers=auth_headers)
    assert response.status_code == expected
    assert response.get_json() == {"status": expected, "error": response.get_json()["error"],
                                   "message": message.format(id=image.id)}
    assert response.headers.get("Retry-After") == ("30" if expected == 503 else None)


@pytest.mark.parametrize("path", ["DS/sub-01/anat/a\nb_T1w.nii.gz", "../../etc/hostname",
                                  "/etc/hostname"])
def test_an_image_whose_key_storage_refuses_is_404_json(client, auth_headers, session, path):
    image = make_image(session, path=path)
    session.commit()
    response = client.get(f"/api/v1/images/{image.id}/download", headers=auth_headers)
    assert response.status_code == 404
    assert response.get_json()["message"] == (
        f"the file of image {image.id} is missing from storage")


def test_a_link_out_of_the_dataset_is_never_loaded_uploaded_or_served(
        app, client, auth_headers, session, tmp_path):
    """The reproduction: `ln -s /etc/hostname ds/sub-01/anat/sub-01_T1w.nii.gz`, load, upload."""
    secret = tmp_path / "hostname"  # stands for /etc/hostname: a file out of the dataset
    secret.write_bytes(b"the server's name\n")
    root = write_files(tmp_path / "ds", {
        "participants.tsv": [["participant_id"], ["sub-01"], ["sub-02"]],
        "sub-02/anat/sub-02_T1w.nii.gz": b"\x1f\x8b sub-02",
    })
    (root / "sub-01" / "anat").mkdir(parents=True)
    os.symlink(secret, root / "sub-01" / "anat" / "sub-01_T1w.nii.gz")
    runner = app.test_cli_runner()

    loaded = runner.invoke(args=["load-bids", str(root), "--dataset", "LEAK", "--register"])
    assert loaded.exit_code == 0, loaded.output
    assert ("ignored 1: symlink leading out of the dataset folder "
            "(e.g. sub-01/anat/sub-01_T1w.nii.gz)") in loaded.output.splitlines()
    uploaded = runner.invoke(args=["upload", "LEAK", str(root)])
    assert uploaded.exit_code == 0, uploaded.output
    assert uploaded.output.splitlines()[1:] == [
        "refused (not files of the dataset): 1",
        "  refused sub-01/anat/sub-01_T1w.nii.gz: symlink leading out of the dataset folder",
        "image checksums recorded: 1"]

    storage = get_storage()
    assert [info.key for info in storage.list("LEAK/")] == [
        "LEAK/participants.tsv", "LEAK/sub-02/anat/sub-02_T1w.nii.gz"]
    images = session.execute(select(Image.id, Image.path)).all()
    assert [path for _, path in images] == ["LEAK/sub-02/anat/sub-02_T1w.nii.gz"]
    assert download(client, images[0].id, auth_headers) == b"\x1f\x8b sub-02"
    # Even an image row naming the link's key (a database edited by hand) serves nothing.
    forged = make_image(session, subject=session.get(Image, images[0].id).subject,
                        path="LEAK/sub-01/anat/sub-01_T1w.nii.gz")
    session.commit()
    response = client.get(f"/api/v1/images/{forged.id}/download", headers=auth_headers)
    assert response.status_code == 404
