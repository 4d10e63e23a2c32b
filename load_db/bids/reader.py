"""Read a BIDS dataset (any, named by none) into the engine's subject, visit and image frames."""
from __future__ import annotations

import logging
import math
import os
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from app.storage.trees import FileTree, LocalTree, skipped_entries
from load_db.bids.entities import (
    NIFTI_EXTENSIONS,
    SESSION_PREFIX,
    SUBJECT_PREFIX,
    BidsPath,
    is_skipped,
    is_skipped_folder,
    locate,
    parse_name,
)
from load_db.bids.mapping import (
    AGE_COLUMN_PATTERN,
    AGE_COLUMNS,
    HANDEDNESS_COLUMNS,
    SEX_COLUMNS,
    image_type,
    pick_column,
    to_handedness,
    to_sex,
)
from load_db.bids.sidecars import SidecarIndex
from load_db.bids.values import levels_of, parse_json, parse_tsv
from load_db.engine.cells import float_or_none, to_value
from load_db.engine.collector import without_cyclic_gc
from load_db.engine.errors import LoadError
from load_db.engine.frames import DatasetFrames
from load_db.engine.progress import progress_bar
from load_db.engine.report import LoadReport
from load_db.engine.tables import check_key

log = logging.getLogger(__name__)

# The external_id of the one visit of each subject in a dataset without sessions.
NO_SESSION_VISIT = "baseline"
PARTICIPANTS_TSV, PARTICIPANTS_JSON = "participants.tsv", "participants.json"
SESSIONS_TSV = "_sessions.tsv"  # sub-<label>/sub-<label>_sessions.tsv
PARTICIPANT_ID, SESSION_ID = "participant_id", "session_id"
ACQ_TIME = "acq_time"  # sessions.tsv: when the session was acquired (ISO 8601)


def _text(value: Any) -> str | None:
    """A sidecar value stored as text: a string or a number; ValueError for anything else."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"not text: {value!r}"[:200])
    return str(value).strip() or None


def _number(value: Any) -> float | None:
    """A sidecar value stored as a number: a finite number or a numeric string; else ValueError."""
    number = (float(value) if isinstance(value, int | float) and not isinstance(value, bool)
              else float_or_none(value) if isinstance(value, str) else None)
    if number is None or not math.isfinite(number):
        raise ValueError(f"not a finite number: {value!r}"[:200])
    return number


# sidecar key -> (image frame column, how its value is stored): the scanner of the image
SCANNER_FIELDS = {"Manufacturer": ("manufacturer", _text),
                  "ManufacturersModelName": ("model", _text),
                  "DeviceSerialNumber": ("serial", _text),
                  "MagneticFieldStrength": ("field_strength", _number)}
# What a subject found only as a sub-* folder gets for the participants.tsv columns it misses.
UNKNOWN_SUBJECT = {"sex": "unknown", "handedness": "unknown", "age_at_baseline": None}
IGNORED_COLUMNS = ("subject", "visit", "path", "reason")
# Walking or reading sidecars of a large tree takes a while: show progress past this many files.
PROGRESS_THRESHOLD = 20_000


@dataclass(kw_only=True)
class BidsFrames(DatasetFrames):
    """What a BIDS tree holds, in the engine's canonical frames (load_db/engine/frames.py).

    subjects: external_id (label without ``sub-``), sex, handedness, age_at_baseline (only the
        columns participants.tsv has), metadata (every other participants.tsv column), source_*.
    visits: subject, external_id (session label without ``ses-``, or NO_SESSION_VISIT),
        symptoms (the sessions.tsv row), days_since_baseline (0 without sessions; from
        sessions.tsv acq_time when it has one, else no such column), source_*.
    images: subject, visit, path (storage_prefix/relative path), type, file_size, manufacturer,
        model, serial, field_strength, metadata (merged sidecars), source_file.
    ignored: one row per NIfTI file that is not an MBID image: subject, visit, path, reason.
    report: a LoadReport whose `ignored` counts those files by reason.
    participant_rows, session_rows: the participants.tsv and sessions.tsv rows read, as the
        files wrote them ({subject, visit (sessions), cells: {column: text}, source_file,
        source_row}): where a mapping's measures come from (load_db/bids/measures.py).
    columns: participants.json, by column (Description, Levels, Units, TermURL, ...).
    """

    ignored: pd.DataFrame
    has_sessions: bool = False
    participant_rows: list[dict[str, Any]] = field(default_factory=list)
    session_rows: list[dict[str, Any]] = field(default_factory=list)
    columns: dict[str, Any] = field(default_factory=dict)


def read_bids(tree: FileTree | Path | str, *, storage_prefix: str = "",
              subjects: Collection[str] | None = None, every_subject: bool = False) -> BidsFrames:
    """Read a BIDS dataset into subject, visit and image frames. Pure: files in, frames out.

    Parameters
    ----------
    tree
        The dataset root: a folder, or any FileTree (e.g. one over object storage).
    storage_prefix
        Put before each image's path relative to the root (``prefix/relative path``); by
        default the paths stay relative to the root, as a dataset's `read` returns them.
    subjects
        Read only these subjects (labels without ``sub-``): their folders and the files
        outside any subject folder. The frames then hold the rows of these subjects only,
        the same rows as a full read gives them. By default, every subject.
    every_subject
        With `subjects`: give the subject rows of every subject all the same (participants.tsv
        and the sub-* folders), and in a tree without sessions their visits, which are made
        of the subject rows alone.

    Raises
    ------
    LoadError
        On bad input, naming the file, row and column: a participants.tsv without
        participant_id or with a repeated id, an unparsable sessions.tsv, a corrupt sidecar,
        a session folder outside any subject folder.
    """
    if isinstance(tree, str | Path):  # any other object is a tree (files, read_text)
        if not Path(tree).is_dir():
            raise LoadError("no such folder: the BIDS dataset root must be a directory", file=tree)
        tree = LocalTree(Path(tree), prune=is_skipped_folder)
    # Every step builds tens of thousands of small objects: pause the cyclic GC throughout
    # (pausing it only for the survey and the images left a fifth of the time to the GC).
    with without_cyclic_gc():
        return _read(tree, storage_prefix, subjects, every_subject)


def _read(tree: FileTree, storage_prefix: str, only: Collection[str] | None,
          every_subject: bool) -> BidsFrames:
    """read_bids, with the tree made a FileTree."""
    files = _list_raw_files(tree)
    where = _namer(tree)
    if not files:
        raise LoadError("no files found: is this the root of a BIDS dataset?", file=repr(tree))
    every_file = files
    if only is not None:
        files = {path: size for path, size in files.items() if reads_file(path, only)}
    survey = _survey(files, where)
    report = LoadReport()
    for path, reason in skipped_entries(tree).items():  # symlinks out of the root, FIFOs, ...
        report.ignore(reason, example=path)
    participants = _read_participants(tree, files, where, report)
    folder_subjects = survey.subjects
    if only is not None and every_subject:
        folder_subjects = _subject_folders(every_file)
    elif participants is not None and only is not None:
        participants.rows = [row for row in participants.rows if row["external_id"] in only]
    sessions = _read_sessions(tree, survey.sessions_tsv, where)
    # Whether visits are sessions is a property of the whole tree, not of the subjects read.
    has_sessions = bool(sessions) or survey.has_sessions or (
        only is not None and _tree_has_sessions(tree, every_file, where))
    subjects = _subjects_frame(participants, folder_subjects)
    visits = _visits_frame(sessions, survey.visits, subjects["external_id"], has_sessions, report)

    sidecars = SidecarIndex(survey.sidecars,
                            lambda path: parse_json(_text_of(tree, path, where), where(path)))
    images, ignored = _images_frames(survey.niftis, files, sidecars, storage_prefix, report)
    for reason, path in zip(ignored["reason"], ignored["path"], strict=True):
        report.ignore(reason, example=path)
    log.info("%s: %d subjects, %d visits, %d images, %d NIfTI files ignored", tree,
             len(subjects), len(visits), len(images), len(ignored))
    return BidsFrames(subjects=subjects, visits=visits, images=images, ignored=ignored,
                      report=report, has_sessions=has_sessions,
                      participant_rows=[{"subject": row["external_id"], "visit": None,
                                         "cells": row["cells"], "source_file": row["source_file"],
                                         "source_row": row["source_row"]}
                                        for row in (participants.rows if participants else [])],
                      session_rows=[{"subject": row["subject"], "visit": row["external_id"],
                                     "cells": row["cells"], "source_file": row["source_file"],
                                     "source_row": row["source_row"]} for row in sessions],
                      columns=participants.json if participants else {})


def reads_file(path: str, subjects: Collection[str]) -> bool:
    """Whether read_bids with `subjects` looks at `path`: theirs, or outside subject folders."""
    top, slash, _ = path.partition("/")
    return not (slash and top.startswith(SUBJECT_PREFIX)) or top[len(SUBJECT_PREFIX):] in subjects


def _subject_folders(paths: Iterable[str]) -> set[str]:
    """The labels of the sub-* folders holding any of `paths` (as `locate` finds them)."""
    folders = set()
    for path in paths:
        top, slash, _ = path.partition("/")
        if slash and top.startswith(SUBJECT_PREFIX):
            folders.add(top[len(SUBJECT_PREFIX):])
    return folders


def _tree_has_sessions(tree: FileTree, files: Iterable[str], where) -> bool:
    """Whether any subject of the tree has a session folder or a sessions.tsv with a row."""
    survey = _survey(files, where)
    return survey.has_sessions or bool(_read_sessions(tree, survey.sessions_tsv, where))


def _frame(rows: list[dict[str, Any]], columns: list[str] | tuple[str, ...]) -> pd.DataFrame:
    """A frame of plain Python values: None stays None (not NaN) and ints stay ints, so nothing
    numpy-typed reaches the database and missing is missing."""
    return pd.DataFrame(rows, columns=list(columns), dtype=object)


def _list_raw_files(tree: FileTree) -> dict[str, int | None]:
    """{relative path: size} of every file of the raw dataset (skipped folders left out)."""
    listing = progress_bar(tree.files(), desc="listing files", unit=" files",
                           miniters=PROGRESS_THRESHOLD)
    return {path: size for path, size in listing if not is_skipped(path)}


def _text_of(tree: FileTree, path: str, where) -> str:
    """The text of `path`; a file that cannot be read or decoded is bad input naming it."""
    try:
        return tree.read_text(path)
    except UnicodeDecodeError as exc:
        raise LoadError(f"not UTF-8 text: {exc.reason} at byte {exc.start}",
                        file=where(path)) from None
    except OSError as exc:
        raise LoadError(f"cannot be read: {exc.strerror or exc}", file=where(path)) from None


def _namer(tree: FileTree):
    """How errors name a file of the tree: its full path when on disk, else its relative path."""
    root = getattr(tree, "root", None)
    if root is None:
        return lambda path: path
    # Called for every file read (the name is passed along in case of an error): a string
    # join, since building a Path each time cost a tenth of the whole read of a large tree.
    prefix = os.path.join(str(Path(root)), "")
    return lambda path: prefix + path


@dataclass
class _Survey:
    """What one pass over the file list finds."""

    subjects: set[str] = field(default_factory=set)        # sub-* folder labels
    visits: set[tuple[str, str]] = field(default_factory=set)  # (subject, visit) with data files
    niftis: list[BidsPath] = field(default_factory=list)
    sidecars: list[BidsPath] = field(default_factory=list)
    sessions_tsv: list[BidsPath] = field(default_factory=list)
    has_sessions: bool = False


def _survey(files: Iterable[str], where) -> _Survey:
    """Sort the files of the tree in one pass; only NIfTI, JSON and sessions.tsv names are parsed.

    Raises LoadError for a session folder outside any subject folder.
    """
    survey = _Survey()
    folder = None
    for path in files:
        directory, _, name = path.rpartition("/")
        # A file's location depends on its folder alone, and a tree lists a folder's files
        # together: locate and record each folder once, not each file.
        if directory != folder:
            folder = directory
            subject, session, datatype = location = locate(path)
            if subject is None:
                top, slash, _ = path.partition("/")
                if slash and top.startswith(SESSION_PREFIX):
                    raise LoadError(f"session folder {top!r} is not inside a subject (sub-*) "
                                    "folder", file=where(path))
            else:
                survey.subjects.add(subject)
                if datatype is not None:
                    survey.visits.add((subject, NO_SESSION_VISIT if session is None else session))
                if session is not None:
                    survey.has_sessions = True
        if name.endswith(NIFTI_EXTENSIONS):
            kept = survey.niftis
        elif name.endswith(".json"):
            kept = survey.sidecars
        elif (subject is not None and session is None and datatype is None
              and name.endswith(SESSIONS_TSV)):
            kept = survey.sessions_tsv
        else:
            continue
        kept.append(BidsPath(path, *location, parse_name(name)))
    return survey


# ---------------------------------------------------------------------------- participants
@dataclass
class _Participants:
    file: str
    columns: dict[str, str | None]  # role (sex, handedness, age) -> column name
    rows: list[dict[str, Any]]
    json: dict[str, Any]  # participants.json ({} without one)


def _read_participants(tree: FileTree, files: dict, where,
                       report: LoadReport) -> _Participants | None:
    """participants.tsv as subject rows; sex and handedness read through participants.json
    `Levels`."""
    if PARTICIPANTS_TSV not in files:
        return None
    file = where(PARTICIPANTS_TSV)
    columns, rows = parse_tsv(_text_of(tree, PARTICIPANTS_TSV, where), file,
                              required=[PARTICIPANT_ID], key=PARTICIPANT_ID)
    described = (parse_json(_text_of(tree, PARTICIPANTS_JSON, where), where(PARTICIPANTS_JSON))
                 if PARTICIPANTS_JSON in files else {})
    levels = levels_of(described)
    roles = {"sex": pick_column(columns, SEX_COLUMNS),
             "handedness": pick_column(columns, HANDEDNESS_COLUMNS),
             "age_at_baseline": pick_column(columns, AGE_COLUMNS, AGE_COLUMN_PATTERN)}
    used = {PARTICIPANT_ID, *filter(None, roles.values())}
    labels = [row[PARTICIPANT_ID].removeprefix(SUBJECT_PREFIX) for _, row in rows]
    # sub-01 and 01 are the same participant
    check_key(labels, lambda position: {"file": file, "row": rows[position][0],
                                        "column": PARTICIPANT_ID}, what="participant")
    subjects = []
    for external_id, (row_number, row) in zip(labels, rows, strict=True):
        decoded = {column: levels.get(column, {}).get(value, value)
                   for column, value in row.items()}
        # metadata keeps the file's own codes (what a dataset's mapping keys on); Levels only
        # help read the columns MBID-db interprets.
        subject = {"external_id": external_id, "source_file": file, "source_row": row_number,
                   "metadata": {column: to_value(row[column]) for column in columns
                                if column not in used}, "cells": row}
        if roles["sex"]:
            subject["sex"] = to_sex(row[roles["sex"]], decoded[roles["sex"]]).value
        if roles["handedness"]:
            column = roles["handedness"]
            subject["handedness"] = to_handedness(row[column], decoded[column]).value
        if roles["age_at_baseline"]:
            column = roles["age_at_baseline"]
            subject["age_at_baseline"] = float_or_none(row[column])
            if subject["age_at_baseline"] is None and to_value(row[column]) is not None:
                report.ignore(f"{PARTICIPANTS_TSV}: age is not a number (column {column!r})",
                              example=f"row {row_number}: {row[column]!r}")
        subjects.append(subject)
    return _Participants(file, roles, subjects, described)


def _subjects_frame(participants: _Participants | None, folder_subjects: set[str]) -> pd.DataFrame:
    """participants.tsv rows, then subjects found only as sub-* folders, sorted by label."""
    if participants is None:  # nothing known but the labels: leave every other column alone
        return _frame([{"external_id": label, "source_file": None, "source_row": None}
                       for label in sorted(folder_subjects)],
                      ["external_id", "source_file", "source_row"])
    listed = {row["external_id"] for row in participants.rows}
    # Only the columns participants.tsv has: a column it lacks stays untouched in the database.
    roles = [role for role, column in participants.columns.items() if column]
    defaults = {role: UNKNOWN_SUBJECT[role] for role in roles}
    rows = participants.rows + [
        {"external_id": label, "source_file": None, "source_row": None, "metadata": {}, **defaults}
        for label in sorted(folder_subjects - listed)]
    frame = _frame(rows, ["external_id", *roles, "metadata", "source_file", "source_row"])
    return frame.sort_values("external_id", kind="stable", ignore_index=True)


# ---------------------------------------------------------------------------- sessions / visits
def _read_sessions(tree: FileTree, paths: Iterable[BidsPath], where) -> list[dict[str, Any]]:
    """Every row of every sub-*/sub-*_sessions.tsv, as visit rows."""
    visits = []
    for path in paths:
        file = where(path.path)
        _, rows = parse_tsv(_text_of(tree, path.path, where), file, required=[SESSION_ID],
                            key=SESSION_ID)
        for row_number, row in rows:
            visits.append({
                "subject": path.subject,
                "external_id": row[SESSION_ID].removeprefix(SESSION_PREFIX),
                "symptoms": {column: to_value(value) for column, value in row.items()
                             if column != SESSION_ID},
                "cells": row, "source_file": file, "source_row": row_number})
    return visits


def _visits_frame(sessions: list[dict[str, Any]], with_files: set[tuple[str, str]],
                  subjects: pd.Series, has_sessions: bool, report: LoadReport) -> pd.DataFrame:
    """Visits: sessions.tsv rows, plus every (subject, session) holding files in a datatype folder.

    Without sessions anywhere, every subject gets one visit, NO_SESSION_VISIT, at day 0.
    With sessions, days_since_baseline comes from sessions.tsv acq_time when present. Either
    way, a subject's only visit that no date places is taken to be at day 0 (`days_assumed`),
    so that participants.tsv's age is its age at scan; a subject with several undated
    sessions keeps them undated, as nothing says which came first.
    """
    if not has_sessions:
        return _frame([{"subject": subject, "external_id": NO_SESSION_VISIT,
                        "days_since_baseline": 0, "days_assumed": True, "symptoms": None,
                        "source_file": None, "source_row": None} for subject in subjects],
                      ["subject", "external_id", "days_since_baseline", "days_assumed",
                       "symptoms", "source_file", "source_row"])
    listed = {(row["subject"], row["external_id"]) for row in sessions}
    found = sorted(with_files - listed)
    rows = sessions + [{"subject": subject, "external_id": visit, "symptoms": None,
                        "source_file": None, "source_row": None} for subject, visit in found]
    columns = ["subject", "external_id", "symptoms", "source_file", "source_row"]
    frame = _frame(rows, columns)
    frame = frame.sort_values(["subject", "external_id"], kind="stable", ignore_index=True)
    return _with_lone_visits_at_day_zero(frame, _days_since_first_session(frame, report))


def _with_lone_visits_at_day_zero(visits: pd.DataFrame, days: pd.Series | None) -> pd.DataFrame:
    """`visits` with their `days` (None: no session has a date) and `days_assumed`: a subject's
    only visit that gives no date at all gets day 0, assumed (an acq_time that is not a date
    leaves the day unknown, as reported). Pure.

    The days column stays out of the frame when no visit has a day, given or assumed (days set
    by someone else are then left alone).
    """
    lone = visits.groupby("subject")["subject"].transform("size").to_numpy() == 1
    no_date = visits["symptoms"].map(lambda row: (row or {}).get(ACQ_TIME) is None).to_numpy()
    undated = no_date if days is None else no_date & days.isna().to_numpy()
    assumed = lone & undated
    if assumed.any():
        given = [None] * len(visits) if days is None else days.tolist()
        days = pd.Series([0 if fill else day for fill, day in zip(assumed, given, strict=True)],
                         index=visits.index, dtype=object)
    frame = visits.assign(days_assumed=[bool(value) for value in assumed])
    return frame if days is None else frame.assign(days_since_baseline=days)


def _days_since_first_session(visits: pd.DataFrame, report: LoadReport) -> pd.Series | None:
    """Days from each subject's first session, from the BIDS `acq_time` column of sessions.tsv.

    Calendar days between the dates (BIDS shifts dates to anonymise them, never their
    differences). None when no session has a readable acq_time, so that the column stays out
    of the frame and days set by someone else are left alone. An acq_time that is not a date
    leaves its visit's day unknown, and the report says so.
    """
    given = visits["symptoms"].map(lambda row: (row or {}).get(ACQ_TIME))
    times = pd.to_datetime(given.map(lambda value: value if isinstance(value, str) else None),
                           errors="coerce", format="ISO8601", utc=True).dt.normalize()
    unreadable = given.notna() & times.isna()
    for position in np.flatnonzero(unreadable.to_numpy()):
        report.ignore(f"sessions.tsv: {ACQ_TIME} is not an ISO 8601 date, the visit's day is "
                      "left unknown",
                      example=f"{visits['source_file'].iloc[position]}, row "
                              f"{visits['source_row'].iloc[position]}: "
                              f"{given.iloc[position]!r}")
    if not times.notna().any():
        return None
    first = times.groupby(visits["subject"]).transform("min")
    days = (times - first).dt.days
    return pd.Series([None if pd.isna(day) else int(day) for day in days], index=visits.index,
                     dtype=object)


# ---------------------------------------------------------------------------- images
def _images_frames(niftis: list[BidsPath], sizes: dict[str, int | None], sidecars: SidecarIndex,
                   storage_prefix: str, report: LoadReport) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(images, ignored): every NIfTI file is one or the other. A scanner field of a sidecar
    that is not a text or a number as expected is left out, and the report says so."""
    prefix = storage_prefix.strip("/")
    images, ignored = [], []
    for path in progress_bar(sorted(niftis, key=lambda p: p.path), desc="reading sidecars",
                             unit=" images", min_total=PROGRESS_THRESHOLD + 1):
        visit = (None if path.subject is None
                 else NO_SESSION_VISIT if path.session is None else path.session)
        kind = image_type(path.datatype, path.name.suffix, path.name.entities)
        if kind is None or path.subject is None:
            ignored.append({"subject": path.subject, "visit": visit, "path": path.path,
                            "reason": _ignored_reason(path)})
            continue
        metadata = sidecars.metadata(path)
        images.append({
            "subject": path.subject, "visit": visit,
            "path": f"{prefix}/{path.path}" if prefix else path.path,
            "type": kind.value, "file_size": sizes[path.path],
            **_scanner_of(metadata, path.path, report),
            "metadata": metadata, "source_file": path.path})
    image_columns = ["subject", "visit", "path", "type", "file_size",
                     *(column for column, _ in SCANNER_FIELDS.values()), "metadata", "source_file"]
    return _frame(images, image_columns), _frame(ignored, IGNORED_COLUMNS)


def _scanner_of(metadata: dict[str, Any], path: str, report: LoadReport) -> dict[str, Any]:
    """The scanner columns of an image from its merged sidecar; a bad value is reported."""
    scanner = {}
    for key, (column, convert) in SCANNER_FIELDS.items():
        value = metadata.get(key)
        try:
            scanner[column] = None if value is None else convert(value)
        except ValueError as exc:
            report.ignore(f"sidecar {key}: {str(exc).split(':')[0]}, left out", example=path)
            scanner[column] = None
    return scanner


def _ignored_reason(path: BidsPath) -> str:
    if path.subject is None or path.datatype is None:
        return "NIfTI file outside a subject's datatype folder"
    return f"not an MBID image type: {path.datatype}/{path.name.suffix}"

