"""The visit row (dated encounters of subjects, with their resolved condition), its filters
and the statement over it."""
from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select

from app.models import Condition, Dataset, Subject, Visit
from app.query.filters import at_least, at_most, designated, equal_to, not_deleted
from app.query.rows import (
    AGE_AT_VISIT,
    CONDITION_FILTER,
    CONDITION_ID,
    DATASET,
    Row,
    dated_row,
    select_row,
)
from app.query.visit_types import visit_has_type_of_visit

# A table alias, not an ORM one: aliased() would configure every mapper at import time.
VisitCondition = Condition.__table__.alias("visit_condition")

# A visit row, field by field (the JSON fields and CSV header are app/api/visits.py's).
VISIT_ROW: dict[str, ColumnElement[Any]] = {
    "id": Visit.id,
    "dataset": DATASET,
    "subject_id": Visit.subject_id,
    "subject_external_id": Subject.external_id,
    "external_id": Visit.external_id,
    "days_since_baseline": Visit.days_since_baseline,
    **dated_row("age_at_visit", AGE_AT_VISIT, VisitCondition.c),
    "bmi": Visit.bmi,
}
# One visit's symptoms and scores, after its row's fields.
VISIT_DETAIL_ROW: dict[str, ColumnElement[Any]] = {"symptoms": Visit.symptoms}


def select_visits(extra: Row | None = None) -> Select:
    """Return the visit rows (not soft-deleted) with the tables they are filtered on joined."""
    return (
        select_row(VISIT_ROW, extra)
        .select_from(Visit)
        .join(Subject, Subject.id == Visit.subject_id)
        .join(Dataset, Dataset.id == Subject.dataset_id)
        .outerjoin(VisitCondition, VisitCondition.c.id == CONDITION_ID)
        .where(not_deleted(Visit, Subject, Dataset))
    )


# Each /visits filter parameter and what it does to the visit rows.
VISIT_FILTERS = {
    "dataset": designated(Dataset, Subject.dataset_id),
    "condition": CONDITION_FILTER,
    "sex": equal_to(Subject.sex),
    "age_min": at_least(AGE_AT_VISIT),
    "age_max": at_most(AGE_AT_VISIT),
    "days_min": at_least(Visit.days_since_baseline),
    "days_max": at_most(Visit.days_since_baseline),
    "visit_has_type": visit_has_type_of_visit,
}
