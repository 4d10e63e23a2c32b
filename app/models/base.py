"""Column helpers shared by the models: time defaults, string enums, mixins."""
from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import Enum, func
from sqlalchemy.orm import Mapped, mapped_column


def utcnow() -> datetime:
    """Return the current time in UTC (passed uncalled as a column default)."""
    return datetime.now(UTC)


def str_enum(enum_cls: type[enum.Enum], name: str) -> Enum:
    """Store an enum as its string value in a VARCHAR with a CHECK of the allowed values.

    A VARCHAR rather than a native PostgreSQL ENUM: adding a member needs no ALTER TYPE, and the
    same schema works on SQLite.
    """
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        length=32,
        values_callable=lambda members: [member.value for member in members],
    )


class TimestampMixin:
    """created_at / updated_at, filled by the database or at write time, never at import."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        default=utcnow, onupdate=utcnow, server_default=func.now()
    )


class SoftDeleteMixin:
    """deleted_at marks a row as withdrawn without losing it."""

    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
