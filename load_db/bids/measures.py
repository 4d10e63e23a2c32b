"""Measures of a BIDS dataset: the participants.tsv and sessions.tsv columns its mapping names.

A mapping entry's `file` is `participants.tsv` (a subject's value, day 0) or `sessions.tsv`
(every sub-*/sub-*_sessions.tsv: the session's value, on the session's day). participants.json
is honoured where it describes a column: a code its `Levels` describe, and the mapping's
`values` do not, is read as that description; `Units` other than the measure's need the
mapping's conversion (scale/offset), else the load stops naming the column. (A `TermURL`
is not compared: the master list's term is the one kept.)
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from load_db.bids.reader import PARTICIPANTS_JSON, PARTICIPANTS_TSV, BidsFrames
from load_db.bids.values import levels_of
from load_db.engine.assessments import ASSESSMENTS, empty_assessments
from load_db.engine.errors import LoadError
from load_db.engine.mapping import MappingFile
from load_db.engine.tables import HEADER_ROW

SESSIONS_FILE = "sessions.tsv"  # how a mapping names every sub-*/sub-*_sessions.tsv


def bids_assessments(frames: BidsFrames, mapping: MappingFile,
                     units: Mapping[str, str | None] | None = None) -> pd.DataFrame:
    """The assessments frame of the measures `mapping` takes from participants.tsv and the
    sessions.tsv files read into `frames`.

    `units`: the master measures' units ({designation: unit}); with it, a participants.json
    `Units` that differs while the mapping converts nothing is bad input.
    """
    levels = levels_of(frames.columns)
    rows = []
    for source in mapping.content.measures:
        if source.file == PARTICIPANTS_TSV:
            table, day = frames.participant_rows, 0
        elif source.file == SESSIONS_FILE:
            table, day = frames.session_rows, None
        else:
            raise LoadError(f"measure {source.measure!r}: a BIDS dataset's measures come from "
                            f"{PARTICIPANTS_TSV} or {SESSIONS_FILE}, not {source.file!r}",
                            file=mapping.path, column="measures")
        described = frames.columns.get(source.column) if source.file == PARTICIPANTS_TSV else None
        _check_units(described, source, mapping, units)
        coded = levels.get(source.column, {}) if source.file == PARTICIPANTS_TSV else {}
        for row in table:
            if source.column not in row["cells"]:
                raise LoadError(f"the mapping {mapping.path} takes measure {source.measure!r} "
                                "from this column, which the file lacks",
                                file=row["source_file"], column=source.column)
            raw = row["cells"][source.column]
            if raw in coded and raw not in source.values:
                raw = coded[raw]
            rows.append({"subject": row["subject"], "visit": row["visit"],
                         "days_since_baseline": day, "measure": source.measure,
                         "raw_value": raw, "source_column": source.column,
                         "source_file": row["source_file"], "source_row": row["source_row"]})
    if not rows:
        return empty_assessments()
    return pd.DataFrame(rows, columns=[*ASSESSMENTS.columns, "source_file", "source_row"],
                        dtype=object)


def with_conditions(frames: BidsFrames, mapping: MappingFile) -> pd.DataFrame:
    """The subjects frame, each subject's condition label taken from the participants.tsv
    column the mapping's `conditions.column` names (unchanged without one)."""
    column = mapping.content.conditions.column
    if column is None:
        return frames.subjects
    labels = {}
    for row in frames.participant_rows:
        if column not in row["cells"]:
            raise LoadError(f"the mapping {mapping.path} takes the condition labels from this "
                            "column, which the file lacks", file=row["source_file"],
                            row=HEADER_ROW, column=column)
        labels[row["subject"]] = row["cells"][column] or None
    return frames.subjects.assign(condition=[labels.get(subject)
                                             for subject in frames.subjects["external_id"]])


def _check_units(described: Any, source: Any, mapping: MappingFile,
                 units: Mapping[str, str | None] | None) -> None:
    if not isinstance(described, Mapping) or units is None or "Units" not in described:
        return
    given, wanted = str(described["Units"]).strip(), units.get(source.measure)
    converts = source.scale != 1 or source.offset != 0
    if wanted and given != wanted and not converts:
        raise LoadError(f"{PARTICIPANTS_JSON} gives Units {given!r}, {source.measure} is stored "
                        f"in {wanted!r}: give the conversion (scale, offset) in {mapping.path}",
                        file=PARTICIPANTS_JSON, column=source.column)
