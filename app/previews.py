"""QA previews (after RADIFOX): a PNG of a few slices in each plane of a NIfTI image.

Three rows (sagittal, coronal, axial) of three slices each, at 30 %, 50 % and 70 % of the extent,
from the first volume of a 4D image; intensities from 0 to the 99.9th percentile map to black
to white, so that a few very bright voxels do not darken everything. Previews are stored in
object storage (`previews/image/<id>.png`, `previews/derived/<id>.png`), made on first request
or by `flask previews DATASET`.
"""
from __future__ import annotations

import gzip
import io
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Dataset, Image, PreprocessTaskFile
from app.storage import ObjectNotFound, Storage, is_under

if TYPE_CHECKING:  # the imaging libraries are imported only when a preview is drawn
    import numpy as np
    from PIL import Image as PilImage

log = logging.getLogger(__name__)

SLICE_FRACTIONS = (0.3, 0.5, 0.7)
TILE_SIZE = 128
PERCENTILE = 99.9
NIFTI_SUFFIXES = (".nii", ".nii.gz")


class PreviewError(ValueError):
    """The file cannot be previewed (not a readable 3D or 4D NIfTI image)."""


def is_nifti(key: str) -> bool:
    """Whether an object key names a NIfTI file."""
    return key.lower().endswith(NIFTI_SUFFIXES)


def image_preview_key(image_id: int) -> str:
    return f"previews/image/{image_id}.png"


def derived_preview_key(derived_id: int) -> str:
    return f"previews/derived/{derived_id}.png"


def _volume(content: bytes) -> np.ndarray:
    """The first 3D volume of a NIfTI file's bytes (gzipped or not)."""
    import nibabel as nib
    import numpy as np

    if content[:2] == b"\x1f\x8b":
        content = gzip.decompress(content)
    try:
        image = nib.Nifti1Image.from_bytes(content)
    except Exception as exc:  # nibabel raises many kinds on bad input
        raise PreviewError(f"not a readable NIfTI image: {exc}") from exc
    data = np.asarray(image.dataobj, dtype=np.float32)
    while data.ndim > 3:
        data = data[..., 0]
    if data.ndim != 3 or 0 in data.shape:
        raise PreviewError(f"a preview needs a 3D or 4D image, not shape {data.shape}")
    return np.nan_to_num(data)


def _tile(plane: np.ndarray, ceiling: float) -> PilImage.Image:
    import numpy as np
    from PIL import Image as PilImage

    scaled = np.clip(plane / ceiling, 0, 1) * 255 if ceiling > 0 else np.zeros_like(plane)
    # Rows of the array become the picture's columns: rotate so that up is up.
    picture = PilImage.fromarray(np.rot90(scaled).astype(np.uint8), mode="L")
    return picture.resize((TILE_SIZE, TILE_SIZE), PilImage.Resampling.BILINEAR)


def render_preview(content: bytes) -> bytes:
    """Return the PNG preview of a NIfTI file's bytes; raises PreviewError."""
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
    out = io.BytesIO()
    sheet.save(out, format="PNG")
    return out.getvalue()


def ensure_preview(storage: Storage, source_key: str, preview_key: str) -> bytes:
    """Return the stored preview, making and storing it first when missing."""
    try:
        return storage.read(preview_key)
    except ObjectNotFound:
        pass
    if not is_nifti(source_key):
        raise PreviewError(f"{source_key} is not a NIfTI file")
    png = render_preview(storage.read(source_key))
    storage.put(preview_key, png, content_type="image/png")
    return png


@dataclass
class PreviewReport:
    """What `make_missing_previews` did: previews made, already there, failed (with why)."""

    made: int = 0
    present: int = 0
    failed: list[str] = field(default_factory=list)


def make_missing_previews(session: Session, storage: Storage, designation: str) -> PreviewReport:
    """Make the previews missing for a dataset's NIfTI images and their NIfTI derived files."""
    dataset_id = session.scalar(select(Dataset.id).where(Dataset.designation == designation))
    if dataset_id is None:
        raise LookupError(f"unknown dataset {designation}")
    prefix = Dataset.prefix_for(session, designation).strip("/")
    # Only objects of the dataset's own folder are read (a crafted path is left out).
    images = [(id_, path) for id_, path in session.execute(select(Image.id, Image.path).where(
        Image.dataset_id == dataset_id, Image.deleted_at.is_(None)).order_by(Image.id))
        if is_under(path, prefix)]
    derived = session.execute(
        select(PreprocessTaskFile.id, PreprocessTaskFile.path)
        .join(Image, Image.id == PreprocessTaskFile.image_id)
        .where(Image.dataset_id == dataset_id, Image.deleted_at.is_(None))
        .order_by(PreprocessTaskFile.id)).all()
    report = PreviewReport()
    wanted = [(path, image_preview_key(id_)) for id_, path in images]
    wanted += [(path, derived_preview_key(id_)) for id_, path in derived]
    for source_key, preview_key in wanted:
        if not is_nifti(source_key):
            continue
        if storage.exists(preview_key):
            report.present += 1
            continue
        try:
            ensure_preview(storage, source_key, preview_key)
            report.made += 1
        except (PreviewError, ObjectNotFound) as exc:
            log.warning("no preview of %s: %s", source_key, exc)
            report.failed.append(f"{source_key}: {exc}")
    return report
