"""The subject row (participants with their own and their visits' conditions), its filters and
the statement over it."""
from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, exists

from app.models import Condition, Dataset, Image, Subject
from app.query.filters import all_of, at_least, at_most, designated, equal_to, not_deleted
from app.query.rows import DATASET, SUBJECT_CONDITION_FILTER, SUBJECT_CONDITIONS, Row, select_row
from app.query.visit_types import visit_has_type_of_subject

# A table alias, not an ORM one: aliased() would configure every mapper at import time.
SubjectCondition = Condition.__table__.alias("subject_condition")

# A subject row, field by field (the JSON fields and CSV header are app/api/subjects.py's).
SUBJECT_ROW: dict[str, ColumnElement[Any]] = {
    "id": Subject.id,
    "dataset": DATASET,
    "external_id": Subject.external_id,
    "sex": Subject.sex,
    "handedness": Subject.handedness,
    "race": Subject.race,
    "education_years": Subject.education_years,
    "age_at_baseline": Subject.age_at_baseline,
    "condition": SubjectCondition.c.designation,
    "conditions": SUBJECT_CONDITIONS,
}
# One subject's metadata, after its row's fields.
SUBJECT_DETAIL_ROW: dict[str, ColumnElement[Any]] = {"metadata_json": Subject.metadata_json}


def select_subjects(extra: Row | None = None) -> Select:
    """Return the subject rows (not soft-deleted) with their dataset and condition joined."""
    return (
        select_row(SUBJECT_ROW, extra)
        .select_from(Subject)
        .join(Dataset, Dataset.id == Subject.dataset_id)
        .outerjoin(SubjectCondition, SubjectCondition.c.id == Subject.condition_id)
        .where(not_deleted(Subject, Dataset))
    )


def _has_image_of_type(image_type: str) -> ColumnElement[bool]:
    return exists().where(
        Image.subject_id == Subject.id, Image.deleted_at.is_(None), Image.type == image_type)


# Each /subjects filter parameter and what it does to the subject rows.
SUBJECT_FILTERS = {
    "dataset": designated(Dataset, Subject.dataset_id),
    "condition": SUBJECT_CONDITION_FILTER,
    "sex": equal_to(Subject.sex),
    "age_min": at_least(Subject.age_at_baseline),
    "age_max": at_most(Subject.age_at_baseline),
    "has_type": all_of(_has_image_of_type),
    "visit_has_type": visit_has_type_of_subject,
}
