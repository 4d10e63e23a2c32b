"""A dataset's own diagnosis label mapped onto a master condition, by a version of the dataset's
mapping (the content hash of its mapping file)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, TimestampMixin

if TYPE_CHECKING:
    from app.models.condition import Condition
    from app.models.dataset import Dataset


class DatasetCondition(TimestampMixin, Base):
    __tablename__ = "dataset_condition"
    __table_args__ = (UniqueConstraint("dataset_id", "source_label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id"), index=True)
    source_label: Mapped[str] = mapped_column(String(255))
    condition_id: Mapped[int] = mapped_column(ForeignKey("condition.id"), index=True)
    mapping_version: Mapped[str | None] = mapped_column(String(64))

    dataset: Mapped[Dataset] = relationship(back_populates="condition_labels")
    condition: Mapped[Condition] = relationship()
