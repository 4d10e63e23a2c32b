"""PREDICT-HD: its BIDS release read by the BIDS adapter, its CHDI codes mapped by mapping.yaml.

The files read, the visit rules and what was assumed are described in the package's
__init__.py.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from load_db.bids import BidsFrames, read_bids
from load_db.bids.measures import bids_assessments
from load_db.engine import DatasetFrames, LoadError
from load_db.engine.mapping import MAPPING_FILE, MappingFile, read_mapping
from load_db.engine.tables import HEADER_ROW

CATEGORY_COLUMN = "hdcat"  # participants.tsv: the CHDI participant category
DAY_COLUMN = "visdy"       # sessions.tsv: days since the baseline visit
# hdcat codes with no master condition: the participant is stored without one (reported).
UNKNOWN_CATEGORY = {"1": "hdcat 1 (genotype unknown): no condition"}
MAPPING = Path(__file__).with_name(MAPPING_FILE)


def read_predicthd(data_dir: Path, *, mapping: Path = MAPPING) -> DatasetFrames:
    """Read the PREDICT-HD BIDS tree once (the dataset folder is the BIDS root)."""
    bids = read_bids(Path(data_dir))
    dataset_mapping = read_mapping(mapping)
    return DatasetFrames(subjects=subjects_of(bids, dataset_mapping), visits=visits_of(bids),
                         images=bids.images,
                         assessments=bids_assessments(bids, dataset_mapping),
                         report=bids.report, mapping=dataset_mapping)


def subjects_of(bids: BidsFrames, mapping: MappingFile) -> pd.DataFrame:
    """The subjects frame, each subject's condition label its hdcat code: a code the mapping
    maps, or one of UNKNOWN_CATEGORY (no condition, reported); any other is bad input."""
    known = mapping.content.conditions.values
    labels = {}
    for row in bids.participant_rows:
        if CATEGORY_COLUMN not in row["cells"]:
            raise LoadError("missing required column", file=row["source_file"], row=HEADER_ROW,
                            column=CATEGORY_COLUMN)
        code = row["cells"][CATEGORY_COLUMN].strip()
        if code in UNKNOWN_CATEGORY:
            bids.report.ignore(UNKNOWN_CATEGORY[code], example=f"sub-{row['subject']}")
            code = None
        elif code not in known:
            raise LoadError(f"unknown hdcat code {code!r} (expected one of "
                            f"{', '.join([*UNKNOWN_CATEGORY, *known])})",
                            file=row["source_file"], row=row["source_row"],
                            column=CATEGORY_COLUMN)
        labels[row["subject"]] = code
    subjects = bids.subjects
    return subjects.assign(condition=pd.Series(
        [labels.get(subject) for subject in subjects["external_id"]], index=subjects.index,
        dtype=object))


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
