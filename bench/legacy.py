"""A faithful copy of the original loaders' write pattern, as the baseline: per row, query for
the row, add it if missing, commit. (The original scripts did this for every table.)"""
from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Condition, Dataset, Image, Subject, Visit


def legacy_load(session: Session, dataset: str, subjects: pd.DataFrame, visits: pd.DataFrame,
                images: pd.DataFrame, conditions: dict[str, str]) -> int:
    """Load the frames row by row; return the number of rows written."""
    written = 0
    dataset_id = session.scalar(select(Dataset.id).where(Dataset.designation == dataset))
    for row in subjects.itertuples(index=False):
        found = session.scalar(select(Subject).where(Subject.dataset_id == dataset_id,
                                                     Subject.external_id == row.external_id))
        if found is None:
            session.add(Subject(dataset_id=dataset_id, external_id=row.external_id, sex=row.sex,
                                age_at_baseline=float(row.age_at_baseline),
                                education_years=float(row.education_years)))
            session.commit()
            written += 1
    for row in visits.itertuples(index=False):
        subject = session.scalar(select(Subject).where(Subject.dataset_id == dataset_id,
                                                       Subject.external_id == row.subject))
        condition = session.scalar(select(Condition).where(
            Condition.designation == conditions[row.condition]))
        found = session.scalar(select(Visit).where(Visit.subject_id == subject.id,
                                                   Visit.external_id == row.external_id))
        if found is None:
            session.add(Visit(subject_id=subject.id, external_id=row.external_id,
                              days_since_baseline=int(row.days_since_baseline),
                              condition_id=condition.id, bmi=float(row.bmi)))
            session.commit()
            written += 1
    for row in images.itertuples(index=False):
        subject = session.scalar(select(Subject).where(Subject.dataset_id == dataset_id,
                                                       Subject.external_id == row.subject))
        visit = session.scalar(
            select(Visit)
            .where(Visit.subject_id == subject.id,
                   Visit.days_since_baseline <= int(row.days_since_baseline))
            .order_by(Visit.days_since_baseline.desc()).limit(1))
        found = session.scalar(select(Image).where(Image.dataset_id == dataset_id,
                                                   Image.path == row.path))
        if found is None:
            session.add(Image(dataset_id=dataset_id, subject_id=subject.id,
                              visit_id=visit.id if visit else None, type=row.type, path=row.path,
                              file_size=int(row.file_size),
                              days_since_baseline=int(row.days_since_baseline),
                              metadata_json=row.metadata))
            session.commit()
            written += 1
    return written
