"""A dated encounter of a subject, keyed by (subject_id, external_id)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, SoftDeleteMixin, TimestampMixin

if TYPE_CHECKING:
    from app.models.condition import Condition
    from app.models.image import Image
    from app.models.subject import Subject


class Visit(TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "visit"
    __table_args__ = (
        UniqueConstraint("subject_id", "external_id"),
        Index("ix_visit_subject_id_days_since_baseline", "subject_id", "days_since_baseline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(64))
    days_since_baseline: Mapped[int | None]
    # True when no date says when the visit was and days_since_baseline is 0 by assumption: the
    # subject's only visit of a BIDS dataset without session dates, so that the age at scan is
    # the participant's age (an image's age_basis "participant", not "session").
    days_assumed: Mapped[bool] = mapped_column(default=False, server_default=false())
    # A diagnosis known per visit wins over the subject's.
    condition_id: Mapped[int | None] = mapped_column(ForeignKey("condition.id"), index=True)
    # The dataset's own label the condition was mapped from (dataset_condition.source_label),
    # kept so that a changed mapping can be re-applied from what is stored.
    condition_label: Mapped[str | None] = mapped_column(String(255))
    symptoms: Mapped[dict[str, Any] | None]
    bmi: Mapped[float | None]

    subject: Mapped[Subject] = relationship(back_populates="visits")
    condition: Mapped[Condition | None] = relationship()
    images: Mapped[list[Image]] = relationship(back_populates="visit")
