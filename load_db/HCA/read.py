"""HCP-Aging: its readers into frames; mapping.yaml maps its label and measures.

The files read, the visit rules and what was assumed are described in the package's
__init__.py.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

from load_db.bids.mapping import laterality_hand
from load_db.engine import DatasetFrames, LoadError, LoadReport, read_table
from load_db.engine.assessments import measure_rows
from load_db.engine.cells import (
    from_table,
    is_missing,
    json_value,
    to_float,
    to_text,
    to_value,
)
from load_db.engine.mapping import MAPPING_FILE, MappingFile, read_mapping
from load_db.engine.tables import FIRST_DATA_ROW, check_key

SUBJECTS_FILE = "ndar_subject01.txt"
HANDEDNESS_FILE = "edinburgh_hand01.txt"
VITALS_FILE = "vitals01.txt"
MOCA_FILE = "moca01.txt"
MEASURE_FILES = (VITALS_FILE, MOCA_FILE)  # one row per subject and visit
IMAGING_FOLDER = "imagingcollection01"
MAPPING = Path(__file__).with_name(MAPPING_FILE)

SUBJECT_ID, DATE, AGE, SEX = "src_subject_id", "interview_date", "interview_age", "sex"
VISIT = "visit"
COMMON = (SUBJECT_ID, DATE, AGE, SEX)  # required in every structure (NDA's required elements)
# NDA's sex codes: M, F, O (other), NR (not reported).
SEX_CODES = {"M": "male", "F": "female", "O": "other", "NR": "unknown"}
NDA_DATE = "%m/%d/%Y"
MONTHS_PER_YEAR = 12
VISIT_CODE = re.compile(r"V\d+")
BASELINE_VISIT = "V1"  # the visit of ndar_subject01's interview: day 0

# HCP-Aging recruits healthy adults only: every participant gets this label (mapping.yaml).
HEALTHY = "healthy volunteer"
HAND_SCORE_COLUMN = "hcp_handedness_score"
HANDEDNESS_COLUMN = "handedness"  # computed from the score, read by mapping.yaml
LB_IN_TO_BMI = 703  # BMI in kg/m2 from pounds and inches
WEIGHT_COLUMN, HEIGHT_COLUMN, BMI_COLUMN = "weight_std", "vtl007", "bmi"
SUBJECT_METADATA = ("race", "ethnic_group", "site")

# <subject>_<visit>_MR/unprocessed/<scan folder>/<subject>_<visit>_MR_<scan>.nii.gz
IMAGE_FILE = re.compile(r"(?P<subject>HCA\d+)_(?P<visit>V\d+)_MR_(?P<scan>[^/]+)\.nii\.gz")
# Scan name -> stored type; a scan matching none is not an MBID image (T2w, task fMRI, ASL,
# single-band references, field maps): left out and reported.
SCAN_TYPES = (
    (re.compile(r"T1w_MPR_vNav_4e_e1e2_mean"), "T1"),
    (re.compile(r"dMRI_dir\d+_(AP|PA)"), "DWI"),
    (re.compile(r"rfMRI_REST\d_(AP|PA)"), "rsfMRI"),
)
SIDECAR_SCANNER = {"Manufacturer": "manufacturer", "ManufacturersModelName": "model",
                   "DeviceSerialNumber": "serial", "MagneticFieldStrength": "field_strength"}
IMAGE_COLUMNS = ["subject", "visit", "path", "type", "file_size", *SIDECAR_SCANNER.values(),
                 "metadata", "source_file"]


def to_nda_date(text: str) -> date | None:
    """An NDA date cell (MM/DD/YYYY) as a date; None when missing; ValueError when bad."""
    if is_missing(text):
        return None
    try:
        return datetime.strptime(text.strip(), NDA_DATE).date()
    except ValueError:
        raise ValueError(f"not a date (MM/DD/YYYY): {text.strip()!r}") from None


def required_date(text: str) -> date:
    """An interview_date cell, which NDA requires: ValueError when blank or bad."""
    value = to_nda_date(text)
    if value is None:
        raise ValueError("no date: NDA requires the interview date of every record")
    return value


def to_visit(text: str) -> str:
    """A visit code (V1, V2, ...); ValueError for anything else, blank included."""
    if not VISIT_CODE.fullmatch(text or ""):
        raise ValueError(f"not a visit code (V1, V2, ...): {text!r}")
    return text


def bmi(weight_lb: float | None, height_in: float | None) -> float | None:
    """Body-mass index from pounds and inches; None when either is unknown."""
    if weight_lb is None or not height_in:
        return None
    return LB_IN_TO_BMI * weight_lb / height_in**2


def scan_type(scan: str) -> str | None:
    """The stored type of an HCP-Aging scan name (``dMRI_dir98_AP`` -> DWI), None if none."""
    return next((kind for pattern, kind in SCAN_TYPES if pattern.fullmatch(scan)), None)


# --- the NDA structures -------------------------------------------------------------------------

class Structure:
    """One NDA structure as distributed: names on row 1, descriptions on row 2, records after.

    `table` holds the records only (strings), `rows` their row numbers in the file.
    """

    def __init__(self, path: Path, required: tuple[str, ...]) -> None:
        self.path = Path(path)
        table = read_table(self.path, required=required)
        # Row 2 describes the columns: its interview_age cell is text, never a number of months.
        if table.empty or not isinstance(to_value(table[AGE].iloc[0]), str):
            raise LoadError("row 2 is not the row of column descriptions NDA structures have",
                            file=self.path, row=FIRST_DATA_ROW, column=AGE)
        self.table = table.iloc[1:].reset_index(drop=True)
        self.rows = list(range(FIRST_DATA_ROW + 1, FIRST_DATA_ROW + 1 + len(self.table)))

    def column(self, name: str, convert: Callable[[str], Any]) -> list[Any]:
        """Every cell of column `name` converted; LoadError naming the file, row and column of
        the first cell `convert` rejects."""
        values = []
        for row, text in zip(self.rows, self.table[name], strict=True):
            try:
                values.append(convert(text))
            except ValueError as exc:
                raise LoadError(str(exc), file=self.path, row=row, column=name) from None
        return values

    def check_subjects(self, known: dict[str, Any]) -> None:
        """Every record's subject is one of `known` (those of ndar_subject01)."""
        for row, subject in zip(self.rows, self.table[SUBJECT_ID], strict=True):
            if subject not in known:
                raise LoadError(f"subject {subject!r} is not in {SUBJECTS_FILE}",
                                file=self.path, row=row, column=SUBJECT_ID)

    def check_key(self, columns: list[str]) -> None:
        """Each record's key (the values of `columns`) is given and appears once."""
        check_key(self.table[columns], lambda position: {
            "file": self.path, "row": self.rows[position], "column": columns[-1]},
            what="record")


def read_structure(data_dir: Path, name: str, required: tuple[str, ...] = (),
                   key: tuple[str, ...] = (SUBJECT_ID,)) -> Structure:
    """Read the structure file `name`, its NDA columns and `required` ones checked."""
    structure = Structure(Path(data_dir) / name, COMMON + required)
    structure.check_key(list(key))
    return structure


def subjects_of(structure: Structure, hand_of: dict[str, str | None]) -> pd.DataFrame:
    """The subjects of ndar_subject01: sex, age at V1 (months / 12), handedness (`hand_of`:
    from the Edinburgh score), the healthy label, and race, ethnic group and site as metadata."""
    table = structure.table
    months = structure.column(AGE, to_float)
    present = [column for column in SUBJECT_METADATA if column in table.columns]
    return pd.DataFrame({
        "external_id": table[SUBJECT_ID].tolist(),
        "sex": structure.column(SEX, from_table(SEX_CODES, empty="unknown")),
        "age_at_baseline": [None if m is None else m / MONTHS_PER_YEAR for m in months],
        "handedness": [hand_of.get(subject) or "unknown" for subject in table[SUBJECT_ID]],
        "condition": HEALTHY,
        "metadata": [{column: to_text(row[column]) for column in present}
                     for _, row in table.iterrows()],
        "source_file": str(structure.path),
        "source_row": structure.rows,
    }, dtype=object)


def visit_days(structure: Structure, baseline: dict[str, date]) -> tuple[list[str], list[int]]:
    """Each record's visit code and day since its subject's V1 interview (ndar_subject01)."""
    visits = structure.column(VISIT, to_visit)
    dates = structure.column(DATE, required_date)
    structure.check_subjects(baseline)
    days = [(day - baseline[subject]).days
            for subject, day in zip(structure.table[SUBJECT_ID], dates, strict=True)]
    return visits, days


def visits_of(records: list[tuple[Structure, list[str], list[int]]],
              images: pd.DataFrame) -> pd.DataFrame:
    """One visit per subject and visit code of the measure records and MR sessions: its day is
    the earliest record's; a visit known from images only is day 0 when it is V1, else
    undated."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for structure, visits, days in records:
        for subject, visit, day, row in zip(structure.table[SUBJECT_ID], visits, days,
                                            structure.rows, strict=True):
            known = found.get((subject, visit))
            if known is None or day < known["days_since_baseline"]:
                found[(subject, visit)] = {"subject": subject, "external_id": visit,
                                           "days_since_baseline": day,
                                           "source_file": str(structure.path), "source_row": row}
    for subject, visit, file in zip(images["subject"], images["visit"], images["source_file"],
                                    strict=True):
        found.setdefault((subject, visit), {
            "subject": subject, "external_id": visit,
            "days_since_baseline": 0 if visit == BASELINE_VISIT else None,
            "source_file": file, "source_row": None})
    return pd.DataFrame(sorted(found.values(), key=lambda v: (v["subject"], v["external_id"])),
                        columns=["subject", "external_id", "days_since_baseline", "source_file",
                                 "source_row"], dtype=object)


def images_of(data_dir: Path, subjects: set[str]) -> tuple[pd.DataFrame, LoadReport]:
    """The stored images of the imaging collection (paths relative to the dataset folder), each
    in its session's visit with the scanner of its sidecar; the report counts the NIfTI files
    left out (other scans, subjects without phenotype)."""
    root, report, rows = Path(data_dir), LoadReport(), []
    for file in sorted((root / IMAGING_FOLDER).glob("*_MR/unprocessed/*/*.nii.gz")):
        relative = PurePosixPath(file.relative_to(root).as_posix())
        found = IMAGE_FILE.fullmatch(file.name)
        kind = scan_type(found["scan"]) if found else None
        if found is None or relative.parts[1] != f"{found['subject']}_{found['visit']}_MR":
            report.ignore("not named <subject>_<visit>_MR_<scan> in its session folder",
                          example=str(relative))
        elif kind is None:
            report.ignore(f"not an MBID image type: {found['scan']}", example=str(relative))
        elif found["subject"] not in subjects:
            report.ignore(f"subject not in {SUBJECTS_FILE}", example=str(relative))
        else:
            sidecar = sidecar_of(file)
            rows.append({"subject": found["subject"], "visit": found["visit"],
                         "path": str(relative), "type": kind, "file_size": file.stat().st_size,
                         **{column: sidecar.get(key) for key, column in SIDECAR_SCANNER.items()},
                         "metadata": sidecar or None, "source_file": str(file)})
    return pd.DataFrame(rows, columns=IMAGE_COLUMNS, dtype=object), report


def sidecar_of(image: Path) -> dict[str, Any]:
    """The JSON sidecar beside an image ({} without one); LoadError naming a corrupt one."""
    path = image.with_name(image.name.removesuffix(".nii.gz") + ".json")
    if not path.is_file():
        return {}
    try:
        content = json_value(path.read_text())
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        raise LoadError(f"not a JSON sidecar: {exc}", file=path) from None
    if not isinstance(content, dict):
        raise LoadError("a sidecar is a JSON object", file=path)
    return content


def assessments_of(structures: dict[str, tuple[Structure, list[str], list[int]]],
                   hands: Structure, hand: list[str | None],
                   mapping: MappingFile) -> pd.DataFrame:
    """The raw values of the measures mapping.yaml takes from the structures: per record of
    vitals01 (BMI computed) and moca01, per subject of edinburgh_hand01 (the hand computed)."""
    frames = []
    for name, (structure, visits, days) in structures.items():
        table = structure.table
        if name == VITALS_FILE:
            weight = structure.column(WEIGHT_COLUMN, to_float)
            height = structure.column(HEIGHT_COLUMN, to_float)
            table = table.assign(**{BMI_COLUMN: [
                None if value is None else repr(value)
                for value in map(bmi, weight, height)]})
        frames.append(measure_rows(table, structure.path, mapping,
                                   subjects=table[SUBJECT_ID].tolist(), visits=visits,
                                   days=days, rows=structure.rows))
    frames.append(measure_rows(hands.table.assign(**{HANDEDNESS_COLUMN: hand}), hands.path,
                               mapping, subjects=hands.table[SUBJECT_ID].tolist(),
                               rows=hands.rows))
    return pd.concat(frames, ignore_index=True)


def read_hca(data_dir: Path, *, mapping: Path = MAPPING) -> DatasetFrames:
    """Read HCP-Aging (each structure once, then the imaging collection): subjects, visits of
    the measure records and MR sessions, images, and the measures `mapping` takes."""
    data_dir = Path(data_dir)
    dataset_mapping = read_mapping(mapping)
    subjects_file = read_structure(data_dir, SUBJECTS_FILE)
    baseline = dict(zip(subjects_file.table[SUBJECT_ID],
                        subjects_file.column(DATE, required_date), strict=True))
    hands = read_structure(data_dir, HANDEDNESS_FILE, (HAND_SCORE_COLUMN,))
    hands.check_subjects(baseline)
    hand = hands.column(HAND_SCORE_COLUMN, laterality_hand)
    measures = {}
    for name in MEASURE_FILES:
        structure = read_structure(data_dir, name, (VISIT,), key=(SUBJECT_ID, VISIT))
        measures[name] = (structure, *visit_days(structure, baseline))
    subjects = subjects_of(subjects_file, dict(zip(hands.table[SUBJECT_ID], hand, strict=True)))
    images, report = images_of(data_dir, set(baseline))
    return DatasetFrames(
        subjects=subjects, visits=visits_of(list(measures.values()), images), images=images,
        assessments=assessments_of(measures, hands, hand, dataset_mapping), report=report,
        mapping=dataset_mapping)
