"""A load's input in chunks of whole subjects, so that the engine's memory does not grow with it.

A chunk holds the subjects, visits, images and assessments rows of some subjects (a frame it
lacks is None, as in a whole load). `subject_chunks` splits whole frames into such chunks, each
row keeping the file and row it came from, so that an error names the same place as in the
whole input; a streamed source (a reader that walks its input, bench/synthetic.py) yields them
itself, and should give its rows a source_file and source_row (else an error names the row's
position within its chunk). `SeenKeys` remembers the keys earlier chunks wrote, as sorted
64-bit hashes, so that a key repeated across chunks is still an error naming its file, row
and column.

Pure: no database.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from load_db.engine.errors import LoadError
from load_db.engine.validation import where

# A chunk holds the whole subjects of about this many rows (all frames together): about 100 MB
# at peak for images with a small metadata document, written with a few statements a table.
# Larger: fewer statements, more memory (docs/datasets.md).
CHUNK_ROWS = 50_000
# The column naming each row's subject, by frame.
SUBJECT_COLUMN = {"subjects": "external_id", "visits": "subject", "images": "subject",
                  "assessments": "subject"}


@dataclass
class Chunk:
    """Some subjects' rows of each canonical frame (load_db/engine/frames.py); None: no such
    frame in the load."""

    subjects: pd.DataFrame | None = None
    visits: pd.DataFrame | None = None
    images: pd.DataFrame | None = None
    assessments: pd.DataFrame | None = None

    def frames(self) -> dict[str, pd.DataFrame]:
        """The chunk's frames by name, those it has."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) is not None}

    def rows(self) -> int:
        return sum(len(frame) for frame in self.frames().values())


def subject_chunks(chunk: Chunk, chunk_rows: int = CHUNK_ROWS) -> Iterator[Chunk]:
    """Split whole frames into chunks of whole subjects of about `chunk_rows` rows, subjects
    in order of first appearance, rows in their input order.

    An input of at most `chunk_rows` rows is one chunk: the frames as given. Otherwise a row
    without a source file gets its frame's table name and position as one (what a LoadError
    names for it anyway), so that it names the same row in a chunk.
    """
    frames = chunk.frames()
    if sum(map(len, frames.values())) <= chunk_rows:
        yield chunk
        return
    labels = {name: _subject_labels(frame, SUBJECT_COLUMN[name])
              for name, frame in frames.items()}
    order = pd.unique(pd.concat(list(labels.values()), ignore_index=True).dropna())
    rows_per_subject = pd.concat(list(labels.values()), ignore_index=True).value_counts()
    sizes = rows_per_subject.reindex(order).to_numpy()
    # Subject i goes to chunk (rows of the subjects before it) // chunk_rows: chunks of about
    # chunk_rows rows, one subject's rows never split.
    ends = np.cumsum(sizes)
    number = np.concatenate([[0], (ends[:-1] // chunk_rows)])
    chunk_of = pd.Series(number, index=order)
    located = {name: _located(frame, name) for name, frame in frames.items()}
    numbers = {name: labels[name].map(chunk_of).fillna(0).astype(int).to_numpy()
               for name in frames}
    for index in (np.unique(number) if len(number) else [0]):
        yield Chunk(**{name: frame[numbers[name] == index].reset_index(drop=True)
                       for name, frame in located.items()})


def _subject_labels(frame: pd.DataFrame, column: str) -> pd.Series:
    """The subject of each row as validation will read it (text, stripped); NA when absent,
    which puts the row in the first chunk (where validation names it)."""
    if column not in frame.columns:
        return pd.Series(pd.NA, index=range(len(frame)), dtype="string")
    values = frame[column].reset_index(drop=True)
    text = values.map(lambda value: value if isinstance(value, str) else
                      (None if value is None or (isinstance(value, float) and value != value)
                       else str(value)))
    return text.astype("string").str.strip()


def _located(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """`frame` with a source file and row on every row: those it has, else its table and
    position (validation.where's own fallback)."""
    frame = frame.reset_index(drop=True)
    table = f"{name} table"
    if "source_file" not in frame.columns:
        return frame.assign(source_file=table, source_row=np.arange(1, len(frame) + 1))
    missing = frame["source_file"].isna().to_numpy()
    if not missing.any():
        return frame
    rows = frame["source_row"] if "source_row" in frame.columns else pd.Series(
        None, index=frame.index, dtype=object)
    return frame.assign(
        source_file=frame["source_file"].where(~missing, table),
        source_row=rows.astype(object).where(~missing, pd.Series(
            np.arange(1, len(frame) + 1), index=frame.index).astype(object)))


# --- keys across chunks ------------------------------------------------------------------------

# The keys that must not repeat across a load's chunks: frame -> (its key columns, the column
# an error names). An image path is unique within its dataset, whichever subject has it.
CHUNK_KEYS = {"subjects": (("external_id",), "external_id"),
              "visits": (("subject", "external_id"), "external_id"),
              "images": (("path",), "path")}


class SeenKeys:
    """The keys of the chunks loaded so far, as one sorted array of 64-bit hashes per frame:
    8 bytes a key (80 MB for 10,000,000 image paths). Two different keys share a hash with a
    probability of about n^2 / 2^65 (3e-6 for 10,000,000 keys), which would stop a load that
    is good, never let a bad one through."""

    def __init__(self) -> None:
        self.hashes = {name: np.empty(0, dtype=np.uint64) for name in CHUNK_KEYS}

    def check_and_add(self, name: str, frame: pd.DataFrame) -> None:
        """LoadError at the first row of `frame` (a checked frame `name`) whose key an earlier
        chunk had; then remember its keys."""
        columns, named = CHUNK_KEYS[name]
        hashes = pd.util.hash_pandas_object(frame[list(columns)].astype(str),
                                            index=False).to_numpy()
        seen = self.hashes[name]
        if len(seen):
            places = np.searchsorted(seen, hashes).clip(max=len(seen) - 1)
            repeated = seen[places] == hashes
            if repeated.any():
                position = int(np.flatnonzero(repeated)[0])
                value = ", ".join(str(frame[c].iloc[position]) for c in columns)
                raise LoadError(f"duplicate {name[:-1]} {value!r} (in an earlier part of the "
                                "input)", **where(frame, position, named, name))
        hashes = np.sort(hashes)
        self.hashes[name] = np.insert(seen, np.searchsorted(seen, hashes), hashes)
