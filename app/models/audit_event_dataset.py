"""The datasets an audit entry touched, so the log can be filtered by dataset."""
from __future__ import annotations

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class AuditEventDataset(Base):
    __tablename__ = "audit_event_dataset"

    audit_event_id: Mapped[int] = mapped_column(ForeignKey("audit_event.id"), primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id"), primary_key=True,
                                            index=True)
