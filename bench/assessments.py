"""The synthetic assessments of the API benchmark, written beside its images in bulk.

The measures are those of the master list (found by designation, added where the database has
no seeded list yet); the rows go through the engine's bulk writer (COPY on PostgreSQL), keyed
by subject and visit external ids of the synthetic dataset.
"""
from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Assessment, Dataset, Measure, MeasureKind, Subject, Visit
from bench.synthetic import VISIT_MEASURES
from load_db.engine.upsert import write_rows

# The synthetic rows come from no mapping file: a constant stands for its version.
MAPPING_VERSION = "0" * 64


def measure_ids(session: Session) -> dict[str, int]:
    """The ids of the VISIT_MEASURES measures, adding those the database lacks."""
    found = dict(session.execute(select(Measure.designation, Measure.id).where(
        Measure.designation.in_(VISIT_MEASURES))).all())
    for designation, (kind, unit, low, high, *_) in VISIT_MEASURES.items():
        if designation not in found:
            measure = Measure(designation=designation, kind=MeasureKind(kind), unit=unit,
                              minimum=low, maximum=high)
            session.add(measure)
            session.flush()
            found[designation] = measure.id
    return found


def write_assessments(session: Session, dataset: str, frame: pd.DataFrame) -> int:
    """Write the assessments of `frame` (bench.synthetic.assessment_frame) for the subjects and
    visits of `dataset` already in the database; return the number of rows written."""
    ids = measure_ids(session)
    subjects = pd.DataFrame(session.execute(
        select(Subject.external_id.label("subject"), Subject.id.label("subject_id"))
        .join(Dataset, Dataset.id == Subject.dataset_id)
        .where(Dataset.designation == dataset)).all(), columns=["subject", "subject_id"])
    visits = pd.DataFrame(session.execute(
        select(Subject.external_id, Visit.external_id, Visit.id)
        .join(Subject, Subject.id == Visit.subject_id)
        .join(Dataset, Dataset.id == Subject.dataset_id)
        .where(Dataset.designation == dataset)).all(), columns=["subject", "visit", "visit_id"])
    rows = frame.merge(subjects, on="subject").merge(visits, on=["subject", "visit"])
    if len(rows) != len(frame):
        raise RuntimeError(f"{len(frame) - len(rows)} assessments have no subject or visit")
    rows = pd.DataFrame({
        "subject_id": rows["subject_id"], "measure_id": rows["measure"].map(ids),
        "days_since_baseline": rows["days_since_baseline"], "visit_id": rows["visit_id"],
        "value_number": rows["value_number"], "raw_value": rows["value_number"].astype(str),
        "source_column": rows["measure"].str.lower(), "mapping_version": MAPPING_VERSION})
    write_rows(session, Assessment.__table__, rows,
               key=("subject_id", "measure_id", "days_since_baseline"), all_new=True)
    return len(rows)
