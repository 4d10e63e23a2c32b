"""Write entries of the append-only audit log (read back by GET /api/v1/audit, `flask audit`).

Entries are only ever added: nothing in MBID-db updates or deletes one.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from flask import request
from sqlalchemy import select

from app.access import current_key_name
from app.extensions import db
from app.models import AuditAction, AuditEvent, Dataset, Image


def record(
    action: AuditAction,
    key_name: str,
    *,
    datasets: Iterable[Dataset] = (),
    image_ids: Sequence[int] | None = None,
    row_count: int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an entry to the session (the caller commits, with the change it logs)."""
    event = AuditEvent(key_name=key_name, action=action, datasets=list(datasets),
                       image_ids=list(image_ids) if image_ids is not None else None,
                       row_count=row_count, details=details)
    db.session.add(event)
    return event


def datasets_named(designations: Iterable[str]) -> list[Dataset]:
    """Return the datasets with these designations (for the datasets of an audit entry)."""
    wanted = set(designations)
    if not wanted:
        return []
    return list(db.session.scalars(select(Dataset).where(Dataset.designation.in_(wanted))))


def record_download(image: Image) -> None:
    """Log (and commit) that the request's key is given the file of `image`."""
    record(AuditAction.DOWNLOAD, current_key_name(), datasets=[image.dataset],
           image_ids=[image.id])
    db.session.commit()


def record_download_urls(rows: Sequence[Any]) -> None:
    """Log (and commit) the download URLs handed out for a page of image rows (if any)."""
    if not rows:
        return
    record(AuditAction.DOWNLOAD_URLS, current_key_name(),
           datasets=datasets_named(row["dataset"] for row in rows),
           image_ids=[row["id"] for row in rows])
    db.session.commit()


def export_recorder() -> Callable[[int, Iterable[str]], None]:
    """Return a function that logs (and commits) the export the current request streams.

    The key and the query (the request's path and parameters, enough to repeat it) are taken
    now; the function, called when the stream ends, adds the row count and the datasets.
    """
    key_name = current_key_name()
    details = {"path": request.path, "query": request.args.to_dict(flat=False)}

    def record_export(row_count: int, designations: Iterable[str]) -> None:
        record(AuditAction.EXPORT, key_name, datasets=datasets_named(designations),
               row_count=row_count, details=details)
        db.session.commit()

    return record_export
