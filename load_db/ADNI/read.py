"""ADNI: its readers into frames; mapping.yaml maps its diagnoses and measures.

The files read are described in the package's __init__.py.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from load_db.engine import DatasetFrames, LoadError, LoadReport, read_table
from load_db.engine.assessments import measure_rows
from load_db.engine.cells import convert_column, from_table, source_rows, to_float, to_text
from load_db.engine.mapping import MAPPING_FILE, MappingFile, read_mapping
from load_db.engine.tables import check_key
from load_db.loni.collection import in_visits, read_collection, visit_code

MERGE_FILE = "ADNIMERGE.csv"
COLLECTION_FILE = "image_collection.csv"
MERGE_COLUMNS = ("RID", "PTID", "VISCODE", "EXAMDATE", "DX_bl", "DX", "AGE", "PTGENDER",
                 "PTEDUCAT", "APOE4", "MMSE", "CDRSB", "ADAS11", "ADAS13", "MOCA", "FAQ")
MAPPING = Path(__file__).with_name(MAPPING_FILE)

SEX = {"Female": "female", "Male": "male"}
BASELINE = "bl"
# The image collection names the screening visit sc (scmri in ADNI2); its scan is the
# baseline scan (the imaging was done in the weeks before the baseline exam).
SCREENING = frozenset({"sc", "scmri"})
# The IDA also names visits by their protocol's own codes (ADNIGO/ADNI2/ADNI3: v02, v06,
# init, y1, unscheduled ones), which ADNIMERGE's VISCODE does not use: such an image is linked
# by its day.
PHASE_CODE = re.compile(r"v\d{2}|init|y\d+|uns\d*|nv")


def image_visit_code(text: str) -> str | None:
    """The VISCODE of an image collection's Visit cell: sc and scmri are bl; a protocol's own
    code (v02, init, y1, ...) is None (pure). ValueError for anything else."""
    text = (text or "").strip()
    if PHASE_CODE.fullmatch(text):
        return None
    return BASELINE if text in SCREENING else visit_code(text)


def visit_id(ptid: str, code: str) -> str:
    """The external_id of a visit: ``<PTID>_<VISCODE>`` (011_S_0002_m06)."""
    return f"{ptid}_{code}"


def parse_exam_date(text: str) -> date:
    """An ADNIMERGE EXAMDATE (ISO, 2005-09-08); ValueError when blank or not a date."""
    try:
        return datetime.strptime((text or "").strip(), "%Y-%m-%d").date()
    except ValueError:
        raise ValueError(f"not a date (YYYY-MM-DD): {text!r}") from None


def merge_table(path: Path) -> pd.DataFrame:
    """ADNIMERGE.csv as strings: its columns checked, one row per (PTID, VISCODE)."""
    table = read_table(path, required=MERGE_COLUMNS)
    rows = source_rows(table)
    check_key(table[["PTID", "VISCODE"]],
              lambda position: {"file": path, "row": rows[position], "column": "VISCODE"},
              what="visit")
    return table


def baseline_dates(table: pd.DataFrame, path: Path) -> tuple[list[str], list[date],
                                                             dict[str, date]]:
    """The VISCODE and EXAMDATE of every ADNIMERGE row, and each subject's baseline EXAMDATE
    (LoadError naming the row of a subject without a bl row)."""
    codes = convert_column(table, "VISCODE", visit_code, path)
    dates = convert_column(table, "EXAMDATE", parse_exam_date, path)
    baseline = {ptid: day for ptid, code, day in zip(table["PTID"], codes, dates, strict=True)
                if code == BASELINE}
    for ptid, row in zip(table["PTID"], source_rows(table), strict=True):
        if ptid not in baseline:
            raise LoadError(f"subject {ptid!r} has no baseline (bl) row", file=path, row=row,
                            column="VISCODE")
    return codes, dates, baseline


def visits_of(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    """One visit per ADNIMERGE row, dated in days since its subject's baseline EXAMDATE,
    labelled with its DX (mapping.yaml maps it; the engine reports a label it lacks)."""
    codes, dates, baseline = baseline_dates(table, path)
    rows = source_rows(table)
    return pd.DataFrame({
        "subject": table["PTID"].tolist(),
        "external_id": [visit_id(p, c) for p, c in zip(table["PTID"], codes, strict=True)],
        "days_since_baseline": [(day - baseline[ptid]).days
                                for ptid, day in zip(table["PTID"], dates, strict=True)],
        "condition": [to_text(dx) for dx in table["DX"]],
        "condition_source": [{"column": "DX"}] * len(table),
        "symptoms": [{"DX": to_text(dx)} for dx in table["DX"]],
        "source_file": str(path),
        "source_row": rows,
    }, dtype=object)


def subjects_of(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    """One subject per baseline row of ADNIMERGE: sex, education, age and DX_bl of that row
    (ADNIMERGE repeats them on every row; AGE is the age at baseline)."""
    first = table[table["VISCODE"] == BASELINE]
    rows = [source_rows(table)[position] for position in first.index]
    return pd.DataFrame({
        "external_id": first["PTID"].tolist(),
        "sex": [_cell(from_table(SEX, empty="unknown"), text, path, row, "PTGENDER")
                for text, row in zip(first["PTGENDER"], rows, strict=True)],
        "education_years": [_cell(to_float, text, path, row, "PTEDUCAT")
                            for text, row in zip(first["PTEDUCAT"], rows, strict=True)],
        "age_at_baseline": [_cell(to_float, text, path, row, "AGE")
                            for text, row in zip(first["AGE"], rows, strict=True)],
        "condition": [to_text(dx) for dx in first["DX_bl"]],
        "condition_source": [{"column": "DX_bl"}] * len(first),
        "metadata": [{"RID": rid} for rid in first["RID"]],
        "source_file": str(path),
        "source_row": rows,
    }, dtype=object)


def _cell(convert, text: str, path: Path, row: int, column: str):
    try:
        return convert(text)
    except ValueError as exc:
        raise LoadError(str(exc), file=path, row=row, column=column) from None


def assessments_of(table: pd.DataFrame, path: Path, visits: pd.DataFrame,
                   mapping: MappingFile) -> pd.DataFrame:
    """The measures mapping.yaml takes from ADNIMERGE: per-visit ones from every row, the
    subject's own (education, APOE e4) from its baseline row only."""
    per_subject = {s.measure for s in mapping.sources_of(path.name) if s.level == "subject"}
    every = measure_rows(table, path, mapping, subjects=visits["subject"].tolist(),
                         visits=visits["external_id"].tolist(),
                         days=visits["days_since_baseline"].tolist(),
                         rows=visits["source_row"].tolist())
    first = table["VISCODE"] == BASELINE
    baseline = measure_rows(table[first], path, mapping,
                            subjects=table.loc[first, "PTID"].tolist(),
                            rows=[row for row, keep in zip(source_rows(table), first,
                                                           strict=True) if keep])
    return pd.concat([every[~every["measure"].isin(per_subject)],
                      baseline[baseline["measure"].isin(per_subject)]], ignore_index=True)


def images_of(data_dir: Path, visits: pd.DataFrame, baseline: dict[str, date],
              report: LoadReport) -> pd.DataFrame:
    """The collection's stored images, each in its visit (the Visit column's code, sc being
    bl) and dated in days since its subject's baseline EXAMDATE."""
    images = read_collection(data_dir / COLLECTION_FILE, data_dir, image_visit_code, report)
    return in_visits(images, visits, baseline, visit_id, report, MERGE_FILE)


def read_adni(data_dir: Path, *, mapping: Path = MAPPING) -> DatasetFrames:
    """Read ADNI (each file once): ADNIMERGE's subjects, visits, diagnoses and measures, and
    the image collection."""
    data_dir = Path(data_dir)
    dataset_mapping = read_mapping(mapping)
    report = LoadReport()
    path = data_dir / MERGE_FILE
    table = merge_table(path)
    _, _, baseline = baseline_dates(table, path)
    visits = visits_of(table, path)
    return DatasetFrames(
        subjects=subjects_of(table, path),
        visits=visits,
        images=images_of(data_dir, visits, baseline, report),
        assessments=assessments_of(table, path, visits, dataset_mapping),
        report=report, mapping=dataset_mapping)
