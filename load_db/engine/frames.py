"""The canonical tables a dataset adapter hands to the engine, and the checks they must pass.

An adapter (BIDS, DICOM, a dataset's own spreadsheets) turns its files into up to three pandas
DataFrames with the columns below. Only `external_id` / `subject` / `path` style keys are
required; any other column may be absent, in which case the engine leaves that column of existing
rows untouched (and uses the model default for new rows). Empty values are None (or NaN).

Every frame may carry `source_file` and `source_row` columns: where the row came from, so that an
error found by the engine names the file, row and column of the input. A subjects or visits
frame may also carry `condition_source`: where the row's condition label was read, when that is
not the row's own file and row or not the mapping's `conditions.column` (a dict of any of
"file", "row", "column"; load_db/engine/labels.py names it for a label the mapping lacks).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from load_db.engine.mapping import MappingFile
from load_db.engine.report import LoadReport

LABEL_SOURCE = "condition_source"
SOURCE_COLUMNS = ("source_file", "source_row", LABEL_SOURCE)


@dataclass(frozen=True)
class FrameSpec:
    """Columns of one canonical frame: the required key columns, then the optional ones."""

    name: str
    key: tuple[str, ...]
    optional: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return self.key + self.optional


SUBJECTS = FrameSpec(
    "subjects",
    key=("external_id",),
    optional=(
        "sex",              # a Sex value: female, male, other, unknown
        "handedness",       # a Handedness value: left, right, ambidextrous, unknown
        "race",             # a Race value
        "education_years",  # float
        "age_at_baseline",  # float, years
        "condition",        # the dataset's own diagnosis label, mapped by the dataset's mapping
        "metadata",         # dict of any further fields, stored as subject.metadata_json
    ),
)

VISITS = FrameSpec(
    "visits",
    key=("subject", "external_id"),  # subject = the subject's external_id
    optional=(
        "days_since_baseline",  # int
        "days_assumed",         # bool: the day is 0 by assumption, no date gives it (BIDS)
        "condition",            # the dataset's own label for the diagnosis at this visit
        "symptoms",             # dict of scores (mmse, cdr, bdi_total, ...)
        "bmi",                  # float
    ),
)

IMAGES = FrameSpec(
    "images",
    key=("subject", "path"),  # path = the object-storage key, dataset prefix included
    optional=(
        "visit",                # external_id of the visit (session) the image was acquired in
        "days_since_baseline",  # int: used to find the closest past visit when `visit` is None
        "type",                 # an ImageType value (app/models/enums.py): T1, ..., Mammogram
        "file_size",            # int, bytes
        "checksum",             # str
        "manufacturer", "model", "serial", "field_strength",  # scanner, when known
        "metadata",             # dict: acquisition metadata (sidecar JSON, DICOM header subset)
    ),
)


@dataclass(kw_only=True)
class DatasetFrames:
    """What a dataset's `read(source)` returns: every input file read once, in one shape.

    subjects, visits, images
        The canonical frames above (None: the dataset has no such table). Image `path`s are
        relative to the dataset's source folder; the engine prefixes them with the dataset's
        storage prefix, so that they are the keys `flask upload` gives the same files.
    report
        What the reader left out and why (LoadReport.ignore), and anything worth a look.
    assessments
        The raw values of master measures (load_db/engine/assessments.py: ASSESSMENTS), which
        the engine harmonises with the mapping.
    mapping
        The dataset's mapping file (load_db/engine/mapping.py): its diagnosis labels onto
        master conditions, its columns onto measures. None when the labels are master
        designations already and no measure is read.
    """

    subjects: pd.DataFrame | None = None
    visits: pd.DataFrame | None = None
    images: pd.DataFrame | None = None
    assessments: pd.DataFrame | None = None
    report: LoadReport = field(default_factory=LoadReport)
    mapping: MappingFile | None = None
