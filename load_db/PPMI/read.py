"""PPMI: its readers into frames; mapping.yaml maps its cohorts and its scores.

The files read, the visit rules and what was assumed are described in the package's __init__.py.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from load_db.engine import DatasetFrames, LoadError, LoadReport, read_table
from load_db.engine.assessments import measure_rows
from load_db.engine.cells import (
    convert_column,
    from_table,
    is_missing,
    source_rows,
    to_float,
    to_text,
    to_value,
)
from load_db.engine.mapping import MAPPING_FILE, MappingFile, read_mapping

STATUS_FILE = "Participant_Status.csv"
DEMOGRAPHICS_FILE = "Demographics.csv"
UPDRS3_FILE = "MDS-UPDRS_Part_III.csv"
MOCA_FILE = "Montreal_Cognitive_Assessment__MoCA_.csv"
IMAGING_FILE = "PPMI_imaging_list.csv"
IMAGES_FOLDER = "images"
MAPPING = Path(__file__).with_name(MAPPING_FILE)

SUBJECT, EVENT, DATE = "PATNO", "EVENT_ID", "INFODT"
SCREENING, BASELINE = "SC", "BL"
# PPMI's visit codes: SC screening, BL baseline, Vnn scheduled, Rnn remote, Unn unscheduled,
# ST symptomatic therapy, PW premature withdrawal.
EVENT_CODE = re.compile(r"SC|BL|ST|PW|[VRU]\d{2}")
# PPMI rounds every date of its tables to the month: MM/YYYY.
MONTH = re.compile(r"(?P<month>\d{2})/(?P<year>\d{4})")
DAYS_PER_MONTH = 365.25 / 12

SEX = {"0": "female", "1": "male"}
# The exam of a visit that gives its MDS-UPDRS III total: off medication first, then an exam
# without a state (untreated participants), then on medication.
PDSTATE_RANK = {"OFF": 0, "": 1, "ON": 2}

# The imaging list names visits, the clinical tables code them (nipoppy-ppmi's table).
IMAGING_VISITS = {
    "Screening": "SC", "Baseline": "BL", "Month 6": "R01", "Month 12": "V04",
    "Month 24": "V06", "Month 36": "V08", "Month 48": "V10", "Symptomatic Therapy": "ST",
    "Premature Withdrawal": "PW", "Unscheduled Visit 01": "U01", "Unscheduled Visit 02": "U02",
}
# An image's type from its series description (PPMI's Modality column is unreliable), the
# first pattern found wins; FLAIR, T2 and PD-weighted series are not MBID image types.
IMAGE_TYPES = (
    (re.compile(r"(?i)flair|\bt2|\bpd\b|\bpd[-_/]"), None),
    (re.compile(r"(?i)rs-?fmri|rs fmri|resting|bold"), "rsfMRI"),
    (re.compile(r"(?i)dti|dwi|diff"), "DWI"),
    (re.compile(r"(?i)mprage|spgr|bravo|tfe|\bt1"), "T1"),
)
IMAGING_COLUMNS = ("Image Data ID", "Subject ID", "Visit", "Research Group", "Modality",
                   "Description", "Acq Date")

NOT_STORED = "not an MBID image type (series description)"
NO_FILE = "image of the imaging list without its NIfTI file"
SUPERSEDED = "screening value superseded by the baseline one"
NO_BASELINE = "image of a participant without clinical visits: no day since baseline"


def visit_code(event: str) -> str:
    """The visit an EVENT_ID belongs to: screening is part of the baseline visit. Pure.

    Raises ValueError for a text that is not a PPMI visit code.
    """
    text = (event or "").strip()
    if not EVENT_CODE.fullmatch(text):
        raise ValueError(f"not a PPMI visit code (SC, BL, Vnn, Rnn, Unn, ST, PW): {event!r}")
    return BASELINE if text == SCREENING else text


def visit_id(subject: str, event: str) -> str:
    """A visit's external_id: participant and visit code, e.g. ``3001_V04``."""
    return f"{subject}_{event}"


def to_month(text: str) -> tuple[int, int]:
    """An MM/YYYY cell as (year, month). Raises ValueError when it is not one."""
    found = MONTH.fullmatch((text or "").strip())
    if found is None or not 1 <= int(found["month"]) <= 12:
        raise ValueError(f"not a PPMI date (MM/YYYY): {text!r}")
    return int(found["year"]), int(found["month"])


def to_acquisition_date(text: str) -> date:
    """The imaging list's Acq Date (M/D/YYYY) as a date. Raises ValueError otherwise."""
    try:
        return datetime.strptime((text or "").strip(), "%m/%d/%Y").date()
    except ValueError:
        raise ValueError(f"not an acquisition date (M/D/YYYY): {text!r}") from None


def months_to_days(start: tuple[int, int], end: tuple[int, int]) -> int:
    """Days from month `start` to month `end` (both (year, month)), at an average month."""
    months = (end[0] - start[0]) * 12 + end[1] - start[1]
    return round(months * DAYS_PER_MONTH)


def scan_day(baseline: tuple[int, int], acquired: date) -> int:
    """Days from the first day of the baseline month to an acquisition date."""
    return (acquired - date(baseline[0], baseline[1], 1)).days


def image_type(description: str) -> str | None:
    """The MBID image type of a series description; None when it is not one."""
    for pattern, kind in IMAGE_TYPES:
        if pattern.search(description or ""):
            return kind
    return None


def _clinical(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    """A clinical table (one row per exam) with its visit and month parsed, its rows named."""
    table = read_table(path, required=(SUBJECT, EVENT, DATE, *columns))
    return table.assign(
        visit=convert_column(table, EVENT, visit_code, path),
        month=convert_column(table, DATE, to_month, path),
        screening=[event == SCREENING for event in table[EVENT]],
        source_row=source_rows(table))


def _one_per_visit(table: pd.DataFrame, path: Path, report: LoadReport,
                   rank: Callable[[pd.Series], int] = lambda row: 0) -> pd.DataFrame:
    """The exam of each participant's visit that counts: a baseline one over a screening one,
    then the lowest `rank`. A second exam of the same rank is an error naming its row."""
    ordered = table.assign(rank=[rank(row) for _, row in table.iterrows()]).sort_values(
        [SUBJECT, "visit", "screening", "rank", "source_row"], kind="stable")
    kept = ordered.drop_duplicates([SUBJECT, "visit"])
    dropped = ordered.drop(kept.index)
    same = dropped.merge(kept, on=[SUBJECT, "visit", "screening", "rank"])
    if len(same):
        row = same.iloc[0]
        raise LoadError(f"a second exam of participant {row[SUBJECT]} at visit {row['visit']} "
                        f"(first at row {row['source_row_y']})", file=path,
                        row=int(row["source_row_x"]), column=EVENT)
    if len(dropped):
        report.note(SUPERSEDED, [f"{path.name} row {row}" for row in dropped["source_row"]],
                    count=len(dropped))
    return kept.sort_values("source_row")


def _check_subjects(table: pd.DataFrame, path: Path, known: set[str]) -> None:
    for position, subject in enumerate(table[SUBJECT]):
        if subject not in known:
            raise LoadError(f"participant {subject!r} is not in {STATUS_FILE}", file=path,
                            row=int(table["source_row"].iloc[position]), column=SUBJECT)


def visits_of(exams: list[tuple[pd.DataFrame, Path]]
              ) -> tuple[pd.DataFrame, dict[str, tuple[int, int]]]:
    """One visit per participant and visit code of the clinical exams, and each participant's
    baseline month. A visit's month is that of its non-screening exams when it has any (else
    its screening's); its day is counted from the baseline visit's month (else from the
    participant's first visit)."""
    rows = pd.concat([table[[SUBJECT, "visit", "month", "screening", "source_row"]]
                      .assign(source_file=str(path)) for table, path in exams],
                     ignore_index=True)
    first = rows.sort_values([SUBJECT, "visit", "screening", "month"],
                             kind="stable").drop_duplicates([SUBJECT, "visit"])
    baseline = {}
    for subject, group in first.groupby(SUBJECT, sort=False):
        at_baseline = group[group["visit"] == BASELINE]
        baseline[subject] = min((at_baseline if len(at_baseline) else group)["month"])
    visits = pd.DataFrame({
        "subject": first[SUBJECT].tolist(),
        "external_id": [visit_id(s, v) for s, v in zip(first[SUBJECT], first["visit"],
                                                        strict=True)],
        "days_since_baseline": [months_to_days(baseline[s], m)
                                for s, m in zip(first[SUBJECT], first["month"], strict=True)],
        "source_file": first["source_file"].tolist(),
        "source_row": first["source_row"].tolist(),
    }, dtype=object)
    return visits, baseline


def subjects_of(status: pd.DataFrame, demographics: pd.DataFrame, data_dir: Path,
                mapping: MappingFile) -> pd.DataFrame:
    """The participants of Participant_Status, with sex and handedness from Demographics and
    their enrolment cohort as condition label (mapping.yaml maps it; the engine reports a
    cohort it lacks)."""
    status_path, demo_path = data_dir / STATUS_FILE, data_dir / DEMOGRAPHICS_FILE
    try:
        codes = mapping.source("HANDEDNESS", "HANDED").values
    except KeyError as exc:  # the subject's handedness is read with the measure's codes
        raise LoadError(exc.args[0], file=mapping.path, column="measures") from None
    hand = {code: str(level) for code, level in codes.items()}
    sex = dict(zip(demographics[SUBJECT], convert_column(
        demographics, "SEX", from_table(SEX, empty="unknown"), demo_path), strict=True))
    handed = dict(zip(demographics[SUBJECT], convert_column(
        demographics, "HANDED", from_table(hand, empty="unknown"), demo_path), strict=True))
    return pd.DataFrame({
        "external_id": status[SUBJECT].tolist(),
        "sex": [sex.get(subject, "unknown") for subject in status[SUBJECT]],
        "handedness": [handed.get(subject, "unknown") for subject in status[SUBJECT]],
        "age_at_baseline": convert_column(status, "ENROLL_AGE", to_float, status_path),
        "condition": [to_text(label) for label in status["COHORT_DEFINITION"]],
        "condition_source": [{"column": "COHORT_DEFINITION"}] * len(status),
        "metadata": [{"cohort": to_value(cohort), "cohort_definition": to_text(definition),
                      "enroll_status": to_text(enrolled)}
                     for cohort, definition, enrolled in zip(
                         status["COHORT"], status["COHORT_DEFINITION"], status["ENROLL_STATUS"],
                         strict=True)],
        "source_file": str(status_path),
        "source_row": source_rows(status),
    }, dtype=object)


def updrs_symptoms(updrs: pd.DataFrame) -> dict[str, list[dict[str, object]]]:
    """{visit external_id: every MDS-UPDRS III exam of the visit (state, NP3TOT, NHY)}."""
    exams: dict[str, list[dict[str, object]]] = {}
    for row in updrs.itertuples(index=False):
        exams.setdefault(visit_id(getattr(row, SUBJECT), row.visit), []).append({
            "EVENT_ID": getattr(row, EVENT), "PDSTATE": to_text(row.PDSTATE),
            "NP3TOT": to_value(row.NP3TOT), "NHY": to_value(row.NHY)})
    return exams


def images_of(data_dir: Path, baseline: dict[str, tuple[int, int]], visits: set[str],
              known: set[str], report: LoadReport) -> pd.DataFrame:
    """The images of the imaging list found under images/ (paths relative to the dataset
    folder): each in its visit when the clinical tables hold that visit, else dated from its
    acquisition so that the engine links it to the closest earlier visit."""
    path = Path(data_dir) / IMAGING_FILE
    listing = read_table(path, required=IMAGING_COLUMNS, key="Image Data ID")
    events = convert_column(listing, "Visit", from_table(IMAGING_VISITS), path)
    acquired = convert_column(listing, "Acq Date", to_acquisition_date, path)
    rows = []
    for position, row in enumerate(listing.to_dict("records")):
        subject, image = row["Subject ID"], row["Image Data ID"]
        if subject not in known:
            raise LoadError(f"participant {subject!r} is not in {STATUS_FILE}", file=path,
                            row=source_rows(listing)[position], column="Subject ID")
        kind = image_type(row["Description"])
        if kind is None:
            report.ignore(NOT_STORED, f"{image}: {row['Description']}")
            continue
        files = sorted((Path(data_dir) / IMAGES_FOLDER / subject).glob(f"*/*/{image}/*.nii*"))
        if not files:
            report.ignore(NO_FILE, image)
            continue
        own_visit = visit_id(subject, visit_code(events[position]))
        if subject not in baseline:
            report.note(NO_BASELINE, [image])
        rows.append({
            "subject": subject,
            "path": files[0].relative_to(data_dir).as_posix(),
            "visit": own_visit if own_visit in visits else None,
            "days_since_baseline": scan_day(baseline[subject], acquired[position])
            if subject in baseline else None,
            "type": kind,
            "file_size": files[0].stat().st_size,
            "metadata": {"image_data_id": image, "description": row["Description"],
                         "modality": row["Modality"], "research_group": row["Research Group"],
                         "visit_name": row["Visit"]},
            "source_file": str(path),
            "source_row": source_rows(listing)[position],
        })
    return pd.DataFrame(rows, columns=["subject", "path", "visit", "days_since_baseline", "type",
                                       "file_size", "metadata", "source_file", "source_row"],
                        dtype=object)


def _measures(table: pd.DataFrame, path: Path, mapping: MappingFile,
              days: dict[str, int]) -> pd.DataFrame:
    """The assessments frame of the measures `mapping` takes from one clinical table."""
    visits = [visit_id(s, v) for s, v in zip(table[SUBJECT], table["visit"], strict=True)]
    return measure_rows(table, path, mapping, subjects=table[SUBJECT].tolist(), visits=visits,
                        days=[days[visit] for visit in visits],
                        rows=table["source_row"].tolist())


def read_ppmi(data_dir: Path, *, mapping: Path = MAPPING) -> DatasetFrames:
    """Read PPMI (each file once): participants and cohorts, clinical visits, the MDS-UPDRS
    III, Hoehn and Yahr and MoCA scores of each visit, and the listed images."""
    data_dir = Path(data_dir)
    dataset_mapping = read_mapping(mapping)
    report = LoadReport()
    status = read_table(data_dir / STATUS_FILE, key=SUBJECT, required=(
        SUBJECT, "COHORT", "COHORT_DEFINITION", "ENROLL_STATUS", "ENROLL_AGE"))
    known = set(status[SUBJECT])
    demographics = read_table(data_dir / DEMOGRAPHICS_FILE, key=SUBJECT,
                              required=(SUBJECT, "SEX", "HANDED"))
    demographics = demographics.assign(source_row=source_rows(demographics))
    updrs_path, moca_path = data_dir / UPDRS3_FILE, data_dir / MOCA_FILE
    updrs = _clinical(updrs_path, ("PDSTATE", "NP3TOT", "NHY"))
    convert_column(updrs, "PDSTATE", from_table({"OFF": "OFF", "ON": "ON"}, empty=""),
                   updrs_path)
    moca = _clinical(moca_path, ("MCATOT",))
    for table, path in ((demographics, data_dir / DEMOGRAPHICS_FILE), (updrs, updrs_path),
                        (moca, moca_path)):
        _check_subjects(table, path, known)
    visits, baseline = visits_of([(updrs, updrs_path), (moca, moca_path)])
    exams = updrs_symptoms(updrs)
    visits["symptoms"] = [{"mds_updrs_iii": exams[visit]} if visit in exams else None
                          for visit in visits["external_id"]]
    days = dict(zip(visits["external_id"], visits["days_since_baseline"], strict=True))
    counted_updrs = _one_per_visit(
        updrs, updrs_path, report,
        rank=lambda row: PDSTATE_RANK["" if is_missing(row["PDSTATE"]) else row["PDSTATE"]])
    counted_moca = _one_per_visit(moca, moca_path, report)
    assessments = pd.concat([
        _measures(counted_updrs, updrs_path, dataset_mapping, days),
        _measures(counted_moca, moca_path, dataset_mapping, days),
        measure_rows(demographics, data_dir / DEMOGRAPHICS_FILE, dataset_mapping,
                     subjects=demographics[SUBJECT].tolist(),
                     rows=demographics["source_row"].tolist()),
    ], ignore_index=True)
    images = images_of(data_dir, baseline, set(visits["external_id"]), known, report)
    return DatasetFrames(
        subjects=subjects_of(status, demographics, data_dir, dataset_mapping),
        visits=visits, images=images, assessments=assessments, report=report,
        mapping=dataset_mapping)
