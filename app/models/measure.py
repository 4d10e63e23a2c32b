"""One entry of the master list of clinical measures (MMSE, CDR, education...), by designation.

Seeded from data/seed_files/measures_list.csv. `vocabulary`, `term_code` and `term_url` name
the controlled-vocabulary concept the measure stands for (LOINC, SNOMED CT, NCIT), left empty
where none was confirmed.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin, str_enum
from app.models.enums import MeasureKind


class Measure(TimestampMixin, Base):
    __tablename__ = "measure"

    id: Mapped[int] = mapped_column(primary_key=True)
    designation: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[MeasureKind] = mapped_column(str_enum(MeasureKind, "measure_kind"))
    # The valid range of a number or ordinal score (inclusive), and the levels of a category
    # (or the allowed steps of an ordinal scale such as the CDR's 0, 0.5, 1, 2, 3).
    minimum: Mapped[float | None]
    maximum: Mapped[float | None]
    levels: Mapped[dict[str, Any] | None]
    # A trait holds for the subject at every visit (education, handedness, APOE e4): a filter
    # takes its latest value whatever the day, not only within the window before a scan.
    per_subject: Mapped[bool] = mapped_column(default=False, server_default=false())
    vocabulary: Mapped[str | None] = mapped_column(String(32))
    term_code: Mapped[str | None] = mapped_column(String(64))
    term_url: Mapped[str | None] = mapped_column(String(255))
