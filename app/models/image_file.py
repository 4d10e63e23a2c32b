"""One file an image was built from (a DICOM series is many files; a NIfTI image has none here)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base

if TYPE_CHECKING:
    from app.models.image import Image


class ImageFile(Base):
    """A stored object of an image whose content is several files (a DICOM series or a part).

    `key` is the object's full storage key (the dataset's prefix included, like `image.path`),
    wherever in the dataset the file sits; `sha256` is known once the file is uploaded. The
    image's download serves exactly these objects, and `image.checksum` is the checksum of
    the set (app/files/image_files.py). Images stored as one object (NIfTI) have no rows here.
    """

    __tablename__ = "image_file"
    __table_args__ = (UniqueConstraint("image_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("image.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(1024))
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))

    image: Mapped[Image] = relationship(back_populates="files")
