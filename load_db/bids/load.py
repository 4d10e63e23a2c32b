"""Load a BIDS dataset into the database: read_bids, then the engine; re-loads read only what
changed since the last load of the same dataset from the same source."""
from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Image, Measure
from app.storage.trees import FileTree, ListedTree, LocalTree
from load_db.bids.entities import NIFTI_EXTENSIONS, SUBJECT_PREFIX, is_skipped, is_skipped_folder
from load_db.bids.measures import bids_assessments, with_conditions
from load_db.bids.reader import PARTICIPANTS_JSON, PARTICIPANTS_TSV, read_bids, reads_file
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
from load_db.engine.mapping import MappingFile
from load_db.engine.orchestration import dataset_id_for, storage_prefix_for

log = logging.getLogger(__name__)

# Raise it whenever read_bids would make other rows from the same files: a manifest written by
# another version of the reader is not trusted, and the next load reads everything.
READER_VERSION = 2
GONE_FILE = "file gone since the last load"
IMAGE_SOFT_DELETED = "image soft-deleted: its file is gone since the last load"
IMAGE_RESTORED = "image restored: its file is back since the last load"
NO_AGE = ("image without an age at scan: no age in participants.tsv, or several sessions and "
          "no session date (sessions.tsv acq_time) to place them")
PARTICIPANTS_FILES = (PARTICIPANTS_TSV, PARTICIPANTS_JSON)


def load_bids(session: Session, root: FileTree | Path, dataset: str, *,
              register: bool = False, full: bool = False,
              mapping: MappingFile | None = None) -> LoadReport:
    """Upsert the subjects, visits and images of the BIDS tree `root` into `dataset`.

    The dataset is looked up (or, with `register`, created) before the tree is read, so an
    unknown name fails at once; image paths get the dataset's storage prefix. A tree without any
    subject is bad input (nothing is registered). Never commits. The report holds the engine's
    counts and the NIfTI files the adapter ignored.

    Incremental: what each load read (file versions) is recorded in load_manifest, in the
    load's transaction. A later load of the same dataset from the same source reads again only
    what changed (see `plan_read`): the subjects with a file new, changed or gone in their
    folder, every subject row when participants.tsv or .json changed, everything when another
    file outside the subject folders did (a top-level sidecar may feed any image) or with
    `full`. Either way the rows written are those a full read would write, and the rows not
    read again count as unchanged. An image whose file is gone is soft-deleted, and the report
    lists the gone files.

    With a `mapping` (a mapping file, load_db/engine/mapping.py), participants.tsv labels are
    mapped by it and the measures it names are read from participants.tsv and sessions.tsv
    (load_db/bids/measures.py); another mapping version reads everything again.
    """
    dataset_id = dataset_id_for(session, dataset, register=register)
    reader = f"bids {READER_VERSION}, prefix {storage_prefix_for(session, dataset)}"
    if mapping is not None:
        reader += f", mapping {mapping.version[:12]}"
    name = str(root)  # how errors name the dataset: as the caller gave it
    if isinstance(root, str | Path):  # any other object is a tree (files, read_text)
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
        plan = plan_read(changes) if trusted else FULL_READ
        report, per_subject = _read_and_write(session, tree, name, dataset, plan, register,
                                              previous.per_subject if trusted else {}, mapping)
        read = sum(map(plan.reads, versions))
        report.files.update(read=read, unchanged=len(versions) - read, gone=len(changes.gone))
        _mark_gone_and_back(session, dataset_id, dataset, changes,
                            previous.files if previous else {}, report)
        _note_images_without_age(session, dataset_id, report)
        save_manifest(session, dataset_id, tree.source, reader, versions, per_subject)
    return report


@dataclass(frozen=True)
class ReadPlan:
    """What a re-load reads again: the subjects whose folders changed (None: every file), and
    whether the subject rows of every subject are needed too (participants files changed)."""

    subjects: frozenset[str] | None
    every_subject: bool = False

    @property
    def nothing(self) -> bool:
        """Whether nothing at all needs reading again."""
        return self.subjects == frozenset() and not self.every_subject

    def reads(self, path: str) -> bool:
        """Whether the plan reads `path`."""
        return not self.nothing and (self.subjects is None or reads_file(path, self.subjects))


FULL_READ = ReadPlan(None)


def plan_read(changes: FileChanges) -> ReadPlan:
    """What to read again after `changes`, so that the rows come out as a full read's.

    A file in a subject's folder feeds only that subject's rows; participants.tsv and
    participants.json feed every subject row (and nothing else); anything else outside the
    subject folders (a top-level sidecar, dataset_description.json, ...) may feed any row.
    """
    subjects = set()
    every_subject = False
    for path in changes.changed | changes.gone:
        top, slash, _ = path.partition("/")
        if not slash and top in PARTICIPANTS_FILES:
            every_subject = True
        elif not slash or not top.startswith(SUBJECT_PREFIX):
            return FULL_READ
        else:
            subjects.add(top[len(SUBJECT_PREFIX):])
    return ReadPlan(frozenset(subjects), every_subject)


def _read_and_write(session: Session, tree: ListedTree, name: str, dataset: str,
                    plan: ReadPlan, register: bool, previous: Mapping[str, list[int]],
                    mapping: MappingFile | None = None,
                    ) -> tuple[LoadReport, dict[str, list[int]]]:
    """Read what `plan` says and hand the frames to the engine.

    Returns the report, in which the rows of the subjects not read again count as unchanged
    (as a full read would find them), and the [subject, visit, image] rows of every subject.
    """
    if plan.nothing:
        frames = None
    else:
        frames = read_bids(tree, subjects=plan.subjects, every_subject=plan.every_subject)
        if frames.subjects.empty and plan.subjects is None:
            raise LoadError("no subject found (no participants.tsv row and no sub-* folder): "
                            "is this the root of a BIDS dataset?", file=name)
        if mapping is not None:
            units = dict(session.execute(select(Measure.designation, Measure.unit)).all())
            frames.mapping = mapping
            frames.subjects = with_conditions(frames, mapping)
            frames.assessments = bids_assessments(frames, mapping, units)
    report = (LoadReport() if frames is None else frames.report if frames.subjects.empty
              else load_dataset_frames(session, dataset, frames, register=register))
    # Per table, the subjects whose rows were read (None: all); the others keep theirs.
    read = {"subject": None if plan.every_subject else plan.subjects,
            "visit": (None if plan.every_subject and not (frames and frames.has_sessions)
                      else plan.subjects),
            "image": plan.subjects}
    found = {table: Counter() if frames is None else Counter(column) for table, column in (
        ("subject", frames.subjects["external_id"] if frames else ()),
        ("visit", frames.visits["subject"] if frames else ()),
        ("image", frames.images["subject"] if frames else ()))}
    per_subject: dict[str, list[int]] = {}
    for label in set(previous) | {label for counts in found.values() for label in counts}:
        per_subject[label] = [
            found[table][label] if read[table] is None or label in read[table]
            else previous.get(label, [0] * len(COUNTED))[position]
            for position, table in enumerate(COUNTED)]
    for position, table in enumerate(COUNTED):
        if read[table] is not None:
            unchanged = sum(counts[position] for label, counts in previous.items()
                            if label not in read[table])
            report.add(table, TableCounts(unchanged=unchanged))
    return report, {label: counts for label, counts in per_subject.items() if any(counts)}


def _note_images_without_age(session: Session, dataset_id: int, report: LoadReport) -> None:
    """Count the dataset's images (not soft-deleted) left without an age at scan (NO_AGE),
    with a few examples; after a re-load too, since the rows not read again keep theirs."""
    without_age = (select(Image.path).where(Image.dataset_id == dataset_id,
                                            Image.deleted_at.is_(None),
                                            Image.search_age_at_scan.is_(None))
                   .order_by(Image.path))
    count = session.scalar(select(func.count()).select_from(without_age.subquery()))
    if count:
        examples = session.scalars(without_age.limit(LoadReport.MAX_EXAMPLES)).all()
        report.note(NO_AGE, list(examples), count=count)


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
            report.note(IMAGE_SOFT_DELETED, deleted[:LoadReport.MAX_EXAMPLES], count=count)
    back = image_paths(path for path in changes.changed if path not in previous)
    if back and previous:
        count = mark_images_deleted(session, dataset_id, back, deleted=False)
        if count:
            report.note(IMAGE_RESTORED, back[:LoadReport.MAX_EXAMPLES], count=count)
