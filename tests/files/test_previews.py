"""QA previews rendered from NIfTI bytes: layout, scaling, first volume, refusals."""
from __future__ import annotations

import gzip
import io

import nibabel as nib
import numpy as np
import pytest
from PIL import Image as PilImage

from app.files.previews import TILE_SIZE, PreviewError, render_preview


def nifti_bytes(data: np.ndarray, compress: bool = True) -> bytes:
    content = nib.Nifti1Image(data, np.eye(4)).to_bytes()
    return gzip.compress(content) if compress else content


def decoded(png: bytes) -> np.ndarray:
    picture = PilImage.open(io.BytesIO(png))
    assert (picture.format, picture.mode, picture.size) == ("PNG", "L",
                                                           (3 * TILE_SIZE, 3 * TILE_SIZE))
    return np.asarray(picture)


@pytest.mark.parametrize("compress", [True, False])
def test_a_bright_cube_shows_in_every_plane(compress):
    data = np.zeros((20, 24, 16), dtype=np.float32)
    data[4:16, 4:20, 3:13] = 50.0
    pixels = decoded(render_preview(nifti_bytes(data, compress)))
    for row in range(3):
        for column in range(3):
            tile = pixels[row * TILE_SIZE:(row + 1) * TILE_SIZE,
                          column * TILE_SIZE:(column + 1) * TILE_SIZE]
            assert tile.max() == 255 and tile.min() == 0
            assert tile[TILE_SIZE // 2, TILE_SIZE // 2] == 255  # the cube's middle
            assert tile[0, 0] == 0  # the empty corner


def test_scaling_stops_at_the_999th_percentile():
    data = np.full((20, 20, 20), 100.0, dtype=np.float32)
    data[0, 0, :4] = 1e6  # a few hot voxels (0.05 %) must not darken the rest
    pixels = decoded(render_preview(nifti_bytes(data)))
    assert np.median(pixels) == 255


def test_the_first_volume_of_a_4d_image_is_shown():
    data = np.zeros((8, 8, 8, 3), dtype=np.float32)
    data[..., 0] = 10.0  # first volume bright everywhere, the others dark
    assert decoded(render_preview(nifti_bytes(data))).min() == 255


@pytest.mark.parametrize("content", [b"not a nifti", gzip.compress(b"nor this")])
def test_other_bytes_are_refused(content):
    with pytest.raises(PreviewError):
        render_preview(content)


def _cube() -> bytes:
    return nifti_bytes(np.ones((20, 24, 16), dtype=np.float32), compress=False)


@pytest.mark.parametrize("content, message", [
    (_cube()[:352], "truncated: its header describes 31072 bytes, the file holds 352"),
    (_cube()[:20_000], "truncated: its header describes 31072 bytes, the file holds 20000"),
    (gzip.compress(_cube())[:40], "not a readable NIfTI image: Compressed file ended before "
                                  "the end-of-stream marker was reached"),
    (nifti_bytes(np.ones((4, 4), dtype=np.float32)), "a preview needs a 3D or 4D image, not "
                                                      "shape (4, 4)"),
])
def test_header_only_truncated_and_flat_files_are_refused_with_why(content, message):
    with pytest.raises(PreviewError) as refused:
        render_preview(content)
    assert str(refused.value) == message
