"""What a load read, kept per dataset and source, so that the next load reads only what changed.

A load records each file's version (`load_manifest.files`); the next load of the same dataset
from the same source compares the new listing with it. Which rows a changed file feeds is the
adapter's business (load_db/bids/load.py); this module keeps the manifest, compares listings,
and soft-deletes the images whose files are gone.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from app.models import Image, LoadManifest, Subject, Visit
from app.models.base import utcnow
from app.models.image_measure import refresh_image_measures

# Paths per UPDATE ... WHERE path IN (...): well under every database's parameter limit.
PATHS_PER_STATEMENT = 500


# The tables whose rows a manifest counts, per subject and in total.
COUNTED = ("subject", "visit", "image")


@dataclass(frozen=True)
class Manifest:
    """What a previous load read: the files (path -> version), the reader that read them, and
    the rows they gave (see LoadManifest.row_counts)."""

    reader: str
    files: Mapping[str, Any]
    row_counts: Mapping[str, Any]

    @property
    def per_subject(self) -> Mapping[str, list[int]]:
        return self.row_counts.get("per_subject", {})

    @property
    def totals(self) -> Mapping[str, int]:
        return self.row_counts.get("totals", {})


@dataclass(frozen=True)
class FileChanges:
    """How a listing differs from the previous load's: files to read again, files gone."""

    changed: frozenset[str]   # new, another version, or a version that cannot be trusted
    gone: frozenset[str]      # read last time, not listed now
    unchanged: int

    @property
    def any(self) -> bool:
        return bool(self.changed or self.gone)


def previous_manifest(session: Session, dataset_id: int, source: str) -> Manifest | None:
    """The manifest of the last successful load of `dataset_id` from `source`, if any."""
    row = session.execute(select(LoadManifest.reader, LoadManifest.files,
                                 LoadManifest.row_counts).where(
        LoadManifest.dataset_id == dataset_id, LoadManifest.source == source)).first()
    return None if row is None else Manifest(row.reader, row.files, row.row_counts)


def dataset_totals(session: Session, dataset_id: int) -> dict[str, int]:
    """The dataset's rows now: subjects, visits and live (not soft-deleted) images."""
    subjects = select(Subject.id).where(Subject.dataset_id == dataset_id)
    return {
        "subject": session.scalar(select(func.count()).select_from(subjects.subquery())),
        "visit": session.scalar(select(func.count(Visit.id))
                                .where(Visit.subject_id.in_(subjects))),
        "image": session.scalar(select(func.count(Image.id)).where(
            Image.dataset_id == dataset_id, Image.deleted_at.is_(None))),
    }


def compare_listing(previous: Mapping[str, Any], current: Mapping[str, Any]) -> FileChanges:
    """Compare versions by path; a version that is None on either side counts as changed."""
    changed = frozenset(path for path, version in current.items()
                        if version is None or previous.get(path) != version)
    gone = frozenset(path for path in previous if path not in current)
    return FileChanges(changed, gone, len(current) - len(changed))


def save_manifest(session: Session, dataset_id: int, source: str, reader: str,
                  files: Mapping[str, Any], per_subject: Mapping[str, list[int]]) -> None:
    """Record what this load read, in the caller's transaction (replacing the previous one);
    the dataset's totals are counted now, after the load's writes."""
    values = {"reader": reader, "files": dict(files), "updated_at": utcnow(),
              "row_counts": {"per_subject": dict(per_subject),
                             "totals": dataset_totals(session, dataset_id)}}
    # Core statements: the ORM would first load (and decode) the previous document.
    updated = session.execute(update(LoadManifest).where(
        LoadManifest.dataset_id == dataset_id, LoadManifest.source == source).values(values)
        .execution_options(synchronize_session=False))
    if not updated.rowcount:
        session.execute(insert(LoadManifest).values(dataset_id=dataset_id, source=source,
                                                    **values))


def mark_images_deleted(session: Session, dataset_id: int, paths: Iterable[str], *,
                        deleted: bool = True) -> int:
    """Soft-delete the live images of the dataset at `paths` (or, with deleted=False, bring
    back the soft-deleted ones); return how many rows changed."""
    paths = sorted(paths)
    now = utcnow()
    changed = 0
    for start in range(0, len(paths), PATHS_PER_STATEMENT):
        chunk = paths[start:start + PATHS_PER_STATEMENT]
        state = Image.deleted_at.is_(None) if deleted else Image.deleted_at.is_not(None)
        result = session.execute(
            update(Image).where(Image.dataset_id == dataset_id, Image.path.in_(chunk), state)
            .values(deleted_at=now if deleted else None, updated_at=now)
            .execution_options(synchronize_session=False))
        changed += result.rowcount
    if changed:
        # A bulk UPDATE bypasses the ORM hook that keeps image_measure's copy of deleted_at.
        refresh_image_measures(session, dataset_id)
    return changed
