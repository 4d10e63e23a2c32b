"""format=urls on /images, on both storage backends: every URL of the query, each one working."""
from __future__ import annotations

import io
import zipfile

import pytest

from app.models import AuditEvent, Scope
from app.storage import get_storage
from tests.support.apps import fetch_download_url
from tests.support.factories import bearer, make_api_key

pytestmark = [pytest.mark.storage("each"), pytest.mark.usefixtures("image_files")]


def test_format_urls_lists_a_working_url_per_image_and_is_audited(
        client, session, world, auth_headers, image_files):
    response = client.get("/api/v1/images?format=urls&dataset=ALPHA&sort=-id",
                          headers=auth_headers)
    assert response.status_code == 200 and response.mimetype == "text/uri-list"
    urls = response.get_data(as_text=True).split("\r\n")
    assert urls[-1] == "" and len(urls) == 5
    names = ["i4", "i3", "i2", "i1"]
    if get_storage().shareable_urls:
        assert all("X-Amz-Expires=3600" in url for url in urls[:-1])
    else:
        assert urls[:-1] == [f"http://localhost/api/v1/images/{world.id('images', name)}/download"
                             for name in names]
    assert [fetch_download_url(client, url, auth_headers) for url in urls[:-1]] == [
        image_files[name] for name in names]
    session.expire_all()
    event = session.query(AuditEvent).filter_by(action="download_urls").one()
    assert event.image_ids == [world.id("images", name) for name in names]


def test_format_urls_needs_the_download_scope(client, session, world):
    _, token = make_api_key(session, name="reader", scopes=[Scope.READ])
    session.commit()
    response = client.get("/api/v1/images?format=urls", headers=bearer(token))
    assert response.status_code == 403 and "'download'" in response.get_json()["message"]


def test_with_urls_is_refused_with_an_export_format(client, world, auth_headers):
    response = client.get("/api/v1/images?format=parquet&with_urls=true", headers=auth_headers)
    assert response.status_code == 400 and "with_urls" in response.get_json()["errors"]


def test_a_cohort_downloads_as_a_zip_or_as_presigned_urls(client, session, world, image_files):
    _, token = make_api_key(session, name="owner",
                            scopes=[Scope.READ, Scope.WRITE, Scope.DOWNLOAD])
    session.commit()
    headers = bearer(token)
    cohort = client.post("/api/v1/cohorts", json={"name": "beta", "query": {"dataset": "BETA"}},
                         headers=headers).get_json()
    response = client.get(f"/api/v1/cohorts/{cohort['id']}/download", headers=headers)
    assert response.status_code == 200
    names = ["i5", "i6", "i7", "i8"]
    if get_storage().shareable_urls:
        body = response.get_json()
        assert body["manifest_sha256"] == cohort["manifest_sha256"]
        assert [fetch_download_url(client, item["url"], headers) for item in body["items"]] == [
            image_files[name] for name in names]
        action = "download_urls"
    else:
        archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
        assert archive.namelist() == [world.images[name].path for name in names]
        assert [archive.read(world.images[name].path) for name in names] == [
            image_files[name] for name in names]
        action = "download"
    session.expire_all()
    event = session.query(AuditEvent).filter_by(action=action, key_name="owner").one()
    assert event.image_ids == [world.id("images", name) for name in names]

