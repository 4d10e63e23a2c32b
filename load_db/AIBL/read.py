"""AIBL: its readers into frames; mapping.yaml maps its diagnosis codes and measures.

The files read are described in the package's __init__.py.
"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd

from load_db.engine import DatasetFrames, LoadError, LoadReport, read_table
from load_db.engine.assessments import measure_rows
from load_db.engine.cells import convert_column, from_table, source_rows, to_text
from load_db.engine.mapping import MAPPING_FILE, MappingFile, read_mapping
from load_db.engine.tables import check_key
from load_db.loni.collection import in_visits, parse_loni_date, read_collection, visit_code

DEMOGRAPHY_FILE = "aibl_ptdemog.csv"
MMSE_FILE = "aibl_mmse.csv"
CDR_FILE = "aibl_cdr.csv"
DIAGNOSIS_FILE = "aibl_pdxconv.csv"
COLLECTION_FILE = "image_collection.csv"
# The dated tables, in the order their EXAMDATE dates a visit (the MMSE's first).
DATED = ((MMSE_FILE, "MMSCORE"), (CDR_FILE, "CDGLOBAL"))
MAPPING = Path(__file__).with_name(MAPPING_FILE)

# ADNI's coding, which AIBL's tables follow: PTGENDER 1 male, 2 female.
SEX = {"1": "male", "2": "female"}
BASELINE = "bl"
# The IDA's visit names of AIBL's collection onto the clinical tables' VISCODE.
IMAGE_VISITS = {"Baseline": "bl", "18 Month": "m18", "36 Month": "m36", "54 Month": "m54",
                "72 Month": "m72"}
# ADNI-style tables write -4 for "not available": no value, no diagnosis.
NOT_AVAILABLE = "-4"
# PTDOB holds the year of birth only, written "/1936" (the month and day are withheld).
BIRTH_YEAR = re.compile(r"/?(?P<year>(19|20)\d{2})")


def visit_id(rid: str, code: str) -> str:
    """The external_id of a visit: ``<RID>_<VISCODE>`` (12_m18)."""
    return f"{rid}_{code}"


def birth_year(text: str) -> int | None:
    """The year of a PTDOB cell ("/1936"); None when blank or -4; ValueError otherwise."""
    text = (text or "").strip()
    if text in ("", NOT_AVAILABLE):
        return None
    found = BIRTH_YEAR.fullmatch(text)
    if found is None:
        raise ValueError(f"not a year of birth (/YYYY): {text!r}")
    return int(found["year"])


def clinical_table(path: Path, value_column: str, dated: bool = True) -> pd.DataFrame:
    """One of the per-visit tables as strings, checked: RID, VISCODE (valid, one row per
    visit), EXAMDATE when `dated`, and its value column."""
    table = read_table(path, required=("RID", "VISCODE", *(("EXAMDATE",) if dated else ()),
                                       value_column))
    convert_column(table, "VISCODE", visit_code, path)
    rows = source_rows(table)
    check_key(table[["RID", "VISCODE"]],
              lambda position: {"file": path, "row": rows[position], "column": "VISCODE"},
              what="visit")
    return table


def visit_dates(tables: dict[str, pd.DataFrame], data_dir: Path) -> dict[tuple[str, str], date]:
    """{(RID, VISCODE): the visit's EXAMDATE}, from the MMSE table, else the CDR table."""
    dates: dict[tuple[str, str], date] = {}
    for name, _ in DATED:
        table = tables[name]
        parsed = convert_column(table, "EXAMDATE", parse_loni_date, data_dir / name)
        for rid, code, day in zip(table["RID"], table["VISCODE"], parsed, strict=True):
            if day is not None:
                dates.setdefault((rid, code), day)
    return dates


def visits_of(tables: dict[str, pd.DataFrame],
              data_dir: Path) -> tuple[pd.DataFrame, dict[str, date]]:
    """Every (RID, VISCODE) of the MMSE, CDR and diagnosis tables as a visit, dated in days
    since the subject's baseline, labelled with its DXCURREN (mapping.yaml maps it; the
    engine reports a code it lacks, naming the diagnosis row); and the baseline dates."""
    dates = visit_dates(tables, data_dir)
    baseline = {rid: day for (rid, code), day in dates.items() if code == BASELINE}
    diagnoses = tables[DIAGNOSIS_FILE]
    path = data_dir / DIAGNOSIS_FILE
    raw, read_at = {}, {}
    for rid, code, dx, row in zip(diagnoses["RID"], diagnoses["VISCODE"],
                                  diagnoses["DXCURREN"], source_rows(diagnoses), strict=True):
        raw[(rid, code)] = None if to_text(dx) in (None, NOT_AVAILABLE) else dx.strip()
        read_at[(rid, code)] = {"file": str(path), "row": row, "column": "DXCURREN"}
    # Each visit once, where it is first found (the file and row an error names).
    found: dict[tuple[str, str], tuple[str, int]] = {}
    for name in (MMSE_FILE, CDR_FILE, DIAGNOSIS_FILE):
        table = tables[name]
        for rid, code, row in zip(table["RID"], table["VISCODE"], source_rows(table),
                                  strict=True):
            found.setdefault((rid, code), (str(data_dir / name), row))
    keys = list(found)
    frame = pd.DataFrame({
        "subject": [rid for rid, _ in keys],
        "external_id": [visit_id(rid, code) for rid, code in keys],
        "days_since_baseline": [(dates[key] - baseline[key[0]]).days
                                if key in dates and key[0] in baseline else None
                                for key in keys],
        "condition": [raw.get(key) for key in keys],
        "condition_source": [read_at.get(key) for key in keys],
        "symptoms": [{"DXCURREN": raw.get(key)} for key in keys],
        "source_file": [found[key][0] for key in keys],
        "source_row": [found[key][1] for key in keys],
    }, dtype=object)
    return frame, baseline


def subjects_of(table: pd.DataFrame, path: Path, baseline: dict[str, date]) -> pd.DataFrame:
    """The subjects of the demography table: sex, and age at baseline as the baseline year
    minus the year of birth (PTDOB gives only the year)."""
    years = convert_column(table, "PTDOB", birth_year, path)
    return pd.DataFrame({
        "external_id": table["RID"].tolist(),
        "sex": convert_column(table, "PTGENDER", from_table(SEX, empty="unknown"), path),
        "age_at_baseline": [float(baseline[rid].year - year)
                            if year is not None and rid in baseline else None
                            for rid, year in zip(table["RID"], years, strict=True)],
        "metadata": [{"SITEID": site} for site in table["SITEID"]],
        "source_file": str(path),
        "source_row": source_rows(table),
    }, dtype=object)


def assessments_of(tables: dict[str, pd.DataFrame], data_dir: Path, visits: pd.DataFrame,
                   mapping: MappingFile) -> pd.DataFrame:
    """The measures mapping.yaml takes from the MMSE and CDR tables, at their visits."""
    day = dict(zip(visits["external_id"], visits["days_since_baseline"], strict=True))
    frames = []
    for name, _ in DATED:
        table = tables[name]
        ids = [visit_id(rid, code) for rid, code in zip(table["RID"], table["VISCODE"],
                                                         strict=True)]
        frames.append(measure_rows(table, data_dir / name, mapping,
                                   subjects=table["RID"].tolist(), visits=ids,
                                   days=[day[i] for i in ids], rows=source_rows(table)))
    return pd.concat(frames, ignore_index=True)


def image_visit_code(text: str) -> str:
    """The VISCODE of an image collection's Visit cell (Baseline, 18 Month, ...)."""
    return from_table(IMAGE_VISITS)(text)


def read_aibl(data_dir: Path, *, mapping: Path = MAPPING) -> DatasetFrames:
    """Read AIBL (each file once): demography, MMSE, CDR and diagnosis tables, and the image
    collection."""
    data_dir = Path(data_dir)
    dataset_mapping = read_mapping(mapping)
    report = LoadReport()
    demography_path = data_dir / DEMOGRAPHY_FILE
    demography = read_table(demography_path, required=("RID", "SITEID", "PTGENDER", "PTDOB"),
                            key="RID")
    tables = {name: clinical_table(data_dir / name, column) for name, column in DATED}
    tables[DIAGNOSIS_FILE] = clinical_table(data_dir / DIAGNOSIS_FILE, "DXCURREN", dated=False)
    visits, baseline = visits_of(tables, data_dir)
    unknown = ~visits["subject"].isin(set(demography["RID"]))
    if unknown.any():
        first = visits[unknown].iloc[0]
        raise LoadError(f"RID {first['subject']} has no row in {DEMOGRAPHY_FILE}",
                        file=first["source_file"], row=first["source_row"], column="RID")
    images = read_collection(data_dir / COLLECTION_FILE, data_dir, image_visit_code, report)
    return DatasetFrames(
        subjects=subjects_of(demography, demography_path, baseline),
        visits=visits,
        images=in_visits(images, visits, baseline, visit_id, report, MMSE_FILE),
        assessments=assessments_of(tables, data_dir, visits, dataset_mapping),
        report=report, mapping=dataset_mapping)
