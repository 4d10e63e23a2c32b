"""A tag a dataset's study configuration expects per visit: how many series, stored as what.

Written by a DICOM load from the study configuration; `site` is "" for the dataset-wide entry,
else a site's own (which replaces the dataset-wide entry of the same tag for that site).
"""
from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class StudyTag(Base):
    __tablename__ = "study_tag"
    __table_args__ = (UniqueConstraint("dataset_id", "site", "tag"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id"), index=True)
    site: Mapped[str] = mapped_column(String(64), default="", server_default="")
    tag: Mapped[str] = mapped_column(String(64))
    expected_count: Mapped[int]
    # The image type its series are stored as; None: not stored (e.g. a localiser).
    image_type: Mapped[str | None] = mapped_column(String(32))
    qc_kind: Mapped[str | None] = mapped_column(String(64))
