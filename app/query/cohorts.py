"""Saved cohorts as reads and one write: an /images query frozen into a manifest with a SHA-256,
the frozen manifest read back, the same query's manifest today, and what changed between them.

A cohort belongs to the key that made it (its name): other keys never find it. Its rows carry
their dataset, so the per-dataset grants of the request (app/access/visibility.py) hide the
images of datasets the caller may not see.

The manifest's SHA-256 is taken over a canonical text, the same on every database and run for
the same images: one line per image, sorted by (dataset, storage key) compared as Unicode code
points (in Python, not by a database collation), each line the compact JSON array
[dataset, path, subject_external_id, type, file_size, checksum] (UTF-8, no spaces, non-ASCII
kept) followed by "\n". Database ids are listed in the manifest but not hashed: they can differ
between two databases holding the same data.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, insert, select

from app.access.audit import datasets_named, record_request
from app.access.current import current_key_name
from app.extensions import db
from app.models import ApiKey, AuditAction, Cohort, CohortImage, Dataset
from app.query.images import filtered_images

# The manifest's columns, in order (JSON fields, CSV header, Parquet columns).
MANIFEST_FIELDS = ("image_id", "dataset", "subject_id", "subject_external_id", "visit_id",
                   "type", "path", "file_size", "checksum")
# What the SHA-256 covers: what identifies each file and its content, no database id.
HASHED_FIELDS = ("dataset", "path", "subject_external_id", "type", "file_size", "checksum")
# What a diff compares for an image present at the freeze and now.
COMPARED_FIELDS = tuple(field for field in MANIFEST_FIELDS if field != "image_id")


def canonical_order(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Return manifest rows in their canonical order: by dataset, then storage key."""
    return sorted(rows, key=lambda row: (row["dataset"], row["path"]))


def canonical_line(row: Mapping[str, Any]) -> str:
    """Return the canonical text of one manifest row (see the module docstring)."""
    values = [row[field] for field in HASHED_FIELDS]
    return json.dumps(values, ensure_ascii=False, separators=(",", ":")) + "\n"


def manifest_sha256(rows: Sequence[Mapping[str, Any]]) -> str:
    """Return the SHA-256 (hex) of the canonical text of manifest `rows` (in any order)."""
    digest = hashlib.sha256()
    for row in canonical_order(rows):
        digest.update(canonical_line(row).encode("utf-8"))
    return digest.hexdigest()


def query_strings(query: Mapping[str, Any]) -> dict[str, list[str]]:
    """Return /images filters as a query string holds them: {parameter: [text values]}."""
    return {str(name): [value if isinstance(value, str) else json.dumps(value)
                        for value in (values if isinstance(values, list) else [values])]
            for name, values in query.items()}


def manifest_of(args: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Run the /images query of the parsed filters `args` now; return its manifest rows in
    canonical order."""
    rows = db.session.execute(filtered_images(dict(args))).mappings()
    return canonical_order([
        {"image_id": row["id"], "dataset": row["dataset"], "subject_id": row["subject_id"],
         "subject_external_id": row["subject_external_id"], "visit_id": row["visit_id"],
         "type": str(getattr(row["type"], "value", row["type"])), "path": row["path"],
         "file_size": row["file_size"], "checksum": row["checksum"]}
        for row in rows])


def _dataset_ids(designations: set[str]) -> dict[str, int]:
    return dict(db.session.execute(
        select(Dataset.designation, Dataset.id).where(Dataset.designation.in_(designations))
    ).all())


def manifest_statement(cohort_id: int) -> Select:
    """Return the frozen manifest rows of a cohort, in order (only the visible datasets')."""
    columns = [getattr(CohortImage, field).label(field) for field in MANIFEST_FIELDS]
    return (select(*columns, CohortImage.image_id.label("id"))
            .where(CohortImage.cohort_id == cohort_id).order_by(CohortImage.position))


def frozen_manifest(cohort_id: int) -> list[dict[str, Any]]:
    """Return the frozen manifest rows of a cohort as dicts (visible datasets only)."""
    return [dict(row) for row in db.session.execute(manifest_statement(cohort_id)).mappings()]


def owned_by_key() -> ColumnElement[bool]:
    """The cohorts of the request's key: made under its name since the key was created.

    A key replaced with `flask apikey create NAME --replace` keeps the name but is a new key:
    the cohorts of the old one stay in the database under the name, and no key sees them.
    """
    name = current_key_name()
    created = select(ApiKey.created_at).where(ApiKey.name == name).scalar_subquery()
    return and_(Cohort.key_name == name, Cohort.created_at >= created)


def owned_cohort(cohort_id: int) -> Cohort | None:
    """Return the cohort if the request's key made it, else None."""
    return db.session.scalar(select(Cohort).where(Cohort.id == cohort_id, owned_by_key()))


def save_cohort(name: str, query: Mapping[str, list[str]], args: Mapping[str, Any]) -> Cohort:
    """Freeze the images the /images filters match now (for the request's key, among the
    datasets it sees) into a cohort owned by the key, audit it and commit.

    `query` is the filters as a query string holds them (query_strings), kept in the cohort;
    `args` is the same filters parsed (by the API's argument schema).
    """
    rows = manifest_of(args)
    cohort = Cohort(name=name, key_name=current_key_name(), query=dict(query),
                    image_count=len(rows), manifest_sha256=manifest_sha256(rows))
    db.session.add(cohort)
    db.session.flush()
    dataset_ids = _dataset_ids({row["dataset"] for row in rows})
    if rows:
        # A Core executemany: no ORM bookkeeping per row (a cohort may hold a million images).
        db.session.execute(insert(CohortImage.__table__), [
            {**row, "dataset_id": dataset_ids[row["dataset"]], "cohort_id": cohort.id,
             "position": position} for position, row in enumerate(rows)])
    named = [part for value in query.get("dataset", []) for part in value.split(",")]
    record_request(AuditAction.COHORT_CREATE,
                   datasets=datasets_named([*dataset_ids, *named]), row_count=len(rows),
                   details={"cohort_id": cohort.id, "name": name, "query": dict(query)})
    db.session.commit()
    return cohort


def manifest_diff(frozen_rows: Sequence[Mapping[str, Any]],
                  now_rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Compare a frozen manifest with the same query's manifest now, by image id: the rows
    added and removed (each in id order), the images whose COMPARED_FIELDS changed
    ({image_id, changes: {field: [frozen, now]}}) and the number unchanged. Pure."""
    frozen = {row["image_id"]: row for row in frozen_rows}
    now = {row["image_id"]: row for row in now_rows}
    changed = []
    for image_id in sorted(frozen.keys() & now.keys()):
        changes = {field: [frozen[image_id][field], now[image_id][field]]
                   for field in COMPARED_FIELDS
                   if frozen[image_id][field] != now[image_id][field]}
        if changes:
            changed.append({"image_id": image_id, "changes": changes})
    return {
        "added": [now[i] for i in sorted(now.keys() - frozen.keys())],
        "removed": [frozen[i] for i in sorted(frozen.keys() - now.keys())],
        "changed": changed,
        "unchanged": len(frozen.keys() & now.keys()) - len(changed),
    }
