"""The image row (the stored images with their subject, visit, scanner and condition), the
tables it joins, its filters, and the statements over it: select_images for the rows,
matching_images for totals and counts over the image table alone.

To add a field add it to IMAGE_ROW and its schema field to app/api/images.py (JSON, CSV and SQL
follow); to add a filter add it to IMAGE_FILTERS and its parameter to app/api/query/params.py.
"""
from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, select

from app.models import Condition, Dataset, HeaderDrift, Image, Scanner, Subject, Visit
from app.names import EFFECTIVE_NAME, NameFilterError
from app.query.errors import InvalidParameter
from app.query.filters import (
    any_of,
    any_of_ignoring_case,
    at_least,
    at_most,
    designated,
    equal_to,
    equal_to_lowered,
    filter_clauses,
    flag,
    joined_as_needed,
    qc_states,
)
from app.query.measures import IMAGE_VALUES, for_counts, measure_clauses, over_read_model
from app.query.metadata import meta_clause
from app.query.names import name_matches, parse_name_filter
from app.query.rows import (
    AGE_AT_SCAN,
    DATASET,
    IMAGE_CONDITION_FILTER,
    IMAGE_CONDITION_ID,
    IMAGE_FIELD_STRENGTH,
    IMAGE_IS_LIVE,
    IMAGE_MANUFACTURER,
    IMAGE_SEX,
    SCAN_DAY,
    Row,
    dated_row,
    select_row,
)

# A table alias, not an ORM one: aliased() would configure every mapper at import time.
ImageCondition = Condition.__table__.alias("image_condition")
# Mammography facts kept in an image's metadata (load_db/OMIDB): view, side, lesion marks.
VIEW = Image.metadata_json["ViewPosition"].as_string()
LATERALITY = Image.metadata_json["ImageLaterality"].as_string()
HAS_MARKS = Image.metadata_json["has_marks"].as_boolean()

# What an image's age at scan rests on: a scan day the data give (the image's own or its
# visit's: "session"), or participants' age alone, the visit's day 0 being assumed
# ("participant", see Visit.days_assumed); null when the age is unknown.
AGE_BASES = ("session", "participant")
AGE_BASIS = case(
    (AGE_AT_SCAN.is_(None), None),
    (and_(Image.days_since_baseline.is_(None), Visit.days_assumed.is_(True)), AGE_BASES[1]),
    else_=AGE_BASES[0])

# An image row, field by field (the JSON fields and CSV header are app/api/images.py's).
IMAGE_ROW: dict[str, ColumnElement[Any]] = {
    "id": Image.id,
    "dataset": DATASET,
    "subject_id": Image.subject_id,
    "subject_external_id": Subject.external_id,
    "visit_id": Image.visit_id,
    "type": Image.type,
    "path": Image.path,
    "file_size": Image.file_size,
    "checksum": Image.checksum,
    "days_since_baseline": SCAN_DAY,
    **dated_row("age_at_scan", AGE_AT_SCAN, ImageCondition.c, sex=IMAGE_SEX),
    "age_basis": AGE_BASIS,
    "scanner_id": Image.scanner_id,
    "manufacturer": Scanner.manufacturer,
    "field_strength": Scanner.field_strength,
    "preprocessed": Image.preprocessed,
    "qc_state": Image.qc_state,
}
# One image's acquisition metadata and scanner details, after its row's fields.
IMAGE_DETAIL_ROW: dict[str, ColumnElement[Any]] = {
    "scanner_model": Scanner.model,
    "scanner_serial": Scanner.serial,
    "metadata_json": Image.metadata_json,
    "name": EFFECTIVE_NAME,
    "predicted_name": Image.predicted_name,
    "manual_name": Image.manual_name,
}


def select_images(extra: Row | None = None) -> Select:
    """Return the image rows (not soft-deleted) with every table they are filtered on joined;
    `extra` adds fields after the row's (e.g. IMAGE_DETAIL_ROW)."""
    return _image_rows() if extra is None else _select_images(extra)


@functools.cache
def _image_rows() -> Select:
    # Built once per process: a statement is immutable (where() and the rest return a new
    # one), and building its 18 fields and 5 joins was a quarter of a millisecond a request.
    return _select_images(None)


def _select_images(extra: Row | None) -> Select:
    return (
        select_row(IMAGE_ROW, extra)
        .select_from(Image)
        .join(Subject, Subject.id == Image.subject_id)
        .join(Dataset, Dataset.id == Image.dataset_id)
        .outerjoin(Visit, Visit.id == Image.visit_id)
        .outerjoin(Scanner, Scanner.id == Image.scanner_id)
        .outerjoin(ImageCondition, ImageCondition.c.id == IMAGE_CONDITION_ID)
        .where(IMAGE_IS_LIVE)
    )


# How a statement over `image` alone reaches another table when a filter names one.
IMAGE_JOINS = {Subject.__table__: Subject.id == Image.subject_id,
               Dataset.__table__: Dataset.id == Image.dataset_id,
               Visit.__table__: Visit.id == Image.visit_id,
               Scanner.__table__: Scanner.id == Image.scanner_id}


def named_like(name: str, text: str) -> ColumnElement[bool]:
    """The `name` filter: RADIFOX conditions on the image's name; a bad one is an
    InvalidParameter (a 400)."""
    try:
        return name_matches(parse_name_filter(text))
    except NameFilterError as exc:
        raise InvalidParameter(name, str(exc), f"{name}: {exc}") from exc


# Each /images filter parameter and what it does to the image rows.
IMAGE_FILTERS = {
    "dataset": designated(Dataset, Image.dataset_id),
    "condition": IMAGE_CONDITION_FILTER,
    "type": any_of(Image.type),
    "sex": equal_to(IMAGE_SEX),
    "age_min": at_least(AGE_AT_SCAN),
    "age_max": at_most(AGE_AT_SCAN),
    "days_min": at_least(SCAN_DAY),
    "days_max": at_most(SCAN_DAY),
    "field_strength": equal_to(IMAGE_FIELD_STRENGTH),
    "manufacturer": equal_to_lowered(IMAGE_MANUFACTURER),
    "has_marks": flag(HAS_MARKS),
    "view": any_of_ignoring_case(VIEW),
    "laterality": equal_to(LATERALITY),
    "meta": lambda _name, filters: meta_clause(Image.metadata_json, filters),
    "qc": qc_states(Image.qc_state),
    "drift": lambda _name, drifted: Image.id.in_(
        select(HeaderDrift.image_id).where(HeaderDrift.drifted.is_(drifted))),
    "name": named_like,
}


def filtered_images(args: dict[str, Any]) -> Select:
    """Return the image rows matching the filters in the parsed `args`."""
    return select_images().where(*image_filters(args))


def image_filters(args: dict[str, Any]) -> list[ColumnElement[bool]]:
    """The clauses of the image filters in `args` (its measure filters included), to be shared
    by a page and its total."""
    return [*filter_clauses(args, IMAGE_FILTERS), *measure_clauses(args, IMAGE_VALUES)]


def matching_images(clauses: list[ColumnElement[bool]], *columns: Any) -> Select:
    """Select `columns` of the images matching the filter `clauses` (image_filters), over one
    table wherever the filters allow: with a measure filter, image_measure alone when it
    copies every column the filters, the liveness rule and `columns` name (over_read_model);
    else the image table (the search read model: one index serves a filtered count or /stats;
    a measure filter repeats the others on the measure read model's copies, for_counts); a
    filter on another table's column joins just that table."""
    measured = over_read_model([IMAGE_IS_LIVE, *clauses], columns)
    if measured is not None:
        return measured
    statement = select(*columns).select_from(Image).where(IMAGE_IS_LIVE, *for_counts(clauses))
    return joined_as_needed(statement, Image.__table__, IMAGE_JOINS)
