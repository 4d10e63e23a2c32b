"""A participant of one dataset, keyed by (dataset_id, external_id)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, SoftDeleteMixin, TimestampMixin, str_enum
from app.models.enums import Handedness, Race, Sex

if TYPE_CHECKING:
    from app.models.condition import Condition
    from app.models.dataset import Dataset
    from app.models.image import Image
    from app.models.visit import Visit


class Subject(TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "subject"
    __table_args__ = (
        UniqueConstraint("dataset_id", "external_id"),
        # The few withdrawn subjects, which every image count leaves out (app/query/rows.py
        # IMAGE_IS_LIVE): without it, each count would scan the whole subject table.
        Index("ix_subject_withdrawn", "id", postgresql_where=text("deleted_at IS NOT NULL"),
              sqlite_where=text("deleted_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(64))
    sex: Mapped[Sex] = mapped_column(str_enum(Sex, "sex"), default=Sex.UNKNOWN, index=True)
    handedness: Mapped[Handedness] = mapped_column(
        str_enum(Handedness, "handedness"), default=Handedness.UNKNOWN
    )
    race: Mapped[Race] = mapped_column(str_enum(Race, "race"), default=Race.UNDEFINED)
    education_years: Mapped[float | None]
    age_at_baseline: Mapped[float | None] = mapped_column(index=True)
    # Set only when the dataset knows the diagnosis per subject, not per visit (e.g. HCP).
    condition_id: Mapped[int | None] = mapped_column(ForeignKey("condition.id"), index=True)
    # The dataset's own label the condition was mapped from (dataset_condition.source_label),
    # kept so that a changed mapping can be re-applied from what is stored.
    condition_label: Mapped[str | None] = mapped_column(String(255))
    metadata_json: Mapped[dict[str, Any] | None]

    dataset: Mapped[Dataset] = relationship(back_populates="subjects")
    condition: Mapped[Condition | None] = relationship()
    visits: Mapped[list[Visit]] = relationship(back_populates="subject")
    images: Mapped[list[Image]] = relationship(back_populates="subject")
