"""Assessments: the values of master measures a dataset's files carry, harmonised by its mapping.

A reader hands the engine the raw cells (the `assessments` frame of DatasetFrames: subject,
visit or None, days_since_baseline, measure, raw_value, source_column, source_file,
source_row); `measure_rows` builds that frame from a table and the mapping's entries for its
file. The engine checks each value against the master measure (range, levels), harmonises it
with the mapping (load_db/engine/mapping.py, pure) and upserts the rows in bulk on their
natural key (subject, measure, day), each with the mapping's version.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Assessment, Measure
from load_db.engine.errors import LoadError
from load_db.engine.frames import FrameSpec
from load_db.engine.linking import dataset_subjects, visit_table
from load_db.engine.mapping import MappingFile, MeasureInfo, harmonised
from load_db.engine.report import LoadReport
from load_db.engine.upsert import upsert
from load_db.engine.validation import RANGES, where

ASSESSMENTS = FrameSpec(
    "assessments",
    key=("subject", "measure", "source_column"),  # measure = a master measure designation
    optional=(
        "visit",                # external_id of the visit the value was taken at (or None)
        "days_since_baseline",  # int; the visit's day when None
        "raw_value",            # the cell as the source wrote it
    ),
)
KEY = ["subject_id", "measure_id", "days_since_baseline"]
DAY_RANGE = RANGES["days_since_baseline"]
NO_MASTER_MEASURES = ("no master list of measures in the database (`flask seed` loads it): "
                      "assessments left out")


def measure_rows(table: pd.DataFrame, path: Path, mapping: MappingFile, *,
                 subjects: Sequence[str], visits: Sequence[str | None] | None = None,
                 days: Sequence[int | None] | None = None,
                 rows: Sequence[int] | None = None) -> pd.DataFrame:
    """The assessments frame of every measure the mapping takes from the file `path` (its name
    as the mapping writes it), one row per cell of `table` (cells read as text).

    `subjects` (and `visits`, `days`, `rows`: the source rows) go with the table's rows.
    LoadError when the mapping names a column the file lacks.
    """
    frames = []
    for source in mapping.sources_of(path.name):
        if source.column not in table.columns:
            raise LoadError(f"the mapping {mapping.path} takes measure {source.measure!r} from "
                            "this column, which the file lacks", file=path, column=source.column)
        frames.append(pd.DataFrame({
            "subject": list(subjects),
            "visit": list(visits) if visits is not None and source.level == "visit" else None,
            "days_since_baseline": list(days) if days is not None and source.level == "visit"
            else 0,
            "measure": source.measure,
            "raw_value": table[source.column].tolist(),
            "source_column": source.column,
            "source_file": str(path),
            "source_row": list(rows) if rows is not None else None,
        }, dtype=object))
    return pd.concat(frames, ignore_index=True) if frames else empty_assessments()


def empty_assessments() -> pd.DataFrame:
    """An assessments frame with no row."""
    return pd.DataFrame(columns=[*ASSESSMENTS.columns, "source_file", "source_row"], dtype=object)


def master_measures(session: Session) -> dict[str, tuple[int, MeasureInfo]]:
    """Every master measure: designation -> (id, what values it takes)."""
    rows = session.execute(select(Measure.id, Measure.designation, Measure.kind, Measure.minimum,
                                  Measure.maximum, Measure.levels))
    return {designation: (measure_id, MeasureInfo.of(designation, kind, low, high, levels))
            for measure_id, designation, kind, low, high, levels in rows}


def harmonise_frame(frame: pd.DataFrame, mapping: MappingFile,
                    measures: dict[str, tuple[int, MeasureInfo]]) -> pd.DataFrame:
    """The frame's rows with a value, harmonised: adds measure_id, value_number, value_text;
    drops the missing cells. LoadError naming the file, row and column of a bad value."""
    missing = frozenset(mapping.content.missing)
    ids, numbers, texts, kept = [], [], [], []
    for position, (measure, column, raw) in enumerate(zip(
            frame["measure"], frame["source_column"], frame["raw_value"], strict=True)):
        if measure not in measures:
            raise LoadError(f"measure {measure!r} is not in the master list of measures (see "
                            f"{mapping.path}; `flask seed` loads the list)",
                            **where(frame, position, column, ASSESSMENTS.name))
        measure_id, info = measures[measure]
        try:
            value = harmonised(raw, mapping.source(measure, column), info, missing)
        except (KeyError, ValueError) as exc:
            raise LoadError(str(exc.args[0]),
                            **where(frame, position, column, ASSESSMENTS.name)) from None
        if value is not None:
            kept.append(position)
            ids.append(measure_id)
            numbers.append(value[0])
            texts.append(value[1])
    return frame.iloc[kept].assign(measure_id=ids, value_number=pd.array(numbers, dtype="Float64"),
                                   value_text=pd.Series(texts, dtype=object,
                                                        index=frame.index[kept]))


def write_assessments(session: Session, dataset_id: int, frame: pd.DataFrame,
                      subject_ids: dict[str, int], mapping: MappingFile | None,
                      report: LoadReport) -> None:
    """Harmonise the assessments frame with the mapping and upsert it (never commits)."""
    frame = frame.reset_index(drop=True)
    if mapping is None:
        if len(frame):
            raise LoadError("assessments need the dataset's mapping file (mapping.yaml)",
                            **where(frame, 0, "measure", ASSESSMENTS.name))
        return
    measures = master_measures(session)
    if not measures:
        # A database seeded before the measures list existed: the rest of the load is good.
        if len(frame):
            report.ignore(NO_MASTER_MEASURES, count=len(frame))
        return
    frame = harmonise_frame(frame, mapping, measures).reset_index(drop=True)
    if frame.empty:
        return
    unknown = ~frame["subject"].isin(subject_ids)
    if unknown.any():
        position = int(np.flatnonzero(unknown)[0])
        raise LoadError(f"unknown subject {frame['subject'].iloc[position]!r}",
                        **where(frame, position, "subject", ASSESSMENTS.name))
    frame = frame.assign(subject_id=frame["subject"].map(subject_ids).astype("int64"))
    frame = _with_visits(frame, visit_table(session, dataset_id,
                                            sorted(set(frame["subject_id"].tolist()))))
    duplicated = frame.duplicated(KEY, keep="first")
    if duplicated.any():
        position = int(np.flatnonzero(duplicated)[0])
        raise LoadError(f"a second value of {frame['measure'].iloc[position]} for subject "
                        f"{frame['subject'].iloc[position]!r} on day "
                        f"{frame['days_since_baseline'].iloc[position]}",
                        **where(frame, position, frame["source_column"].iloc[position],
                                ASSESSMENTS.name))
    rows = pd.DataFrame({
        **{name: frame[name] for name in KEY}, "visit_id": frame["visit_id"],
        "value_number": frame["value_number"], "value_text": frame["value_text"],
        "raw_value": [None if raw is None else str(raw) for raw in frame["raw_value"]],
        "source_column": frame["source_column"], "mapping_version": mapping.version,
    })
    report.add("assessment", upsert(session, Assessment, rows, KEY, keyed=True,
                                    where=Assessment.subject_id.in_(dataset_subjects(dataset_id))))


def _day(value: Any) -> int | None:
    """A day since baseline as an int within DAY_RANGE, else None."""
    try:
        day = float(value)
    except (TypeError, ValueError):
        return None
    if day != day or not day.is_integer() or not DAY_RANGE[0] <= day <= DAY_RANGE[1]:
        return None
    return int(day)


def _with_visits(frame: pd.DataFrame, visits: pd.DataFrame) -> pd.DataFrame:
    """Give each row its visit_id and day: the named visit's (its day when the row has none),
    else the subject's visit of the row's day when there is one (the last by id)."""
    labelled = frame[["subject_id"]].assign(
        visit=frame["visit"] if "visit" in frame.columns else None)
    by_label = labelled.merge(visits[["subject_id", "external_id", "visit_id",
                                      "days_since_baseline"]],
                              left_on=["subject_id", "visit"],
                              right_on=["subject_id", "external_id"], how="left")
    unknown = labelled["visit"].notna().to_numpy() & by_label["visit_id"].isna().to_numpy()
    if unknown.any():
        position = int(np.flatnonzero(unknown)[0])
        raise LoadError(f"unknown visit {frame['visit'].iloc[position]!r}",
                        **where(frame, position, "visit", ASSESSMENTS.name))
    day = frame["days_since_baseline"] if "days_since_baseline" in frame.columns else None
    day = pd.Series(day, index=frame.index, dtype=object).where(
        lambda d: d.notna(), pd.Series(by_label["days_since_baseline"].astype(object).to_numpy(),
                                       index=frame.index))
    days = [_day(value) for value in day]
    if None in days:
        position = days.index(None)
        raise LoadError(f"{day.iloc[position]!r} is not a day since baseline (a whole number "
                        f"within {DAY_RANGE[1]} days of baseline; a row without one needs a "
                        "visit that has one)",
                        **where(frame, position, "days_since_baseline", ASSESSMENTS.name))
    frame = frame.assign(days_since_baseline=pd.Series(days, index=frame.index, dtype="int64"))
    visit_id = pd.Series(by_label["visit_id"].to_numpy(), index=frame.index).astype("Int64")
    by_day = (visits.dropna(subset=["days_since_baseline"])
              .sort_values("visit_id").drop_duplicates(["subject_id", "days_since_baseline"],
                                                        keep="last")
              .astype({"days_since_baseline": "int64"}))
    same_day = frame[["subject_id", "days_since_baseline"]].merge(
        by_day[["subject_id", "days_since_baseline", "visit_id"]],
        on=["subject_id", "days_since_baseline"], how="left")
    visit_id = visit_id.fillna(pd.Series(same_day["visit_id"].to_numpy(), index=frame.index)
                               .astype("Int64"))
    return frame.assign(visit_id=visit_id)
