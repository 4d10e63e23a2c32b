"""Derived files, their verification and the QA previews over HTTP, on both storage backends."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image as PilImage

from app.files.previews import TILE_SIZE
from app.models import Scope
from app.processing.provenance import with_id, write_prov_objects
from app.storage import get_storage, sha256_of
from globals import DATA_DIR
from tests.support.factories import bearer, make_api_key, make_derived_file

HCP_T1 = DATA_DIR / "HCP" / "100206" / "unprocessed" / "3T" / "T1w_MPR1" / \
    "100206_3T_T1w_MPR1.nii.gz"


pytestmark = pytest.mark.storage("each")


@pytest.fixture
def derived(session, world):
    """A NIfTI derived file of image i1, stored with its provenance (i1 holds the HCP T1)."""
    storage = get_storage()
    t1 = HCP_T1.read_bytes()
    image = world.images["i1"]
    storage.put(image.path, t1)
    key = "derived/mask/image-1/mask.nii.gz"
    storage.put(key, t1)
    record = with_id({"module": {"name": "mask", "version": "1"}, "container": None,
                      "user": "u@h", "start_time": "2026-12-01T12:00:00+00:00", "duration": 2,
                      "inputs": [{"key": image.path, "sha256": sha256_of(t1)}],
                      "outputs": [{"key": key, "sha256": sha256_of(t1)}], "parameters": {},
                      "command": "mask"})
    write_prov_objects(storage, record)
    row = make_derived_file(session, image=image, path=key, checksum=sha256_of(t1),
                            file_size=len(t1), provenance=record, provenance_id=record["id"])
    session.commit()
    return row


def get(client, download_token, path):
    return client.get(f"/api/v1{path}", headers=bearer(download_token))


def assert_preview(response) -> None:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "image/png"
    picture = PilImage.open(io.BytesIO(response.get_data()))
    assert picture.size == (3 * TILE_SIZE, 3 * TILE_SIZE)
    pixels = np.asarray(picture)
    assert pixels.max() > 0 and pixels.std() > 10  # not blank: a head, not a flat field


def test_previews_of_an_image_and_a_derived_file(client, world, derived, download_token):
    i1 = world.id("images", "i1")
    assert_preview(get(client, download_token, f"/images/{i1}/preview.png"))
    assert get_storage().exists(f"previews/image/{i1}.png")  # stored: made once
    assert_preview(get(client, download_token, f"/images/{i1}/preview.png"))
    assert_preview(get(client, download_token, f"/derived/{derived.id}/preview.png"))


def test_previews_need_the_download_scope_and_a_nifti(client, session, world, derived,
                                                       download_token):
    _, reader = make_api_key(session, scopes=[Scope.READ])
    session.commit()
    i1 = world.id("images", "i1")
    assert get(client, reader, f"/images/{i1}/preview.png").status_code == 403
    get_storage().put(world.images["i4"].path, b"not a nifti")
    response = get(client, download_token, f"/images/{world.id('images', 'i4')}/preview.png")
    assert response.status_code == 422
    assert "not a readable NIfTI image" in response.get_json()["message"]
    missing = get(client, download_token, f"/images/{world.id('images', 'i3')}/preview.png")
    assert missing.status_code == 404


def test_derived_listing_detail_and_verification(client, world, derived, download_token):
    i1 = world.id("images", "i1")
    listing = get(client, download_token, f"/images/{i1}/derived").get_json()
    assert [item["id"] for item in listing["items"]] == [derived.id]
    detail = get(client, download_token, f"/derived/{derived.id}").get_json()
    assert detail["provenance"] == derived.provenance
    assert detail["provenance_id"] == derived.provenance["id"]
    assert get(client, download_token, f"/derived/{derived.id}/verify").get_json()["valid"] is True
    get_storage().put(derived.path, b"changed")
    checked = get(client, download_token, f"/derived/{derived.id}/verify").get_json()
    assert checked["valid"] is False
    assert [(item["role"], item["matches"]) for item in checked["files"]] == [
        ("input", True), ("output", False)]
    i2 = world.id("images", "i2")
    assert get(client, download_token, f"/images/{i2}/derived").get_json() == {"items": []}
    assert get(client, download_token, "/derived/999999").status_code == 404


def test_a_restricted_key_sees_no_derived_file_of_hidden_datasets(client, session, world,
                                                                   derived):
    _, beta_only = make_api_key(session, scopes=[Scope.READ, Scope.DOWNLOAD],
                                datasets=[world.datasets["BETA"]])
    session.commit()
    assert get(client, beta_only, f"/derived/{derived.id}").status_code == 404
    assert get(client, beta_only, f"/derived/{derived.id}/preview.png").status_code == 404
    i1 = world.id("images", "i1")
    assert get(client, beta_only, f"/images/{i1}/derived").status_code == 404
    assert get(client, beta_only, f"/images/{i1}/preview.png").status_code == 404
