"""Cam-CAN: its participant table and BIDS tree into frames; mapping.yaml maps its label and
its handedness.

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

PARTICIPANTS_FILE = "standard_data.csv"
BIDS_FOLDER = "BIDS"
ID, SEX, HAND, AGE = "CCID", "Sex", "Hand", "Age"
SEX_CODES = {"MALE": "male", "FEMALE": "female"}
# Every cc700 participant was recruited healthy: the label mapping.yaml maps.
HEALTHY = "healthy volunteer"
# Not a column of the file: the handedness read from Hand, which mapping.yaml takes HANDEDNESS
# from (as OASIS computes its BMI column).
HANDEDNESS_COLUMN = "handedness"
MAPPING = Path(__file__).with_name(MAPPING_FILE)


def hand_of(text: str) -> str:
    """The handedness of an Edinburgh laterality quotient cell ('' when blank)."""
    return laterality_hand(text) or ""


def subjects_of(table: pd.DataFrame, path: Path, hands: list[str]) -> pd.DataFrame:
    """The subjects frame: sex, age, handedness, the quotient in metadata, healthy."""
    return pd.DataFrame({
        "external_id": table[ID].tolist(),
        "sex": convert_column(table, SEX, from_table(SEX_CODES, empty="unknown"), path),
        "handedness": [hand or "unknown" for hand in hands],
        "age_at_baseline": convert_column(table, AGE, to_float, path),
        "condition": HEALTHY,
        "metadata": [{"laterality_quotient": to_value(text)} for text in table[HAND]],
        "source_file": str(path),
        "source_row": source_rows(table),
    }, dtype=object)


def visits_of(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    """One visit per participant (the tree has no sessions), at day 0."""
    return pd.DataFrame({"subject": table[ID].tolist(), "external_id": NO_SESSION_VISIT,
                         "days_since_baseline": 0, "source_file": str(path),
                         "source_row": source_rows(table)}, dtype=object)


def read_camcan(data_dir: Path, *, mapping: Path = MAPPING) -> DatasetFrames:
    """Read Cam-CAN: standard_data.csv once, then the BIDS tree under BIDS/ (image paths
    relative to the dataset folder)."""
    data_dir = Path(data_dir)
    path = data_dir / PARTICIPANTS_FILE
    table = read_table(path, required=(ID, SEX, HAND, AGE), key=ID)
    dataset_mapping = read_mapping(mapping)
    hands = convert_column(table, HAND, hand_of, path)
    bids = read_bids(data_dir / BIDS_FOLDER, storage_prefix=BIDS_FOLDER)
    assessments = measure_rows(table.assign(**{HANDEDNESS_COLUMN: hands}), path,
                               dataset_mapping, subjects=table[ID].tolist(),
                               rows=source_rows(table))
    return DatasetFrames(subjects=subjects_of(table, path, hands), visits=visits_of(table, path),
                         images=bids.images, assessments=assessments, report=bids.report,
                         mapping=dataset_mapping)
