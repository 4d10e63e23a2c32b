"""The declarative base of every model, and the column helpers they share: time defaults,
string enums, mixins.

Plain SQLAlchemy, no Flask: the engine, the adapters and the scripts import the models and use
them with any Session. Flask-SQLAlchemy adopts this base (`SQLAlchemy(model_class=Base)` in
app/extensions.py), so `db.session` and `db.metadata` serve the same tables.
"""
from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Enum, MetaData, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSON everywhere, stored as JSONB on PostgreSQL so it can be indexed and queried. Python None
# is SQL NULL ("no metadata"), not the JSON value null.
JSONType = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


class Base(DeclarativeBase):
    """Declarative base: named constraints, aware datetimes, JSON dicts."""

    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: DateTime(timezone=True), dict[str, Any]: JSONType},
    )


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
