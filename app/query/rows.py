"""The row expressions the resources share: an image's or visit's condition, a subject's
conditions, the day of a scan and the ages at a scan and at a visit.

Each rule is written once here and used by the rows, the filters, the sort keys, /stats and the
CSV export alike. An image's condition, sex, age at scan and scanner values are read from the
image's search columns (app/models/search.py applies the same rules at write time), so that a
filtered count or /stats is served by one index of one table.

A row is a mapping of field names to SQL expressions (`Row`): the API pairs each with the schema
field that renders it (app/api/query/columns.py), so a row's JSON, CSV and SQL share its names.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Label,
    Select,
    and_,
    cast,
    exists,
    func,
    or_,
    select,
    union,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from app.models import Condition, Dataset, Image, Subject, Visit
from app.models.json_arrays import JsonTextList
from app.models.search import DAYS_PER_YEAR
from app.query.filters import designated, designated_first_known, with_ids_of

# A row: its field names, in order, and the SQL expression computing each.
Row = Mapping[str, ColumnElement[Any]]


def labelled_row(row: Row) -> list[Label[Any]]:
    """Return the expressions of `row`, each labelled with its field name."""
    return [expression.label(name) for name, expression in row.items()]


def select_row(row: Row, extra: Row | None = None) -> Select:
    """Return a SELECT of the fields of `row`, then of `extra` (e.g. a detail row's), each
    labelled with its field name; the caller adds the FROM, joins and conditions."""
    return select(*labelled_row(row), *labelled_row(extra or {}))


def age_at(days: ColumnElement[int]) -> ColumnElement[float]:
    """The subject's age in years `days` after its baseline: NULL if either is unknown."""
    return Subject.age_at_baseline + cast(days, Float) / DAYS_PER_YEAR


# The day of a scan: the image's own when known, else its visit's (a BIDS image usually has no
# day of its own, while its session has one).
SCAN_DAY = func.coalesce(Image.days_since_baseline, Visit.days_since_baseline)
# The subject's age on that day, as stored by the search read model.
AGE_AT_SCAN = Image.search_age_at_scan
AGE_AT_VISIT = age_at(Visit.days_since_baseline)

# An image's or a visit's condition: the visit's diagnosis when known, else the subject's.
CONDITION_ID = func.coalesce(Visit.condition_id, Subject.condition_id)
# The filter on that condition (written for the planner: see designated_first_known).
CONDITION_FILTER = designated_first_known(Condition, Visit.condition_id, Subject.condition_id)
# The same condition of an image, as stored by the search read model, and its filter.
IMAGE_CONDITION_ID = Image.search_condition_id
IMAGE_CONDITION_FILTER = designated(Condition, IMAGE_CONDITION_ID)
# An image's subject's sex and its scanner's values, as stored by the search read model (the
# manufacturer lower-cased: the filter ignores case).
IMAGE_SEX = Image.search_sex
IMAGE_FIELD_STRENGTH = Image.search_field_strength
IMAGE_MANUFACTURER = Image.search_manufacturer
# An image is shown when neither it, its subject nor its dataset is withdrawn (soft-deleted):
# written over image's own columns (the few withdrawn subjects and live datasets are small
# sets), so that a filtered count needs no join.
IMAGE_IS_LIVE = and_(
    Image.deleted_at.is_(None),
    Image.dataset_id.in_(select(Dataset.id).where(Dataset.deleted_at.is_(None))),
    Image.subject_id.not_in(select(Subject.id).where(Subject.deleted_at.is_not(None))),
)


# The dataset a row belongs to, by designation (the value the dataset filter takes).
DATASET = Dataset.designation


def dated_row(age_name: str, age: ColumnElement[float], condition: Any,
              sex: ColumnElement[Any] = Subject.sex) -> dict[str, ColumnElement[Any]]:
    """The fields a dated row (an image, a visit) shares: the subject's age on that day (named
    `age_name`), its `sex`, and the resolved condition (`condition`: the Condition alias joined
    on the row's condition id)."""
    return {age_name: age, "sex": sex, "condition": condition.designation}


def _live_visit_of_subject() -> Any:
    # Correlated explicitly: inside the conditions' subquery the subject is two levels up.
    return (exists().where(Visit.subject_id == Subject.id, Visit.deleted_at.is_(None))
            .correlate(Subject))


def has_any_condition(condition_ids: list[int]) -> ColumnElement[bool]:
    """Subjects having one of the conditions: as their own, or at one of their visits."""
    at_a_visit = _live_visit_of_subject().where(Visit.condition_id.in_(condition_ids))
    return or_(Subject.condition_id.in_(condition_ids), at_a_visit)


SUBJECT_CONDITION_FILTER = with_ids_of(Condition, has_any_condition)


class json_array_of(FunctionElement):  # noqa: N801  (an SQL function reads like one)
    """json_array_of(value, key): the JSON array of `value` over the grouped rows, by `key`."""

    type = JsonTextList()
    inherit_cache = True


@compiles(json_array_of)
def _json_array_sqlite(element: json_array_of, compiler: Any, **kw: Any) -> str:
    # SQLite before 3.44 has no ORDER BY inside an aggregate; it aggregates rows in the order
    # it reads them, which for a scan of a table is the order of its integer primary key.
    value, _key = element.clauses
    return f"json_group_array({compiler.process(value, **kw)})"


@compiles(json_array_of, "postgresql")
def _json_array_postgresql(element: json_array_of, compiler: Any, **kw: Any) -> str:
    value, key = element.clauses
    return f"json_agg({compiler.process(value, **kw)} ORDER BY {compiler.process(key, **kw)})"


# The conditions a subject has (its own and every visit's), in master-list (id) order. Written
# as `id IN (own UNION visits')`: PostgreSQL runs it about twice as fast as an EXISTS per
# condition.
SUBJECT_CONDITIONS = (
    select(json_array_of(Condition.designation, Condition.id))
    .where(Condition.id.in_(union(
        select(Subject.condition_id).correlate(Subject),
        select(Visit.condition_id).where(Visit.subject_id == Subject.id,
                                         Visit.deleted_at.is_(None)).correlate(Subject),
    )))
    .correlate(Subject)
    .scalar_subquery()
)
