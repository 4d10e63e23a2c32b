"""OpenPain: its readers into frames; mapping.yaml maps its study arms to conditions.

The files read are described in the package's __init__.py.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from load_db.bids import BidsFrames, read_bids
from load_db.bids.measures import bids_assessments, with_conditions
from load_db.engine import DatasetFrames, LoadError
from load_db.engine.mapping import MAPPING_FILE, read_mapping

DAYS_COLUMN = "days_since_interview"
MAPPING = Path(__file__).with_name(MAPPING_FILE)


def read_openpain(data_dir: Path, *, mapping: Path = MAPPING) -> DatasetFrames:
    """Read the OpenPain BIDS tree once (the dataset folder is the BIDS root)."""
    bids = read_bids(Path(data_dir))
    dataset_mapping = read_mapping(mapping)
    # Each subject's label is its study arm, the participants.tsv column mapping.yaml names.
    return DatasetFrames(subjects=with_conditions(bids, dataset_mapping), visits=visits_of(bids),
                         images=bids.images,
                         assessments=bids_assessments(bids, dataset_mapping),
                         report=bids.report, mapping=dataset_mapping)


def visits_of(bids: BidsFrames) -> pd.DataFrame:
    """The visits frame: days_since_interview becomes days_since_baseline, the rest symptoms."""
    visits = bids.visits.copy()
    days, symptoms = [], []
    for position, scores in enumerate(visits["symptoms"]):
        scores = dict(scores or {})
        day = scores.pop(DAYS_COLUMN, None)
        if day is not None and not isinstance(day, int):
            raise LoadError(f"{day!r} is not a whole number of days",
                            file=visits["source_file"].iloc[position],
                            row=visits["source_row"].iloc[position], column=DAYS_COLUMN)
        days.append(day)
        symptoms.append(scores or None)
    visits["days_since_baseline"] = pd.Series(days, index=visits.index, dtype=object)
    visits["symptoms"] = pd.Series(symptoms, index=visits.index, dtype=object)
    return visits
