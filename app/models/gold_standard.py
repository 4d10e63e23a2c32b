"""A gold-standard header of one dataset, site and tag, in versions: each change (a new header,
an ignore list or a tolerance) is a new version, and the images of the tag are judged again."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, JSONType, utcnow


class GoldStandard(Base):
    __tablename__ = "gold_standard"
    __table_args__ = (UniqueConstraint("dataset_id", "site", "tag", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id"), index=True)
    # "" for every site without a standard of its own.
    site: Mapped[str] = mapped_column(String(64), default="", server_default="")
    tag: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    # The header fields compared (acquisition values, as image.metadata_json holds them).
    header: Mapped[dict[str, Any]]
    ignore: Mapped[list[str]] = mapped_column(JSONType)
    # Field -> the absolute difference still accepted (numbers only; absent: exact).
    tolerances: Mapped[dict[str, Any]]
    # The image whose header was taken, when one was.
    source_image_id: Mapped[int | None] = mapped_column(
        ForeignKey("image.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
