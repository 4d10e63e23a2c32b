"""One storage key per file for load and upload: bids-examples `synthetic` keeps its `.nii`.

The reproduction: `flask load-bids` stored `...T1w.nii` while `flask upload` stored
`...T1w.nii.gz`, so the download was a 404, check-storage reported differences and a re-load
with --storage-prefix added duplicate images. On both databases and both storage backends.
"""
from __future__ import annotations

import hashlib
import urllib.request

import pytest
from sqlalchemy import func, select

from app.models import Image
from app.storage import get_storage

T1 = "synthetic/sub-01/ses-01/anat/sub-01_ses-01_T1w.nii"


pytestmark = pytest.mark.storage("each")


def download(client, headers, image_id: int) -> bytes:
    response = client.get(f"/api/v1/images/{image_id}/download", headers=headers)
    if get_storage().shareable_urls:
        assert response.status_code == 302
        with urllib.request.urlopen(response.location) as fetched:
            return fetched.read()
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data()


def test_synthetic_loads_uploads_downloads_and_reloads_with_the_same_keys(
        app, client, auth_headers, session, shared_data):
    source = shared_data / "bids" / "synthetic"
    runner = app.test_cli_runner()
    for args in (["load-bids", str(source), "--dataset", "synthetic", "--register"],
                 ["upload", "synthetic", str(source)]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    images = session.scalars(select(Image).order_by(Image.path)).all()
    assert len(images) == 20  # the 20 images of the reproduction
    stored = {info.key for info in get_storage().list("synthetic/")}
    # Every image is an object of storage, under the very key the loader gave it.
    assert [image.path for image in images if image.path not in stored] == []
    assert not any(key.endswith(".nii.gz") for key in stored)

    t1 = next(image for image in images if image.path == T1)
    data = (source / T1.removeprefix("synthetic/")).read_bytes()
    assert download(client, auth_headers, t1.id) == data
    assert t1.checksum == hashlib.sha256(data).hexdigest()

    checked = runner.invoke(args=["check-storage", "synthetic", str(source)])
    assert checked.exit_code == 0, checked.output
    assert checked.output.splitlines()[-1] == "0 difference(s)"

    again = runner.invoke(args=["load-bids", "--storage-prefix", "synthetic", "--dataset",
                                "synthetic"])
    assert again.exit_code == 0, again.output
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Image)
                          .where(Image.deleted_at.is_(None))) == len(images)
    assert sorted(session.scalars(select(Image.path))) == [image.path for image in images]
