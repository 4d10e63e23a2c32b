"""The image search columns (app/models/search.py) of an image frame, computed before the frame
is written, so that a first load writes each image once and a re-load compares them like any
other column (an unchanged image is not written again).

The rules are those of app/models/search.py, applied to the dataset's rows as the load has just
written them: the condition is the visit's diagnosis when known, else the subject's; the scan
day is the image's own, else its visit's; the age at scan is age_at_baseline + day / 365.25; the
scanner's manufacturer is lower-cased.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Image, Scanner, Subject
from app.models.search import DAYS_PER_YEAR, SEARCH_COLUMNS
from load_db.engine.upsert import rows_in

# Image columns the rules read besides subject_id and visit_id: a frame may leave them out, and
# then the stored values (which the upsert leaves as they are) decide.
KEPT_AS_STORED = ("scanner_id", "days_since_baseline")


def with_search_values(session: Session, images: pd.DataFrame, visits: pd.DataFrame,
                       dataset_id: int, subject_ids: Sequence[int] | None = None) -> pd.DataFrame:
    """Return `images` (with subject_id and visit_id, and perhaps scanner_id and
    days_since_baseline) with the search columns added.

    `visits` is the dataset's visit table (load_db/engine/linking.visit_table). With
    `subject_ids` (a chunk's subjects, which its images belong to) only their rows are read.
    """
    stored = {column: _stored(session, dataset_id, column, images["path"],
                              keyed=subject_ids is not None)
              for column in KEPT_AS_STORED if column not in images.columns}
    source = images.assign(**stored)
    query = select(Subject.id, Subject.sex, Subject.condition_id, Subject.age_at_baseline)
    subjects = pd.DataFrame(
        session.execute(query.where(Subject.dataset_id == dataset_id)).all()
        if subject_ids is None else rows_in(session, query, Subject.id, subject_ids),
        columns=["subject_id", "sex", "subject_condition", "age_at_baseline"])
    scanners = pd.DataFrame(session.execute(
        select(Scanner.id, Scanner.field_strength, Scanner.manufacturer)
        .where(Scanner.dataset_id == dataset_id)).all(),
        columns=["scanner_id", "field_strength", "manufacturer"])
    keys = source[["subject_id", "visit_id", "scanner_id"]].astype("Int64")
    by_subject = keys[["subject_id"]].merge(
        subjects.astype({"subject_id": "Int64"}), on="subject_id", how="left")
    by_visit = keys[["visit_id"]].merge(
        visits[["visit_id", "condition_id", "days_since_baseline"]].astype({"visit_id": "Int64"}),
        on="visit_id", how="left")
    by_scanner = keys[["scanner_id"]].merge(
        scanners.astype({"scanner_id": "Int64"}), on="scanner_id", how="left")

    condition = by_visit["condition_id"].astype("Int64").fillna(
        by_subject["subject_condition"].astype("Int64"))
    day = source["days_since_baseline"].astype("Float64").fillna(
        by_visit["days_since_baseline"].astype("Float64"))
    age = (by_subject["age_at_baseline"].astype("Float64") + day / DAYS_PER_YEAR).astype(float)
    manufacturer = [value.lower() if isinstance(value, str) else None
                    for value in by_scanner["manufacturer"].astype(object)]
    values = (condition.to_numpy(), by_subject["sex"].astype(object).to_numpy(), age.to_numpy(),
              by_scanner["field_strength"].astype(float).to_numpy(),
              np.array(manufacturer, dtype=object))
    return images.assign(**{name: pd.Series(column, index=images.index).astype(
        "Int64" if name == "search_condition_id" else column.dtype)
        for name, column in zip(SEARCH_COLUMNS, values, strict=True)})


def _stored(session: Session, dataset_id: int, column: str, paths: pd.Series, *,
            keyed: bool = False) -> pd.Series:
    """The stored `column` of the images at `paths` (NA for new images and stored NULLs); only
    non-NULL values are read, which for most datasets are none (`keyed`: of `paths` only)."""
    stored = getattr(Image, column)
    query = select(Image.path, stored).where(Image.dataset_id == dataset_id, stored.is_not(None))
    values = dict(rows_in(session, query, Image.path, paths.tolist()) if keyed
                  else session.execute(query).all())
    return paths.map(values).astype("Int64")
