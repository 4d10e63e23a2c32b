"""One image of a saved cohort's manifest, as it was when the cohort was frozen."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base

if TYPE_CHECKING:
    from app.models.cohort import Cohort


class CohortImage(Base):
    __tablename__ = "cohort_image"
    __table_args__ = (UniqueConstraint("cohort_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"))
    # Rank in the manifest's canonical order (dataset, then storage key).
    position: Mapped[int]
    # The image's values at the freeze. No foreign key to image: the manifest must stay as it
    # was whatever later happens to the image row.
    image_id: Mapped[int] = mapped_column(index=True)
    # A dataset_id column puts the row under the per-dataset grants of every request.
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id"), index=True)
    dataset: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[int]
    subject_external_id: Mapped[str] = mapped_column(String(64))
    visit_id: Mapped[int | None]
    type: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(String(1024))
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    checksum: Mapped[str | None] = mapped_column(String(128))

    cohort: Mapped[Cohort] = relationship(back_populates="images")
