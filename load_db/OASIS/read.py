"""OASIS-3: its readers into frames; its labels and measures are mapped by mapping.yaml.

The files read are described in the package's __init__.py.
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from load_db.bids import read_bids
from load_db.engine import DatasetFrames, LoadError, LoadReport, read_table
from load_db.engine.assessments import measure_rows
from load_db.engine.cells import convert_column, from_table, source_rows, to_float, to_int, to_text
from load_db.engine.mapping import MAPPING_FILE, MappingFile, read_mapping

SUBJECTS_FILE = "OASIS3_subjects.csv"
CLINICAL_FILE = "OASIS3_clinical_data.csv"
BIDS_FOLDER = "bids"
CLINICAL_ID_COLUMN = "ADRC_ADRCCLINICALDATA ID"

SEX = {"F": "female", "M": "male"}

CLINICAL_ID = re.compile(r"(?P<subject>OAS3\d{4})_ClinicalData_d(?P<days>\d+)")
MR_SESSION = re.compile(r"d(?P<days>\d+)")

# The Clinical Dementia Rating global score takes these values only.
CDR_SCALE = frozenset({0.0, 0.5, 1.0, 2.0, 3.0})

LB_IN_TO_BMI = 703  # BMI in kg/m2 from pounds and inches
BMI_COLUMN = "bmi"  # the column mapping.yaml reads BMI from: computed here, not in the file
MAPPING = Path(__file__).with_name(MAPPING_FILE)


def condition_label(cdr: float | None, dx1: str | None) -> str | None:
    """The dataset's own label of a visit's diagnosis, as stored in dataset_condition."""
    return None if cdr is None else f"cdr {cdr:g}; dx1 {dx1 or ''}".rstrip()


def bmi(weight_lb: float | None, height_in: float | None) -> float | None:
    """Body-mass index from pounds and inches; None when either is unknown."""
    if weight_lb is None or not height_in:
        return None
    return LB_IN_TO_BMI * weight_lb / height_in**2


def parse_clinical_id(text: str) -> tuple[str, int]:
    """Split ``OAS30001_ClinicalData_d0339`` into (subject, days since entry)."""
    found = CLINICAL_ID.fullmatch(text)
    if found is None:
        raise ValueError(f"not an OASIS-3 clinical data ID (OAS3NNNN_ClinicalData_dNNNN): {text!r}")
    return found["subject"], int(found["days"])


def session_days(session: str) -> int:
    """Days since entry of an MR session label (``d0129`` -> 129)."""
    found = MR_SESSION.fullmatch(session or "")
    if found is None:
        raise ValueError(f"not an OASIS-3 MR session label (dNNNN): {session!r}")
    return int(found["days"])


def to_cdr(text: str) -> float | None:
    """A CDR cell as a float on the CDR scale; '' is unknown (None)."""
    cdr = to_float(text)
    if cdr is not None and cdr not in CDR_SCALE:
        raise ValueError(f"not a CDR score (0, 0.5, 1, 2, 3): {text!r}")
    return cdr


def read_clinical(data_dir: Path) -> pd.DataFrame:
    """Read the clinical-data CSV into typed columns, one row per visit.

    Columns: subject, external_id, days_since_baseline, age_at_entry, mmse, cdr, dx1, height,
    weight, source_file, source_row. A blank cell is None, never a neighbouring row's value.
    """
    path = Path(data_dir) / CLINICAL_FILE
    return clinical_of(clinical_table(path), path)


def clinical_table(path: Path) -> pd.DataFrame:
    """The clinical-data CSV as strings, its required columns checked."""
    return read_table(path, required=(CLINICAL_ID_COLUMN, "Subject", "ageAtEntry", "mmse", "cdr",
                                      "dx1", "height", "weight"), key=CLINICAL_ID_COLUMN)


def clinical_of(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The typed clinical visits of the clinical-data table read from `path`."""
    ids = convert_column(table, CLINICAL_ID_COLUMN, parse_clinical_id, path)
    for row, ((id_subject, _), subject) in enumerate(zip(ids, table["Subject"], strict=True)):
        if id_subject != subject:
            raise LoadError(f"the ID names subject {id_subject!r}, the Subject column {subject!r}",
                            file=path, row=source_rows(table)[row], column=CLINICAL_ID_COLUMN)
    return pd.DataFrame({
        "subject": table["Subject"].tolist(),
        "external_id": table[CLINICAL_ID_COLUMN].tolist(),
        "days_since_baseline": [days for _, days in ids],
        "age_at_entry": convert_column(table, "ageAtEntry", to_float, path),
        "mmse": convert_column(table, "mmse", to_int, path),
        "cdr": convert_column(table, "cdr", to_cdr, path),
        "dx1": convert_column(table, "dx1", to_text, path),
        "height": convert_column(table, "height", to_float, path),
        "weight": convert_column(table, "weight", to_float, path),
        "source_file": str(path),
        "source_row": source_rows(table),
    }, dtype=object)


def subjects_of(table: pd.DataFrame, path: Path, clinical: pd.DataFrame,
                mapping: MappingFile) -> pd.DataFrame:
    """The subjects of the subjects CSV read from `path`; each subject's age at entry comes from
    the clinical data, its handedness from the Hand codes of the mapping's HANDEDNESS."""
    age = clinical.dropna(subset=["age_at_entry"]).groupby("subject")["age_at_entry"].first()
    try:
        codes = mapping.source("HANDEDNESS", "Hand").values
    except KeyError as exc:  # the subject's handedness column is read with the same codes
        raise LoadError(exc.args[0], file=mapping.path, column="measures") from None
    hand = {code: str(level) for code, level in codes.items()}
    return pd.DataFrame({
        "external_id": table["Subject"].tolist(),
        "sex": convert_column(table, "M/F", from_table(SEX, empty="unknown"), path),
        "handedness": convert_column(table, "Hand", from_table(hand, empty="unknown"), path),
        "education_years": convert_column(table, "Education", to_float, path),
        "age_at_baseline": [age.get(subject) for subject in table["Subject"]],
        "source_file": str(path),
        "source_row": source_rows(table),
    }, dtype=object)


def visits_of(clinical: pd.DataFrame) -> pd.DataFrame:
    """The clinical visits, each labelled with its CDR and dx1 (mapping.yaml maps the labels)."""
    cdr, dx1 = clinical["cdr"].tolist(), clinical["dx1"].tolist()
    return pd.DataFrame({
        "subject": clinical["subject"],
        "external_id": clinical["external_id"],
        "days_since_baseline": clinical["days_since_baseline"],
        "condition": [condition_label(c, d) for c, d in zip(cdr, dx1, strict=True)],
        "symptoms": [{"mmse": m, "cdr": c, "dx1": d}
                     for m, c, d in zip(clinical["mmse"], cdr, dx1, strict=True)],
        "bmi": [bmi(w, h) for w, h in zip(clinical["weight"], clinical["height"], strict=True)],
        "source_file": clinical["source_file"],
        "source_row": clinical["source_row"],
    }, dtype=object)


def assessments_of(clinical_table: pd.DataFrame, visits: pd.DataFrame, subjects_table: pd.DataFrame,
                   data_dir: Path, mapping: MappingFile) -> pd.DataFrame:
    """The raw values of the measures mapping.yaml takes from the two CSVs (BMI as computed for
    the visits)."""
    computed = [None if pd.isna(value) else repr(float(value)) for value in visits["bmi"]]
    per_visit = measure_rows(clinical_table.assign(**{BMI_COLUMN: computed}),
                             Path(data_dir) / CLINICAL_FILE, mapping,
                             subjects=visits["subject"].tolist(),
                             visits=visits["external_id"].tolist(),
                             days=visits["days_since_baseline"].tolist(),
                             rows=visits["source_row"].tolist())
    per_subject = measure_rows(subjects_table, Path(data_dir) / SUBJECTS_FILE, mapping,
                               subjects=subjects_table["Subject"].tolist(),
                               rows=source_rows(subjects_table))
    return pd.concat([per_visit, per_subject], ignore_index=True)


def images_of(data_dir: Path) -> tuple[pd.DataFrame, LoadReport]:
    """Read the MR sessions (BIDS under bids/); return (images frame, report of the files
    ignored). Paths are relative to the dataset folder.

    Images get no visit but their day since entry, so that the engine links each to the closest
    clinical visit on or before that day.
    """
    root = Path(data_dir) / BIDS_FOLDER
    bids = read_bids(root, storage_prefix=BIDS_FOLDER)
    images = bids.images.copy()
    days = []
    for session, file in zip(images["visit"], images["source_file"], strict=True):
        try:
            days.append(session_days(session))
        except ValueError as exc:
            raise LoadError(str(exc), file=root / file) from None
    images["days_since_baseline"] = pd.Series(days, index=images.index, dtype=object)
    images["visit"] = None
    return images, bids.report


def read_oasis(data_dir: Path, *, mapping: Path = MAPPING) -> DatasetFrames:
    """Read OASIS-3 (each file once): subjects, clinical visits with their diagnosis labels,
    images, and the measures `mapping` takes from the CSVs."""
    data_dir = Path(data_dir)
    dataset_mapping = read_mapping(mapping)
    clinical_path, subjects_path = data_dir / CLINICAL_FILE, data_dir / SUBJECTS_FILE
    raw_clinical = clinical_table(clinical_path)
    clinical = clinical_of(raw_clinical, clinical_path)
    raw_subjects = read_table(subjects_path, required=("Subject", "M/F", "Hand", "Education"),
                              key="Subject")
    visits = visits_of(clinical)
    images, report = images_of(data_dir)
    return DatasetFrames(
        subjects=subjects_of(raw_subjects, subjects_path, clinical, dataset_mapping),
        visits=visits, images=images,
        assessments=assessments_of(raw_clinical, visits, raw_subjects, data_dir, dataset_mapping),
        report=report, mapping=dataset_mapping)
