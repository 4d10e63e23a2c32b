"""One entry of the master list of diagnoses, keyed by designation.

`vocabulary`, `term_code` and `term_url` name the controlled-vocabulary concept (SNOMED CT,
NCIT) the condition stands for, left empty where none was confirmed.
"""
from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin


class Condition(TimestampMixin, Base):
    __tablename__ = "condition"

    id: Mapped[int] = mapped_column(primary_key=True)
    designation: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    vocabulary: Mapped[str | None] = mapped_column(String(32))
    term_code: Mapped[str | None] = mapped_column(String(64))
    term_url: Mapped[str | None] = mapped_column(String(255))
