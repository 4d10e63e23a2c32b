"""The search read model: the columns of `image` the API filters, sorts and groups by, copied
from the image's subject, visit and scanner so that one composite index serves a filtered count.

Who keeps them right: the loading engine computes them for every image it writes
(load_db/engine/search.py, the same rules in pandas) and calls `refresh_image_search` for the
dataset's other images when a load changed their subject, visit or scanner (its bulk statements
bypass the ORM); every ORM flush that writes a subject, visit, scanner or image refreshes the
images it may affect (`keep_image_search_right`). So the copies never disagree with their
sources.
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Subquery,
    bindparam,
    cast,
    event,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, UOWTransaction, aliased

from app.models.image import Image
from app.models.scanner import Scanner
from app.models.subject import Subject
from app.models.visit import Visit

DAYS_PER_YEAR = 365.25


# The search columns, in the order of their source's columns.
SEARCH_COLUMNS = ("search_condition_id", "search_sex", "search_age_at_scan",
                  "search_field_strength", "search_manufacturer")


def search_source(*scope: str) -> Subquery:
    """The search values of images, computed by joining them to their subject, visit and
    scanner: one row per image (`image_id`, then SEARCH_COLUMNS). `scope` names image columns
    whose values select the images (any of them; all images without one): each takes its list
    of values from the parameter `scope_<name>` (see scope_parameters).

    The rules are the query layer's (app/query/rows.py): the condition is the visit's diagnosis
    when known, else the subject's; the scan day is the image's own, else its visit's; the age
    at scan is age_at_baseline + that day / 365.25.
    """
    source = aliased(Image, name="source_image")  # not the UPDATE's own image row
    scan_day = func.coalesce(source.days_since_baseline, Visit.days_since_baseline)
    values = (func.coalesce(Visit.condition_id, Subject.condition_id),
              Subject.sex,
              Subject.age_at_baseline + cast(scan_day, Float) / DAYS_PER_YEAR,
              Scanner.field_strength,
              func.lower(Scanner.manufacturer))
    statement = (
        select(source.id.label("image_id"),
               *(value.label(name) for name, value in zip(SEARCH_COLUMNS, values, strict=True)))
        .select_from(source)
        .join(Subject, Subject.id == source.subject_id)
        .outerjoin(Visit, Visit.id == source.visit_id)
        .outerjoin(Scanner, Scanner.id == source.scanner_id))
    if scope:
        statement = statement.where(in_scope(source, scope))
    return statement.subquery("search_source")


def in_scope(image: Any, scope: Sequence[str]) -> ColumnElement[bool]:
    """The images (`image`: the Image model or an alias of it) whose column named by any of
    `scope` holds one of the values of the parameter `scope_<name>`: a condition built once
    per scope, whose values come with each execution (scope_parameters)."""
    return or_(*(getattr(image, name).in_(bindparam(f"scope_{name}", expanding=True))
                 for name in scope))


def scope_parameters(scope: Sequence[tuple[str, set[int]]]) -> dict[str, list[int]]:
    """The parameters of a statement scoped by (image column, values) pairs (in_scope)."""
    return {f"scope_{name}": sorted(ids) for name, ids in scope}


# Built once per scope (every ORM flush that writes a subject, visit, scanner or image runs one).
@cache
def _refresh_statement(*scope: str) -> Any:
    """UPDATE image SET the search columns FROM their source, where any of them differs; the
    images are those whose `scope` columns hold the values of the scope's parameters."""
    source = search_source(*scope)
    return (update(Image)
            # updated_at kept: it dates changes of the image's own data, not of these copies
            .values({**{name: source.c[name] for name in SEARCH_COLUMNS},
                     "updated_at": Image.updated_at})
            .where(Image.id == source.c.image_id)
            .where(or_(*(getattr(Image, name).is_distinct_from(source.c[name])
                         for name in SEARCH_COLUMNS)))
            .execution_options(synchronize_session=False))


def refresh_image_search(session: Session, dataset_id: int | None = None) -> int:
    """Recompute the search columns of one dataset's images (every image without
    `dataset_id`) in the session's transaction; return how many image rows changed.

    Rows whose copies are already right are not written, so a re-load that changed nothing
    writes nothing here either.
    """
    scope = [] if dataset_id is None else [("dataset_id", {dataset_id})]
    statement = _refresh_statement(*(name for name, _ids in scope))
    return session.execute(statement, scope_parameters(scope)).rowcount


def _refresh_after_flush(session: Session, _flush: UOWTransaction) -> None:
    """Refresh the images of every subject, visit, scanner and image this flush wrote."""
    written = [*session.new, *session.dirty, *session.deleted]
    subject_ids = {row.id for row in written if isinstance(row, Subject)}
    visit_ids = {row.id for row in written if isinstance(row, Visit)}
    scanner_ids = {row.id for row in written if isinstance(row, Scanner)}
    image_ids = {row.id for row in written if isinstance(row, Image)}
    scopes = [("subject_id", subject_ids), ("visit_id", visit_ids),
              ("scanner_id", scanner_ids), ("id", image_ids)]
    touched = [(name, ids - {None}) for name, ids in scopes if ids - {None}]
    if touched:
        # Through the connection: the session is flushing and must not flush again.
        session.connection().execute(_refresh_statement(*(name for name, _ids in touched)),
                                     scope_parameters(touched))


def keep_image_search_right() -> None:
    """Make every flush of any session refresh the search columns of the images its writes
    affect (installed when app.models is imported; idempotent)."""
    if not event.contains(Session, "after_flush", _refresh_after_flush):
        event.listen(Session, "after_flush", _refresh_after_flush)
