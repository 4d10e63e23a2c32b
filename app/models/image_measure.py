"""The measure read model: for each image and measure, the value that counts for the image
under the default window (app/query/measures.py, DEFAULT_WINDOW_DAYS), copied from the
assessments so that a measure filter on images reads one index instead of running a correlated
subquery for every image the other filters leave.

Each row also carries copies of its image's search columns (COPIED: dataset, type, and the
search read model's condition, sex and age at scan, app/models/search.py), so that one index
range of ix_image_measure_search answers a measure filter together with the form's other
filters (app/query/measures.py): the images of a dataset, type, condition and sex, in an age
range, with a value in range, without intersecting two sets of image ids. It copies too what
decides whether the image is shown: its subject (withdrawn subjects leave every count), its QC
state (blacklisted images are hidden, app/qc/hidden.py) and its soft deletion (deleted_at), so
that a measure-filtered total or /stats grouping reads image_measure alone
(app/query/images.py, matching_images); dataset grants apply to it by its dataset_id
(app/access/visibility.py).

A row exists only where a value counts. Who keeps the rows right: the loading engine after a
load that wrote a dataset's subjects, images, visits or assessments (SOURCE_TABLES), `flask
harmonise` after it re-mapped them (both call `refresh_image_measures` for the dataset, after
`refresh_image_search`, whose columns it copies), and every ORM flush that writes a subject,
visit, image, assessment or measure (`keep_image_measures_right`, for the images of the subjects
it touched, after the search columns' own refresh: an image's QC state or deletion and a
subject's withdrawal are such writes). One statement computes the rows for both
(`image_measure_rows`).
"""
from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    Select,
    String,
    and_,
    case,
    delete,
    event,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, Session, UOWTransaction, mapped_column

from app.models.assessment import Assessment
from app.models.base import Base
from app.models.enums import MeasureKind
from app.models.image import Image
from app.models.measure import Measure
from app.models.search import in_scope, keep_image_search_right, scope_parameters
from app.models.subject import Subject
from app.models.visit import Visit

# How far before a scan a value may lie and still count, by default (days): the window the
# read model holds (the query layer's default; a request with another window does not use it).
DEFAULT_WINDOW_DAYS = 365


class ImageMeasure(Base):
    __tablename__ = "image_measure"
    __table_args__ = (
        # A range filter (MMSE<24) reads a measure's values in order, straight to image ids.
        Index("ix_image_measure_number", "measure_id", "value_number", "image_id"),
        # A set filter on a category (HANDEDNESS=left).
        Index("ix_image_measure_text", "measure_id", "value_text", "image_id"),
        # A measure filter with the form's other filters (dataset, type, condition, sex, age
        # range): equalities first, then the age range, the value checked in the index; what
        # decides whether the image is shown (QC state, deletion, subject) and the image id end
        # it, so a total's matching images are an index-only range of this one index.
        Index("ix_image_measure_search", "measure_id", "dataset_id", "type",
              "search_condition_id", "search_sex", "search_age_at_scan", "value_number",
              "qc_state", "deleted_at", "subject_id", "image_id"),
    )

    image_id: Mapped[int] = mapped_column(ForeignKey("image.id", ondelete="CASCADE"),
                                          primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measure.id", ondelete="CASCADE"),
                                            primary_key=True)
    value_number: Mapped[float | None]
    value_text: Mapped[str | None] = mapped_column(String(64))
    # The days_since_baseline of the assessment the value comes from.
    day: Mapped[int] = mapped_column(Integer)

    # Copies of the image's columns of the same names (COPIED). The enums are plain strings:
    # image's CHECK constraints vouch for them, and a new image type needs no change here.
    dataset_id: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(32))
    search_condition_id: Mapped[int | None] = mapped_column(Integer)
    search_sex: Mapped[str | None] = mapped_column(String(32))
    search_age_at_scan: Mapped[float | None]
    # Copies of what decides whether the image is shown (the liveness rule of
    # app/query/rows.py and the QC hook of app/qc/hidden.py read them as they read image's).
    subject_id: Mapped[int] = mapped_column(Integer)
    qc_state: Mapped[str] = mapped_column(String(32))
    deleted_at: Mapped[datetime | None]


# The value that counts for an image and its day.
COLUMNS = ("image_id", "measure_id", "value_number", "value_text", "day")
# The image's columns each row copies: those of the filters ix_image_measure_search serves,
# then those that decide whether the image is shown.
COPIED = ("dataset_id", "type", "search_condition_id", "search_sex", "search_age_at_scan",
          "subject_id", "qc_state", "deleted_at")
# The tables whose rows a row is computed or copied from (the loading engine refreshes the
# dataset's rows when a load wrote any of them; a measure's kind matters too, but loads do not
# write measures).
SOURCE_TABLES = ("subject", "visit", "image", "assessment")


def image_measure_rows(*scope: str) -> Select:
    """The rows image_measure should hold, every column (COLUMNS, then COPIED from the image):
    image_measure_source with the image's copied columns."""
    return image_measure_source(*scope, copied=True)


def image_measure_source(*scope: str, copied: bool = False) -> Select:
    """The value that counts for each image and measure: (image_id, measure_id, value_number,
    value_text, day), then with `copied` the image's COPIED columns. `scope` names image
    columns whose values (parameters `scope_<name>`, app/models/search.py in_scope) select the
    images (all without one).

    The rules are the query layer's (app/query/measures.py): for a measure per visit, the
    assessment at the image's visit first, else the latest on or before the scan's day (the
    image's own day, else its visit's) and at most DEFAULT_WINDOW_DAYS before it; for a
    per-subject measure, the latest whatever the day. A blank value (none in the column of the
    measure's kind) never counts. Set-based: ROW_NUMBER() over each image and measure's
    candidate assessments, the first one kept (SQLite >= 3.25 and PostgreSQL).
    """
    scan_day = func.coalesce(Image.days_since_baseline, Visit.days_since_baseline)
    at_visit = and_(Assessment.visit_id == Image.visit_id, Assessment.visit_id.is_not(None))
    in_window = and_(Assessment.days_since_baseline <= scan_day,
                     Assessment.days_since_baseline >= scan_day - DEFAULT_WINDOW_DAYS)
    is_category = Measure.kind == MeasureKind.CATEGORY
    has_value = or_(and_(is_category, Assessment.value_text.is_not(None)),
                    and_(~is_category, Assessment.value_number.is_not(None)))
    rank = func.row_number().over(
        partition_by=(Image.id, Assessment.measure_id),
        order_by=(case((Measure.per_subject, 1), (at_visit, 0), else_=1),
                  Assessment.days_since_baseline.desc()))
    candidates = (
        select(Image.id.label("image_id"), Assessment.measure_id,
               case((is_category, None), else_=Assessment.value_number).label("value_number"),
               case((is_category, Assessment.value_text), else_=None).label("value_text"),
               Assessment.days_since_baseline.label("day"),
               *(getattr(Image, name) for name in COPIED), rank.label("rank"))
        .select_from(Image)
        .join(Assessment, Assessment.subject_id == Image.subject_id)
        .join(Measure, Measure.id == Assessment.measure_id)
        .outerjoin(Visit, Visit.id == Image.visit_id)
        .where(has_value, or_(Measure.per_subject, at_visit, in_window)))
    if scope:
        candidates = candidates.where(in_scope(Image, scope))
    ranked = candidates.subquery("ranked")
    names = COLUMNS + COPIED if copied else COLUMNS
    return select(*(ranked.c[name] for name in names)).where(ranked.c.rank == 1)


# Built once per scope (every ORM flush that writes an image, visit or assessment runs them).
@cache
def _refresh_statements(*scope: str) -> tuple[Any, Any]:
    """DELETE the rows of the images in `scope` (all without one), and INSERT their source."""
    clear = delete(ImageMeasure)
    if scope:
        clear = clear.where(ImageMeasure.image_id.in_(_images(*scope)))
    fill = insert(ImageMeasure.__table__).from_select(list(COLUMNS + COPIED),
                                                      image_measure_rows(*scope))
    return clear, fill


def _refresh(connection: Any, *scope: tuple[str, set[int]]) -> None:
    """Replace the rows of the images in `scope` ((image column, values) pairs; all images
    without one) by their source."""
    parameters = scope_parameters(scope)
    for statement in _refresh_statements(*(name for name, _ids in scope)):
        connection.execute(statement, parameters)


def _images(*scope: str) -> Select:
    return select(Image.id).where(in_scope(Image, scope))


def refresh_image_measures(session: Session, dataset_id: int | None = None) -> int:
    """Recompute image_measure for one dataset's images (every image without `dataset_id`) in
    the session's transaction; return how many rows it now holds for them."""
    scope = [] if dataset_id is None else [("dataset_id", {dataset_id})]
    _refresh(session.connection(), *scope)
    # Counted: PostgreSQL's driver gives no row count for an INSERT ... SELECT.
    held = select(func.count()).select_from(ImageMeasure)
    if scope:
        held = held.where(ImageMeasure.image_id.in_(_images(*(name for name, _ids in scope))))
    return session.scalar(held, scope_parameters(scope))


def _refresh_after_flush(session: Session, _flush: UOWTransaction) -> None:
    """Refresh the images of every subject whose images, visits or assessments this flush
    wrote (every image when a measure's kind or per_subject may have changed)."""
    written = [*session.new, *session.dirty, *session.deleted]
    if any(isinstance(row, Measure) and row not in session.new for row in written):
        _refresh(session.connection())
        return
    gone = {row.id for row in session.deleted if isinstance(row, Image)}
    if gone:
        # The foreign key's CASCADE, where SQLite does not enforce it.
        session.connection().execute(delete(ImageMeasure).where(
            ImageMeasure.image_id.in_(sorted(gone))))
    subject_ids = {row.subject_id for row in written
                   if isinstance(row, Image | Visit | Assessment)}
    subject_ids |= {row.id for row in written if isinstance(row, Subject)}
    subject_ids.discard(None)
    if subject_ids:
        # Through the connection: the session is flushing and must not flush again.
        _refresh(session.connection(), ("subject_id", subject_ids))


def keep_image_measures_right() -> None:
    """Make every flush of any session refresh the image_measure rows of the images its writes
    affect (installed when app.models is imported; idempotent). The rows copy the image search
    columns, so the search columns' own refresh is installed first: listeners run in the order
    they were installed."""
    keep_image_search_right()
    if not event.contains(Session, "after_flush", _refresh_after_flush):
        event.listen(Session, "after_flush", _refresh_after_flush)
