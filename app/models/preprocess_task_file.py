"""A derived file of one image by one task, with its QA result and provenance."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, TimestampMixin

if TYPE_CHECKING:
    from app.models.file_type import FileType
    from app.models.image import Image
    from app.models.preprocess_task import PreprocessTask


class PreprocessTaskFile(TimestampMixin, Base):
    __tablename__ = "preprocess_task_file"
    __table_args__ = (UniqueConstraint("image_id", "preprocess_task_id", "file_type_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("image.id"), index=True)
    preprocess_task_id: Mapped[int] = mapped_column(ForeignKey("preprocess_task.id"), index=True)
    file_type_id: Mapped[int] = mapped_column(ForeignKey("file_type.id"), index=True)
    path: Mapped[str] = mapped_column(String(1024))
    checksum: Mapped[str | None] = mapped_column(String(128))
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    # A quality measure the module reports for the file (e.g. the mask's volume fraction).
    qc_value: Mapped[float | None]
    qa_passed: Mapped[bool | None]
    qa_metrics: Mapped[dict[str, Any] | None]
    # Inputs (keys and checksums), software versions and command that produced the file.
    provenance: Mapped[dict[str, Any] | None]
    # SHA-256 of the provenance record's canonical content (app/processing/provenance.py): its id.
    provenance_id: Mapped[str | None] = mapped_column(String(64), index=True)

    image: Mapped[Image] = relationship()
    preprocess_task: Mapped[PreprocessTask] = relationship()
    file_type: Mapped[FileType] = relationship()
