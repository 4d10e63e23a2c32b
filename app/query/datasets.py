"""The dataset rows (source studies) and their subject, visit and per-type image counts."""
from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, func, select

from app.extensions import db
from app.models import Dataset, Image, ImageType, Subject, Visit
from app.query.filters import not_deleted
from app.query.rows import labelled_row

# A dataset row, field by field (its counts are added by with_counts).
DATASET_ROW: dict[str, ColumnElement[Any]] = {
    "id": Dataset.id,
    "designation": Dataset.designation,
    "description": Dataset.description,
}


def select_datasets() -> Select:
    """Return the dataset rows that are not soft-deleted."""
    return select(*labelled_row(DATASET_ROW)).where(Dataset.deleted_at.is_(None))


def with_counts(rows: list[Any]) -> list[dict[str, Any]]:
    """Return the dataset rows with their counts, in three grouped queries whatever their number."""
    ids = [row["id"] for row in rows]
    subjects = dict(db.session.execute(
        select(Subject.dataset_id, func.count())
        .where(Subject.dataset_id.in_(ids), Subject.deleted_at.is_(None))
        .group_by(Subject.dataset_id)
    ).all())
    visits = dict(db.session.execute(
        select(Subject.dataset_id, func.count())
        .join(Visit, Visit.subject_id == Subject.id)
        .where(Subject.dataset_id.in_(ids), not_deleted(Subject, Visit))
        .group_by(Subject.dataset_id)
    ).all())
    images: dict[int, dict[str, int]] = {id_: {t.value: 0 for t in ImageType} for id_ in ids}
    for dataset_id, image_type, count in db.session.execute(
        select(Image.dataset_id, Image.type, func.count())
        .join(Subject, Subject.id == Image.subject_id)
        .where(Image.dataset_id.in_(ids), not_deleted(Image, Subject))
        .group_by(Image.dataset_id, Image.type)
    ):
        images[dataset_id][ImageType(image_type).value] = count
    return [
        {**row, "subject_count": subjects.get(row["id"], 0),
         "visit_count": visits.get(row["id"], 0),
         "image_count": sum(images[row["id"]].values()),
         "image_counts_by_type": images[row["id"]]}
        for row in rows
    ]
