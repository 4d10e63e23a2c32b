"""Write entries of the append-only audit log (read back by GET /api/v1/audit, `flask audit`).

Entries are only ever added: nothing in MBID-db updates or deletes one (a purged dataset's
links are dropped, its entries kept: they name it in their details). Each entry says who acted
(a key's name, or `cli:<user>` for a command), what it did and which datasets it touched: the
datasets of the rows and files concerned, and those its query names.
"""
from __future__ import annotations

import getpass
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import AuditAction, AuditEvent, Dataset, Image

# The load engine records entries in its own session, without Flask: what only a request (or
# the app's session) needs is imported by the functions that use it.


def record(
    action: AuditAction,
    key_name: str,
    *,
    datasets: Iterable[Dataset] = (),
    image_ids: Sequence[int] | None = None,
    row_count: int | None = None,
    details: dict[str, Any] | None = None,
    session: Session | None = None,
) -> AuditEvent:
    """Add an entry to the session (the caller commits, with the change it logs).

    `session` is the app's unless given (the load engine hands its own).
    """
    event = AuditEvent(key_name=key_name, action=action,
                       datasets=list(dict.fromkeys(datasets)),
                       image_ids=list(image_ids) if image_ids is not None else None,
                       row_count=row_count, details=details)
    (session or _app_session()).add(event)
    return event


def _app_session() -> Session:
    """The app's session (the engine passes its own to `record` and needs no app)."""
    from app.extensions import db

    return db.session


def current_key_name() -> str:
    """The name of the current request's key (app.access.current reads Flask's request)."""
    from app.access.current import current_key_name as key_name_of_request

    return key_name_of_request()


def cli_actor() -> str:
    """Return who acts in a command (`cli:<login name>`), as the audit log names them."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name (e.g. a container's anonymous uid)
        user = "unknown"
    return f"cli:{user}"


def datasets_named(designations: Iterable[str]) -> list[Dataset]:
    """Return the datasets with these designations, any case (the datasets of an entry)."""
    wanted = {designation.lower() for designation in designations}
    if not wanted:
        return []
    return list(_app_session().scalars(select(Dataset).where(
        func.lower(Dataset.designation).in_(sorted(wanted)))))


def named_in_query() -> list[str]:
    """Return the dataset designations the request's `dataset` parameter names.

    An entry touches them too: its query text names them, so a key that may not see one of
    them must not read the entry (app/api/audit.py), even when no row of it was sent.
    """
    from flask import request

    return [part.strip() for value in request.args.getlist("dataset")
            for part in value.split(",") if part.strip()]


def record_request(action: AuditAction, *, datasets: Iterable[Dataset] = (),
                   image_ids: Sequence[int] | None = None, row_count: int | None = None,
                   details: dict[str, Any] | None = None) -> AuditEvent:
    """Add an entry for what the request's key does (the caller commits, with the change)."""
    return record(action, current_key_name(), datasets=datasets, image_ids=image_ids,
                  row_count=row_count, details=details)


def images_datasets(image_ids: Iterable[int]) -> list[Dataset]:
    """Return the datasets of these images (for an entry naming them)."""
    ids = sorted(set(image_ids))
    if not ids:
        return []
    return list(_app_session().scalars(select(Dataset).where(Dataset.id.in_(
        select(Image.dataset_id).where(Image.id.in_(ids))))))


def record_download(image: Image) -> None:
    """Log (and commit) that the request's key is given the file of `image`."""
    record(AuditAction.DOWNLOAD, current_key_name(), datasets=[image.dataset],
           image_ids=[image.id])
    _app_session().commit()


def record_download_urls(rows: Sequence[Any]) -> None:
    """Log (and commit) the download URLs handed out for a page of image rows (if any)."""
    if not rows:
        return
    record(AuditAction.DOWNLOAD_URLS, current_key_name(),
           datasets=datasets_named(row["dataset"] for row in rows),
           image_ids=[row["id"] for row in rows])
    _app_session().commit()


def export_recorder() -> Callable[[int, Iterable[str]], None]:
    """Return a function that logs (and commits) the export the current request streams.

    The key and the query (the request's path and parameters, enough to repeat it) are taken
    now; the function, called when the stream ends, adds the row count and the datasets.
    """
    from flask import request

    key_name = current_key_name()
    details = {"path": request.path, "query": request.args.to_dict(flat=False)}
    named = named_in_query()

    def record_export(row_count: int, designations: Iterable[str]) -> None:
        record(AuditAction.EXPORT, key_name,
               datasets=datasets_named([*designations, *named]),
               row_count=row_count, details=details)
        _app_session().commit()

    return record_export
