"""The search read model: the columns of `image` the API filters, sorts and groups by, copied
from the image's subject, visit and scanner so that one composite index serves a filtered count.

`refresh_image_search` recomputes them with one set-based UPDATE in the writer's transaction:
the loading engine calls it after every load (its bulk statements bypass the ORM), and every ORM
flush that writes a subject, visit, scanner or image refreshes the images it may affect
(`keep_image_search_right`), so the copies never disagree with their sources.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Float, cast, event, func, or_, select, update
from sqlalchemy.orm import Session, UOWTransaction

from app.models.image import Image
from app.models.scanner import Scanner
from app.models.subject import Subject
from app.models.visit import Visit

DAYS_PER_YEAR = 365.25


def _of_subject(column: Any) -> ColumnElement[Any]:
    return select(column).where(Subject.id == Image.subject_id).scalar_subquery()


def _of_visit(column: Any) -> ColumnElement[Any]:
    return select(column).where(Visit.id == Image.visit_id).scalar_subquery()


def _of_scanner(column: Any) -> ColumnElement[Any]:
    return select(column).where(Scanner.id == Image.scanner_id).scalar_subquery()


def search_values() -> dict[Any, ColumnElement[Any]]:
    """Each search column of `image` -> the expression it copies, correlated to the image row.

    The rules are the API's (app/api/rows.py): the condition is the visit's diagnosis when known,
    else the subject's; the scan day is the image's own, else its visit's; the age at scan is
    age_at_baseline + that day / 365.25.
    """
    scan_day = func.coalesce(Image.days_since_baseline, _of_visit(Visit.days_since_baseline))
    return {
        Image.search_condition_id: func.coalesce(_of_visit(Visit.condition_id),
                                                 _of_subject(Subject.condition_id)),
        Image.search_sex: _of_subject(Subject.sex),
        Image.search_age_at_scan: (_of_subject(Subject.age_at_baseline)
                                   + cast(scan_day, Float) / DAYS_PER_YEAR),
        Image.search_field_strength: _of_scanner(Scanner.field_strength),
        Image.search_manufacturer: _of_scanner(func.lower(Scanner.manufacturer)),
    }


def _refresh_statement(*criteria: ColumnElement[bool]) -> Any:
    values = search_values()
    return (update(Image).values({column.key: value for column, value in values.items()})
            .where(or_(*(column.is_distinct_from(value) for column, value in values.items())))
            .where(*criteria))


def refresh_image_search(session: Session, dataset_id: int | None = None) -> int:
    """Recompute the search columns of one dataset's images (every image without
    `dataset_id`) in the session's transaction; return how many image rows changed.

    Rows whose copies are already right are not written, so a re-load that changed nothing
    writes nothing here either.
    """
    criteria = [] if dataset_id is None else [Image.dataset_id == dataset_id]
    statement = _refresh_statement(*criteria).execution_options(synchronize_session=False)
    return session.execute(statement).rowcount


def _refresh_after_flush(session: Session, _flush: UOWTransaction) -> None:
    """Refresh the images of every subject, visit, scanner and image this flush wrote."""
    written = [*session.new, *session.dirty, *session.deleted]
    subject_ids = {row.id for row in written if isinstance(row, Subject)}
    visit_ids = {row.id for row in written if isinstance(row, Visit)}
    scanner_ids = {row.id for row in written if isinstance(row, Scanner)}
    image_ids = {row.id for row in written if isinstance(row, Image)}
    scopes = [(Image.subject_id, subject_ids), (Image.visit_id, visit_ids),
              (Image.scanner_id, scanner_ids), (Image.id, image_ids)]
    touched = [column.in_(ids) for column, ids in scopes if ids - {None}]
    if touched:
        # Through the connection: the session is flushing and must not flush again.
        session.connection().execute(_refresh_statement(or_(*touched)))


def keep_image_search_right() -> None:
    """Make every flush of any session refresh the search columns of the images its writes
    affect (installed when app.models is imported; idempotent)."""
    if not event.contains(Session, "after_flush", _refresh_after_flush):
        event.listen(Session, "after_flush", _refresh_after_flush)
