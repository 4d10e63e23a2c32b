"""Write one dataset's canonical frames into the database: validate, map, link, upsert.

This is the single place where every dataset's subjects, visits and images meet the schema.
Adapters (BIDS, DICOM, a dataset's spreadsheets) produce frames as load_db/engine/frames.py
describes; `load_frames` then

1. checks the columns and values, naming the input file, row and column of a problem;
2. maps each dataset label of a diagnosis onto the master list (load_db/engine/labels.py: a
   label the mapping does not cover stops the load, or is kept without a condition and
   reported, as the mapping says) and records the mapping in `dataset_condition`;
3. upserts subjects, visits and scanners, then links each image to its visit: the session it
   was acquired in when that is a visit, otherwise the closest visit on or before its day
   (an as-of join per subject, never a later visit);
4. upserts images with their search columns (app/models/search.py, computed by
   load_db/engine/search.py), refreshes those of the dataset's other images when their subject,
   visit or scanner changed, and returns a report of what was inserted, updated, unchanged and
   ignored.

It never commits: the command that called it owns the transaction.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.access import audit
from app.models import (
    AuditAction,
    Condition,
    Dataset,
    DatasetCondition,
    Image,
    Scanner,
    Subject,
    Visit,
)
from app.models.image_measure import SOURCE_TABLES as IMAGE_MEASURE_SOURCES
from app.models.image_measure import refresh_image_measures
from app.models.search import refresh_image_search
from app.storage.keys import check_designation
from load_db.engine.assessments import write_assessments
from load_db.engine.errors import LoadError
from load_db.engine.frames import IMAGES, SOURCE_COLUMNS, SUBJECTS, VISITS, DatasetFrames
from load_db.engine.labels import ConditionMap, label_source, mapped_labels
from load_db.engine.linking import dataset_subjects, link_visits, visit_table
from load_db.engine.mapping import MappingFile
from load_db.engine.report import LoadReport
from load_db.engine.search import with_search_values
from load_db.engine.upsert import upsert
from load_db.engine.validation import checked, text_problem, where

SCANNER_PARTS = ("manufacturer", "model", "serial")
# Frame column -> model column, where the names differ.
STORED_AS = {"metadata": "metadata_json", "condition": "condition_id"}


def load_frames(session: Session, dataset: str, *, subjects: pd.DataFrame | None = None,
                visits: pd.DataFrame | None = None, images: pd.DataFrame | None = None,
                assessments: pd.DataFrame | None = None, mapping: MappingFile | None = None,
                map_condition: ConditionMap | None = None, register: bool = False,
                report: LoadReport | None = None, strict: bool = False) -> LoadReport:
    """Validate, map conditions, link images to visits and upsert one dataset's frames.

    Parameters
    ----------
    session
        The caller's session; nothing is committed here.
    dataset
        The dataset's designation in the seed list.
    subjects, visits, images
        Canonical frames (load_db/engine/frames.py); a frame left out is not touched, and a
        column left out of a frame is left as it is on existing rows.
    assessments
        Raw values of master measures (load_db/engine/assessments.py), harmonised by `mapping`.
    mapping
        The dataset's mapping file: maps the diagnosis labels (unless `map_condition` is given)
        and the assessments; its version is stored on the rows they give.
    map_condition
        A function from the dataset's own diagnosis label to a master condition designation
        (None: no condition; KeyError: not covered); without it or a mapping, labels must
        already be master designations.
    register
        Create the dataset when it is not in the seed list instead of stopping.
    report
        A report to add to (e.g. one holding the files the adapter ignored).
    strict
        Stop at a label the mapping does not cover even when the mapping says to report it.

    Raises
    ------
    LoadError
        On the first bad value, naming the input file, row and column.
    """
    report = report if report is not None else LoadReport()
    written_before = _search_sources_written(report)
    measure_sources_before = _measure_sources_written(report)
    dataset_id = dataset_id_for(session, dataset, register=register)
    frames = {spec.name: checked(frame, spec, report) for spec, frame in
              ((SUBJECTS, subjects), (VISITS, visits), (IMAGES, images)) if frame is not None}
    condition_ids = _map_conditions(session, dataset_id, frames, mapping, map_condition,
                                    report, strict)

    if "subjects" in frames:
        rows = _records(frames["subjects"], condition_ids, dataset_id=dataset_id)
        report.add("subject", upsert(session, Subject, rows, ["dataset_id", "external_id"],
                                     where=Subject.dataset_id == dataset_id))
    subject_ids = _subject_ids(session, dataset_id)
    if "visits" in frames:
        visit_frame = _with_subject_ids(frames["visits"], subject_ids)
        rows = _records(visit_frame, condition_ids)
        report.add("visit", upsert(session, Visit, rows, ["subject_id", "external_id"],
                                   where=Visit.subject_id.in_(dataset_subjects(dataset_id))))
    if assessments is not None:
        write_assessments(session, dataset_id, assessments, subject_ids, mapping, report)
    if "images" in frames:
        image_frame = _with_subject_ids(frames["images"], subject_ids)
        image_frame = _with_scanner_ids(session, image_frame, dataset_id, report)
        visit_rows = visit_table(session, dataset_id)
        image_frame = link_visits(image_frame, visit_rows, report)
        image_frame = with_search_values(session, image_frame, visit_rows, dataset_id)
        rows = _records(image_frame, condition_ids, dataset_id=dataset_id)
        report.add("image", upsert(session, Image, rows, ["dataset_id", "path"],
                                   where=Image.dataset_id == dataset_id))
    # The frame's images got their search values above. Others of the dataset (not in this
    # frame) copy a subject, visit or scanner this load may have changed: refreshed in SQL,
    # writing only the rows whose copies differ.
    if _search_sources_written(report) > written_before and (
            "images" not in frames or _images_of(session, dataset_id) > len(frames["images"])):
        refresh_image_search(session, dataset_id)
    # The values that count for the dataset's images (image_measure), recomputed in SQL when
    # this load wrote any row they are computed or copied from.
    if _measure_sources_written(report) > measure_sources_before:
        refresh_image_measures(session, dataset_id)
    return report


def _search_sources_written(report: LoadReport) -> int:
    """Rows of the tables the image search columns are copied from that `report` wrote."""
    return sum(report.counts(table).written for table in ("subject", "visit", "scanner"))


def _measure_sources_written(report: LoadReport) -> int:
    """Rows of the tables image_measure is computed or copied from that `report` wrote."""
    return sum(report.counts(table).written for table in IMAGE_MEASURE_SOURCES)


def _images_of(session: Session, dataset_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Image)
                          .where(Image.dataset_id == dataset_id))


def load_dataset_frames(session: Session, dataset: str, frames: DatasetFrames, *,
                        register: bool = False,
                        tables: tuple[str, ...] = ("subjects", "visits", "images",
                                                   "assessments"),
                        strict: bool = False) -> LoadReport:
    """Write what a dataset's `read` returned: its image paths get the dataset's storage prefix,
    its labels and measures the dataset's mapping, and every frame named in `tables` is
    upserted (subjects first) by `load_frames` (`strict`: a label outside the mapping stops
    it). Never commits."""
    prefix = storage_prefix_for(session, dataset, register=register)
    images = frames.images if "images" in tables else None
    if images is not None:
        images = images.assign(path=[f"{prefix}/{path}" for path in images["path"]])
    return load_frames(session, dataset,
                       subjects=frames.subjects if "subjects" in tables else None,
                       visits=frames.visits if "visits" in tables else None, images=images,
                       assessments=frames.assessments if "assessments" in tables else None,
                       mapping=frames.mapping, register=register, report=frames.report,
                       strict=strict)


def dataset_id_for(session: Session, designation: str, *, register: bool = False) -> int:
    """Return the id of the dataset `designation`, creating it only when `register` is set."""
    dataset_id = session.scalar(select(Dataset.id).where(Dataset.designation == designation))
    if dataset_id is not None:
        return dataset_id
    problem = text_problem(designation, Dataset.__table__.c.designation.type.length)
    if problem is not None:
        raise LoadError(f"dataset name {designation[:70]!r}: {problem}")
    problem = check_designation(designation)
    if problem is not None:  # the designation becomes the dataset's storage prefix
        raise LoadError(f"dataset name {designation[:70]!r}: {problem}")
    if not register:
        raise LoadError(f"unknown dataset {designation!r}: add it to "
                        "data/seed_files/datasets_list.xls and run `flask seed` "
                        "(or pass --register)")
    dataset = Dataset(designation=designation, storage_prefix=designation)
    session.add(dataset)
    # In the load's transaction: the entry exists exactly when the dataset does.
    audit.record(AuditAction.DATASET_REGISTER, audit.cli_actor(), datasets=[dataset],
                 details={"dataset": designation}, session=session)
    session.flush()
    return dataset.id


def storage_prefix_for(session: Session, designation: str, *, register: bool = False) -> str:
    """Return the key prefix of the dataset's files in object storage, without a trailing slash
    (see dataset_id_for). The one lookup the loaders use."""
    dataset_id_for(session, designation, register=register)
    return Dataset.prefix_for(session, designation).strip("/")


# --- conditions ------------------------------------------------------------------------------

def _map_conditions(session: Session, dataset_id: int, frames: dict[str, pd.DataFrame],
                    mapping: MappingFile | None, map_condition: ConditionMap | None,
                    report: LoadReport, strict: bool) -> dict[str, int]:
    """Map every diagnosis label of the frames to a condition id (load_db/engine/labels.py);
    record dataset_condition (with the version of the mapping that mapped it). A label left
    without a condition gets no id, and loses a dataset_condition an earlier mapping gave it."""
    designations = mapped_labels(frames, mapping, report, map_condition=map_condition,
                                 strict=strict)
    if not designations:
        return {}
    master = dict(session.execute(select(Condition.designation, Condition.id)).all())
    label_ids: dict[str, int] = {}
    for label, designation in designations.items():
        if designation is None:
            continue
        if designation not in master:
            raise LoadError(f"unknown diagnosis label {label!r}: maps to {designation!r}, which "
                            "is not in the master list of conditions",
                            **label_source(frames, label, mapping))
        label_ids[label] = master[designation]
    version = mapping.version if mapping is not None else None
    rows = [{"dataset_id": dataset_id, "source_label": label, "condition_id": condition_id,
             "mapping_version": version} for label, condition_id in label_ids.items()]
    if rows:
        report.add("dataset_condition", upsert(session, DatasetCondition, rows,
                                               ["dataset_id", "source_label"],
                                               where=DatasetCondition.dataset_id == dataset_id))
    without = [label for label, designation in designations.items() if designation is None]
    if without:
        session.execute(delete(DatasetCondition).where(
            DatasetCondition.dataset_id == dataset_id,
            DatasetCondition.source_label.in_(without)))
    return label_ids


# --- subjects, scanners, visits ----------------------------------------------------------------

def _subject_ids(session: Session, dataset_id: int) -> dict[str, int]:
    rows = session.execute(select(Subject.external_id, Subject.id)
                           .where(Subject.dataset_id == dataset_id))
    return dict(rows.all())


def _with_subject_ids(frame: pd.DataFrame, subject_ids: dict[str, int]) -> pd.DataFrame:
    """Replace the `subject` external id by `subject_id`; an unknown subject is an error."""
    ids = frame["subject"].map(subject_ids)
    if ids.isna().any():
        position = int(np.flatnonzero(ids.isna())[0])
        name = "visits" if "path" not in frame.columns else "images"
        raise LoadError(f"unknown subject {frame['subject'].iloc[position]!r}: load the "
                        "dataset's subjects first", **where(frame, position, "subject", name))
    return frame.assign(subject_id=ids.astype(int)).drop(columns="subject")


def _with_scanner_ids(session: Session, frame: pd.DataFrame, dataset_id: int,
                      report: LoadReport) -> pd.DataFrame:
    """Upsert the distinct scanners of the images and replace their columns by `scanner_id`."""
    present = [c for c in SCANNER_PARTS if c in frame.columns]
    if not present:
        return frame.drop(columns=["field_strength"], errors="ignore")
    parts = pd.DataFrame({c: frame[c].fillna("") if c in frame.columns else ""
                          for c in SCANNER_PARTS}, index=frame.index)
    known = (parts != "").any(axis=1)
    strength = frame["field_strength"] if "field_strength" in frame.columns else pd.Series(
        np.nan, index=frame.index)
    scanners = (parts[known].assign(field_strength=strength[known])
                .groupby(list(SCANNER_PARTS), sort=True, dropna=False)["field_strength"]
                .max().reset_index())
    rows = [{"dataset_id": dataset_id, **{c: row[c] for c in SCANNER_PARTS},
             "field_strength": (None if pd.isna(row["field_strength"])
                                else float(row["field_strength"]))}
            for row in scanners.to_dict("records")]
    report.add("scanner", upsert(session, Scanner, rows, ["dataset_id", *SCANNER_PARTS],
                                 where=Scanner.dataset_id == dataset_id))
    ids = {tuple(key): scanner_id for *key, scanner_id in session.execute(
        select(Scanner.manufacturer, Scanner.model, Scanner.serial, Scanner.id)
        .where(Scanner.dataset_id == dataset_id))}
    scanner_id = [ids.get(key) if has else None
                  for key, has in zip(parts.itertuples(index=False, name=None), known, strict=True)]
    frame = frame.drop(columns=[*present, "field_strength"], errors="ignore")
    return frame.assign(scanner_id=pd.array(scanner_id, dtype="Int64"))


# --- records ---------------------------------------------------------------------------------

def _records(frame: pd.DataFrame, condition_ids: dict[str, int], **constants: Any) -> pd.DataFrame:
    """Turn a checked frame into model rows: model column names, condition ids, constants."""
    frame = frame.drop(columns=[c for c in SOURCE_COLUMNS if c in frame.columns])
    if "condition" in frame.columns:
        # The label is kept beside its condition: `flask harmonise` re-maps it from there.
        frame = frame.assign(condition=frame["condition"].map(condition_ids).astype("Int64"),
                             condition_label=frame["condition"])
    return frame.rename(columns=STORED_AS).assign(**constants)
