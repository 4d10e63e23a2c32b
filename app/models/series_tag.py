"""One series a DICOM load saw, with its study tag: the inventory of a visit (or a phantom).

Every series is kept, stored as an image or not (T2, localisers, ASL), so completeness can be
judged against the study configuration. `tag` is "untagged" when no tag or several matched
(`reason` says which).
"""
from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base

UNTAGGED = "untagged"


class SeriesTag(Base):
    __tablename__ = "series_tag"
    __table_args__ = (UniqueConstraint("dataset_id", "path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id"), index=True)
    # None for a phantom session, which belongs to no participant.
    visit_id: Mapped[int | None] = mapped_column(
        ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    image_id: Mapped[int | None] = mapped_column(
        ForeignKey("image.id", ondelete="SET NULL"), index=True)
    # The session the series came from: a DATMAN session name, a phantom id or the visit id.
    session: Mapped[str] = mapped_column(String(128), index=True)
    site: Mapped[str] = mapped_column(String(64), default="", server_default="")
    phantom: Mapped[bool] = mapped_column(default=False)
    path: Mapped[str] = mapped_column(String(1024))
    series_number: Mapped[int | None]
    description: Mapped[str] = mapped_column(String(256), default="", server_default="")
    tag: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(256))
