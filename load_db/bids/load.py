"""Load a BIDS dataset into the database: read_bids, then the engine; re-loads read only what
changed since the last load of the same dataset from the same source."""
from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy.orm import Session

from load_db.bids.entities import NIFTI_EXTENSIONS, SUBJECT_PREFIX, is_skipped, is_skipped_folder
from load_db.bids.reader import read_bids, reads_file
from load_db.bids.tree import FileTree, ListedTree, LocalTree
from load_db.engine import LoadError, LoadReport, TableCounts, load_dataset_frames
from load_db.engine.collector import without_cyclic_gc
from load_db.engine.manifest import (
    COUNTED,
    FileChanges,
    compare_listing,
    dataset_totals,
    mark_images_deleted,
    previous_manifest,
    save_manifest,
)
from load_db.engine.orchestration import dataset_id_for, storage_prefix_for

log = logging.getLogger(__name__)

# Raise it whenever read_bids would make other rows from the same files: a manifest written by
# another version of the reader is not trusted, and the next load reads everything.
READER_VERSION = 1
GONE_FILE = "file gone since the last load"
IMAGE_SOFT_DELETED = "image soft-deleted: its file is gone since the last load"
IMAGE_RESTORED = "image restored: its file is back since the last load"


def load_bids(session: Session, root: FileTree | Path, dataset: str, *,
              register: bool = False, full: bool = False) -> LoadReport:
    """Upsert the subjects, visits and images of the BIDS tree `root` into `dataset`.

    The dataset is looked up (or, with `register`, created) before the tree is read, so an
    unknown name fails at once; image paths get the dataset's storage prefix. A tree without any
    subject is bad input (nothing is registered). Never commits. The report holds the engine's
    counts and the NIfTI files the adapter ignored.

    Incremental: what each load read (file versions) is recorded in load_manifest, in the
    load's transaction. A later load of the same dataset from the same source reads again only
    the subjects with a file new, changed or gone in their folder; a changed file outside the
    subject folders (participants.tsv, a top-level sidecar, ...) feeds every subject, so it
    means a full read, as does `full`. Either way the rows written are those a full read would
    write. An image whose file is gone is soft-deleted, and the report lists the gone files.
    """
    dataset_id = dataset_id_for(session, dataset, register=register)
    reader = f"bids {READER_VERSION}, prefix {storage_prefix_for(session, dataset)}"
    name = str(root)  # how errors name the dataset: as the caller gave it
    if not isinstance(root, FileTree):
        if not Path(root).is_dir():
            raise LoadError("no such folder: the BIDS dataset root must be a directory", file=root)
        root = LocalTree(Path(root), prune=is_skipped_folder)
    # The engine's checks of tens of thousands of rows, each with its metadata document, pay
    # the same collector rescans as the read: pause it for both.
    with without_cyclic_gc():
        tree = ListedTree(root)
        versions = {path: version for path, version in tree.versions.items()
                    if not is_skipped(path)}
        previous = previous_manifest(session, dataset_id, tree.source)
        changes = compare_listing(previous.files if previous else {}, versions)
        trusted = (previous is not None and not full and previous.reader == reader
                   and previous.totals == dataset_totals(session, dataset_id))
        subjects = subjects_to_read(changes) if trusted else None
        report, per_subject = _read_and_write(session, tree, name, dataset, subjects,
                                              register)
        if subjects is not None:  # the subjects not read again keep their rows, as counted
            kept = {label: counts for label, counts in previous.per_subject.items()
                    if label not in subjects}
            for table, unchanged in zip(COUNTED, _column_sums(kept.values()), strict=True):
                report.add(table, TableCounts(unchanged=unchanged))
            per_subject = {**kept, **per_subject}
        read = (len(versions) if subjects is None else
                0 if not subjects else sum(reads_file(path, subjects) for path in versions))
        report.files.update(read=read, unchanged=len(versions) - read, gone=len(changes.gone))
        _mark_gone_and_back(session, dataset_id, dataset, changes,
                            previous.files if previous else {}, report)
        save_manifest(session, dataset_id, tree.source, reader, versions, per_subject)
    return report


def subjects_to_read(changes: FileChanges) -> set[str] | None:
    """The subjects whose rows the changes may alter (labels), None when they may alter any.

    A file in a subject's folder feeds only that subject's rows; anything else (participants
    .tsv and .json, a top-level sidecar, dataset_description.json) may feed every row.
    """
    subjects = set()
    for path in changes.changed | changes.gone:
        top, slash, _ = path.partition("/")
        if not slash or not top.startswith(SUBJECT_PREFIX):
            return None
        subjects.add(top[len(SUBJECT_PREFIX):])
    return subjects


def _read_and_write(session: Session, tree: ListedTree, name: str, dataset: str,
                    subjects: set[str] | None,
                    register: bool) -> tuple[LoadReport, dict[str, list[int]]]:
    """Read the tree (every subject, or only `subjects`) and hand the frames to the engine.

    Returns the report and, per subject read, its [subject, visit, image] rows.
    """
    if subjects is not None and not subjects:
        return LoadReport(), {}
    frames = read_bids(tree, subjects=subjects)
    if frames.subjects is None or frames.subjects.empty:
        if subjects is None:
            raise LoadError("no subject found (no participants.tsv row and no sub-* folder): "
                            "is this the root of a BIDS dataset?", file=name)
        return frames.report, {}  # the subjects read again have no file left
    per_subject: dict[str, list[int]] = {}
    for position, labels in enumerate((frames.subjects["external_id"], frames.visits["subject"],
                                       frames.images["subject"])):
        for label, count in Counter(labels).items():
            per_subject.setdefault(label, [0, 0, 0])[position] = count
    return load_dataset_frames(session, dataset, frames, register=register), per_subject


def _column_sums(rows: Iterable[list[int]]) -> list[int]:
    """Column sums of [subject, visit, image] row counts."""
    sums = [0] * len(COUNTED)
    for row in rows:
        for position, count in enumerate(row):
            sums[position] += count
    return sums


def _mark_gone_and_back(session: Session, dataset_id: int, dataset: str, changes: FileChanges,
                        previous: dict, report: LoadReport) -> None:
    """Report the files gone since the last load and soft-delete their images; bring back the
    images of files that were gone and are there again."""
    prefix = storage_prefix_for(session, dataset)

    def image_paths(paths):
        return [f"{prefix}/{path}" if prefix else path for path in paths
                if path.endswith(NIFTI_EXTENSIONS)]

    if changes.gone:
        gone = sorted(changes.gone)
        report.note(GONE_FILE, gone[:LoadReport.MAX_EXAMPLES], count=len(gone))
        deleted = image_paths(gone)
        count = mark_images_deleted(session, dataset_id, deleted) if deleted else 0
        if count:
            report.note(IMAGE_SOFT_DELETED, image_paths(gone)[:LoadReport.MAX_EXAMPLES],
                        count=count)
    back = image_paths(path for path in changes.changed if path not in previous)
    if back and previous:
        count = mark_images_deleted(session, dataset_id, back, deleted=False)
        if count:
            report.note(IMAGE_RESTORED, back[:LoadReport.MAX_EXAMPLES], count=count)
