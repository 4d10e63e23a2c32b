"""A source study (OASIS, HCP, ...) from the seed list, keyed by designation."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.models.base import Base, SoftDeleteMixin, TimestampMixin

if TYPE_CHECKING:
    from app.models.dataset_condition import DatasetCondition
    from app.models.image import Image
    from app.models.scanner import Scanner
    from app.models.subject import Subject


class Dataset(TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "dataset"

    id: Mapped[int] = mapped_column(primary_key=True)
    designation: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    # Key prefix of this dataset's files in object storage (defaults to the designation).
    storage_prefix: Mapped[str | None] = mapped_column(String(255))

    subjects: Mapped[list[Subject]] = relationship(back_populates="dataset")
    images: Mapped[list[Image]] = relationship(back_populates="dataset")
    scanners: Mapped[list[Scanner]] = relationship(back_populates="dataset")
    condition_labels: Mapped[list[DatasetCondition]] = relationship(back_populates="dataset")

    @classmethod
    def prefix_for(cls, session: Session, designation: str) -> str | None:
        """Return the storage key prefix of dataset `designation` (None when there is none).

        A dataset without a prefix of its own keeps its files under its designation.
        """
        row = session.execute(select(cls.designation, cls.storage_prefix)
                              .where(cls.designation == designation)).first()
        return None if row is None else (row.storage_prefix or row.designation)
