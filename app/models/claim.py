"""A claim on one image (or on every image of a subject) for one processing task, with a lease.

One row per task and image (or task and subject): the processing queue. A worker takes pending
rows and rows whose lease expired; the lease expires unless the worker renews it. The row
remembers how often it was leased and failed, and the last error.
"""
from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, TimestampMixin, str_enum

if TYPE_CHECKING:
    from app.models.image import Image
    from app.models.subject import Subject


class ClaimState(enum.StrEnum):
    PENDING = "pending"  # waiting for a worker (new, released after a failure, or never taken)
    LEASED = "leased"  # held by a worker until lease_expires_at (taken again after it)
    DONE = "done"
    FAILED = "failed"  # failed as many times as allowed: no worker takes it again


class Claim(TimestampMixin, Base):
    __tablename__ = "claim"
    __table_args__ = (
        # One queue entry per task and image; NULL image ids (subject claims) never collide here.
        UniqueConstraint("task", "image_id"),
        # One subject-wide entry per task and subject.
        Index("uq_claim_task_subject_id", "task", "subject_id", unique=True,
              sqlite_where=text("image_id IS NULL"), postgresql_where=text("image_id IS NULL")),
        # The claim query: a task's pending or leased rows, in id order.
        Index("ix_claim_task_state", "task", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(128))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    # None: the claim covers every image of the subject (a task needing them all at once).
    image_id: Mapped[int | None] = mapped_column(ForeignKey("image.id"))
    state: Mapped[ClaimState] = mapped_column(
        str_enum(ClaimState, "state"), default=ClaimState.PENDING,
        server_default=ClaimState.PENDING.value)
    # The worker holding the lease and the secret that proves it (new at every lease).
    worker: Mapped[str | None] = mapped_column(String(255))
    lease_token: Mapped[str | None] = mapped_column(String(64))
    leased_at: Mapped[datetime | None]
    lease_expires_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    failures: Mapped[int] = mapped_column(default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None]

    subject: Mapped[Subject] = relationship()
    image: Mapped[Image | None] = relationship()
