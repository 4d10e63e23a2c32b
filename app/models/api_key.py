"""A named API access token: only its SHA-256 hash is stored, with its scopes and grants."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, JSONType, TimestampMixin

if TYPE_CHECKING:
    from app.models.api_key_grant import ApiKeyGrant


class Scope(enum.StrEnum):
    """What a key may do; each route needs exactly one of these (none implies another), and
    the routes of counts alone (/stats) also open to AGGREGATE."""

    READ = "read"  # metadata: collections, single rows, stats, CSV exports
    DOWNLOAD = "download"  # image bytes and download URLs
    WRITE = "write"  # writes through the API (QC reviews, cohorts)
    WORKER = "worker"  # processing claims
    ADMIN = "admin"  # the audit log (keys and grants are managed with `flask apikey`)
    # Counts only: /stats and the dashboard's counts, small counts shown as "<5"; no rows.
    AGGREGATE = "aggregate"


# What a key gets when nothing else is asked for, and what keys made before scopes existed keep.
DEFAULT_SCOPES = (Scope.READ, Scope.DOWNLOAD)


class ApiKey(TimestampMixin, Base):
    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token, so a user can tell keys apart in `flask apikey list`.
    token_prefix: Mapped[str] = mapped_column(String(16))
    # Scope values (see Scope), sorted; a short fixed vocabulary checked when a key is written.
    scopes: Mapped[list[str]] = mapped_column(JSONType)
    # True: every dataset, including ones added later; False: only the datasets of `grants`.
    all_datasets: Mapped[bool] = mapped_column(default=False, server_default=false())
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    # Updated at most once a minute per key (see app.access.auth), not on every request.
    last_used_at: Mapped[datetime | None]

    grants: Mapped[list[ApiKeyGrant]] = relationship(
        back_populates="api_key", cascade="all, delete-orphan")
