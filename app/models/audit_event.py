"""One entry of the append-only audit log: who read, downloaded, exported or changed what, and
when."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, JSONType, str_enum, utcnow

if TYPE_CHECKING:
    from app.models.dataset import Dataset


class AuditAction(enum.StrEnum):
    DOWNLOAD = "download"  # one image's bytes (streamed, or a redirect to storage)
    DOWNLOAD_URLS = "download_urls"  # download URLs handed out with a page (with_urls=true)
    EXPORT = "export"  # a whole filtered collection as CSV
    KEY_CREATE = "key_create"
    KEY_REVOKE = "key_revoke"
    KEY_GRANT = "key_grant"
    KEY_REVOKE_GRANT = "key_revoke_grant"
    PREVIEW = "preview"  # a QA preview of an image or derived file (it shows the content)
    COHORT_CREATE = "cohort_create"
    COHORT_DELETE = "cohort_delete"
    COHORT_DIFF = "cohort_diff"  # a cohort's query run again and compared
    QC_REVIEW = "qc_review"
    CLAIM = "claim"  # processing claims taken (the image ids they cover)
    CLAIM_RENEW = "claim_renew"
    CLAIM_UPLOAD = "claim_upload"  # an output file stored for a claim
    CLAIM_COMPLETE = "claim_complete"
    CLAIM_FAIL = "claim_fail"
    DATASET_REGISTER = "dataset_register"  # a load's --register
    DATASET_DELETE = "dataset_delete"  # `flask dataset delete` (details: purge or not)
    HARMONISE = "harmonise"  # `flask harmonise`: a dataset's mapping re-applied to stored rows


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # The key that acted (API requests) or was changed (key changes), or `cli:<user>` for a
    # command. A name, not a foreign key: the entry outlives the key (`flask apikey create
    # --replace` deletes the old one).
    key_name: Mapped[str] = mapped_column(String(128), index=True)
    action: Mapped[AuditAction] = mapped_column(str_enum(AuditAction, "action"))
    # Exports: the rows sent. Downloads and URLs: the image ids, in order.
    row_count: Mapped[int | None]
    image_ids: Mapped[list[int] | None] = mapped_column(JSONType)
    # The query of an export, or what a key change did (scopes, expiry, ...).
    details: Mapped[dict[str, Any] | None]

    datasets: Mapped[list[Dataset]] = relationship(
        secondary="audit_event_dataset", order_by="Dataset.designation")
