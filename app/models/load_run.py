"""One run of a loader: what it loaded, when, how it ended and its report."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import str_enum, utcnow
from app.models.enums import LoadStatus


class LoadRun(db.Model):
    __tablename__ = "load_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int | None] = mapped_column(ForeignKey("dataset.id"), index=True)
    loader: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[LoadStatus] = mapped_column(str_enum(LoadStatus, "status"))
    dry_run: Mapped[bool] = mapped_column(default=False)
    report: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)
