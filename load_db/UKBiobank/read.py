"""UK Biobank: its readers into frames; mapping.yaml maps its ICD-10 codes and its fields.

The files read, the visit rules and what was assumed are described in the package's __init__.py.
"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from load_db.engine import DatasetFrames, LoadError, LoadReport, read_table
from load_db.engine.assessments import measure_rows
from load_db.engine.cells import (
    convert_column,
    from_table,
    is_missing,
    json_value,
    source_rows,
    to_float,
    to_int,
    to_text,
)
from load_db.engine.mapping import MAPPING_FILE, MappingFile, read_mapping

MAIN_FILE = "ukb_main.csv"
BULK_FOLDER = "bulk"
MAPPING = Path(__file__).with_name(MAPPING_FILE)

EID = "eid"
SEX, BIRTH_YEAR, ATTENDED, AGE, HANDEDNESS, ICD10 = 31, 34, 53, 21003, 1707, 41270
INSTANCES = (0, 1, 2, 3)  # initial assessment, repeat assessment, imaging, repeat imaging
BASELINE = 0
# A main-dataset column: <field>-<instance>.<array>.
COLUMN = re.compile(r"(?P<field>\d+)-(?P<instance>\d+)\.(?P<array>\d+)")
# A bulk file, <eid>_<field>_<instance>_<array>.zip, and the folder it is unpacked into.
BULK_NAME = re.compile(
    r"(?P<eid>\d+)_(?P<field>\d+)_(?P<instance>\d+)_(?P<array>\d+)(?P<zip>\.zip)?")

# Field 31, coding 9.
SEX_CODES = {"0": "female", "1": "male"}
# The bulk imaging fields stored, with the NIfTI each zip holds and its JSON sidecar; 20253
# (T2 FLAIR) is not an MBID image type.
BULK_IMAGES = {
    20252: ("T1", "T1/T1_orig_defaced.nii.gz", "T1/T1.json"),
    20250: ("DWI", "dMRI/raw/AP.nii.gz", "dMRI/raw/AP.json"),
    20227: ("rsfMRI", "fMRI/rfMRI.nii.gz", "fMRI/rfMRI.json"),
}
NOT_STORED_FIELDS = {20253: "T2 FLAIR"}
# The ICD-10 code of a diagnosis is its category (three characters) plus an optional digit;
# the mapping's labels are categories ("ICD-10 G30").
ICD10_CATEGORY = re.compile(r"[A-Z]\d{2}")
LABEL_PREFIX = "ICD-10 "
# Every UK Biobank brain scan is acquired on a 3T Siemens Skyra (brain imaging documentation);
# a zip's JSON sidecar, when it names the scanner, wins.
SCANNER = {"manufacturer": "Siemens", "model": "Skyra", "serial": "", "field_strength": 3.0}

NOT_BULK = "entry of bulk/ not named <eid>_<field>_<instance>_<array>(.zip)"
# `flask upload` leaves archives out (load_file/tree.py): a zip's NIfTI is stored unpacked.
PACKED = "bulk zip not unpacked (unzip it into the folder of its name)"
NOT_STORED = "bulk field not an MBID image type"
NO_IMAGE = "bulk zip without its NIfTI image"
NO_DIAGNOSIS = "no ICD-10 code the mapping maps: condition left unknown"
SEVERAL = "ICD-10 codes mapping to several conditions: condition left unknown"


def column(field: int, instance: int, array: int = 0) -> str:
    """The main-dataset column of a field's instance and array index: ``21003-2.0``."""
    return f"{field}-{instance}.{array}"


def visit_id(eid: str, instance: int) -> str:
    """A visit's external_id: the participant and the instance, e.g. ``1000015_2``."""
    return f"{eid}_{instance}"


def to_date(text: str) -> date | None:
    """A date cell (YYYY-MM-DD) as a date; None when blank. ValueError otherwise."""
    if is_missing(text):
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"not a date (YYYY-MM-DD): {text!r}") from None


def condition_label(codes: list[str], mapping: MappingFile) -> tuple[str | None, str | None]:
    """(label, problem) of a participant's ICD-10 codes: the label of the first code whose
    category the mapping maps, when every mapped code gives the same condition. Pure."""
    mapped: dict[str, str] = {}
    for code in codes:
        label = f"{LABEL_PREFIX}{code[:3]}"
        if label in mapped:
            continue
        try:
            mapped[label] = mapping.condition_for(label)
        except KeyError:
            continue
    if not mapped:
        return None, NO_DIAGNOSIS
    if len(set(mapped.values())) > 1:
        return None, SEVERAL
    return next(iter(mapped)), None


def instance_columns(table: pd.DataFrame, field: int) -> list[str]:
    """The table's columns of a field, by instance then array index."""
    found = [(int(m["instance"]), int(m["array"]), name) for name in table.columns
             if (m := COLUMN.fullmatch(name)) and int(m["field"]) == field]
    return [name for *_, name in sorted(found)]


def _icd10_codes(table: pd.DataFrame, path: Path) -> list[list[str]]:
    """Each row's ICD-10 codes (field 41270, every array index), checked."""
    names = instance_columns(table, ICD10)
    codes: list[list[str]] = [[] for _ in range(len(table))]
    for name in names:
        for position, text in enumerate(table[name]):
            code = to_text(text)
            if code is None:
                continue
            if not ICD10_CATEGORY.match(code) or len(code) > 4:
                raise LoadError(f"not an ICD-10 code (coding 19, e.g. G309): {code!r}",
                                file=path, row=source_rows(table)[position], column=name)
            codes[position].append(code)
    return codes


def subjects_of(table: pd.DataFrame, path: Path, mapping: MappingFile,
                report: LoadReport) -> pd.DataFrame:
    """One subject per row of the main dataset: sex, handedness (the mapping's HANDEDNESS
    codes), age at the initial assessment, year of birth, and the condition its ICD-10 codes
    map to (unknown when none does, or when they map to several)."""
    try:
        codes = mapping.source("HANDEDNESS", column(HANDEDNESS, BASELINE)).values
    except KeyError as exc:  # the subject's handedness is read with the measure's codes
        raise LoadError(exc.args[0], file=mapping.path, column="measures") from None
    hand = {code: str(level) for code, level in codes.items()}
    hand.update({code: "unknown" for code in mapping.content.missing if code})
    labels = []
    for eid, found in zip(table[EID], _icd10_codes(table, path), strict=True):
        label, problem = condition_label(found, mapping)
        if problem is not None:
            report.note(problem, [f"{eid}: {' '.join(found) or 'no code'}"])
        labels.append(label)
    hand_column = column(HANDEDNESS, BASELINE)
    return pd.DataFrame({
        "external_id": table[EID].tolist(),
        "sex": convert_column(table, column(SEX, BASELINE), from_table(SEX_CODES,
                                                                       empty="unknown"), path),
        "handedness": convert_column(table, hand_column, from_table(hand, empty="unknown"), path)
        if hand_column in table.columns else "unknown",
        "age_at_baseline": convert_column(table, column(AGE, BASELINE), to_float, path),
        "condition": labels,
        "metadata": [{"year_of_birth": year} for year in
                     convert_column(table, column(BIRTH_YEAR, BASELINE), to_int, path)],
        "source_file": str(path),
        "source_row": source_rows(table),
    }, dtype=object)


def attendance(table: pd.DataFrame, path: Path) -> dict[tuple[str, int], int]:
    """{(eid, instance): days since the initial assessment} of every instance attended (field
    53 dated). An attended instance without an initial assessment date is an error."""
    days = {}
    baseline = convert_column(table, column(ATTENDED, BASELINE), to_date, path)
    for instance in INSTANCES:
        name = column(ATTENDED, instance)
        if name not in table.columns:
            continue
        for position, when in enumerate(convert_column(table, name, to_date, path)):
            if when is None:
                continue
            if baseline[position] is None:
                raise LoadError("an instance attended without the initial assessment's date",
                                file=path, row=source_rows(table)[position],
                                column=column(ATTENDED, BASELINE))
            days[table[EID].iloc[position], instance] = (when - baseline[position]).days
    return days


def visits_of(table: pd.DataFrame, path: Path, days: dict[tuple[str, int], int]
              ) -> pd.DataFrame:
    """One visit per instance attended, with its day since the initial assessment; its
    `symptoms` keep the instance and the participant's age then (field 21003)."""
    rows = source_rows(table)
    position = {eid: index for index, eid in enumerate(table[EID])}
    visits = sorted(days, key=lambda key: (position[key[0]], key[1]))
    ages = {instance: convert_column(table, column(AGE, instance), to_float, path)
            for instance in INSTANCES if column(AGE, instance) in table.columns}
    return pd.DataFrame({
        "subject": [eid for eid, _ in visits],
        "external_id": [visit_id(eid, instance) for eid, instance in visits],
        "days_since_baseline": [days[key] for key in visits],
        "symptoms": [{"instance": instance,
                      "age_at_visit": ages[instance][position[eid]] if instance in ages
                      else None} for eid, instance in visits],
        "source_file": str(path),
        "source_row": [rows[position[eid]] for eid, _ in visits],
    }, columns=["subject", "external_id", "days_since_baseline", "symptoms", "source_file",
                "source_row"], dtype=object)


def assessments_of(table: pd.DataFrame, path: Path, mapping: MappingFile,
                   days: dict[tuple[str, int], int]) -> pd.DataFrame:
    """The measures the mapping takes from the main dataset; a per-visit field's value belongs
    to the visit of its column's instance (a value at an instance not attended is an error)."""
    frame = measure_rows(table, path, mapping, subjects=table[EID].tolist(),
                         rows=source_rows(table))
    levels = {source.column: source.level for source in mapping.sources_of(path.name)}
    visits, day_of = [], []
    for subject, name, raw, row in zip(frame["subject"], frame["source_column"],
                                       frame["raw_value"], frame["source_row"], strict=True):
        instance = int(COLUMN.fullmatch(name)["instance"])
        if levels[name] == "subject":
            visits.append(None)
            day_of.append(0)
            continue
        attended = (subject, instance) in days
        if not attended and not is_missing(raw) and raw not in mapping.content.missing:
            raise LoadError(f"a value at instance {instance}, which participant {subject} did "
                            f"not attend (no {column(ATTENDED, instance)})", file=path, row=row,
                            column=name)
        visits.append(visit_id(subject, instance) if attended else None)
        day_of.append(days.get((subject, instance)))
    return frame.assign(visit=pd.Series(visits, index=frame.index, dtype=object),
                        days_since_baseline=pd.Series(day_of, index=frame.index, dtype=object))


def _sidecar(sidecar: Path) -> dict[str, Any]:
    """A bulk file's JSON sidecar; {} when absent."""
    if not sidecar.is_file():
        return {}
    try:
        content = json_value(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LoadError(f"unreadable JSON sidecar: {exc}", file=sidecar) from None
    if not isinstance(content, dict):
        raise LoadError("a JSON sidecar is a JSON object", file=sidecar)
    return content


def images_of(data_dir: Path, eids: set[str], days: dict[tuple[str, int], int],
              report: LoadReport) -> pd.DataFrame:
    """One image per unpacked bulk file of a stored type: the NIfTI it holds (path relative to
    the dataset folder), in the visit of its instance; a zip not unpacked is reported."""
    root = Path(data_dir)
    rows = []
    for entry in sorted((root / BULK_FOLDER).glob("*")):
        found = BULK_NAME.fullmatch(entry.name)
        if found is None or entry.is_dir() != (found["zip"] is None):
            report.ignore(NOT_BULK, entry.name)
            continue
        if found["zip"] is not None:
            if not entry.with_suffix("").is_dir():
                report.ignore(PACKED, entry.name)
            continue
        eid, field, instance = found["eid"], int(found["field"]), int(found["instance"])
        if field not in BULK_IMAGES:
            report.ignore(f"{NOT_STORED}: {field} "
                          f"({NOT_STORED_FIELDS.get(field, 'not an imaging field')})", entry.name)
            continue
        if eid not in eids:
            raise LoadError(f"participant {eid} is not in {MAIN_FILE}", file=entry)
        kind, member, sidecar_name = BULK_IMAGES[field]
        image = entry / member
        if not image.is_file():
            report.ignore(NO_IMAGE, f"{entry.name}: no {member}")
            continue
        sidecar = _sidecar(entry / sidecar_name)
        scanner = {**SCANNER, **{key: value for key, value in {
            "manufacturer": sidecar.get("Manufacturer"),
            "model": sidecar.get("ManufacturersModelName"),
            "field_strength": sidecar.get("MagneticFieldStrength")}.items() if value}}
        rows.append({
            "subject": eid, "path": image.relative_to(root).as_posix(),
            "visit": visit_id(eid, instance) if (eid, instance) in days else None,
            "type": kind, "file_size": image.stat().st_size, **scanner,
            "metadata": {**sidecar, "ukb_field": field, "ukb_instance": instance,
                         "ukb_array": int(found["array"])},
            "source_file": str(image),
        })
    return pd.DataFrame(rows, columns=["subject", "path", "visit", "type", "file_size",
                                       *SCANNER, "metadata", "source_file"], dtype=object)


def read_ukbiobank(data_dir: Path, *, mapping: Path = MAPPING) -> DatasetFrames:
    """Read UK Biobank (the main dataset once, then each bulk zip's member list): participants,
    their attended instances as visits, the mapped fields, and the imaging zips."""
    data_dir = Path(data_dir)
    path = data_dir / MAIN_FILE
    dataset_mapping = read_mapping(mapping)
    report = LoadReport()
    table = read_table(path, key=EID, required=(
        EID, column(SEX, BASELINE), column(BIRTH_YEAR, BASELINE), column(ATTENDED, BASELINE),
        column(AGE, BASELINE)))
    days = attendance(table, path)
    return DatasetFrames(
        subjects=subjects_of(table, path, dataset_mapping, report),
        visits=visits_of(table, path, days),
        images=images_of(data_dir, set(table[EID]), days, report),
        assessments=assessments_of(table, path, dataset_mapping, days),
        report=report, mapping=dataset_mapping)
