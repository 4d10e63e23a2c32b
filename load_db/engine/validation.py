"""Check a dataset's canonical frames before anything is written: columns, types, allowed values
and keys, each problem named by the input file, row and column it came from."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from app.models import Handedness, ImageType, Race, Sex
from load_db.engine.cells import is_missing
from load_db.engine.errors import LoadError
from load_db.engine.frames import SOURCE_COLUMNS, FrameSpec
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


def where(frame: pd.DataFrame, position: int, column: str, frame_name: str) -> dict[str, Any]:
    """The file, row and column to name for a problem in row `position` of `frame`."""
    row = frame.iloc[position]
    if "source_file" in frame.columns and pd.notna(row["source_file"]):
        source_row = row.get("source_row")
        return {"file": row["source_file"],
                "row": int(source_row) if pd.notna(source_row) else None, "column": column}
    return {"file": f"{frame_name} table", "row": position + 1, "column": column}


def checked(frame: pd.DataFrame, spec: FrameSpec) -> pd.DataFrame:
    """Return a copy of `frame` with clean types, or raise LoadError at its first bad value."""
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
            frame[column] = _text(frame[column])
        elif column in NUMERIC_COLUMNS:
            frame[column] = _numbers(frame, column, spec.name)
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
    if NUMERIC_COLUMNS[column] is int:
        return parsed.astype("Int64")
    return parsed.astype(float)
