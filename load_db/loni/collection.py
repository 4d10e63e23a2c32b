"""The LONI Image and Data Archive's image collections, as ADNI and AIBL download them: the
reader, and the layout's names and dates that the example writers use too.

A collection comes as one CSV listing its images (Image Data ID, Subject, Group, Sex, Age,
Visit, Modality, Description, Type, Acq Date, Format) and a tree of image files,
``<project>/<Subject>/<Description>/<acquisition time>/I<Image Data ID>/<file>.nii(.gz)``
(the datasets keep it as images/<Subject>/...): the folder named after the image id ties a
file to its row, wherever it is under the dataset folder. AIBL reads its collection with
these functions too.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path, PurePosixPath

import pandas as pd

from load_db.engine import LoadError, LoadReport, read_table
from load_db.engine.cells import convert_column, source_rows, to_text

COLLECTION_COLUMNS = ("Image Data ID", "Subject", "Group", "Sex", "Age", "Visit", "Modality",
                      "Description", "Type", "Acq Date", "Format")
IMAGE_ID_COLUMN, DATE_COLUMN, VISIT_COLUMN = "Image Data ID", "Acq Date", "Visit"
# The IDA writes dates as month/day/year without leading zeros (9/15/2005).
LONI_DATE = "%m/%d/%Y"
IMAGE_FOLDER = re.compile(r"I\d+")  # the Image Data ID, I40001
NIFTI_SUFFIXES = (".nii", ".nii.gz")
# Series descriptions onto stored image types, first match wins: MPRAGE / IR-SPGR are the
# studies' T1-weighted sequences, DTI their diffusion series, "Resting State fMRI" their
# resting BOLD. Anything else (FLAIR, T2, localisers, field maps) is not stored.
# The IDA joins words with spaces or underscores (MPRAGE_ADNI_confirmed): no word boundaries.
IMAGE_TYPES = (
    (re.compile(r"(?i)MP-?RAGE|IR-?F?SPGR"), "T1"),
    (re.compile(r"(?i)DTI|diffusion"), "DWI"),
    (re.compile(r"(?i)resting|rs-?fMRI"), "rsfMRI"),
)
# The visit codes of ADNI-style clinical tables (ADNIMERGE, AIBL's): bl, then months since
# baseline (m06, m18, ..., m120).
VISCODE = re.compile(r"bl|m\d{2,3}")
NOT_STORED = "not an MBID image type"
NOT_DOWNLOADED = "image of the collection CSV with no file in the download"
NOT_LISTED = "image file not listed in the collection CSV"


def parse_loni_date(text: str) -> date | None:
    """An IDA date (``9/15/2005``) as a date; None when blank; ValueError when not a date."""
    text = to_text(text)
    if text is None:
        return None
    try:
        return datetime.strptime(text, LONI_DATE).date()
    except ValueError:
        raise ValueError(f"not a date (month/day/year): {text!r}") from None


def visit_code(text: str) -> str:
    """An ADNI-style VISCODE (bl, m06, m18, ...), stripped; ValueError otherwise (pure)."""
    text = (text or "").strip()
    if VISCODE.fullmatch(text) is None:
        raise ValueError(f"not a visit code (bl, m06, m12, ...): {text!r}")
    return text


def image_type(description: str | None) -> str | None:
    """The stored image type a series description names, None when none (pure)."""
    for pattern, kind in IMAGE_TYPES:
        if description and pattern.search(description):
            return kind
    return None


def image_files(root: Path) -> dict[str, PurePosixPath]:
    """{Image Data ID: NIfTI file relative to root} of every image folder ``I<id>`` under root."""
    found = {}
    for file in sorted(root.rglob("*")):
        if not file.is_file() or not file.name.endswith(NIFTI_SUFFIXES):
            continue
        if IMAGE_FOLDER.fullmatch(file.parent.name):
            found[file.parent.name] = PurePosixPath(file.relative_to(root).as_posix())
    return found


def read_collection(path: Path, root: Path, visit_code: Callable[[str], str | None],
                    report: LoadReport) -> pd.DataFrame:
    """Read a collection CSV and find its files under `root` (the dataset folder).

    `visit_code` turns a Visit cell into the study's visit code (None: a visit the clinical
    tables do not name; ValueError when it is no visit). Returns one row per stored image
    with a file: subject, visit_code, acq_date, path (relative to root), type, file_size,
    metadata, source_file, source_row. Images of another type, rows without a file and files
    without a row are reported.

    Raises
    ------
    LoadError
        A missing column, a repeated Image Data ID, a bad date or visit, naming the cell.
    """
    table = read_table(path, required=COLLECTION_COLUMNS, key=IMAGE_ID_COLUMN)
    dates = convert_column(table, DATE_COLUMN, parse_loni_date, path)
    codes = convert_column(table, VISIT_COLUMN, visit_code, path)
    files = image_files(root)
    listed = set(table[IMAGE_ID_COLUMN])
    for image_id, file in files.items():
        if image_id not in listed:
            report.ignore(NOT_LISTED, str(file))
    rows = []
    for position, row in enumerate(table.to_dict("records")):
        image_id, description = row[IMAGE_ID_COLUMN], row["Description"]
        kind = image_type(description)
        if kind is None:
            report.ignore(f"{NOT_STORED}: {description}", image_id)
            continue
        if image_id not in files:
            report.ignore(NOT_DOWNLOADED, image_id)
            continue
        if dates[position] is None:
            raise LoadError("no acquisition date", file=path, row=source_rows(table)[position],
                            column=DATE_COLUMN)
        rows.append({
            "subject": row["Subject"], "visit_code": codes[position],
            "acq_date": dates[position], "path": str(files[image_id]), "type": kind,
            "file_size": (root / files[image_id]).stat().st_size,
            "metadata": {"image_data_id": image_id, "description": description,
                         "modality": row["Modality"], "image_type": row["Type"],
                         "format": row["Format"]},
            "source_file": str(path), "source_row": source_rows(table)[position]})
    return pd.DataFrame(rows, columns=["subject", "visit_code", "acq_date", "path", "type",
                                       "file_size", "metadata", "source_file", "source_row"],
                        dtype=object)


def in_visits(images: pd.DataFrame, visits: pd.DataFrame, baseline: dict[str, date],
              visit_id: Callable[[str, str], str], report: LoadReport,
              clinical_file: str) -> pd.DataFrame:
    """The images of read_collection in their visits: each goes to the visit
    visit_id(subject, visit code) names, its own day being its Acq Date minus the subject's
    `baseline` date. An image whose visit the clinical data lacks gets only its day (the
    engine links it to the closest earlier visit), noted; one of an unknown subject is left
    out, reported."""
    known = set(visits["external_id"])
    kept, links, days = [], [], []
    for position, (subject, code, acquired, path) in enumerate(zip(
            images["subject"], images["visit_code"], images["acq_date"], images["path"],
            strict=True)):
        if subject not in baseline:
            report.ignore(f"image of a subject not in {clinical_file}", path)
            continue
        link = None if code is None else visit_id(subject, code)
        if link not in known:
            report.note(f"image visit not in {clinical_file}: linked by its day", [path])
            link = None
        kept.append(position)
        links.append(link)
        days.append((acquired - baseline[subject]).days)
    frame = images.iloc[kept].drop(columns=["visit_code", "acq_date"]).reset_index(drop=True)
    return frame.assign(visit=pd.Series(links, dtype=object),
                        days_since_baseline=pd.Series(days, dtype=object))


def loni_date(day: date) -> str:
    """A date as the IDA writes it: month/day/year without leading zeros."""
    return f"{day.month}/{day.day}/{day.year}"


def image_path(project: str, subject: str, description: str, acquired: date,
               image_id: str) -> str:
    """An image's NIfTI file in the IDA download layout (its top folder, the project's
    name, renamed images/), relative to the dataset folder."""
    folder = description.replace(" ", "_").replace("/", "_").replace("(", "_").replace(")", "_")
    series = int(image_id[1:]) - 7000
    return (f"images/{subject}/{folder}/{acquired.isoformat()}_10_15_00.0/{image_id}/"
            f"{project}_{subject}_MR_{folder}_br_raw_{acquired:%Y%m%d}101500_S{series}_"
            f"{image_id}.nii.gz")
