"""Convert a dataset's stored DICOM images with dcm2niix, through the claims of a processing
task, so that several workers convert in parallel and each image once.

For each claimed image the files it was built from (`image_file`) are downloaded into a
temporary folder, dcm2niix writes NIfTI + sidecar (+ .bval/.bvec) there, and the outputs the
image stands for are stored beside the series (`<image path>.nii.gz`, `.json`, ...; a `#part`
suffix becomes `_part`) and recorded in `converted_file` with the run's provenance. What
dcm2niix says about the series (its sidecar's acquisition fields and BidsGuess) is added to
the image's typing evidence (`metadata_json["dcm2niix"]`) beside the header rule that typed it.
"""
from __future__ import annotations

import getpass
import hashlib
import logging
import shlex
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select, delete, exists, func, insert, select
from sqlalchemy.orm import Session

from app.files.image_files import entry_names, file_set_checksum
from app.models import ConvertedFile, Dataset, Image, ImageFile
from app.processing.leases import LeaseLost, begin_write, claim, complete, fail
from app.processing.provenance import check_record, prov_key, write_prov_objects
from app.storage import ObjectNotFound, Storage, StorageError, sha256_of, validate_key
from app.storage.base import CHUNK_SIZE
from load_db.dicom import dcm2niix
from load_db.dicom.dcm2niix import COMPANIONS, ConversionError, Output

log = logging.getLogger(__name__)

TASK = "dcm2niix"
# A lease long enough for a large series (dcm2niix takes seconds; downloads may take longer).
LEASE_SECONDS = 1800
EXTENSIONS = {"nifti": dcm2niix.NIFTI_SUFFIX, **COMPANIONS}


@dataclass
class ConvertReport:
    """What a conversion run did: images converted (and their outputs), failed (why), and how
    many were already converted before it; disagreements of dcm2niix's guess with the rules."""

    converted: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    already: int = 0
    evidence_restored: int = 0
    disagreements: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready values."""
        return {"converted": len(self.converted), "already_converted": self.already,
                "evidence_restored": self.evidence_restored,
                "failed": self.failed, "images": self.converted,
                "guess_disagrees_with_rules": self.disagreements}


def dataset_id_of(session: Session, designation: str) -> int:
    """The id of a dataset; LookupError when there is none of that name."""
    dataset_id = session.scalar(select(Dataset.id).where(Dataset.designation == designation))
    if dataset_id is None:
        raise LookupError(f"unknown dataset {designation}")
    return dataset_id


def _converted(image_id_column) -> Any:
    return exists().where(ConvertedFile.image_id == image_id_column)


def to_convert(dataset_id: int) -> Select:
    """The ids of the dataset's DICOM images (those with recorded files) not yet converted."""
    return select(Image.id).where(
        Image.dataset_id == dataset_id, Image.deleted_at.is_(None),
        exists().where(ImageFile.image_id == Image.id), ~_converted(Image.id))


def output_base(path: str, prefix: str) -> str:
    """The key an image's outputs start with: its path beside the series folder, a `#part`
    suffix joined by `_`; an image at the top of its dataset's prefix gets `<prefix>/image`
    (so that its outputs stay under the prefix)."""
    if path.strip("/") == prefix.strip("/"):
        return f"{path.rstrip('/')}/{dcm2niix.OUTPUT_NAME}"
    return path.replace("#", "_")


def _download(storage: Storage, keys: list[str], folder: Path) -> dict[str, str]:
    """Copy the image's files into `folder` (by their zip names); return {key: sha256}."""
    names = entry_names(keys)
    digests = {}
    for key in keys:
        target = folder / names[key]
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        try:
            with storage.open(key) as stream, target.open("wb") as out:
                for chunk in iter(lambda: stream.read(CHUNK_SIZE), b""):
                    digest.update(chunk)
                    out.write(chunk)
        except ObjectNotFound as exc:
            raise ConversionError(f"{key} is missing from storage (upload the series before "
                                  "converting it)") from exc
        digests[key] = digest.hexdigest()
    return digests


@dataclass(frozen=True)
class Job:
    """What converting one image needs from the database, read before the long work (so
    that no transaction stays open while files download and dcm2niix runs)."""

    image_id: int
    path: str
    prefix: str
    type: str
    facts: dict[str, Any]
    keys: list[str]


@dataclass
class Done:
    """A finished conversion: the stored outputs, the match note, the sidecar, the record."""

    stored: list[dict[str, Any]]
    note: str
    sidecar: dict[str, Any]
    record: dict[str, Any]


def plan(session: Session, image_id: int) -> Job:
    """Read what converting image `image_id` needs (its path, prefix, type, facts, files)."""
    image = session.get(Image, image_id)
    keys = list(session.scalars(select(ImageFile.key).where(ImageFile.image_id == image_id)
                                .order_by(ImageFile.key)))
    return Job(image.id, image.path, image.dataset.storage_prefix or image.dataset.designation,
               image.type.value, dict(image.metadata_json or {}), keys)


def _outputs(job: Job, primary: Output, others: list[Output]) -> list[tuple[str, str, Path]]:
    """(role, key, local file) of every output to store, the image's own first."""
    base = output_base(job.path, job.prefix)
    stored = [(role, f"{base}{EXTENSIONS[role]}", path)
              for role, path in primary.files.items()]
    for other in others:
        stored += [(f"{role}:{other.suffix}", f"{base}_{other.suffix}{EXTENSIONS[role]}", path)
                   for role, path in other.files.items()]
    for _, key, _ in stored:
        validate_key(key)
    return stored


def run(storage: Storage, job: Job) -> Done:
    """Convert one image's files and store the outputs and their `.prov` objects (no database).

    Raises ConversionError (dcm2niix failed, a file is missing) or StorageError.
    """
    started, clock = datetime.now(UTC), time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mbid-convert-") as temp:
        source, out = Path(temp) / "dicom", Path(temp) / "out"
        source.mkdir()
        digests = _download(storage, job.keys, source)
        outputs = dcm2niix.convert(source, out)
        matched = dcm2niix.match(outputs, job.facts)
        stored = []
        for role, key, path in _outputs(job, matched.primary, matched.others):
            sha256 = sha256_of(path)
            storage.put(key, path, sha256=sha256)
            stored.append({"role": role, "key": key, "size": path.stat().st_size,
                           "sha256": sha256})
    names = entry_names(job.keys)
    parameters = {"dcm2niix_version": dcm2niix.version(), "options": list(dcm2niix.OPTIONS),
                  "input_file_set_sha256": file_set_checksum(
                      {names[key]: digests[key] for key in job.keys}),
                  "match": matched.note, "roles": {item["key"]: item["role"] for item in stored}}
    record = check_record({
        "module": {"name": TASK, "version": dcm2niix.version()},
        "container": None,
        "user": f"{getpass.getuser()}@{socket.gethostname()}",
        "start_time": started.isoformat(),
        "duration": round(time.monotonic() - clock, 6),
        "inputs": [{"key": key, "sha256": digests[key]} for key in job.keys],
        "outputs": [{"key": item["key"], "sha256": item["sha256"]} for item in stored],
        "parameters": parameters,
        "command": shlex.join(["dcm2niix", *dcm2niix.OPTIONS, "-o", "OUT", "DICOM"])})
    write_prov_objects(storage, record)
    return Done(stored, matched.note, matched.primary.sidecar, record)


def record(session: Session, job: Job, done: Done) -> dict[str, Any]:
    """Record a finished conversion: its files in `converted_file`, dcm2niix's evidence in
    the image's metadata. Returns a summary for the report; the caller commits."""
    # The database keeps the record's id and all but the per-file input list (the `.prov`
    # object beside each output has the whole record).
    summary = {key: value for key, value in done.record.items() if key != "inputs"}
    evidence = dcm2niix.evidence(done.sidecar, job.type)
    summary.update(input_files=len(job.keys), prov_key=prov_key(done.stored[0]["key"]),
                   evidence=evidence)
    session.execute(delete(ConvertedFile).where(ConvertedFile.image_id == job.image_id))
    session.execute(insert(ConvertedFile), [
        {"image_id": job.image_id, **item, "provenance": summary} for item in done.stored])
    add_evidence(session.get(Image, job.image_id), evidence)
    return {"image_id": job.image_id, "path": job.path,
            "outputs": {item["role"]: item["key"] for item in done.stored},
            "match": done.note, "dcm2niix": evidence}


def add_evidence(image: Image, evidence: dict[str, Any]) -> None:
    """Put dcm2niix's view of the series into the image's typing evidence, beside `rule`.

    The header rule's decision (`rule`, the type) stays: dcm2niix's BidsGuess is not made for
    every vendor and can be wrong (a GE tensor series is guessed 'derived'), so it is kept as
    evidence, with whether it agrees with the rule, not as the answer.
    """
    image.metadata_json = {**(image.metadata_json or {}), "dcm2niix": evidence}


def restore_evidence(session: Session, dataset_id: int) -> int:
    """Put back dcm2niix's evidence into converted images whose metadata lost it (a load
    again writes the header's metadata as it reads it); returns how many. The caller commits.
    """
    restored = 0
    rows = session.execute(
        select(Image, ConvertedFile.provenance)
        .join(ConvertedFile, ConvertedFile.image_id == Image.id)
        .where(Image.dataset_id == dataset_id, Image.deleted_at.is_(None),
               ConvertedFile.role == "nifti"))
    for image, provenance in rows:
        if "dcm2niix" not in (image.metadata_json or {}) and "evidence" in provenance:
            evidence = dict(provenance["evidence"])
            # The type may have changed since (new rules): agreement is judged again.
            if evidence.get("agrees") is not None:
                evidence["agrees"] = evidence.get("guessed_type") == image.type.value
            add_evidence(image, evidence)
            restored += 1
    return restored


def convert_dataset(session: Session, storage: Storage, designation: str, worker: str, *,
                    limit: int | None = None,
                    on_progress: Callable[[int, int], None] | None = None) -> ConvertReport:
    """Convert the dataset's DICOM images not yet converted, one claim at a time.

    Each image is claimed (task "dcm2niix"), converted, and its claim completed in its own
    transaction (committed here, as a worker does), so concurrent runs never convert one image
    twice; a failure releases the claim for another try (failed for good after three). At most
    `limit` images are converted. `on_progress(done, total)` is called after each image.
    Raises LookupError for an unknown dataset.
    """
    dataset_id = dataset_id_of(session, designation)
    candidates = to_convert(dataset_id)
    report = ConvertReport()
    report.already = session.scalar(select(func.count()).select_from(Image).where(
        Image.dataset_id == dataset_id, Image.deleted_at.is_(None), _converted(Image.id)))
    total = session.scalar(select(func.count()).select_from(candidates.subquery()))
    begin_write(session)
    report.evidence_restored = restore_evidence(session, dataset_id)
    session.commit()
    done = 0
    while limit is None or done < limit:
        leases = claim(session, TASK, worker, candidates=candidates, lease_seconds=LEASE_SECONDS)
        session.commit()
        if not leases:
            break
        lease = leases[0]
        job = plan(session, lease.image_id)
        session.commit()  # no transaction stays open while the files download and convert
        try:
            converted = run(storage, job)
        except (ConversionError, StorageError, OSError) as exc:
            log.warning("not converted: image %s (%s): %s", job.image_id, job.path, exc)
            fail(session, lease.claim_id, lease.lease_token, str(exc))
            session.commit()
            report.failed.append({"image_id": job.image_id, "path": job.path,
                                  "error": str(exc)})
        else:
            begin_write(session)
            summary = record(session, job, converted)
            try:
                complete(session, lease.claim_id, lease.lease_token)
            except LeaseLost as exc:  # it ran past its lease and another worker took it
                session.rollback()
                report.failed.append({"image_id": job.image_id, "path": job.path,
                                      "error": str(exc)})
                continue
            session.commit()
            report.converted.append(summary)
            if summary["dcm2niix"]["agrees"] is False:
                report.disagreements.append({
                    "image_id": job.image_id, "path": job.path, "type": job.type,
                    "BidsGuess": summary["dcm2niix"]["sidecar"].get("BidsGuess")})
        done += 1
        if on_progress is not None:
            on_progress(done, total)
    return report
