"""QA previews of files that cannot be shown, of files changed or gone since their preview was
stored, and of a mammogram's DICOM pixels, over HTTP on both storage backends: a clean 422 or
404, never a 500 or a stale PNG."""
from __future__ import annotations

import gzip
import io

import nibabel as nib
import numpy as np
import pydicom
import pytest
from PIL import Image as PilImage

from app.files.previews import preview_source
from app.storage import get_storage
from globals import DATA_DIR
from tests.support.factories import bearer

MAMMOGRAM = next(iter(sorted((DATA_DIR / "OMI-DB" / "images").rglob("*.dcm"))))
# A real NIfTI header (348 bytes and an extension flag) with none of its voxels after it.
HEADER_ONLY = "bids/synthetic/sub-02/ses-01/anat/sub-02_ses-01_T1w.nii"


pytestmark = pytest.mark.storage("each")


def preview_of(client, download_token, image_id: int):
    return client.get(f"/api/v1/images/{image_id}/preview.png", headers=bearer(download_token))


def nifti(brightness: float = 1.0) -> bytes:
    """A 20x24x16 .nii.gz holding a bright cube (scaled by `brightness`) in a dim field."""
    data = np.full((20, 24, 16), 10.0, dtype=np.float32)
    data[4:16, 4:20, 3:13] = 50.0 * brightness
    data[0, 0, 0] = 60.0  # fixes the 99.9th percentile scaling to the cube's brightness
    return gzip.compress(nib.Nifti1Image(data, np.eye(4)).to_bytes())


def unreadable_files(shared_data) -> dict[str, bytes]:
    content = nifti()
    raw = gzip.decompress(content)
    return {
        "header-only NIfTI": (shared_data / HEADER_ONLY).read_bytes(),
        "truncated NIfTI": raw[: len(raw) // 2],
        "truncated .nii.gz": content[: len(content) // 2],
        "a DICOM file under a NIfTI name": MAMMOGRAM.read_bytes(),
        "empty": b"",
    }


def test_unreadable_nifti_files_are_422s(client, world, download_token, shared_data):
    storage = get_storage()
    image = world.images["i1"]
    for what, content in unreadable_files(shared_data).items():
        storage.put(image.path, content)
        response = preview_of(client, download_token, image.id)
        assert response.status_code == 422, what
        document = response.get_json()
        assert document["status"] == 422
        assert document["message"].startswith(f"no preview of image {image.id}: "), what
        assert not storage.exists(f"previews/image/{image.id}.png"), what


def test_a_mammogram_is_previewed_from_its_dicom_pixels(client, session, world,
                                                        download_token):
    image = world.images["i2"]
    image.path = "ALPHA/ann/mammogram.dcm"
    session.commit()
    storage = get_storage()
    storage.put(image.path, MAMMOGRAM.read_bytes())
    response = preview_of(client, download_token, image.id)
    assert response.status_code == 200 and response.mimetype == "image/png"
    # The example's 4x4 pixels carry no window: darkest to brightest map to black to white.
    header = pydicom.dcmread(MAMMOGRAM)
    assert "WindowCenter" not in header and header.PhotometricInterpretation == "MONOCHROME2"
    pixels = header.pixel_array.astype(float)
    expected = np.round((pixels - pixels.min()) / (pixels.max() - pixels.min()) * 255)
    shown = np.asarray(PilImage.open(io.BytesIO(response.get_data())))
    assert shown.shape == (4, 4) and shown.tolist() == expected.astype(int).tolist()
    assert storage.read(f"previews/image/{image.id}.png") == response.get_data()

    image.path = "ALPHA/ann/report.pdf"
    session.commit()
    storage.put(image.path, b"%PDF-1.4")
    refused = preview_of(client, download_token, image.id)
    assert refused.status_code == 422
    assert refused.get_json()["message"] == (
        f"no preview of image {image.id}: ALPHA/ann/report.pdf is not a NIfTI or DICOM file")


def test_a_stored_preview_of_a_file_gone_from_storage_is_not_served(client, world, download_token):
    storage = get_storage()
    image = world.images["i1"]
    storage.put(image.path, nifti())
    assert preview_of(client, download_token, image.id).status_code == 200
    assert storage.exists(f"previews/image/{image.id}.png")
    storage.delete(image.path)
    response = preview_of(client, download_token, image.id)
    assert response.status_code == 404
    assert response.get_json()["message"] == (
        f"the file of image {image.id} is missing from storage")
    assert not storage.exists(f"previews/image/{image.id}.png")  # removed with its file


def test_a_stored_preview_is_made_again_when_its_file_changed(client, world, download_token):
    storage = get_storage()
    image = world.images["i1"]
    storage.put(image.path, nifti())
    first = preview_of(client, download_token, image.id).get_data()
    assert preview_of(client, download_token, image.id).get_data() == first  # served from storage
    stored = storage.read(f"previews/image/{image.id}.png")
    assert stored == first
    changed = nifti(brightness=0.5)  # the cube half as bright: another picture
    storage.put(image.path, changed)
    second = preview_of(client, download_token, image.id)
    assert second.status_code == 200
    assert second.get_data() != first
    info = storage.stat(image.path)
    assert preview_source(storage.read(f"previews/image/{image.id}.png")) == (
        f"{len(changed)}:{info.sha256 or info.etag}")
