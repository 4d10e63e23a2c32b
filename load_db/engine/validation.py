"""Check a dataset's canonical frames before anything is written: columns, types, allowed values,
limits and keys, each problem named by the input file, row and column it came from.

Limits are checked here, the same way for SQLite and PostgreSQL, so that a value one database
would store and the other refuse is bad input on both: text longer than its column (lengths
read from the models), NUL characters, non-finite numbers, ages and days out of range. JSON
documents (metadata, symptoms) are cleaned instead, with a report line: NaN and Infinity become
null, NUL characters are removed, and a document over MAX_JSON_BYTES loses its largest fields.
"""
from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Column, String

from app.models import (
    DatasetCondition,
    Handedness,
    Image,
    ImageType,
    Race,
    Scanner,
    Sex,
    Subject,
    Visit,
)
from load_db.engine.cells import is_missing
from load_db.engine.documents import EncodedDocument
from load_db.engine.errors import LoadError
from load_db.engine.frames import SOURCE_COLUMNS, FrameSpec
from load_db.engine.report import LoadReport
from load_db.engine.tables import check_key

ALLOWED_VALUES = {
    "sex": {member.value for member in Sex},
    "handedness": {member.value for member in Handedness},
    "race": {member.value for member in Race},
    "type": {member.value for member in ImageType},
}
# An unknown value of an enumerated subject column is stored as the enum's "unknown" member.
WHEN_UNKNOWN = {"sex": Sex.UNKNOWN.value, "handedness": Handedness.UNKNOWN.value,
                "race": Race.UNDEFINED.value}
# Optional in a frame, but a row that has the column must give a value.
NOT_EMPTY = {"type"}
NUMERIC_COLUMNS = {"education_years": float, "age_at_baseline": float, "bmi": float,
                   "days_since_baseline": int, "file_size": int, "field_strength": float}
TEXT_COLUMNS = {"external_id", "subject", "path", "visit", "checksum", "manufacturer", "model",
                "serial", "condition"}
JSON_COLUMNS = {"metadata", "symptoms"}
# Inclusive ranges of plausible values: years of age, and days within a century of baseline.
RANGES = {"age_at_baseline": (0, 150), "days_since_baseline": (-36525, 36525)}
# A JSON document larger than this (as stored) loses its largest fields, with a report line.
MAX_JSON_BYTES = 64 * 1024

# Where each frame's columns are stored: the frame's own table, except these.
TABLE_OF_FRAME = {"subjects": Subject, "visits": Visit, "images": Image}
STORED_ELSEWHERE = {
    "subject": Subject.__table__.c.external_id,
    "visit": Visit.__table__.c.external_id,
    "manufacturer": Scanner.__table__.c.manufacturer,
    "model": Scanner.__table__.c.model,
    "serial": Scanner.__table__.c.serial,
    "condition": DatasetCondition.__table__.c.source_label,
}

NAN_TO_NULL = "{column}: NaN or Infinity in a JSON value, stored as null"
NUL_REMOVED = "{column}: NUL characters removed from a JSON value"
JSON_CAPPED = ("{column}: document over {limit} KiB, its largest fields left out "
               "(MAX_JSON_BYTES)")


def text_limit(frame_name: str, column: str) -> int | None:
    """The length of the String(n) column a frame's text column is stored in (None: no limit)."""
    target: Column | None = STORED_ELSEWHERE.get(column)
    if target is None:
        table = TABLE_OF_FRAME[frame_name].__table__
        target = table.c.get(column)
    if target is not None and isinstance(target.type, String):
        return target.type.length
    return None


def text_problem(text: str, limit: int | None) -> str | None:
    """What is wrong with a text value for a String(limit) column (None: nothing)."""
    if "\0" in text:
        return "NUL character (\\0) in the text"
    if limit is not None and len(text) > limit:
        return f"{len(text)} characters, more than the {limit} the column holds"
    return None


def row_text_problem(frame_name: str, row: dict[str, Any]) -> tuple[str, str] | None:
    """The first (column, problem) among the text values of one row of frame `frame_name`
    (None: all storable). For readers that leave one bad record out (a DICOM series, say)
    rather than let `checked` refuse the whole load for it."""
    for column, value in row.items():
        if column in TEXT_COLUMNS and isinstance(value, str):
            problem = text_problem(value.strip(), text_limit(frame_name, column))
            if problem is not None:
                return column, problem
    return None


def without_nul(value: Any) -> tuple[Any, bool]:
    """`value` (text, or lists and dicts of text) without NUL characters, and whether any was
    removed: SQLite stores a NUL, PostgreSQL refuses it in text and JSON, so it goes before
    either sees it."""
    if isinstance(value, str):
        return (value.replace("\0", ""), True) if "\0" in value else (value, False)
    if isinstance(value, list | tuple):
        items = [without_nul(item) for item in value]
        return type(value)(item for item, _ in items), any(changed for _, changed in items)
    if isinstance(value, dict):
        pairs = {key: without_nul(item) for key, item in value.items()}
        return ({key: item for key, (item, _) in pairs.items()},
                any(changed for _, changed in pairs.values()))
    return value, False


def where(frame: pd.DataFrame, position: int, column: str, frame_name: str) -> dict[str, Any]:
    """The file, row and column to name for a problem in row `position` of `frame`."""
    row = frame.iloc[position]
    if "source_file" in frame.columns and pd.notna(row["source_file"]):
        source_row = row.get("source_row")
        return {"file": row["source_file"],
                "row": int(source_row) if pd.notna(source_row) else None, "column": column}
    return {"file": f"{frame_name} table", "row": position + 1, "column": column}


def checked(frame: pd.DataFrame, spec: FrameSpec, report: LoadReport) -> pd.DataFrame:
    """Return a copy of `frame` with clean types and clean JSON (what was cleaned goes to
    `report`), or raise LoadError at its first bad value."""
    unknown = [c for c in frame.columns if c not in spec.columns and c not in SOURCE_COLUMNS]
    if unknown:
        raise LoadError(f"unexpected column in the {spec.name} table (allowed: "
                        f"{', '.join(spec.columns)})", column=unknown[0])
    missing = [c for c in spec.key if c not in frame.columns]
    if missing:
        raise LoadError(f"the {spec.name} table lacks a required column", column=missing[0])
    frame = frame.reset_index(drop=True).copy()

    for column in frame.columns:
        if column in TEXT_COLUMNS:
            _check_scalars(frame, column, spec.name)
            frame[column] = _text(frame[column])
            _check_texts(frame, column, spec.name)
        elif column in NUMERIC_COLUMNS:
            frame[column] = _numbers(frame, column, spec.name)
        elif column in JSON_COLUMNS:
            frame[column] = _clean_documents(frame, column, report)
        if column in ALLOWED_VALUES:
            bad = frame[column].notna() & ~frame[column].isin(ALLOWED_VALUES[column])
            if bad.any():
                position = int(np.flatnonzero(bad)[0])
                raise LoadError(f"{frame[column].iloc[position]!r} is not one of "
                                f"{', '.join(sorted(ALLOWED_VALUES[column]))}",
                                **where(frame, position, column, spec.name))
        if column in WHEN_UNKNOWN:
            frame[column] = frame[column].fillna(WHEN_UNKNOWN[column])
    for column in [*spec.key, *(c for c in NOT_EMPTY if c in frame.columns)]:
        empty = frame[column].isna()
        if empty.any():
            position = int(np.flatnonzero(empty)[0])
            raise LoadError("empty value", **where(frame, position, column, spec.name))
    check_key(frame[list(spec.key)],
              lambda position: where(frame, position, spec.key[-1], spec.name),
              what=spec.name[:-1])
    return frame


def _text(values: pd.Series) -> pd.Series:
    """Strip strings; blank becomes None."""
    stripped = values.astype("string").str.strip()
    return stripped.where(stripped.notna() & (stripped != ""), None).astype(object)


def _numbers(frame: pd.DataFrame, column: str, frame_name: str) -> pd.Series:
    """Parse a numeric column; a value that is present but not a number is an error."""
    raw = frame[column]
    blank = raw.isna() | raw.map(lambda value: isinstance(value, str) and is_missing(value))
    parsed = pd.to_numeric(raw.where(~blank), errors="coerce")
    bad = parsed.isna() & ~blank
    if NUMERIC_COLUMNS[column] is int:
        bad |= parsed.notna() & (parsed % 1 != 0)
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        kind = "a whole number" if NUMERIC_COLUMNS[column] is int else "a number"
        raise LoadError(f"{raw.iloc[position]!r} is not {kind}",
                        **where(frame, position, column, frame_name))
    low, high = RANGES.get(column, (-math.inf, math.inf))
    outside = parsed.notna() & ~((parsed >= low) & (parsed <= high))
    if outside.any():
        position = int(np.flatnonzero(outside)[0])
        problem = (f"{raw.iloc[position]!r} is not a finite number"
                   if not math.isfinite(parsed.iloc[position])
                   else f"{raw.iloc[position]!r} is outside {low}..{high}")
        raise LoadError(problem, **where(frame, position, column, frame_name))
    if NUMERIC_COLUMNS[column] is int:
        return parsed.astype("Int64")
    return parsed.astype(float)


def _check_scalars(frame: pd.DataFrame, column: str, frame_name: str) -> None:
    """LoadError at the first value of a text column that is a JSON object or list."""
    nested = frame[column].map(lambda value: isinstance(value, dict | list))
    if nested.any():
        position = int(np.flatnonzero(nested)[0])
        raise LoadError(f"{frame[column].iloc[position]!r} is not text",
                        **where(frame, position, column, frame_name))


def _check_texts(frame: pd.DataFrame, column: str, frame_name: str) -> None:
    """LoadError at the first text of `column` too long for its column or holding a NUL."""
    limit = text_limit(frame_name, column)
    values = frame[column]
    present = values.notna()
    if not present.any():
        return
    texts = values[present].astype(str)
    bad = texts.str.contains("\0", regex=False)
    if limit is not None:
        bad |= texts.str.len() > limit
    if bad.any():
        position = int(np.flatnonzero(present)[int(np.flatnonzero(bad)[0])])
        raise LoadError(text_problem(values.iloc[position], limit),
                        **where(frame, position, column, frame_name))


def _clean_documents(frame: pd.DataFrame, column: str, report: LoadReport) -> pd.Series:
    """The JSON documents of `column`, made storable on both databases; report what changed."""
    cleaned = []
    for position, document in enumerate(frame[column].tolist()):
        if not isinstance(document, dict | list):
            cleaned.append(None if _is_nan(document) else document)
            continue
        try:  # the common case: already clean and small, checked at C speed
            text = json.dumps(document, allow_nan=False)
        except ValueError:
            text = None
        if text is not None and "\\u0000" not in text and len(text) <= MAX_JSON_BYTES:
            cleaned.append(EncodedDocument(document, text) if isinstance(document, dict)
                           else document)
            continue
        example = _example(frame, position)
        problems: set[str] = set()
        document = _clean_value(document, problems)
        for problem in sorted(problems):
            report.note(problem.format(column=column), [example])
        document, capped = _capped(document)
        if capped:
            report.note(JSON_CAPPED.format(column=column, limit=MAX_JSON_BYTES // 1024),
                        [example])
        cleaned.append(document)
    return pd.Series(cleaned, index=frame.index, dtype=object)


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and value != value


def _example(frame: pd.DataFrame, position: int) -> str:
    """How a report names row `position`: its source file (and row), else its key."""
    located = where(frame, position, "", "")
    row = f", row {located['row']}" if located["row"] is not None else ""
    return f"{located['file']}{row}"


def _clean_value(value: Any, problems: set[str]) -> Any:
    """`value` with NaN/Infinity as None and NUL characters removed, noting what was done."""
    if isinstance(value, float) and not math.isfinite(value):
        problems.add(NAN_TO_NULL)
        return None
    if isinstance(value, str):
        value, changed = without_nul(value)
        if changed:
            problems.add(NUL_REMOVED)
        return value
    if isinstance(value, dict):
        return {_clean_value(str(key), problems): _clean_value(item, problems)
                for key, item in value.items()}
    if isinstance(value, list):
        return [_clean_value(item, problems) for item in value]
    return value


def _capped(document: Any) -> tuple[Any, bool]:
    """The document without its largest top-level fields until it fits in MAX_JSON_BYTES."""
    text = json.dumps(document)
    if len(text) <= MAX_JSON_BYTES:
        return document, False
    if not isinstance(document, dict):
        return None, True
    sizes = {key: len(json.dumps(value)) for key, value in document.items()}
    kept = dict(document)
    for key in sorted(sizes, key=sizes.get, reverse=True):
        del kept[key]
        if len(json.dumps(kept)) <= MAX_JSON_BYTES:
            break
    return kept, True
