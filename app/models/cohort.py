"""A saved cohort: an /images query frozen, by the key that made it, into a manifest."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, JSONType, utcnow

if TYPE_CHECKING:
    from app.models.cohort_image import CohortImage


class Cohort(Base):
    __tablename__ = "cohort"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    # The owner is the key's name, not a foreign key: like the audit log, a cohort outlives a
    # key replaced by `flask apikey create --replace` (same name, new token).
    key_name: Mapped[str] = mapped_column(String(128), index=True)
    # The /images filters as a query string would carry them: {parameter: [values]}.
    query: Mapped[dict[str, list[str]]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    image_count: Mapped[int]
    # SHA-256 of the canonical manifest (app/api/cohort_manifest.py defines it).
    manifest_sha256: Mapped[str] = mapped_column(String(64))

    images: Mapped[list[CohortImage]] = relationship(
        back_populates="cohort", cascade="all, delete-orphan", passive_deletes=True,
        order_by="CohortImage.position")
