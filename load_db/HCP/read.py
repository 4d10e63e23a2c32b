"""HCP Young Adult: its readers into frames; mapping.yaml maps its label and measures.

The files read are described in the package's __init__.py.
"""
from __future__ import annotations

from pathlib import Path, PurePosixPath

import pandas as pd

from load_db.engine import DatasetFrames, read_table
from load_db.engine.assessments import measure_rows
from load_db.engine.cells import convert_column, from_table, source_rows
from load_db.engine.mapping import MAPPING_FILE, read_mapping

BEHAVIOURAL_FILE = "unrestricted_behavioral.csv"
T1_GLOB = "*/unprocessed/3T/T1w_MPR1/*_3T_T1w_MPR1.nii.gz"
VISIT_SUFFIX = "_3T"

SEX = {"F": "female", "M": "male"}
# The unrestricted data gives age in bands only (exact ages are restricted): store the band's
# middle; HCP-YA recruited ages 22-35, a few were 36-37 at scan time, hence "36+" -> 36.5.
AGE_BANDS = {"22-25": 23.5, "26-30": 28.0, "31-35": 33.0, "36+": 36.5}
# HCP-YA has no diagnosis column: every participant was recruited healthy (the label
# mapping.yaml maps to a master condition).
HEALTHY = "healthy volunteer"
MAPPING = Path(__file__).with_name(MAPPING_FILE)
# All HCP-YA 3T imaging was done on one customised Siemens Skyra at Washington University.
SCANNER = {"manufacturer": "Siemens", "model": "Connectome Skyra", "serial": "",
           "field_strength": 3.0}


def visit_of(subject: str) -> str:
    """The external_id of a subject's one visit, as ConnectomeDB names the 3T session."""
    return f"{subject}{VISIT_SUFFIX}"


def read_behavioural(data_dir: Path) -> pd.DataFrame:
    """Read the behavioural CSV: Subject (unique), Gender, Age, as strings."""
    return read_table(Path(data_dir) / BEHAVIOURAL_FILE, required=("Subject", "Gender", "Age"),
                      key="Subject")


def subjects_of(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The subjects frame of the behavioural table read from `path`: sex, age (band middle),
    healthy at subject level, band in metadata."""
    return pd.DataFrame({
        "external_id": table["Subject"].tolist(),
        "sex": convert_column(table, "Gender", from_table(SEX, empty="unknown"), path),
        "age_at_baseline": convert_column(table, "Age", from_table(AGE_BANDS), path),
        "condition": HEALTHY,
        "metadata": [{"age_band": band or None} for band in table["Age"]],
        "source_file": str(path),
        "source_row": source_rows(table),
    }, dtype=object)


def visits_of(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The visits frame: one visit per subject of the behavioural table, at day 0."""
    return pd.DataFrame({
        "subject": table["Subject"].tolist(),
        "external_id": [visit_of(subject) for subject in table["Subject"]],
        "days_since_baseline": 0,
        "source_file": str(path),
        "source_row": source_rows(table),
    }, dtype=object)


def images_of(data_dir: Path) -> pd.DataFrame:
    """The images frame: every T1 of the release layout, in its subject's visit (paths relative
    to the dataset folder)."""
    root = Path(data_dir)
    files = sorted(root.glob(T1_GLOB))
    relative = [PurePosixPath(file.relative_to(root).as_posix()) for file in files]
    subjects = [path.parts[0] for path in relative]
    return pd.DataFrame({
        "subject": subjects,
        "visit": [visit_of(subject) for subject in subjects],
        "path": [str(path) for path in relative],
        "type": "T1",
        "file_size": [file.stat().st_size for file in files],
        **{column: value for column, value in SCANNER.items()},
        "source_file": [str(file) for file in files],
    }, columns=["subject", "visit", "path", "type", "file_size", *SCANNER, "source_file"],
        dtype=object)


def read_hcp(data_dir: Path, *, mapping: Path = MAPPING) -> DatasetFrames:
    """Read HCP Young Adult (the behavioural CSV once, then the T1 files); the measures
    `mapping` takes from the CSV are values of each subject's one visit."""
    path = Path(data_dir) / BEHAVIOURAL_FILE
    table = read_behavioural(data_dir)
    dataset_mapping = read_mapping(mapping)
    subjects = table["Subject"].tolist()
    assessments = measure_rows(table, path, dataset_mapping, subjects=subjects,
                               visits=[visit_of(subject) for subject in subjects],
                               days=[0] * len(subjects), rows=source_rows(table))
    return DatasetFrames(subjects=subjects_of(table, path), visits=visits_of(table, path),
                         images=images_of(data_dir), assessments=assessments,
                         mapping=dataset_mapping)
