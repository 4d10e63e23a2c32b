"""One file dcm2niix made from a DICOM image: its NIfTI, JSON sidecar, .bval or .bvec."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, utcnow

if TYPE_CHECKING:
    from app.models.image import Image

# The roles of the outputs of the series part an image stands for; the other outputs of the
# same run (a second echo, say) are kept as `<role>:<dcm2niix suffix>`, e.g. "nifti:e2".
ROLES = ("nifti", "sidecar", "bval", "bvec")


class ConvertedFile(Base):
    """A converted file of a DICOM image, keyed by (image_id, role).

    `key` is the object's storage key, under the image's dataset prefix, beside the series;
    `provenance` is the record of the run that made it (dcm2niix version and options, the
    input file set's SHA-256, every output's key and SHA-256, how outputs were matched to the
    image), the same on every file of one run (app/processing/provenance.py's record shape).
    """

    __tablename__ = "converted_file"
    __table_args__ = (UniqueConstraint("image_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("image.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(1024))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    provenance: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())

    image: Mapped[Image] = relationship(back_populates="converted_files")
