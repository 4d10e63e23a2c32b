"""OpenPain: its readers into frames; mapping.yaml maps its study arms to conditions.

The files read are described in the package's __init__.py.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from load_db.bids import BidsFrames, read_bids
from load_db.bids.measures import bids_assessments
from load_db.engine import DatasetFrames, LoadError
from load_db.engine.mapping import MAPPING_FILE, MappingFile, read_mapping

GROUP_COLUMN = "group"
DAYS_COLUMN = "days_since_interview"
MAPPING = Path(__file__).with_name(MAPPING_FILE)


def read_openpain(data_dir: Path, *, mapping: Path = MAPPING) -> DatasetFrames:
    """Read the OpenPain BIDS tree once (the dataset folder is the BIDS root)."""
    bids = read_bids(Path(data_dir))
    dataset_mapping = read_mapping(mapping)
    return DatasetFrames(subjects=subjects_of(bids, dataset_mapping), visits=visits_of(bids),
                         images=bids.images,
                         assessments=bids_assessments(bids, dataset_mapping),
                         report=bids.report, mapping=dataset_mapping)


def subjects_of(bids: BidsFrames, mapping: MappingFile) -> pd.DataFrame:
    """The subjects frame, each subject's condition label taken from its `group` column (one
    of the groups the mapping names)."""
    subjects = bids.subjects.copy()
    known = mapping.content.conditions.values
    groups = [(metadata or {}).get(GROUP_COLUMN) for metadata in subjects["metadata"]]
    for position, group in enumerate(groups):
        if group not in known:
            raise LoadError(f"unknown group {group!r} (expected one of {', '.join(known)})",
                            file=subjects["source_file"].iloc[position],
                            row=subjects["source_row"].iloc[position], column=GROUP_COLUMN)
    subjects["condition"] = groups
    return subjects


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
