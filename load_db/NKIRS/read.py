"""NKI-RS: its BIDS release into frames, visits dated by days since enrolment; mapping.yaml
maps its columns.

The files read are described in the package's __init__.py.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from load_db.bids import BidsFrames, read_bids
from load_db.bids.measures import bids_assessments
from load_db.engine import DatasetFrames, LoadError
from load_db.engine.cells import to_float, to_int
from load_db.engine.mapping import MAPPING_FILE, read_mapping
from load_db.engine.tables import HEADER_ROW

DAYS_COLUMN, AGE_COLUMN = "days_since_enrollment", "age"
DAYS_PER_YEAR = 365.25
MAPPING = Path(__file__).with_name(MAPPING_FILE)


def read_nkirs(data_dir: Path, *, mapping: Path = MAPPING) -> DatasetFrames:
    """Read the NKI-RS BIDS tree once (the dataset folder is the BIDS root)."""
    bids = read_bids(Path(data_dir))
    dataset_mapping = read_mapping(mapping)
    visits, earliest = visits_of(bids)
    return DatasetFrames(subjects=subjects_of(bids, earliest), visits=visits, images=bids.images,
                         assessments=bids_assessments(bids, dataset_mapping),
                         report=bids.report, mapping=dataset_mapping)


def session_values(row: dict[str, Any]) -> tuple[int | None, float | None]:
    """(days since enrolment, age) of one sessions.tsv row read by the BIDS adapter; LoadError
    naming the file, row and column of a missing column or a bad value."""
    values = []
    for column, convert in ((DAYS_COLUMN, to_int), (AGE_COLUMN, to_float)):
        if column not in row["cells"]:
            raise LoadError("missing required column", file=row["source_file"], row=HEADER_ROW,
                            column=column)
        try:
            values.append(convert(row["cells"][column]))
        except ValueError as exc:
            raise LoadError(str(exc), file=row["source_file"], row=row["source_row"],
                            column=column) from None
    return values[0], values[1]


def visits_of(bids: BidsFrames) -> tuple[pd.DataFrame, dict[str, tuple[int, float]]]:
    """The visits frame (days_since_enrollment becomes days_since_baseline, the columns other
    than the day and the age are symptoms), and each subject's (day, age) of its earliest
    visit with both."""
    dated = {(row["subject"], row["visit"]): session_values(row) for row in bids.session_rows}
    visits = bids.visits.copy()
    assumed = (visits["days_since_baseline"].tolist() if "days_since_baseline" in visits
               else [None] * len(visits))
    days, given, symptoms = [], [], []
    earliest: dict[str, tuple[int, float]] = {}
    for subject, visit, day_zero, scores in zip(visits["subject"], visits["external_id"],
                                                assumed, visits["symptoms"], strict=True):
        day, age = dated.get((subject, visit), (None, None))
        if day is not None and age is not None and (subject not in earliest
                                                     or day < earliest[subject][0]):
            earliest[subject] = (day, age)
        given.append(day is not None)
        days.append(day_zero if day is None else day)
        kept = {column: value for column, value in (scores or {}).items()
                if column not in (DAYS_COLUMN, AGE_COLUMN)}
        symptoms.append(kept or None)
    visits = visits.assign(
        days_since_baseline=pd.Series(days, index=visits.index, dtype=object),
        days_assumed=[bool(flag) and not known
                      for flag, known in zip(visits["days_assumed"], given, strict=True)],
        symptoms=pd.Series(symptoms, index=visits.index, dtype=object))
    return visits, earliest


def subjects_of(bids: BidsFrames, earliest: dict[str, tuple[int, float]]) -> pd.DataFrame:
    """The subjects frame, each subject's age at baseline (enrolment) from its earliest visit
    with an age and a day: that age less those days; else participants.tsv's age, if any."""
    subjects = bids.subjects.copy()
    fallback = (subjects["age_at_baseline"].tolist() if "age_at_baseline" in subjects
                else [None] * len(subjects))
    ages = [round(earliest[label][1] - earliest[label][0] / DAYS_PER_YEAR, 2)
            if label in earliest else age
            for label, age in zip(subjects["external_id"], fallback, strict=True)]
    return subjects.assign(age_at_baseline=pd.Series(ages, index=subjects.index, dtype=object))
