"""A data-use grant: one API key may see one dataset."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, utcnow

if TYPE_CHECKING:
    from app.models.api_key import ApiKey
    from app.models.dataset import Dataset


class ApiKeyGrant(Base):
    __tablename__ = "api_key_grant"
    __table_args__ = (UniqueConstraint("api_key_id", "dataset_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_key.id", ondelete="CASCADE"))
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    api_key: Mapped[ApiKey] = relationship(back_populates="grants")
    dataset: Mapped[Dataset] = relationship()
