"""PREDICT-HD: its BIDS release read by the BIDS adapter, its CHDI codes mapped by mapping.yaml.

The files read, the visit rules and what was assumed are described in the package's
__init__.py.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from load_db.bids import BidsFrames, read_bids
from load_db.bids.measures import bids_assessments, with_conditions
from load_db.engine import DatasetFrames, LoadError
from load_db.engine.mapping import MAPPING_FILE, read_mapping

DAY_COLUMN = "visdy"  # sessions.tsv: days since the baseline visit
MAPPING = Path(__file__).with_name(MAPPING_FILE)


def read_predicthd(data_dir: Path, *, mapping: Path = MAPPING) -> DatasetFrames:
    """Read the PREDICT-HD BIDS tree once (the dataset folder is the BIDS root)."""
    bids = read_bids(Path(data_dir))
    dataset_mapping = read_mapping(mapping)
    # Each subject's label is its hdcat code, the column mapping.yaml names.
    return DatasetFrames(subjects=with_conditions(bids, dataset_mapping), visits=visits_of(bids),
                         images=bids.images,
                         assessments=bids_assessments(bids, dataset_mapping),
                         report=bids.report, mapping=dataset_mapping)


def visits_of(bids: BidsFrames) -> pd.DataFrame:
    """The visits frame: each sessions.tsv row's visdy becomes its day since baseline (a whole
    number of days, required), its other columns stay its symptoms."""
    visits = bids.visits.copy()
    days, symptoms = [], []
    for position, scores in enumerate(visits["symptoms"]):
        scores = dict(scores or {})
        day = scores.pop(DAY_COLUMN, None)
        if not isinstance(day, int):
            raise LoadError("no day since baseline" if day is None else
                            f"{day!r} is not a whole number of days since baseline",
                            file=visits["source_file"].iloc[position],
                            row=visits["source_row"].iloc[position], column=DAY_COLUMN)
        days.append(day)
        symptoms.append(scores or None)
    visits["days_since_baseline"] = pd.Series(days, index=visits.index, dtype=object)
    visits["days_assumed"] = False  # visdy gives every day
    visits["symptoms"] = pd.Series(symptoms, index=visits.index, dtype=object)
    return visits
