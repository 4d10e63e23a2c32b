"""A scanner of one dataset, keyed by (dataset_id, manufacturer, model, serial)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, TimestampMixin

if TYPE_CHECKING:
    from app.models.dataset import Dataset


class Scanner(TimestampMixin, Base):
    __tablename__ = "scanner"
    # Unknown parts are '' rather than NULL: NULLs never collide in a unique constraint, so the
    # natural key would not hold.
    __table_args__ = (UniqueConstraint("dataset_id", "manufacturer", "model", "serial"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id"), index=True)
    manufacturer: Mapped[str] = mapped_column(String(128), default="", server_default="",
                                              index=True)
    model: Mapped[str] = mapped_column(String(128), default="", server_default="")
    serial: Mapped[str] = mapped_column(String(128), default="", server_default="")
    field_strength: Mapped[float | None] = mapped_column(index=True)

    dataset: Mapped[Dataset] = relationship(back_populates="scanners")
