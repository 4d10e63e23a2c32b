"""QA previews of single DICOM files (mammograms), from made-up files written here: rescale,
window, VOI LUT, MONOCHROME1, the middle frame, scaling down, and refusals."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image as PilImage
from pydicom.dataset import Dataset

from app.files.previews import (
    DICOM_PREVIEW_SIZE,
    PreviewError,
    preview_source,
    render_dicom_preview,
)
from tests.support.dicom import new_instance

DIGITAL_MAMMOGRAPHY = "1.2.840.10008.5.1.4.1.1.1.2"


def dicom_file(pixels: np.ndarray, photometric: str = "MONOCHROME2", **attributes) -> bytes:
    """A DICOM file holding `pixels` (uint16, 12 bits stored; 3D: frames), plus `attributes`."""
    ds = new_instance(DIGITAL_MAMMOGRAPHY)
    ds.Modality = "MG"
    ds.Rows, ds.Columns = pixels.shape[-2:]
    if pixels.ndim == 3:
        ds.NumberOfFrames = pixels.shape[0]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    for name, value in attributes.items():
        setattr(ds, name, value)
    ds.PixelData = pixels.astype("<u2").tobytes()
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def grey(png: bytes) -> np.ndarray:
    picture = PilImage.open(io.BytesIO(png))
    assert (picture.format, picture.mode) == ("PNG", "L")
    return np.asarray(picture).astype(int)


def test_a_window_applies_to_rescaled_values_and_maps_to_black_and_white():
    stored = np.array([[0, 300, 500], [530, 560, 590], [700, 800, 4095]])
    png = render_dicom_preview(dicom_file(stored, RescaleSlope=2, RescaleIntercept=-100,
                                          WindowCenter=1000, WindowWidth=801), source="7:abc")
    # The standard's LINEAR window (PS3.3 C.11.2.1.2.1) on slope * x + intercept.
    value = 2 * stored - 100
    expected = np.clip((value - 999.5) / 800 + 0.5, 0, 1) * 255
    assert grey(png).tolist() == np.round(expected).astype(int).tolist()
    assert grey(png).tolist() == [[0, 0, 96], [115, 134, 153], [223, 255, 255]]
    assert preview_source(png) == "7:abc"


def test_monochrome1_without_a_window_is_inverted_from_darkest_to_brightest():
    stored = np.array([[10, 20], [30, 60]])
    png = render_dicom_preview(dicom_file(stored, photometric="MONOCHROME1"))
    assert grey(png).tolist() == (255 - (stored - 10) * 255 // 50).tolist() == [[255, 204],
                                                                               [153, 0]]


def test_a_voi_lut_wins_over_the_window_and_spans_its_bits():
    stored = np.array([[0, 1], [2, 3]])
    lut = Dataset()
    lut.LUTDescriptor = [4, 0, 8]  # four entries, from stored value 0, eight bits each
    lut.add_new("LUTData", "US", [0, 100, 200, 255])
    png = render_dicom_preview(dicom_file(stored, VOILUTSequence=[lut], WindowCenter=2,
                                          WindowWidth=2))
    assert grey(png).tolist() == [[0, 100], [200, 255]]


def test_a_multi_frame_file_shows_its_middle_frame():
    frames = np.array([[[0, 0], [0, 4000]], [[100, 200], [300, 600]], [[9, 9], [9, 9]]])
    png = render_dicom_preview(dicom_file(frames))
    assert grey(png).tolist() == np.round((frames[1] - 100) / 500 * 255).astype(int).tolist()


def test_a_large_picture_is_scaled_down_to_fit():
    stored = np.zeros((400, 2 * DICOM_PREVIEW_SIZE), dtype=int)
    stored[:, DICOM_PREVIEW_SIZE:] = 1000  # the right half bright
    picture = grey(render_dicom_preview(dicom_file(stored)))
    assert picture.shape == (200, DICOM_PREVIEW_SIZE)
    half = DICOM_PREVIEW_SIZE // 2
    assert (picture[:, :half] == 0).all() and (picture[:, half:] == 255).all()


@pytest.mark.parametrize("content, message", [
    (dicom_file(np.zeros((2, 2)), photometric="RGB", SamplesPerPixel=3),
     "only greyscale (MONOCHROME1 or MONOCHROME2) DICOM pixels are previewed"),
    (b"not a DICOM file at all", "not a readable DICOM image: "),
])
def test_colour_and_other_bytes_are_refused_with_why(content, message):
    with pytest.raises(PreviewError) as refused:
        render_dicom_preview(content)
    assert str(refused.value).startswith(message)
