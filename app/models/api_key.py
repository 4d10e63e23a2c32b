"""A named API access token; only its SHA-256 hash is stored."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import TimestampMixin


class ApiKey(TimestampMixin, db.Model):
    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token, so a user can tell keys apart in `flask apikey list`.
    token_prefix: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[dict[str, Any] | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
