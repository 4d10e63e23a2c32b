"""OASIS-3: its readers into frames and its diagnosis mapping (get_oasis_dx).

The files read are described in the package's __init__.py.
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from load_db.bids import read_bids
from load_db.engine import DatasetFrames, LoadError, LoadReport, read_table
from load_db.engine.cells import convert_column, from_table, source_rows, to_float, to_int, to_text

SUBJECTS_FILE = "OASIS3_subjects.csv"
CLINICAL_FILE = "OASIS3_clinical_data.csv"
BIDS_FOLDER = "bids"
CLINICAL_ID_COLUMN = "ADRC_ADRCCLINICALDATA ID"

SEX = {"F": "female", "M": "male"}
HAND = {"R": "right", "L": "left", "B": "ambidextrous"}

CLINICAL_ID = re.compile(r"(?P<subject>OAS3\d{4})_ClinicalData_d(?P<days>\d+)")
MR_SESSION = re.compile(r"d(?P<days>\d+)")

# The Clinical Dementia Rating global score takes these values only.
CDR_SCALE = frozenset({0.0, 0.5, 1.0, 2.0, 3.0})
CDR_CONDITION = {0.0: "Healthy Control", 0.5: "Mild Cognitive Impairment"}
ALZHEIMER, DEMENTIA = "Alzheimer's Disease", "Dementia Unspecified"
# dx1 names Alzheimer's disease as "AD" or "DAT" (dementia of the Alzheimer type) ...
NAMES_AD = re.compile(r"\b(AD|DAT)\b")
# ... unless it rules it out ("Non AD dem- Other primary", "uncertain- possible NON AD dem").
RULES_OUT_AD = re.compile(r"\bno(n)?[\s-]+AD\b", re.IGNORECASE)
# OASIS writes "." for a diagnosis left blank on a dementia visit; those visits are AD visits.
DX1_BLANK = "."

LB_IN_TO_BMI = 703  # BMI in kg/m2 from pounds and inches


def get_oasis_dx(cdr: float | None, dx1: str | None) -> str | None:
    """Map a visit's CDR and dx1 to a master condition designation; None when the CDR is unknown.

    CDR 0 -> Healthy Control; 0.5 -> Mild Cognitive Impairment; 1 or more -> Alzheimer's
    Disease when dx1 names AD (and does not rule it out) or is ".", else Dementia Unspecified.
    """
    if cdr is None:
        return None
    if cdr in CDR_CONDITION:
        return CDR_CONDITION[cdr]
    dx1 = (dx1 or "").strip()
    names_ad = dx1 == DX1_BLANK or (NAMES_AD.search(dx1) is not None
                                    and RULES_OUT_AD.search(dx1) is None)
    return ALZHEIMER if names_ad else DEMENTIA


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
    table = read_table(path, required=(CLINICAL_ID_COLUMN, "Subject", "ageAtEntry", "mmse", "cdr",
                                       "dx1", "height", "weight"), key=CLINICAL_ID_COLUMN)
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


def subjects_of(data_dir: Path, clinical: pd.DataFrame) -> pd.DataFrame:
    """Read the subjects CSV; each subject's age at entry comes from the clinical data."""
    path = Path(data_dir) / SUBJECTS_FILE
    table = read_table(path, required=("Subject", "M/F", "Hand", "Education"), key="Subject")
    age = clinical.dropna(subset=["age_at_entry"]).groupby("subject")["age_at_entry"].first()
    return pd.DataFrame({
        "external_id": table["Subject"].tolist(),
        "sex": convert_column(table, "M/F", from_table(SEX, empty="unknown"), path),
        "handedness": convert_column(table, "Hand", from_table(HAND, empty="unknown"), path),
        "education_years": convert_column(table, "Education", to_float, path),
        "age_at_baseline": [age.get(subject) for subject in table["Subject"]],
        "source_file": str(path),
        "source_row": source_rows(table),
    }, dtype=object)


def visits_of(clinical: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """The clinical visits; return (visits frame, {condition label: master designation})."""
    cdr, dx1 = clinical["cdr"].tolist(), clinical["dx1"].tolist()
    labels = [condition_label(c, d) for c, d in zip(cdr, dx1, strict=True)]
    conditions = {label: get_oasis_dx(c, d)
                  for label, c, d in zip(labels, cdr, dx1, strict=True) if label is not None}
    visits = pd.DataFrame({
        "subject": clinical["subject"],
        "external_id": clinical["external_id"],
        "days_since_baseline": clinical["days_since_baseline"],
        "condition": labels,
        "symptoms": [{"mmse": m, "cdr": c, "dx1": d}
                     for m, c, d in zip(clinical["mmse"], cdr, dx1, strict=True)],
        "bmi": [bmi(w, h) for w, h in zip(clinical["weight"], clinical["height"], strict=True)],
        "source_file": clinical["source_file"],
        "source_row": clinical["source_row"],
    }, dtype=object)
    return visits, conditions


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


def read_oasis(data_dir: Path) -> DatasetFrames:
    """Read OASIS-3 (each file once): subjects, clinical visits with their diagnoses, images."""
    clinical = read_clinical(data_dir)
    visits, conditions = visits_of(clinical)
    images, report = images_of(data_dir)
    return DatasetFrames(subjects=subjects_of(data_dir, clinical), visits=visits, images=images,
                         report=report, conditions=conditions)
