"""One QC review of an image: who set which state, when, and why. Never updated: the history.

The image's current state is kept on the image (`image.qc_state`), so queries filter on a plain
column; this table keeps every review that led there.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, str_enum, utcnow
from app.models.enums import QcState


class QcReview(Base):
    __tablename__ = "qc_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("image.id", ondelete="CASCADE"),
                                          index=True)
    state: Mapped[QcState] = mapped_column(str_enum(QcState, "state"))
    comment: Mapped[str | None] = mapped_column(Text)
    # The API key's name (or the command-line reviewer) that wrote the review.
    author: Mapped[str] = mapped_column(String(128))
    reviewed_at: Mapped[datetime] = mapped_column(default=utcnow)
