"""QA previews (after RADIFOX): a PNG of a few slices in each plane of a NIfTI image, or of
the pixels of a single DICOM file (a mammogram).

NIfTI: three rows (sagittal, coronal, axial) of three slices each, at 30 %, 50 % and 70 % of the
extent, from the first volume of a 4D image; intensities from 0 to the 99.9th percentile map to
black to white, so that a few very bright voxels do not darken everything.

DICOM (`.dcm`): the picture as a viewer shows it first. The stored values go through the
modality LUT (rescale), then the header's VOI LUT or its first window (Window Center and Width,
with its VOI LUT Function), whose whole output range maps to black to white; without either, the
darkest to the brightest pixel do. MONOCHROME1 (where white is low) is inverted; a multi-frame
file shows its middle frame; the picture is scaled down to fit DICOM_PREVIEW_SIZE pixels.

Previews are stored in object storage (`previews/image/<id>.png`, `previews/derived/<id>.png`),
made on first request or by `flask previews DATASET`. A DICOM series is previewed from the
NIfTI dcm2niix made of it (`flask convert`), once it exists.
"""
from __future__ import annotations

import gzip
import io
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.files.converted import converted_niftis
from app.models import Dataset, Image, PreprocessTaskFile
from app.storage import InvalidKey, ObjectInfo, ObjectNotFound, Storage, is_under

if TYPE_CHECKING:  # the imaging libraries are imported only when a preview is drawn
    import numpy as np
    from PIL import Image as PilImage

log = logging.getLogger(__name__)

SLICE_FRACTIONS = (0.3, 0.5, 0.7)
TILE_SIZE = 128
PERCENTILE = 99.9
NIFTI_SUFFIXES = (".nii", ".nii.gz")
DICOM_SUFFIX = ".dcm"
# The longest side of a DICOM preview: a mammogram (some 3,000 x 4,000 pixels) is scaled down
# to a picture as tall as a NIfTI preview's sheet.
DICOM_PREVIEW_SIZE = TILE_SIZE * 3
# A .nii.gz that decompresses to more is refused rather than read into memory (a gzip bomb).
MAX_NIFTI_BYTES = 2 * 1024 * 1024 * 1024
# The PNG text entry that records which version of the file a preview shows.
SOURCE_TEXT_KEY = "mbid-source"


class PreviewError(ValueError):
    """The file cannot be previewed (not a readable 3D or 4D NIfTI image, nor a readable
    greyscale DICOM file)."""


def is_nifti(key: str) -> bool:
    """Whether an object key names a NIfTI file."""
    return key.lower().endswith(NIFTI_SUFFIXES)


def is_dicom(key: str) -> bool:
    """Whether an object key names a single DICOM file."""
    return key.lower().endswith(DICOM_SUFFIX)


def can_preview(key: str) -> bool:
    """Whether an object key names a file a preview is drawn from (NIfTI or DICOM)."""
    return is_nifti(key) or is_dicom(key)


def image_preview_key(image_id: int) -> str:
    """Return the storage key of an image's preview."""
    return f"previews/image/{image_id}.png"


def derived_preview_key(derived_id: int) -> str:
    """Return the storage key of a derived file's preview."""
    return f"previews/derived/{derived_id}.png"


def _gunzip(content: bytes) -> bytes:
    """Decompress a .nii.gz, refusing one that grows past MAX_NIFTI_BYTES (a gzip bomb)."""
    with gzip.GzipFile(fileobj=io.BytesIO(content)) as stream:
        data = stream.read(MAX_NIFTI_BYTES + 1)
    if len(data) > MAX_NIFTI_BYTES:
        raise PreviewError(f"it decompresses to more than {MAX_NIFTI_BYTES} bytes")
    return data


def _volume(content: bytes) -> np.ndarray:
    """The first 3D volume of a NIfTI file's bytes (gzipped or not)."""
    import nibabel as nib
    import numpy as np

    try:
        if content[:2] == b"\x1f\x8b":
            content = _gunzip(content)
        image = nib.Nifti1Image.from_bytes(content)
        proxy = image.dataobj
        if len(proxy.shape) < 3 or 0 in proxy.shape:
            raise PreviewError(f"a preview needs a 3D or 4D image, not shape {proxy.shape}")
        # Reading a slice of a short file would not notice the missing voxels: check first.
        needed = (int(proxy.offset) + int(np.prod(proxy.shape, dtype=np.int64))
                  * image.header.get_data_dtype().itemsize)
        if len(content) < needed:
            raise PreviewError(f"truncated: its header describes {needed} bytes, "
                               f"the file holds {len(content)}")
        # Only the first volume is read: a 4D image's other volumes are not shown.
        first = (slice(None),) * 3 + (0,) * (len(proxy.shape) - 3)
        data = np.asarray(proxy[first], dtype=np.float32)
    except PreviewError:
        raise
    except Exception as exc:  # nibabel, gzip and numpy raise many kinds on bad input
        # A header-only or truncated file fails here (OSError: Expected N bytes, got 0).
        raise PreviewError(f"not a readable NIfTI image: {exc}") from exc
    return np.nan_to_num(data)


def _tile(plane: np.ndarray, ceiling: float) -> PilImage.Image:
    import numpy as np
    from PIL import Image as PilImage

    scaled = np.clip(plane / ceiling, 0, 1) * 255 if ceiling > 0 else np.zeros_like(plane)
    # Rows of the array become the picture's columns: rotate so that up is up.
    picture = PilImage.fromarray(np.rot90(scaled).astype(np.uint8), mode="L")
    return picture.resize((TILE_SIZE, TILE_SIZE), PilImage.Resampling.BILINEAR)


def _png(picture: PilImage.Image, source: str | None) -> bytes:
    """The PNG of `picture`, recording `source` (see source_fingerprint) when given."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    if source is not None:
        info.add_text(SOURCE_TEXT_KEY, source)
    out = io.BytesIO()
    picture.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def _dicom_pixels(content: bytes) -> np.ndarray:
    """The grey levels (0 to 255, float) of a DICOM file's picture, as the module says."""
    import numpy as np
    import pydicom
    from pydicom.pixels import apply_modality_lut, apply_voi, apply_windowing

    try:
        header = pydicom.dcmread(io.BytesIO(content))
        if header.get("SamplesPerPixel", 1) != 1 or header.get(
                "PhotometricInterpretation") not in ("MONOCHROME1", "MONOCHROME2"):
            raise PreviewError("only greyscale (MONOCHROME1 or MONOCHROME2) DICOM pixels "
                               "are previewed")
        pixels = header.pixel_array
        if int(header.get("NumberOfFrames") or 1) > 1:
            pixels = pixels[len(pixels) // 2]
        values = apply_modality_lut(pixels, header)
        if header.get("VOILUTSequence"):
            # A LUT is looked up by whole values; its entries run from 0 to 2^bits - 1.
            bits = int(header.VOILUTSequence[0].LUTDescriptor[2])
            whole = values if values.dtype.kind in "iu" else np.round(values).astype(np.int64)
            values = np.asarray(apply_voi(whole, header), dtype=np.float64)
            low, high = 0.0, float(2 ** bits - 1)
        elif "WindowCenter" in header and "WindowWidth" in header:
            # The window's output range: what it gives far below and far above it.
            low, high = (float(bound) for bound in
                         apply_windowing(np.array([-np.inf, np.inf]), header))
            values = apply_windowing(values, header)
        else:
            values = np.asarray(values, dtype=np.float64)
            low, high = float(values.min()), float(values.max())
    except PreviewError:
        raise
    except Exception as exc:  # pydicom and its pixel decoders raise many kinds on bad input
        raise PreviewError(f"not a readable DICOM image: {exc}") from exc
    if values.ndim != 2 or 0 in values.shape:
        raise PreviewError(f"a DICOM preview needs one 2D frame, not shape {values.shape}")
    grey = np.clip((values - low) / (high - low), 0, 1) * 255 if high > low else (
        np.zeros_like(values))
    return 255 - grey if header.PhotometricInterpretation == "MONOCHROME1" else grey


def render_dicom_preview(content: bytes, source: str | None = None) -> bytes:
    """Return the PNG preview of a single DICOM file's bytes (see the module); raises
    PreviewError. `source` is written into the PNG as render_preview writes it."""
    import numpy as np
    from PIL import Image as PilImage

    picture = PilImage.fromarray(np.round(_dicom_pixels(content)).astype(np.uint8), mode="L")
    if max(picture.size) > DICOM_PREVIEW_SIZE:
        scale = DICOM_PREVIEW_SIZE / max(picture.size)
        picture = picture.resize((max(1, round(picture.width * scale)),
                                  max(1, round(picture.height * scale))),
                                 PilImage.Resampling.BOX)
    return _png(picture, source)


def render_preview(content: bytes, source: str | None = None) -> bytes:
    """Return the PNG preview of a NIfTI file's bytes; raises PreviewError.

    `source` (see source_fingerprint) is written into the PNG, so that a stored preview says
    which version of the file it shows.
    """
    import numpy as np
    from PIL import Image as PilImage

    volume = _volume(content)
    ceiling = float(np.percentile(volume, PERCENTILE))
    sheet = PilImage.new("L", (TILE_SIZE * len(SLICE_FRACTIONS), TILE_SIZE * 3))
    for row, axis in enumerate(range(3)):
        extent = volume.shape[axis]
        for column, fraction in enumerate(SLICE_FRACTIONS):
            index = min(int(round(fraction * (extent - 1))), extent - 1)
            plane = np.take(volume, index, axis=axis)
            sheet.paste(_tile(plane, ceiling), (column * TILE_SIZE, row * TILE_SIZE))
    return _png(sheet, source)


def source_fingerprint(info: ObjectInfo) -> str:
    """Return what identifies one version of a stored file: its size and SHA-256 (or ETag)."""
    return f"{info.size}:{info.sha256 or info.etag or ''}"


def preview_source(png: bytes) -> str | None:
    """Return the source fingerprint a stored preview records (None if it records none)."""
    from PIL import Image as PilImage

    try:
        with PilImage.open(io.BytesIO(png)) as picture:
            return picture.text.get(SOURCE_TEXT_KEY)
    except Exception:  # noqa: BLE001  (an unreadable cached preview is simply made again)
        return None


def ensure_preview(storage: Storage, source_key: str, preview_key: str) -> bytes:
    """Return the current preview of `source_key`, made and stored first when missing or out of
    date (see current_preview)."""
    return current_preview(storage, source_key, preview_key)[0]


def current_preview(storage: Storage, source_key: str, preview_key: str) -> tuple[bytes, bool]:
    """Return the preview of `source_key` and whether it was made now.

    The stored preview is served only while the file is the version it was drawn from (same
    size and SHA-256 or ETag); otherwise it is made again and stored. Raises PreviewError for
    a file that cannot be previewed, and ObjectNotFound when the file is gone from storage (its
    stored preview is then removed: it shows a file that no longer exists).
    """
    if not can_preview(source_key):
        raise PreviewError(f"{source_key} is not a NIfTI or DICOM file")
    try:
        # On S3 a HEAD gives the ETag and the recorded SHA-256; the local backend hashes the
        # file (it keeps no metadata).
        fingerprint = source_fingerprint(storage.stat(source_key))
    except ObjectNotFound:
        storage.delete(preview_key)
        raise
    try:
        cached = storage.read(preview_key)
    except ObjectNotFound:
        cached = None
    if cached is not None and preview_source(cached) == fingerprint:
        return cached, False
    try:
        render = render_preview if is_nifti(source_key) else render_dicom_preview
        png = render(storage.read(source_key), source=fingerprint)
    except PreviewError:
        if cached is not None:  # drawn from an earlier version of the file
            storage.delete(preview_key)
        raise
    storage.put(preview_key, png, content_type="image/png")
    return png, True


@dataclass
class PreviewReport:
    """What `make_missing_previews` did: previews made (or remade for a changed file), already
    there and current, failed (one line each, naming the file and why)."""

    made: int = 0
    present: int = 0
    failed: list[str] = field(default_factory=list)


def make_missing_previews(session: Session, storage: Storage, designation: str, *,
                          progress: Callable[[list], Iterable] | None = None) -> PreviewReport:
    """Make the previews missing (or out of date) for a dataset's NIfTI and DICOM-file images
    (mammograms) and their NIfTI derived files. A file that cannot be previewed is reported
    and skipped.

    `progress` wraps the list of files to preview (the command's progress bar), if given.
    """
    dataset_id = session.scalar(select(Dataset.id).where(Dataset.designation == designation))
    if dataset_id is None:
        raise LookupError(f"unknown dataset {designation}")
    prefix = Dataset.prefix_for(session, designation).strip("/")
    # Only objects of the dataset's own folder are read (a crafted path is left out).
    rows = session.execute(select(Image.id, Image.path).where(
        Image.dataset_id == dataset_id, Image.deleted_at.is_(None)).order_by(Image.id)).all()
    niftis = converted_niftis(session, [id_ for id_, _ in rows])
    images = [(id_, niftis[id_][0] if id_ in niftis else path) for id_, path in rows]
    images = [(id_, path) for id_, path in images if is_under(path, prefix)]
    derived = session.execute(
        select(PreprocessTaskFile.id, PreprocessTaskFile.path)
        .join(Image, Image.id == PreprocessTaskFile.image_id)
        .where(Image.dataset_id == dataset_id, Image.deleted_at.is_(None))
        .order_by(PreprocessTaskFile.id)).all()
    report = PreviewReport()
    wanted = [(path, image_preview_key(id_)) for id_, path in images]
    wanted += [(path, derived_preview_key(id_)) for id_, path in derived]
    wanted = [(source, key) for source, key in wanted if can_preview(source)]
    for source_key, preview_key in progress(wanted) if progress is not None else wanted:
        try:
            _, made = current_preview(storage, source_key, preview_key)
        except (ObjectNotFound, InvalidKey):
            log.warning("no preview of %s: the file is missing from storage", source_key)
            report.failed.append(f"{source_key}: the file is missing from storage")
            continue
        except PreviewError as exc:
            log.warning("no preview of %s: %s", source_key, exc)
            report.failed.append(f"{source_key}: {exc}")
            continue
        if made:
            report.made += 1
        else:
            report.present += 1
    return report
