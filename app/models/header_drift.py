"""How an image's header compares with the current gold standard of its tag: the differences
(field, expected, actual, tolerance), kept with the standard's version. One row per image."""
from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, JSONType


class HeaderDrift(Base):
    __tablename__ = "header_drift"

    image_id: Mapped[int] = mapped_column(ForeignKey("image.id", ondelete="CASCADE"),
                                          primary_key=True)
    gold_standard_id: Mapped[int] = mapped_column(
        ForeignKey("gold_standard.id", ondelete="CASCADE"), index=True)
    standard_version: Mapped[int]
    # True when any field differs beyond its tolerance (the /images drift filter).
    drifted: Mapped[bool] = mapped_column(index=True)
    differences: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
