"""What the last load of a dataset from one source read: per file, the version it saw."""
from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin


class LoadManifest(TimestampMixin, Base):
    """One row per dataset and source, rewritten by each successful load in its transaction.

    `files` maps each file's path (relative to the source) to the version the load read: for a
    folder on disk ``"size:modification time in ns"``, for object storage ``"size:ETag"``, or
    null when the version could not be trusted (a file modified just before it was listed)
    and must be read again. `reader` names what turned the files into rows (adapter, its
    version, the dataset's storage prefix): rows from another reader are not comparable, so a
    different `reader` means a full read.

    `row_counts` holds ``per_subject``: {subject label: [subject, visit, image rows]} that the
    files gave, which a load that skips a subject reports as unchanged; and ``totals``: the
    dataset's subject, visit and live image rows after the load. Rows added or removed since
    by anything else (the totals differ) mean a full read.
    """

    __tablename__ = "load_manifest"
    __table_args__ = (UniqueConstraint("dataset_id", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"),
                                            index=True)
    # A folder's real path, or the storage backend and key prefix.
    source: Mapped[str] = mapped_column(Text)
    reader: Mapped[str] = mapped_column(String(255))
    files: Mapped[dict[str, Any]]
    row_counts: Mapped[dict[str, Any]]
