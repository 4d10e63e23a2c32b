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

Loads stream by subject: `load_frames` splits its frames into chunks of whole subjects of
about `chunk_rows` rows (CHUNK_ROWS, 50,000, by default; an input this small is one chunk) and
`load_chunks` writes them one after the other, each reading back only the stored rows of its
own subjects and keys, so that memory holds one chunk, not the dataset. A reader that can walk
its input subject by subject hands `load_chunks` its chunks directly and never holds the whole
input. A larger chunk_rows means fewer statements and more memory (about 2 kB a row at peak,
for images with a small metadata document; docs/datasets.md). Steps that concern the whole
dataset (the search columns of its images outside the input, image_measure) run once at the
end, in SQL. Each chunk's step is logged (DEBUG) and a progress bar counts the chunks on a
terminal.

It never commits: the command that called it owns the transaction (one transaction for all
chunks: a load that fails or is killed in a late chunk leaves nothing of the early ones).
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import OperationalError
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
from load_db.engine.chunks import CHUNK_ROWS, Chunk, SeenKeys, subject_chunks
from load_db.engine.errors import LoadError
from load_db.engine.frames import IMAGES, SOURCE_COLUMNS, SUBJECTS, VISITS, DatasetFrames
from load_db.engine.labels import ConditionMap, label_source, mapped_labels
from load_db.engine.linking import dataset_subjects, link_visits, visit_table
from load_db.engine.mapping import MappingFile
from load_db.engine.progress import progress_bar
from load_db.engine.report import LoadReport
from load_db.engine.search import with_search_values
from load_db.engine.upsert import rows_in, upsert
from load_db.engine.validation import checked, text_problem, where

log = logging.getLogger(__name__)

# The tables a load writes chunk by chunk (and reads back by key), and how many rows it inserts
# into one before it refreshes the table's statistics (see _refresh_statistics).
STREAMED_TABLES = ("subject", "visit", "image", "assessment")
ANALYZE_ROWS = 20_000
ANALYZE_WAIT_MS = 50
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE of a lock_timeout
SCANNER_PARTS = ("manufacturer", "model", "serial")
# Frame column -> model column, where the names differ.
STORED_AS = {"metadata": "metadata_json", "condition": "condition_id"}


def load_frames(session: Session, dataset: str, *, subjects: pd.DataFrame | None = None,
                visits: pd.DataFrame | None = None, images: pd.DataFrame | None = None,
                assessments: pd.DataFrame | None = None, mapping: MappingFile | None = None,
                map_condition: ConditionMap | None = None, register: bool = False,
                report: LoadReport | None = None, strict: bool = False,
                chunk_rows: int = CHUNK_ROWS) -> LoadReport:
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
    chunk_rows
        The frames are written in chunks of whole subjects of about this many rows
        (load_db/engine/chunks.py: `load_chunks`); an input this small is one chunk.

    Raises
    ------
    LoadError
        On the first bad value, naming the input file, row and column.
    """
    whole = Chunk(subjects=subjects, visits=visits, images=images, assessments=assessments)
    return load_chunks(session, dataset, subject_chunks(whole, chunk_rows), mapping=mapping,
                       map_condition=map_condition, register=register, report=report,
                       strict=strict)


def load_chunks(session: Session, dataset: str, chunks: Iterable[Chunk], *,
                mapping: MappingFile | None = None, map_condition: ConditionMap | None = None,
                register: bool = False, report: LoadReport | None = None,
                strict: bool = False) -> LoadReport:
    """Load a dataset's input given as chunks of whole subjects (load_db/engine/chunks.py), one
    after the other, in the caller's transaction: memory holds one chunk at a time.

    Each chunk is checked, mapped and written as `load_frames` describes, reading only the
    stored rows of its own subjects and keys; a key an earlier chunk had is an error. The
    report adds up the chunks'. The steps that concern the whole dataset (the search columns of
    its images outside the input, image_measure) run once, in SQL, after the last chunk. The
    other arguments are those of `load_frames`.
    """
    report = report if report is not None else LoadReport()
    written_before = _search_sources_written(report)
    measure_sources_before = _measure_sources_written(report)
    dataset_id = dataset_id_for(session, dataset, register=register)
    state = _LoadState(mapping=mapping, map_condition=map_condition, strict=strict,
                       stored=_tables_with_rows(session, dataset_id))
    _refresh_statistics(session, state, report, start=True)
    with progress_bar(chunks, desc=f"loading {dataset}", unit=" chunks") as bar:
        for number, chunk in enumerate(bar, 1):
            _load_chunk(session, dataset_id, chunk, state, report)
            _refresh_statistics(session, state, report)
            log.debug("%s: chunk %d written (%d rows; %d images so far)", dataset, number,
                      chunk.rows(), state.images or 0)
    if state.scanners:
        _write_scanners(session, dataset_id, state, report)
    # Each chunk's images got their search values. Others of the dataset (not in the input)
    # copy a subject, visit or scanner this load may have changed, and so do images of early
    # chunks whose scanner got its final field strength at the end: refreshed in SQL, writing
    # only the rows whose copies differ.
    if state.scanner_changed or _search_sources_written(report) > written_before and (
            state.images is None or _images_of(session, dataset_id) > state.images):
        refresh_image_search(session, dataset_id)
    # The values that count for the dataset's images (image_measure), recomputed in SQL when
    # this load wrote any row they are computed or copied from.
    if _measure_sources_written(report) > measure_sources_before:
        refresh_image_measures(session, dataset_id)
    return report


@dataclass
class _LoadState:
    """What a load carries from one chunk to the next: how to map labels, the labels and
    scanners it has written (each counted once), the keys it has seen, its images."""

    mapping: MappingFile | None
    map_condition: ConditionMap | None
    strict: bool
    # The tables that held rows of the dataset when the load began: a chunk's rows of another
    # table are all new (its keys are checked against earlier chunks'), nothing is read back.
    stored: set[str]
    labels: dict[str, int | None] = field(default_factory=dict)
    # Scanners: the highest field strength so far (None: none given), and the strength those
    # this load inserted were inserted with.
    scanners: dict[tuple[str, str, str], float | None] = field(default_factory=dict)
    new_scanners: dict[tuple[str, str, str], float | None] = field(default_factory=dict)
    seen: SeenKeys = field(default_factory=SeenKeys)
    images: int | None = None
    # A later chunk changed a scanner that images of an earlier one copy (search columns).
    scanner_changed: bool = False
    # Rows inserted into each table when this load last refreshed its statistics.
    analyzed: dict[str, int] = field(default_factory=dict)


def _tables_with_rows(session: Session, dataset_id: int) -> set[str]:
    """Which of subject, visit and image hold rows of the dataset."""
    found = session.execute(select(
        select(Subject.id).where(Subject.dataset_id == dataset_id).exists(),
        select(Visit.id).where(Visit.subject_id.in_(dataset_subjects(dataset_id))).exists(),
        select(Image.id).where(Image.dataset_id == dataset_id).exists())).one()
    return {table for table, held in zip(("subject", "visit", "image"), found, strict=True)
            if held}


def _refresh_statistics(session: Session, state: _LoadState, report: LoadReport, *,
                        start: bool = False) -> None:
    """PostgreSQL: ANALYZE a table this load has grown by half since it last did (from
    ANALYZE_ROWS inserted rows on), inside the transaction, whose own rows ANALYZE counts;
    at the `start`, a table never analyzed (filled by a load that did not go through run_load,
    before autovacuum came by).

    Each chunk reads its stored rows by key (IN lists). Without statistics of a column, the
    planner takes every value of an IN list to match 1/200 of the table, so a list of a few
    hundred values "matches" the whole table: a scan of all of it, per chunk, which grows with
    the load. With them, each value matches one row: an index scan.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    if start:
        # reltuples is -1 until a table's first ANALYZE (PostgreSQL 14 on).
        never = session.execute(text("SELECT relname FROM pg_class WHERE reltuples < 0 AND "
                                     "relkind = 'r' AND relname = ANY(:tables)"),
                                {"tables": list(STREAMED_TABLES)}).scalars().all()
        for table in never:
            _analyze_unless_busy(session, table)
        return
    for table in STREAMED_TABLES:
        inserted = report.counts(table).inserted
        if inserted >= ANALYZE_ROWS and inserted >= 1.5 * state.analyzed.get(table, 0):
            _analyze_unless_busy(session, table)
            state.analyzed[table] = inserted


def _analyze_unless_busy(session: Session, table: str) -> None:
    """ANALYZE `table` in the load's transaction, unless another transaction holds its
    ANALYZE lock (a load of another dataset that analyzed it, until that load ends): then this
    load goes on with the statistics there are, rather than wait."""
    try:
        with session.begin_nested():
            session.execute(text(f"SET LOCAL lock_timeout = '{ANALYZE_WAIT_MS}ms'"))
            session.execute(text(f'ANALYZE "{table}"'))
            session.execute(text("SET LOCAL lock_timeout = DEFAULT"))
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        log.debug("%s: statistics not refreshed, another load holds the table", table)


def _load_chunk(session: Session, dataset_id: int, chunk: Chunk, state: _LoadState,
                report: LoadReport) -> None:
    """Check, map and write one chunk's frames (subjects first)."""
    frames = {spec.name: checked(frame, spec, report) for spec, frame in
              ((SUBJECTS, chunk.subjects), (VISITS, chunk.visits), (IMAGES, chunk.images))
              if frame is not None}
    for name, frame in frames.items():
        state.seen.check_and_add(name, frame)
    condition_ids = _map_conditions(session, dataset_id, frames, state, report)

    if "subjects" in frames:
        rows = _records(frames["subjects"], condition_ids, dataset_id=dataset_id)
        report.add("subject", upsert(session, Subject, rows, ["dataset_id", "external_id"],
                                     where=Subject.dataset_id == dataset_id, keyed=True,
                                     nothing_stored="subject" not in state.stored))
    subject_ids = _subject_ids(session, dataset_id, _subjects_named(frames, chunk.assessments))
    if "visits" in frames:
        visit_frame = _with_subject_ids(frames["visits"], subject_ids)
        rows = _records(visit_frame, condition_ids)
        report.add("visit", upsert(session, Visit, rows, ["subject_id", "external_id"],
                                   where=Visit.subject_id.in_(dataset_subjects(dataset_id)),
                                   keyed=True, nothing_stored="visit" not in state.stored))
    if chunk.assessments is not None:
        write_assessments(session, dataset_id, chunk.assessments, subject_ids, state.mapping,
                          report)
    if "images" in frames:
        state.images = (state.images or 0) + len(frames["images"])
        image_frame = _with_subject_ids(frames["images"], subject_ids)
        image_frame = _with_scanner_ids(session, image_frame, dataset_id, state, report)
        ids = sorted(set(image_frame["subject_id"].tolist()))
        visit_rows = visit_table(session, dataset_id, ids)
        image_frame = link_visits(image_frame, visit_rows, report)
        image_frame = with_search_values(session, image_frame, visit_rows, dataset_id, ids)
        rows = _records(image_frame, condition_ids, dataset_id=dataset_id)
        report.add("image", upsert(session, Image, rows, ["dataset_id", "path"],
                                   where=Image.dataset_id == dataset_id, keyed=True,
                                   nothing_stored="image" not in state.stored))


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
                    state: _LoadState, report: LoadReport) -> dict[str, int]:
    """Map every diagnosis label of the frames to a condition id (load_db/engine/labels.py);
    record dataset_condition (with the version of the mapping that mapped it) for the labels
    no earlier chunk had. A label left without a condition gets no id, and loses a
    dataset_condition an earlier mapping gave it."""
    mapping = state.mapping
    designations = mapped_labels(frames, mapping, report, map_condition=state.map_condition,
                                 strict=state.strict)
    new = {label: designation for label, designation in designations.items()
           if label not in state.labels}
    if new:
        master = dict(session.execute(select(Condition.designation, Condition.id)).all())
        for label, designation in new.items():
            if designation is not None and designation not in master:
                raise LoadError(f"unknown diagnosis label {label!r}: maps to {designation!r}, "
                                "which is not in the master list of conditions",
                                **label_source(frames, label, mapping))
            state.labels[label] = master[designation] if designation is not None else None
        version = mapping.version if mapping is not None else None
        rows = [{"dataset_id": dataset_id, "source_label": label,
                 "condition_id": state.labels[label], "mapping_version": version}
                for label in new if state.labels[label] is not None]
        if rows:
            report.add("dataset_condition", upsert(
                session, DatasetCondition, rows, ["dataset_id", "source_label"],
                where=DatasetCondition.dataset_id == dataset_id))
        without = [label for label, designation in new.items() if designation is None]
        if without:
            session.execute(delete(DatasetCondition).where(
                DatasetCondition.dataset_id == dataset_id,
                DatasetCondition.source_label.in_(without)))
    return {label: state.labels[label] for label in designations
            if state.labels[label] is not None}


# --- subjects, scanners, visits ----------------------------------------------------------------

def _subjects_named(frames: dict[str, pd.DataFrame],
                    assessments: pd.DataFrame | None) -> list[str]:
    """The external ids of every subject a chunk's frames name."""
    named = [frames["subjects"]["external_id"]] if "subjects" in frames else []
    named += [frame["subject"] for name, frame in frames.items() if name != "subjects"]
    if assessments is not None and "subject" in assessments.columns:
        named.append(assessments["subject"])
    return sorted({value for series in named for value in series.tolist()
                   if isinstance(value, str)})


def _subject_ids(session: Session, dataset_id: int, names: list[str]) -> dict[str, int]:
    """{external id: id} of the dataset's stored subjects among `names`."""
    query = select(Subject.external_id, Subject.id).where(Subject.dataset_id == dataset_id)
    return dict(rows_in(session, query, Subject.external_id, names))


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
                      state: _LoadState, report: LoadReport) -> pd.DataFrame:
    """Insert the images' scanners the dataset lacks and replace their columns by
    `scanner_id`.

    A scanner's field strength is the highest its images give, which only the last chunk
    knows: a new scanner is inserted with the highest so far, and `_write_scanners` writes
    every scanner's final value at the end of the load (so that a re-load writes nothing)."""
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
    stored = {tuple(row) for row in session.execute(
        select(Scanner.manufacturer, Scanner.model, Scanner.serial)
        .where(Scanner.dataset_id == dataset_id))}
    rows = []
    for row in scanners.to_dict("records"):
        key = tuple(row[c] for c in SCANNER_PARTS)
        strengths = [value for value in (row["field_strength"], state.scanners.get(key))
                     if value is not None and not pd.isna(value)]
        state.scanners[key] = float(max(strengths)) if strengths else None
        if key not in stored:
            state.new_scanners[key] = state.scanners[key]
            rows.append({"dataset_id": dataset_id, **dict(zip(SCANNER_PARTS, key, strict=True)),
                         "field_strength": state.scanners[key]})
    report.add("scanner", upsert(session, Scanner, rows, ["dataset_id", *SCANNER_PARTS],
                                 where=Scanner.dataset_id == dataset_id))
    ids = {tuple(key): scanner_id for *key, scanner_id in session.execute(
        select(Scanner.manufacturer, Scanner.model, Scanner.serial, Scanner.id)
        .where(Scanner.dataset_id == dataset_id))}
    scanner_id = [ids.get(key) if has else None
                  for key, has in zip(parts.itertuples(index=False, name=None), known, strict=True)]
    frame = frame.drop(columns=[*present, "field_strength"], errors="ignore")
    return frame.assign(scanner_id=pd.array(scanner_id, dtype="Int64"))


def _write_scanners(session: Session, dataset_id: int, state: _LoadState,
                    report: LoadReport) -> None:
    """Give every scanner of the load the highest field strength of its images: those stored
    before counted as updated or unchanged, those this load inserted (counted then) rewritten
    only when a later chunk raised it. When any changed, images copy it: `state` says so."""
    for inserted in (False, True):
        rows = [{"dataset_id": dataset_id, **dict(zip(SCANNER_PARTS, key, strict=True)),
                 "field_strength": strength} for key, strength in state.scanners.items()
                if (key in state.new_scanners) == inserted
                and not (inserted and state.new_scanners[key] == strength)]
        counts = upsert(session, Scanner, rows, ["dataset_id", *SCANNER_PARTS],
                        where=Scanner.dataset_id == dataset_id)
        if not inserted:
            report.add("scanner", counts)
        state.scanner_changed |= counts.written > 0


# --- records ---------------------------------------------------------------------------------

def _records(frame: pd.DataFrame, condition_ids: dict[str, int], **constants: Any) -> pd.DataFrame:
    """Turn a checked frame into model rows: model column names, condition ids, constants."""
    frame = frame.drop(columns=[c for c in SOURCE_COLUMNS if c in frame.columns])
    if "condition" in frame.columns:
        # The label is kept beside its condition: `flask harmonise` re-maps it from there.
        frame = frame.assign(condition=frame["condition"].map(condition_ids).astype("Int64"),
                             condition_label=frame["condition"])
    return frame.rename(columns=STORED_AS).assign(**constants)
