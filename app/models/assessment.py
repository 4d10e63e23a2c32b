"""A value of a measure for a subject on a day since baseline, at a visit when one was that day.

Keyed by (subject_id, measure_id, days_since_baseline). Keeps the value as the source gave it
(`raw_value`, from `source_column`) beside the harmonised one (`value_number` for numbers and
ordinal scores, `value_text` for category levels), and the version (content hash) of the
dataset's mapping that produced it, so a changed mapping can be re-applied from what is stored
(`flask harmonise`) without reading the sources again.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, TimestampMixin

if TYPE_CHECKING:
    from app.models.measure import Measure
    from app.models.subject import Subject
    from app.models.visit import Visit


class Assessment(TimestampMixin, Base):
    __tablename__ = "assessment"
    __table_args__ = (
        UniqueConstraint("subject_id", "measure_id", "days_since_baseline"),
        # Range filters ("MMSE below 24") read a measure's values in order.
        Index("ix_assessment_measure_id_value_number", "measure_id", "value_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id", ondelete="CASCADE"))
    measure_id: Mapped[int] = mapped_column(ForeignKey("measure.id"))
    days_since_baseline: Mapped[int]
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id", ondelete="SET NULL"),
                                                 index=True)
    value_number: Mapped[float | None]
    value_text: Mapped[str | None] = mapped_column(String(64))
    raw_value: Mapped[str | None] = mapped_column(Text)
    source_column: Mapped[str] = mapped_column(String(128))
    mapping_version: Mapped[str] = mapped_column(String(64))

    subject: Mapped[Subject] = relationship()
    measure: Mapped[Measure] = relationship()
    visit: Mapped[Visit | None] = relationship()
