"""OpenPain: its readers into frames and its diagnosis mapping (get_openpain_dx).

The files read are described in the package's __init__.py.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from load_db.bids import BidsFrames, read_bids
from load_db.engine import DatasetFrames, LoadError

GROUP_COLUMN = "group"
DAYS_COLUMN = "days_since_interview"

# participants.tsv `group` -> master condition designation
GROUPS = {"healthy": "Healthy Control", "subacute": "Subacute Pain", "chronic": "Chronic Pain"}


def get_openpain_dx(group: str) -> str:
    """Map an OpenPain study arm to a master condition designation (KeyError when unknown)."""
    return GROUPS[group]


def read_openpain(data_dir: Path) -> DatasetFrames:
    """Read the OpenPain BIDS tree once (the dataset folder is the BIDS root)."""
    bids = read_bids(Path(data_dir))
    subjects = subjects_of(bids)
    return DatasetFrames(subjects=subjects, visits=visits_of(bids), images=bids.images,
                         report=bids.report,
                         conditions={group: get_openpain_dx(group)
                                     for group in set(subjects["condition"])})


def subjects_of(bids: BidsFrames) -> pd.DataFrame:
    """The subjects frame, each subject's condition label taken from its `group` column."""
    subjects = bids.subjects.copy()
    groups = [(metadata or {}).get(GROUP_COLUMN) for metadata in subjects["metadata"]]
    for position, group in enumerate(groups):
        if group not in GROUPS:
            raise LoadError(f"unknown group {group!r} (expected one of {', '.join(GROUPS)})",
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
