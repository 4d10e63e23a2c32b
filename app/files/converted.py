"""The files dcm2niix made of DICOM images (`converted_file`), read by role.

A DICOM image, once converted (`flask convert`), has a NIfTI, a JSON sidecar and, for
diffusion, a .bval and a .bvec, each recorded with its storage key under the image's dataset
prefix. Downloads, previews and BIDS exports use these in place of the DICOM files.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ConvertedFile

# Ids per statement, as for the image files (any driver's parameter limits).
BATCH = 1000


def converted_files(session: Session, image_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """Return {image id: {role: storage key}} of the converted images among `image_ids`.

    Roles are "nifti", "sidecar", "bval", "bvec" for the series part the image stands for;
    further outputs of the same run (another echo, say) are "<role>:<dcm2niix suffix>", e.g.
    "nifti:e2". Images not converted are left out.
    """
    image_ids = list(image_ids)
    found: dict[int, dict[str, str]] = {}
    for start in range(0, len(image_ids), BATCH):
        for image_id, role, key in session.execute(
                select(ConvertedFile.image_id, ConvertedFile.role, ConvertedFile.key)
                .where(ConvertedFile.image_id.in_(image_ids[start:start + BATCH]))
                .order_by(ConvertedFile.image_id, ConvertedFile.role)):
            found.setdefault(image_id, {})[role] = key
    return found


def converted_niftis(session: Session,
                     image_ids: Iterable[int]) -> dict[int, tuple[str, int, str]]:
    """Return {image id: (key, size, sha256)} of the NIfTI of each converted image among
    `image_ids`."""
    image_ids = list(image_ids)
    found: dict[int, tuple[str, int, str]] = {}
    for start in range(0, len(image_ids), BATCH):
        for image_id, key, size, sha256 in session.execute(
                select(ConvertedFile.image_id, ConvertedFile.key, ConvertedFile.size,
                       ConvertedFile.sha256)
                .where(ConvertedFile.image_id.in_(image_ids[start:start + BATCH]),
                       ConvertedFile.role == "nifti")):
            found[image_id] = (key, size, sha256)
    return found
