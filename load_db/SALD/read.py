"""SALD: its demographic table and BIDS tree into frames; mapping.yaml maps its label and its
handedness.

The files read are described in the package's __init__.py.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from load_db.bids import NO_SESSION_VISIT, read_bids
from load_db.bids.mapping import laterality_hand
from load_db.engine import DatasetFrames, read_table
from load_db.engine.assessments import measure_rows
from load_db.engine.cells import convert_column, from_table, source_rows, to_float, to_value
from load_db.engine.mapping import MAPPING_FILE, read_mapping

DEMOGRAPHICS_FILE = "demographic_information.csv"
BIDS_FOLDER = "BIDS"
SUBJECT_ID, SEX, AGE, HANDEDNESS = "Sub_ID", "Sex", "Age", "Edinburgh_Handedness"
SEX_CODES = {"Male": "male", "Female": "female"}
# SALD recruited healthy adults only: the label mapping.yaml maps.
HEALTHY = "healthy volunteer"
# Not a column of the file: the handedness read from the Edinburgh score, which mapping.yaml
# takes HANDEDNESS from (as OASIS computes its BMI column).
HAND_COLUMN = "handedness"
MAPPING = Path(__file__).with_name(MAPPING_FILE)


def handedness_of(score: str) -> str:
    """The handedness of an Edinburgh score ('' when blank)."""
    return laterality_hand(score) or ""


def read_sald(data_dir: Path, *, mapping: Path = MAPPING) -> DatasetFrames:
    """Read SALD: the demographic table once, then the BIDS tree under BIDS/ (image paths
    relative to the dataset folder). Each participant has one visit, at day 0."""
    data_dir = Path(data_dir)
    path = data_dir / DEMOGRAPHICS_FILE
    table = read_table(path, required=(SUBJECT_ID, SEX, AGE, HANDEDNESS), key=SUBJECT_ID)
    dataset_mapping = read_mapping(mapping)
    labels, rows = table[SUBJECT_ID].tolist(), source_rows(table)
    hands = convert_column(table, HANDEDNESS, handedness_of, path)
    where = {"source_file": str(path), "source_row": rows}
    subjects = pd.DataFrame({
        "external_id": labels,
        "sex": convert_column(table, SEX, from_table(SEX_CODES, empty="unknown"), path),
        "age_at_baseline": convert_column(table, AGE, to_float, path),
        "handedness": [hand or "unknown" for hand in hands],
        "condition": HEALTHY,
        "metadata": [{"edinburgh_score": to_value(score)} for score in table[HANDEDNESS]],
        **where}, dtype=object)
    visits = pd.DataFrame({"subject": labels, "external_id": NO_SESSION_VISIT,
                           "days_since_baseline": 0, **where}, dtype=object)
    bids = read_bids(data_dir / BIDS_FOLDER, storage_prefix=BIDS_FOLDER)
    return DatasetFrames(subjects=subjects, visits=visits, images=bids.images,
                         assessments=measure_rows(table.assign(**{HAND_COLUMN: hands}), path,
                                                  dataset_mapping, subjects=labels, rows=rows),
                         report=bids.report, mapping=dataset_mapping)
