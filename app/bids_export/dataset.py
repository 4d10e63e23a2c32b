"""A cohort or an /images query as a BIDS dataset: which files go where, and the metadata files.

`plan_export` takes manifest rows (app/query/cohorts.py) and answers a `BidsExport`: the
metadata files as bytes (dataset_description.json, README, participants.tsv/json, each
subject's sessions.tsv/json, each image's JSON sidecar) and the stored objects to copy (each
NIfTI file, each .bval/.bvec), by their path in the dataset, with the images left out and why.
Writers (app/bids_export/write.py, the API's zip) only copy what it lists.

Metadata files are the same bytes on every export of the same images: JSON with sorted keys,
two-space indents and "\\n" line ends, rows in a fixed order, no time of export anywhere.
"""
from __future__ import annotations

import json
import logging
import posixpath
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from sqlalchemy import Select, select

from app.bids_export.files import StoredSidecars, export_files
from app.bids_export.names import (
    BidsTarget,
    NoBidsName,
    Placement,
    bids_target,
    number_runs,
    session_labels,
    source_name,
    subject_labels,
)
from app.extensions import db
from app.files.converted import converted_files
from app.files.image_files import BATCH, ImageObjects, objects_by_image
from app.models import Cohort, Dataset, Image, Subject, Visit
from app.models.search import DAYS_PER_YEAR
from app.query.cohorts import frozen_manifest, manifest_of, manifest_sha256
from app.query.images import filtered_images
from app.query.participants import cell, cohort_subjects, participant_table
from app.storage import Storage

log = logging.getLogger(__name__)

BIDS_VERSION = "1.8.0"
SUBJECT_LABEL_DESCRIPTION = (
    "The participant: sub-<label>, the label being the participant's dataset designation "
    "followed by its id in that dataset, with anything but letters and digits removed "
    "(\"dupN\" appended where two would be equal).")
SESSIONS_COLUMNS = ("session_id", "source_session_id", "days_since_baseline", "age")
SESSIONS_DICTIONARY = {
    "source_session_id": {"Description": "The visit's id in its dataset (n/a: images without "
                                         "a visit)."},
    "days_since_baseline": {"Description": "Days from the participant's baseline (first "
                                           "visit) to this visit.", "Units": "days"},
    "age": {"Description": "Age of the participant at this visit: age at baseline plus days "
                           "since baseline / 365.25.", "Units": "years"},
}
# Why an image of the cohort is not in the export (each one listed in the README).
NOT_LIVE = "the image or its participant was withdrawn since the cohort was saved"
OUTSIDE = "its stored file lies outside its dataset's storage folder"
NO_NIFTI = "no NIfTI file (a DICOM series not converted yet)"
NO_GRADIENTS = "a DWI without .bval/.bvec files"
NO_REPETITION_TIME = "a functional run whose sidecar gives no RepetitionTime (BIDS requires it)"


def json_bytes(value: Any) -> bytes:
    """A JSON file's bytes, the same for the same value: sorted keys, "\\n" line ends."""
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def tsv_bytes(rows: Sequence[Sequence[str]]) -> bytes:
    """A TSV file's bytes: one tab-separated line per row, "\\n" line ends."""
    return "".join("\t".join(row) + "\n" for row in rows).encode()


def mbid_version() -> str:
    """The installed version of the mbid-db package ("unknown" when not installed)."""
    try:
        return metadata.version("mbid-db")
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class LeftOut:
    """An image of the cohort that is not in the export, and why."""

    image_id: int
    dataset: str
    path: str
    reason: str


@dataclass
class BidsExport:
    """A BIDS dataset to write: metadata files (`texts`) and stored objects to copy
    (`objects`), each by its path in the dataset; what was left out; the images exported."""

    name: str
    manifest_sha256: str
    texts: dict[str, bytes] = field(default_factory=dict)
    objects: dict[str, str] = field(default_factory=dict)
    left_out: list[LeftOut] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    subjects: int = 0
    sessions: int = 0

    def summary(self) -> dict[str, Any]:
        """What the export holds, as the command prints it (--json)."""
        return {"name": self.name, "manifest_sha256": self.manifest_sha256,
                "subjects": self.subjects, "sessions": self.sessions,
                "images": len(self.images), "files": len(self.texts) + len(self.objects),
                "left_out": [{"image_id": item.image_id, "dataset": item.dataset,
                              "path": item.path, "reason": item.reason}
                             for item in self.left_out]}


@dataclass(frozen=True)
class _Source:
    """What the export needs of one image beyond its manifest row."""

    live: bool
    visit: str | None
    days: int | None
    prefix: str


def _sources(image_ids: Sequence[int]) -> dict[int, _Source]:
    """{image id: its visit, visit day and dataset prefix} (in batches)."""
    found = {}
    for start in range(0, len(image_ids), BATCH):
        rows = db.session.execute(
            select(Image.id, Image.deleted_at, Subject.deleted_at.label("subject_deleted"),
                   Visit.external_id, Visit.days_since_baseline, Dataset.storage_prefix,
                   Dataset.designation)
            .join(Subject, Subject.id == Image.subject_id)
            .join(Dataset, Dataset.id == Image.dataset_id)
            .outerjoin(Visit, Visit.id == Image.visit_id)
            .where(Image.id.in_(image_ids[start:start + BATCH])))
        for row in rows:
            found[row.id] = _Source(
                row.deleted_at is None and row.subject_deleted is None, row.external_id,
                row.days_since_baseline, (row.storage_prefix or row.designation).strip("/"))
    return found


def _stored_sidecars(storage: Storage, prefixes: set[str]) -> dict[str, StoredSidecars]:
    """The stored sidecars of each dataset prefix: one listing of each."""
    return {prefix: StoredSidecars(info.key for info in storage.list(f"{prefix}/"))
            for prefix in sorted(prefixes)}


def plan_cohort(cohort: Cohort, storage: Storage) -> BidsExport:
    """Plan the BIDS dataset of a saved cohort's frozen images (those the caller sees)."""
    return plan_export(frozen_manifest(cohort.id), cohort_subjects(cohort.id),
                       name=f"MBID-db cohort {cohort.id}: {cohort.name}",
                       manifest_sha256=cohort.manifest_sha256, storage=storage)


def plan_query(text: str, args: Mapping[str, Any], storage: Storage) -> BidsExport:
    """Plan the BIDS dataset of the images the /images query `args` (parsed from the query
    string `text`) matches now."""
    rows = manifest_of(args)
    images = filtered_images(dict(args)).subquery()
    return plan_export(rows, select(images.c.subject_id).distinct(),
                       name=f"MBID-db query: {text}", manifest_sha256=manifest_sha256(rows),
                       storage=storage)


def plan_export(rows: Sequence[Mapping[str, Any]], subject_ids: Select, *, name: str,
                manifest_sha256: str, storage: Storage) -> BidsExport:
    """Plan the BIDS dataset of the manifest `rows` (see the module).

    `subject_ids` selects the ids of their subjects (the participants table's rows), `name`
    names the dataset, `manifest_sha256` is the SHA-256 of the rows' manifest.
    """
    export = BidsExport(name, manifest_sha256)
    image_ids = [row["image_id"] for row in rows]
    sources = _sources(image_ids)
    served = objects_by_image(db.session, image_ids)
    converted = converted_files(db.session, image_ids)
    table = participant_table(subject_ids, with_dataset=True, labels=subject_labels,
                              label_description=SUBJECT_LABEL_DESCRIPTION, with_source_id=True)
    label_of = {subject_id: row[0] for subject_id, row in zip(table.subject_ids, table.rows,
                                                               strict=True)}
    sidecars = _stored_sidecars(storage, {sources[i].prefix for i in image_ids if i in sources})

    candidates: list[tuple[Mapping[str, Any], dict[str, Any], BidsTarget]] = []
    json_cache: dict[str, dict[str, Any]] = {}  # sidecars read once, by key
    for row in rows:
        found = _exportable(row, sources.get(row["image_id"]), served.get(row["image_id"]),
                            sidecars, label_of, converted.get(row["image_id"]))
        if not isinstance(found, str) and found[1].datatype == "func" and (
                "RepetitionTime" not in _merged(found[0]["sidecar"], storage, json_cache)):
            found = NO_REPETITION_TIME
        if isinstance(found, str):
            export.left_out.append(LeftOut(row["image_id"], row["dataset"], row["path"], found))
        else:
            candidates.append((row, *found))

    visit_of = {row["image_id"]: _session_key(sources[row["image_id"]], files["nifti"])
                for row, files, _ in candidates}
    sessions = _sessions(candidates, sources, visit_of)
    placements = number_runs(
        Placement(row["image_id"], files["nifti"], label_of[row["subject_id"]],
                  sessions[row["subject_id"]][visit_of[row["image_id"]]][0], target)
        for row, files, target in candidates)
    by_id = {row["image_id"]: (row, files) for row, files, _ in candidates}
    new_paths = {placement.key: placement.path for placement in placements}
    for placement in placements:
        row, files = by_id[placement.image_id]
        stem = placement.path.removesuffix(placement.target.extension)
        export.objects[placement.path] = files["nifti"]
        for role in ("bval", "bvec"):
            if files[role]:
                export.objects[f"{stem}.{role}"] = files[role]
        sidecar = _sidecar(files["sidecar"], placement, storage, json_cache, new_paths)
        if sidecar:
            export.texts[f"{stem}.json"] = json_bytes(sidecar)
        export.images.append({"id": row["image_id"], "dataset": row["dataset"]})

    exported = {label_of[row["subject_id"]] for row, _, _ in candidates}
    _participants(export, table, exported)
    _session_files(export, sessions, label_of, table)
    export.texts["dataset_description.json"] = json_bytes(_description(export))
    export.texts["README"] = _readme(export).encode()
    return export


def _exportable(row: Mapping[str, Any], source: _Source | None, image: ImageObjects | None,
                sidecars: Mapping[str, StoredSidecars], label_of: Mapping[int, str],
                converted: Mapping[str, str] | None = None,
                ) -> tuple[dict[str, Any], BidsTarget] | str:
    """An image's files by role and where it goes, or why it is left out. `converted` are
    the files dcm2niix made of it, if any."""
    if source is None or not source.live or row["subject_id"] not in label_of:
        return NOT_LIVE
    if image is None:
        return OUTSIDE
    files = export_files(image.objects[0].key, image.is_set, sidecars[source.prefix],
                         source.prefix, converted)
    if files is None:
        return NO_NIFTI
    try:
        target = bids_target(files["nifti"], row["type"])
    except NoBidsName as exc:
        return str(exc)
    if target.datatype == "dwi" and not (files["bval"] and files["bvec"]):
        return NO_GRADIENTS
    return files, target


def _session_key(source: _Source, key: str) -> str | None:
    """The visit id of an image's session: its visit's, else (an image stored without a
    visit) the session of its source BIDS name, else None."""
    if source.visit is not None:
        return source.visit
    parsed = source_name(key)
    return parsed[0].get("ses") if parsed else None


def _sessions(candidates: Sequence[tuple[Mapping[str, Any], Any, Any]],
              sources: Mapping[int, _Source], visit_of: Mapping[int, str | None],
              ) -> dict[int, dict[str | None, tuple[str, Any]]]:
    """{subject id: {visit id: (ses-<label>, day)}} of the visits of the images exported,
    labelled in the order of (day, visit id) so that labels do not depend on the rows' order."""
    visits: dict[int, dict[str | None, int | None]] = defaultdict(dict)
    for row, _, _ in candidates:
        source = sources[row["image_id"]]
        days = source.days if source.visit is not None else None
        visits[row["subject_id"]][visit_of[row["image_id"]]] = days
    sessions = {}
    for subject_id, days in visits.items():
        order = sorted(days, key=lambda visit: (days[visit] is None, days[visit] or 0,
                                                visit is None, visit or ""))
        labels = session_labels(order)
        sessions[subject_id] = {visit: (label, days[visit])
                                for visit, label in zip(order, labels, strict=True)}
    return sessions


def with_sidecars(key: str, prefix: str, storage: Storage,
                  converted: Mapping[str, str] | None = None,
                  ) -> tuple[dict[str, bytes], dict[str, str]] | None:
    """One NIfTI image's download with its sidecars: ({name: bytes} of its merged JSON
    sidecar, {name: key} of its file and its .bval/.bvec), named after the file; None when
    `key` is not a NIfTI file. `prefix` is its dataset's storage prefix; `converted` the
    files dcm2niix made of a DICOM image ({role: key}), which are its NIfTI and sidecars."""
    # A converted image has no BIDS neighbours to inherit from: no listing needed.
    stored = StoredSidecars(()) if converted else _stored_sidecars(storage, {prefix})[prefix]
    files = export_files(key, False, stored, prefix, converted)
    if files is None:
        return None
    name = posixpath.basename(files["nifti"])
    stem = name.removesuffix(".gz").removesuffix(".nii")
    objects = {name: files["nifti"], **{f"{stem}.{role}": files[role]
                                        for role in ("bval", "bvec") if files[role]}}
    sidecar = _merged(files["sidecar"], storage, {})
    return ({f"{stem}.json": json_bytes(sidecar)} if sidecar else {}), objects


def _merged(keys: Sequence[str], storage: Storage,
            cache: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The JSON sidecars at `keys` merged in order (BIDS inheritance: the nearer wins)."""
    merged: dict[str, Any] = {}
    for key in keys:
        if key not in cache:
            try:
                cache[key] = json.loads(storage.read(key))
            except ValueError:
                log.warning("sidecar %s is not JSON: left out of the export", key)
                cache[key] = {}
        merged.update(cache[key] if isinstance(cache[key], dict) else {})
    return merged


def retarget_intended_for(intended: Any, key: str, new_paths: Mapping[str, str]) -> list[str]:
    """A field map's IntendedFor (paths relative to its subject's folder, or `bids::` URIs
    from its dataset's root) made to name the exported files: `key` is the field map's stored
    key, `new_paths` {stored key: path in the export}; files not exported are dropped."""
    folders = key.split("/")[:-1]
    at = max((index for index, part in enumerate(folders) if part.startswith("sub-")),
             default=None)
    if at is None:
        return []
    root, subject = "/".join(folders[:at]), "/".join(folders[:at + 1])
    found = []
    for value in intended if isinstance(intended, list) else [intended]:
        if not isinstance(value, str):
            continue
        uri = value.startswith("bids::")
        relative = value.removeprefix("bids::")
        source = f"{root}/{relative}" if uri and root else relative if uri else (
            f"{subject}/{relative}")
        if source in new_paths:
            new = new_paths[source]
            found.append(f"bids::{new}" if uri else new.split("/", 1)[1])
    return found


def _sidecar(keys: Sequence[str], placement: Placement, storage: Storage,
             cache: dict[str, dict[str, Any]], new_paths: Mapping[str, str]) -> dict[str, Any]:
    """The image's sidecar: its stored sidecars merged, with the TaskName BIDS requires of a
    functional run when none of them gives it, and IntendedFor naming the exported files."""
    merged = _merged(keys, storage, cache)
    if "IntendedFor" in merged:
        merged["IntendedFor"] = retarget_intended_for(merged["IntendedFor"], placement.key,
                                                      new_paths)
        if not merged["IntendedFor"]:
            del merged["IntendedFor"]
    task = dict(placement.target.entities).get("task")
    if placement.target.datatype == "func" and task and "TaskName" not in merged:
        merged["TaskName"] = task
    return merged


def _participants(export: BidsExport, table: Any, exported: set[str]) -> None:
    """participants.tsv/json: the table's rows of the participants with an image exported (a
    participant listed without a folder is an error for BIDS validators)."""
    rows = [row for row in table.rows if row[0] in exported]
    export.subjects = len(rows)
    export.texts["participants.tsv"] = tsv_bytes([table.columns, *rows])
    export.texts["participants.json"] = table.json().encode()


def _session_files(export: BidsExport, sessions: Mapping[int, Mapping[str | None, Any]],
                   label_of: Mapping[int, str], table: Any) -> None:
    """Each participant's sessions.tsv (session, visit id, day, age at the visit) and its
    sessions.json dictionary."""
    age_column = table.columns.index("age")
    ages = {row[0]: row[age_column] for row in table.rows}
    for subject_id, visits in sessions.items():
        subject = label_of[subject_id]
        lines = [list(SESSIONS_COLUMNS)]
        for visit, (label, days) in sorted(visits.items(), key=lambda item: item[1][0]):
            age = ages[subject]
            at_visit = (float(age) + days / DAYS_PER_YEAR
                        if age != "n/a" and days is not None else None)
            lines.append([label, cell(visit), cell(days),
                          cell(round(at_visit, 2) if at_visit is not None else None)])
        export.sessions += len(visits)
        export.texts[f"{subject}/{subject}_sessions.tsv"] = tsv_bytes(lines)
        export.texts[f"{subject}/{subject}_sessions.json"] = json_bytes(SESSIONS_DICTIONARY)


def _description(export: BidsExport) -> dict[str, Any]:
    """dataset_description.json: the name, the BIDS version, and MBID-db as its maker with
    the manifest's SHA-256."""
    return {"Name": export.name, "BIDSVersion": BIDS_VERSION, "DatasetType": "raw",
            "GeneratedBy": [{
                "Name": "MBID-db", "Version": mbid_version(),
                "Description": f"Exported from MBID-db; manifest SHA-256 "
                               f"{export.manifest_sha256}."}]}


def _readme(export: BidsExport) -> str:
    """The README: what the dataset is, how it is named, and every image left out."""
    lines = [
        f"# {export.name}", "",
        "A BIDS dataset exported by MBID-db.", "",
        f"Manifest SHA-256: {export.manifest_sha256}",
        f"Participants: {export.subjects}; sessions: {export.sessions}; "
        f"images: {len(export.images)}; images left out: {len(export.left_out)}.", "",
        "Participants are named by their dataset and their id in it (sub-<dataset><id>); the",
        "columns dataset and source_participant_id of participants.tsv give both. Sessions",
        "are the visits (source_session_id in each sessions.tsv). Sidecars are the source's",
        "own, merged as BIDS inheritance merges them.", ""]
    if export.left_out:
        lines += ["## Images left out", ""]
        lines += [f"- image {item.image_id} ({item.dataset}: {item.path}): {item.reason}"
                  for item in export.left_out]
        lines.append("")
    return "\n".join(lines)
