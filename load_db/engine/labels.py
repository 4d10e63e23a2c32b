"""A dataset's diagnosis labels onto master condition designations, by its mapping: the one
place that decides what a label does when the mapping does not cover it.

The mapping file says it (`conditions.unmapped`, load_db/engine/mapping.py): `error` (the
default) stops the load at the first such label, naming the file, row and column it was read
from; `report` keeps the row with its raw label (stored in `condition_label`, so that
`flask harmonise` maps it once the mapping covers it) and no condition, and the load report
notes each label with its count and the rows it is on. A strict load (`flask load --strict`)
stops at it either way. A label the mapping maps to `null` is known to have no master
condition: no condition either, and noted, strict or not.

Where a label was read: the row's `condition_source` cell ({"file", "row", "column"}, each
optional; load_db/engine/frames.py), else the row's source_file and source_row, in the
mapping's `conditions.column` (else the frame column, `condition`).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from load_db.engine.errors import LoadError
from load_db.engine.frames import LABEL_SOURCE, DatasetFrames
from load_db.engine.mapping import MappingFile
from load_db.engine.report import LoadReport
from load_db.engine.validation import where

# A function from a dataset's own label to a master designation (None: no condition);
# KeyError (or ValueError) for a label it does not map.
ConditionMap = Callable[[str], str | None]

OUTSIDE_MAPPING = "diagnosis label outside {mapping}: left without a condition: {label}"
NO_CONDITION = "diagnosis label {mapping} maps to no condition: {label}"


def label_condition(label: str, mapping: MappingFile | None,
                    map_condition: ConditionMap | None = None, *,
                    strict: bool = False) -> tuple[str | None, bool]:
    """(the master designation of `label` or None, whether the mapping does not cover it).

    `map_condition` maps the label (default: the mapping; with neither, a label is its own
    designation). A label it does not cover gives (None, True) when the mapping says
    `unmapped: report` and not `strict`; otherwise KeyError saying why. Pure.
    """
    if map_condition is None and mapping is not None:
        map_condition = mapping.condition_for
    try:
        return (map_condition(label) if map_condition is not None else label), False
    except (KeyError, ValueError) as exc:
        if strict or mapping is None or not mapping.reports_unmapped:
            # A plain dict's KeyError says only the label: say why instead.
            reason = exc.args[0] if exc.args and exc.args[0] != label else "nothing maps it"
            raise KeyError(reason) from None
        return None, True


def mapped_labels(frames: Mapping[str, pd.DataFrame], mapping: MappingFile | None,
                  report: LoadReport, *, map_condition: ConditionMap | None = None,
                  strict: bool = False) -> dict[str, str | None]:
    """{label: master designation, or None for no condition} of every label in the frames'
    `condition` columns (frames by name: subjects, visits), in label order, by
    `label_condition`. A label left without a condition is noted in `report` (its count and
    rows); one that must stop the load raises LoadError naming its file, row and column.
    Reads nothing, writes only to `report`.
    """
    labelled = {name: frame for name, frame in frames.items() if "condition" in frame.columns}
    labels = sorted({label for frame in labelled.values() for label in frame["condition"].dropna()})
    name = mapping.path.name if mapping is not None else "the mapping"
    found: dict[str, str | None] = {}
    for label in labels:
        try:
            found[label], outside = label_condition(label, mapping, map_condition,
                                                    strict=strict)
        except KeyError as exc:
            raise LoadError(f"unknown diagnosis label {label!r} (outside {name}): {exc.args[0]}",
                            **label_source(labelled, label, mapping)) from None
        if found[label] is None:
            reason = OUTSIDE_MAPPING if outside else NO_CONDITION
            _note(report, reason.format(mapping=name, label=label), labelled, label, mapping)
    return found


def dataset_conditions(frames: DatasetFrames, *, strict: bool = False) -> dict[str, str | None]:
    """{label: designation or None} of what a dataset's `read` returned, as its load maps
    them (without a database; what would be noted goes to a report of its own)."""
    named = {name: frame for name, frame in (("subjects", frames.subjects),
                                             ("visits", frames.visits)) if frame is not None}
    return mapped_labels(named, frames.mapping, LoadReport(), strict=strict)


def label_source(frames: Mapping[str, pd.DataFrame], label: str,
                 mapping: MappingFile | None) -> dict[str, Any]:
    """The file, row and column a LoadError names for `label`: those of its first row."""
    name, frame, positions = next(_rows_with(frames, label))
    return _source(frame, int(positions[0]), name, mapping)


def _rows_with(frames: Mapping[str, pd.DataFrame], label: str
               ) -> Iterator[tuple[str, pd.DataFrame, np.ndarray]]:
    """(frame name, frame, positions of the rows labelled `label`) of each frame having any."""
    for name, frame in frames.items():
        positions = np.flatnonzero((frame["condition"] == label).to_numpy())
        if len(positions):
            yield name, frame, positions


def _source(frame: pd.DataFrame, position: int, name: str,
            mapping: MappingFile | None) -> dict[str, Any]:
    column = mapping.content.conditions.column if mapping is not None else None
    located = where(frame, position, column or "condition", name)
    given = frame[LABEL_SOURCE].iloc[position] if LABEL_SOURCE in frame.columns else None
    if isinstance(given, dict):
        located.update({key: value for key, value in given.items() if value is not None})
    return located


def _note(report: LoadReport, reason: str, frames: Mapping[str, pd.DataFrame], label: str,
          mapping: MappingFile | None) -> None:
    """Note every row labelled `label`: its count, and a few rows by file, row and column."""
    for name, frame, positions in _rows_with(frames, label):
        examples = []
        for position in positions[:LoadReport.MAX_EXAMPLES]:
            located = _source(frame, int(position), name, mapping)
            row = f", row {located['row']}" if located["row"] is not None else ""
            examples.append(f"{Path(str(located['file'])).name}{row}, "
                            f"column {located['column']!r}")
        report.note(reason, examples, count=len(positions))
