"""GET /api/v1/images?with_urls=true on both databases and both storage backends."""
from __future__ import annotations

import pytest

from app.storage import get_storage
from tests.support.apps import fetch_download_url
from tests.support.factories import make_dataset, make_image, make_subject

pytestmark = pytest.mark.storage("each")


@pytest.fixture
def stored(session):
    """Two images whose files are in storage: {image id: bytes}."""
    dataset = make_dataset(session)
    subject = make_subject(session, dataset=dataset)
    contents = {}
    for n, content in enumerate((b"first image", b"second image bytes")):
        image = make_image(session, subject=subject,
                           path=f"{dataset.storage_prefix}/img-{n}.nii.gz")
        get_storage().put(image.path, content)
        contents[image.id] = content
    session.commit()
    return contents


def test_with_urls_gives_every_row_a_working_download_url(client, auth_headers, stored):
    response = client.get("/api/v1/images?with_urls=true&sort=id", headers=auth_headers)
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [item["id"] for item in items] == sorted(stored)
    for item in items:
        if get_storage().shareable_urls:
            assert item["url"].startswith(get_storage().service_endpoint)
            assert "X-Amz-Expires=3600" in item["url"]
        else:
            assert item["url"] == f"http://localhost/api/v1/images/{item['id']}/download"
        assert fetch_download_url(client, item["url"], auth_headers) == stored[item["id"]]


def test_rows_carry_no_url_unless_asked(client, auth_headers, stored):
    items = client.get("/api/v1/images", headers=auth_headers).get_json()["items"]
    assert len(items) == 2 and all("url" not in item for item in items)
    off = client.get("/api/v1/images?with_urls=false", headers=auth_headers).get_json()["items"]
    assert all("url" not in item for item in off)


@pytest.mark.parametrize(("query", "message"), [
    ("with_urls=true&format=csv", "only with format=json"),
    ("with_urls=maybe", "Not a valid boolean"),
])
def test_bad_with_urls_is_a_400_naming_it(client, auth_headers, query, message):
    response = client.get(f"/api/v1/images?{query}", headers=auth_headers)
    assert response.status_code == 400
    body = response.get_json()
    assert "with_urls" in body["errors"] and message in body["message"]
