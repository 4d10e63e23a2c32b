"""Storing names: the predicted name of every image of a dataset, and manual names read from a
CSV file (columns `path`, `name`)."""
from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import Dataset, Image
from app.names import COMPONENTS, NameFilterError
from app.names.predict import name_hint, predict_name


def predict_names(session: Session, designation: str) -> int:
    """Store the predicted name of every image of a dataset; return how many changed."""
    rows = session.execute(
        select(Image.id, Image.path, Image.type, Image.metadata_json, Image.predicted_name)
        .join(Dataset, Dataset.id == Image.dataset_id)
        .where(Dataset.designation == designation, Image.deleted_at.is_(None))).all()
    changes = []
    for row in rows:
        name = predict_name(row.metadata_json, name_hint(row.path, str(row.type)))
        if name != row.predicted_name:
            changes.append({"id": row.id, "predicted_name": name})
    if changes:
        session.execute(update(Image), changes)
    return len(changes)


def read_manual_names(path: Path) -> list[tuple[int, str, str]]:
    """Read a CSV of manual names (columns `path`, `name`): [(row number, key, name)].

    Raises NameFilterError naming the file, row and column of a bad value.
    """
    with path.open(newline="", encoding="utf-8") as stream:
        reader = csv.DictReader(stream)
        missing = {"path", "name"} - set(reader.fieldnames or [])
        if missing:
            raise NameFilterError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        rows = []
        for number, row in enumerate(reader, start=2):
            name = (row["name"] or "").strip().upper()
            if len(name.split("-")) < len(COMPONENTS) or not re.fullmatch(
                    r"[A-Z0-9]+(-[A-Z0-9]+)*", name):
                raise NameFilterError(f"{path}, row {number}, column 'name': {name!r} is not "
                                      "bodypart-modality-technique-acqdim-orientation-"
                                      "excontrast[-extras]")
            rows.append((number, (row["path"] or "").strip(), name))
    return rows


def apply_manual_names(session: Session, designation: str,
                       names: Iterable[tuple[int, str, str]]) -> int:
    """Set the manual names of a dataset's images by storage key; return how many were set.

    Raises NameFilterError for a key that names no image of the dataset.
    """
    ids = dict(session.execute(
        select(Image.path, Image.id).join(Dataset, Dataset.id == Image.dataset_id)
        .where(Dataset.designation == designation, Image.deleted_at.is_(None))).all())
    changes = []
    for number, key, name in names:
        if key not in ids:
            raise NameFilterError(f"row {number}, column 'path': no image of {designation} "
                                  f"has the key {key!r}")
        changes.append({"id": ids[key], "manual_name": name})
    if changes:
        session.execute(update(Image), changes)
    return len(changes)
