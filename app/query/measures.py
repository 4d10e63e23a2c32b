"""Clinical measures in queries: the `measure` filters (MMSE<24, CDR_GLOBAL=0.5,1), the value of
a measure that counts for an image, a visit or a subject, and the measures a request returns as
extra columns (`measures=`).

Which value counts (docs/api.md, "Querying by measures"): for an image, the assessment at its
visit, else the latest one on or before the scan's day (the image's own day, else its visit's)
and at most `measure_window` days before it; for a visit the same with the visit's day; for a
per-subject measure (a trait: education, handedness, APOE e4) the subject's latest value
whatever the day. A subject matches a filter when any of its values does; its extra columns
hold its latest value.

Images under the default window read the measure read model (app/models/image_measure.py):
table image_measure holds, for each image and measure, the value that counts and its day, kept
right by loads, `flask harmonise` and ORM writes. A filter is then `image.id IN (the images
whose value is in range)`, and a column one primary-key lookup per returned row. The rows copy
their image's dataset, type, condition, sex and age at scan, so in a total or a grouping
(for_counts) the request's filters on those are repeated inside that subquery (rewritten over
the copies): one index range of ix_image_measure_search then yields the images that pass every
one of them, rather than every image of the measure in range (a quarter of all images for
MMSE<24) hashed against the other filters' candidates. Images under another window, visits and
subjects keep the path below (their rows are few, or the window is the request's own).

Otherwise each value that counts is read by correlated subqueries over the subject's assessments
of one measure: the one at the visit (index on visit_id), else the latest in the window (the unique
index (subject_id, measure_id, days_since_baseline), read backwards). A filter adds, beside
it, `subject_id IN (subjects with a value in range)`: a condition every match meets, which the
index (measure_id, value_number) serves, so that PostgreSQL looks only at the images or visits
of the few subjects that can match.

Parameters arrive as text (`measure` values, `measures` lists), as a query string and a saved
cohort hold them; a bad one is an InvalidParameter (a 400) naming its parameter.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, select
from sqlalchemy.sql import operators, visitors
from sqlalchemy.sql.expression import BinaryExpression, ColumnClause, ScalarSelect

from app.extensions import db
from app.models import Assessment, Image, ImageMeasure, Measure, MeasureKind, Subject, Visit
from app.models.image_measure import COPIED, DEFAULT_WINDOW_DAYS
from app.query.errors import InvalidParameter
from app.query.filters import outside_subqueries

# The parameters, as the API names them.
FILTER_PARAMETER = "measure"
WINDOW_PARAMETER = "measure_window"
COLUMNS_PARAMETER = "measures"
# The operators of a filter, longest first (so `<=` is not read as `<` then `=1`).
OPERATORS = ("<=", ">=", "<", ">", "=")
ORDER_OPERATORS = frozenset({"<", "<=", ">", ">="})
# A designation, an operator, then the value(s): `MMSE<24`, `CDR_GLOBAL=0.5,1`.
_FILTER = re.compile(r"\s*([A-Za-z][A-Za-z0-9_]*)\s*(<=|>=|<|>|=)(.*)", re.DOTALL)
_DESIGNATION = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# The suffix of the column holding the day of a measure's value (CSV, Parquet).
DAY_SUFFIX = "_day"


@dataclass(frozen=True)
class MeasureFilter:
    """One `measure` filter as written: `designation operator values` (values as text; a set
    for `=`, one value for an order comparison)."""

    designation: str
    operator: str
    values: tuple[str, ...]


def parse_measure_filter(text: str) -> MeasureFilter:
    """Read one `measure` filter (`MMSE<24`, `CDR_GLOBAL=0.5,1`, `HANDEDNESS=left`). Pure.

    Raises InvalidParameter naming `measure` when the text is not DESIGNATION OP VALUE, OP one
    of <, <=, >, >=, =, with one value for an order comparison and a comma-separated set for =.
    """
    match = _FILTER.fullmatch(text)
    if match is None:
        raise _bad_filter(text, "expected DESIGNATION OP VALUE, OP one of "
                                + ", ".join(OPERATORS) + " (e.g. MMSE<24 or CDR_GLOBAL=0.5,1)")
    designation, operator, rest = match.groups()
    values = tuple(value.strip() for value in rest.split(","))
    if not all(values):
        raise _bad_filter(text, "a value is missing")
    if any(character in value for value in values for character in "<>="):
        raise _bad_filter(text, "one operator only: a value holds no <, > or =")
    if operator in ORDER_OPERATORS and len(values) > 1:
        raise _bad_filter(text, f"{operator} takes one value (= takes a comma-separated set)")
    return MeasureFilter(designation, operator, values)


def parse_measure_list(text: str) -> list[str]:
    """Read a `measures` list (`MMSE,CDR_GLOBAL`): its designations, each once, in order. Pure.

    Raises InvalidParameter naming `measures` when an item is empty or not a designation.
    """
    items = [item.strip() for item in text.split(",")]
    bad = [item for item in items if not _DESIGNATION.fullmatch(item)]
    if bad:
        problem = (f"not a measure designation: {bad[0]!r}" if bad[0] else "an item is empty")
        raise InvalidParameter(COLUMNS_PARAMETER, problem, f"{COLUMNS_PARAMETER}: {problem}")
    return list(dict.fromkeys(items))


def _bad_filter(text: str, problem: str) -> InvalidParameter:
    return InvalidParameter(FILTER_PARAMETER, f"{text!r}: {problem}",
                            f"invalid {FILTER_PARAMETER} {text!r}: {problem}")


@dataclass(frozen=True)
class KnownMeasure:
    """What a query needs of a measure of the master list."""

    id: int
    designation: str
    kind: MeasureKind
    per_subject: bool

    @property
    def value_column(self) -> Any:
        """The assessment column holding its values: a category's level, else a number."""
        return (Assessment.value_text if self.kind is MeasureKind.CATEGORY
                else Assessment.value_number)


def known_measures(name: str, designations: Sequence[str]) -> dict[str, KnownMeasure]:
    """Return the master-list measures of `designations` (any case), by designation as asked.

    Raises InvalidParameter naming `name` for a designation the master list does not hold (the
    message lists the known ones, as GET /measures does).
    """
    wanted = {designation.upper() for designation in designations}
    if not wanted:
        return {}
    rows = db.session.execute(
        select(Measure.id, Measure.designation, Measure.kind, Measure.per_subject)
        .where(func.upper(Measure.designation).in_(sorted(wanted)))).all()
    found = {row.designation.upper(): KnownMeasure(row.id, row.designation, MeasureKind(row.kind),
                                                   bool(row.per_subject)) for row in rows}
    unknown = [designation for designation in designations if designation.upper() not in found]
    if unknown:
        known = ", ".join(sorted(db.session.scalars(select(Measure.designation))))
        problem = f"unknown measure: {', '.join(dict.fromkeys(unknown))}" + (
            f" (known: {known})" if known else "")
        raise InvalidParameter(name, problem)
    return {designation: found[designation.upper()] for designation in designations}


@dataclass(frozen=True)
class RowValues:
    """How a kind of row reaches its values: its subject, and for a dated row (an image, a
    visit) its visit and day (None for a subject: any value counts)."""

    table: Any
    subject_id: ColumnElement[int]
    visit_id: ColumnElement[int] | None = None
    day: ColumnElement[int] | None = None
    # Whether the read model image_measure holds its values under the default window.
    read_model: bool = False


# A table alias, not an ORM one: aliased() would configure every mapper at import time. The day
# of an image's visit is read by the image's own subquery, so that a statement over `image`
# alone (a count) needs no join to `visit` for it.
_ScanVisit = Visit.__table__.alias("scan_visit")
IMAGE_VALUES = RowValues(
    Image, Image.subject_id, Image.visit_id,
    func.coalesce(Image.days_since_baseline,
                  select(_ScanVisit.c.days_since_baseline)
                  .where(_ScanVisit.c.id == Image.visit_id).correlate(Image).scalar_subquery()),
    read_model=True)
VISIT_VALUES = RowValues(Visit, Visit.subject_id, Visit.id, Visit.days_since_baseline)
SUBJECT_VALUES = RowValues(Subject, Subject.id)


def counting_value(row: RowValues, measure: KnownMeasure, window: int,
                   column: Any = None) -> ColumnElement[Any]:
    """The value of `measure` that counts for each `row` (or its `column` of the assessment
    chosen, e.g. its day): see the module docstring; an assessment without a value (a blank
    in the source) never counts. NULL when none counts."""
    if row.read_model and window == DEFAULT_WINDOW_DAYS:
        stored = _stored_value(measure) if column is None else _STORED.get(column, column)
        return (select(stored).where(ImageMeasure.image_id == Image.id,
                                     ImageMeasure.measure_id == measure.id)
                .correlate(Image).scalar_subquery())
    picked = measure.value_column if column is None else column
    if measure.per_subject or row.day is None:
        return _latest(row, measure, picked)
    # At the row's visit, else the latest in the window: two subqueries rather than one
    # ORDER BY (at the visit first), which SQLite refuses (a subquery's ORDER BY cannot name
    # the outer row). Each ends on the same assessment whichever column it picks: the latest
    # by day, unique per subject and measure.
    return func.coalesce(
        _latest(row, measure, picked, Assessment.visit_id == row.visit_id),
        _latest(row, measure, picked, Assessment.days_since_baseline <= row.day,
                Assessment.days_since_baseline >= row.day - window))


# The read model's copy of an assessment column a caller may pick.
_STORED = {Assessment.days_since_baseline: ImageMeasure.day,
           Assessment.value_number: ImageMeasure.value_number,
           Assessment.value_text: ImageMeasure.value_text}


def _stored_value(measure: KnownMeasure) -> Any:
    """The image_measure column holding `measure`'s values: a category's level, else a number."""
    return (ImageMeasure.value_text if measure.kind is MeasureKind.CATEGORY
            else ImageMeasure.value_number)


def _latest(row: RowValues, measure: KnownMeasure, column: Any,
            *conditions: ColumnElement[bool]) -> ColumnElement[Any]:
    """`column` of the row's latest assessment of `measure` with a value meeting
    `conditions`."""
    return (select(column)
            .where(Assessment.subject_id == row.subject_id, Assessment.measure_id == measure.id,
                   measure.value_column.is_not(None), *conditions)
            .order_by(Assessment.days_since_baseline.desc())
            .limit(1).correlate(row.table).scalar_subquery())


def _typed(measure: KnownMeasure, spec: MeasureFilter, text: str) -> Any:
    """The value `text` of a filter on `measure`, as stored: a number, or a category's level."""
    if measure.kind is MeasureKind.CATEGORY:
        return text
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise _bad_filter(f"{spec.designation}{spec.operator}{','.join(spec.values)}",
                          f"{measure.designation} takes numbers, not {text!r}")
    return value


def _compare(value: ColumnElement[Any], operator: str, values: list[Any]) -> Any:
    if operator == "=":
        return value.in_(values)
    return {"<": value < values[0], "<=": value <= values[0],
            ">": value > values[0], ">=": value >= values[0]}[operator]


def measure_filters(args: Mapping[str, Any]) -> list[tuple[KnownMeasure, MeasureFilter, list[Any]]]:
    """The `measure` filters of the parsed `args` with their measure and typed values.

    Raises InvalidParameter naming `measure` for a bad filter, an unknown designation, a value
    that is not a number for a number or ordinal measure, or an order comparison on a category.
    """
    specs = [parse_measure_filter(text) for text in args.get(FILTER_PARAMETER) or []]
    measures = known_measures(FILTER_PARAMETER, [spec.designation for spec in specs])
    resolved = []
    for spec in specs:
        measure = measures[spec.designation]
        if measure.kind is MeasureKind.CATEGORY and spec.operator != "=":
            raise _bad_filter(f"{spec.designation}{spec.operator}{','.join(spec.values)}",
                              f"{measure.designation} is a category: it takes = and a set "
                              "of levels, not an order comparison")
        resolved.append((measure, spec, [_typed(measure, spec, text) for text in spec.values]))
    return resolved


def measure_window(args: Mapping[str, Any]) -> int:
    """The `measure_window` of the parsed `args` (days), else its default."""
    window = args.get(WINDOW_PARAMETER)
    return DEFAULT_WINDOW_DAYS if window is None else window


def measure_clauses(args: Mapping[str, Any], row: RowValues) -> list[ColumnElement[bool]]:
    """The WHERE clauses of the `measure` filters in the parsed `args` over `row`: each must
    hold (AND). See the module docstring for the value that counts and the index each uses
    (and for_counts for totals)."""
    window = measure_window(args)
    clauses = []
    for measure, spec, values in measure_filters(args):
        in_range = and_(Assessment.measure_id == measure.id,
                        _compare(measure.value_column, spec.operator, values))
        if row.day is None:
            # A subject matches when any of its values does.
            clauses.append(exists().where(Assessment.subject_id == row.subject_id, in_range)
                           .correlate(row.table))
            continue
        if row.read_model and window == DEFAULT_WINDOW_DAYS:
            # Never correlated: a total over image_measure alone (over_read_model) keeps it as
            # a set of its own rows.
            clauses.append(Image.id.in_(
                select(ImageMeasure.image_id).where(
                    ImageMeasure.measure_id == measure.id,
                    _compare(_stored_value(measure), spec.operator, values)).correlate(None)))
            continue
        candidates = select(Assessment.subject_id).where(in_range)
        clauses.append(row.subject_id.in_(candidates))
        clauses.append(_compare(counting_value(row, measure, window), spec.operator, values))
    return clauses


# image_measure's copies of image columns, by the image column's name (the image's id is its
# image_id).
_COPIES = {"id": ImageMeasure.__table__.c.image_id,
           **{name: ImageMeasure.__table__.c[name] for name in COPIED}}


def _image_column(element: Any) -> bool:
    return isinstance(element, ColumnClause) and element.table is Image.__table__


def _over_copies(clause: Any) -> Any:
    """`clause` (a filter or a column over image) rewritten over image_measure's copies, when
    outside its subqueries it names no column but those image_measure copies, and its
    subqueries (e.g. the liveness rule's withdrawn subjects) do not name image: the same rows
    pass it, as the copies equal their image's columns. None when it names anything else."""
    columns, subqueries = outside_subqueries(clause)
    if not all(_image_column(column) and column.name in _COPIES for column in columns):
        return None
    if any(_image_column(element) for subquery in subqueries
           for element in visitors.iterate(subquery)):
        return None
    return visitors.replacement_traverse(
        clause, {"stop_on": subqueries},
        lambda element: _COPIES[element.name] if _image_column(element) else None)


def over_read_model(clauses: Sequence[ColumnElement[bool]],
                    columns: Sequence[Any]) -> Select | None:
    """`columns` of the images passing every one of `clauses` (image filters, the liveness rule
    among them), read from image_measure alone: one row of the first measure filter over the
    read model per image, every other clause and column rewritten over its copies
    (_over_copies), so that one index-only range of ix_image_measure_search answers a total or
    a grouping. None when no measure filter reads the read model, or when a clause or column
    names what image_measure does not copy (for_counts then)."""
    subqueries = [_read_model_subquery(clause) for clause in clauses]
    first = next((index for index, subquery in enumerate(subqueries) if subquery is not None),
                 None)
    if first is None:
        return None
    others = [_over_copies(clause) for index, clause in enumerate(clauses) if index != first]
    # As SQL expressions (an ORM attribute such as Image.subject_id is not one).
    copied = [_over_copies(column) for column in select(*columns).selected_columns]
    if any(element is None for element in [*others, *copied]):
        return None
    return (select(*copied).select_from(ImageMeasure)
            .where(subqueries[first].whereclause, *others))


def for_counts(clauses: Sequence[ColumnElement[bool]]) -> list[ColumnElement[bool]]:
    """`clauses` (image filters, measure filters among them) for a count or a grouping that
    over_read_model cannot answer: each measure filter over the read model repeats those of
    the others it can rewrite on image_measure's copies, so that one range of
    ix_image_measure_search yields just the images that pass them all.

    Only for statements that read every matching image: a page walks the images in id order
    and looks each one's value up, which is cheaper than the whole range, and PostgreSQL
    sorts the range first when its subquery looks small.
    """
    copies = [copy for copy in map(_over_copies, clauses)
              if copy is not None and _read_model_subquery(copy) is None
              and outside_subqueries(copy)[0]]
    if not copies:
        return list(clauses)
    rewritten = []
    for clause in clauses:
        subquery = _read_model_subquery(clause)
        rewritten.append(clause if subquery is None
                         else Image.id.in_(subquery.where(*copies)))
    return rewritten


def _read_model_subquery(clause: ColumnElement[bool]) -> Select | None:
    """The subquery of a measure filter over the read model (`image.id IN (SELECT image_id
    FROM image_measure ...)`, built by measure_clauses), else None."""
    if not (isinstance(clause, BinaryExpression) and clause.operator is operators.in_op
            and isinstance(clause.right, ScalarSelect)):
        return None
    subquery = clause.right.element
    return subquery if subquery.get_final_froms() == [ImageMeasure.__table__] else None


def returned_measures(args: Mapping[str, Any]) -> list[KnownMeasure]:
    """The measures a request returns as extra columns: those of `measures` (its order), then
    those its `measure` filters name; each once. Unknown designations are a 400 naming
    `measures` (or `measure`)."""
    listed = known_measures(COLUMNS_PARAMETER, args.get(COLUMNS_PARAMETER) or [])
    chosen = {measure.id: measure for measure in listed.values()}
    for measure, _spec, _values in measure_filters(args):
        chosen.setdefault(measure.id, measure)
    return list(chosen.values())


def day_column(designation: str) -> str:
    """The name of the column holding the day of the measure `designation`'s value."""
    return designation + DAY_SUFFIX


def with_measure_columns(statement: Select, measures: Sequence[KnownMeasure], row: RowValues,
                         window: int) -> Select:
    """Add to `statement` (rows of `row`'s kind) two columns per measure: its value that counts
    (named as the designation) and that value's day (designation + `_day`)."""
    columns = []
    for measure in measures:
        columns.append(counting_value(row, measure, window).label(measure.designation))
        columns.append(counting_value(row, measure, window, Assessment.days_since_baseline)
                       .label(day_column(measure.designation)))
    return statement.add_columns(*columns)


def nested_measures(row: Mapping[str, Any], measures: Sequence[KnownMeasure]
                    ) -> dict[str, dict[str, Any]]:
    """The `measures` field of a JSON row from the columns of with_measure_columns:
    {designation: {"value", "day"}} (null value and day when none counts)."""
    return {measure.designation: {"value": row[measure.designation],
                                  "day": row[day_column(measure.designation)]}
            for measure in measures}
