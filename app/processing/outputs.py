"""What a finished claim records: its derived files, each with its provenance record.

A worker uploads its outputs under the claim's prefix (`derived_prefix`), then completes the
claim with the files' types and QC values and one provenance record describing the run. The
record must list exactly those outputs, with the SHA-256 of the stored objects; it is kept (with
its id) on every derived-file row and written as a `.prov` object beside each output.
"""
from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Claim, FileType, Image, PreprocessTask, PreprocessTaskFile
from app.processing.provenance import ProvenanceError, check_record, write_prov_objects
from app.storage import ObjectNotFound, Storage, check_key

# An uploaded output stays in memory up to this size, and goes to a temporary file beyond: a
# worker's outputs (whole processed volumes) can be gigabytes.
UPLOAD_SPOOL_BYTES = 1024 * 1024
UPLOAD_CHUNK_BYTES = 1024 * 1024


class OutputTooLarge(ValueError):
    """An uploaded output larger than the configured limit (MAX_OUTPUT_UPLOAD_BYTES)."""


@dataclass(frozen=True)
class SpooledOutput:
    """An uploaded output held in a spooled temporary file (rewound), with its size and hash."""

    file: IO[bytes]
    size: int
    sha256: str


@contextmanager
def spooled_output(stream: IO[bytes], limit: int) -> Iterator[SpooledOutput]:
    """Copy an upload from `stream` a chunk at a time, hashing it, and hand it out spooled.

    Raises OutputTooLarge as soon as more than `limit` bytes arrive; the temporary file is
    removed when the block ends.
    """
    digest, size = hashlib.sha256(), 0
    with tempfile.SpooledTemporaryFile(max_size=UPLOAD_SPOOL_BYTES) as spool:
        for chunk in iter(lambda: stream.read(UPLOAD_CHUNK_BYTES), b""):
            size += len(chunk)
            if size > limit:
                raise OutputTooLarge(f"the output is larger than the limit of {limit} bytes "
                                     "(MAX_OUTPUT_UPLOAD_BYTES)")
            digest.update(chunk)
            spool.write(chunk)
        spool.seek(0)
        yield SpooledOutput(file=spool, size=size, sha256=digest.hexdigest())


def derived_prefix(claim: Claim) -> str:
    """Return the storage prefix of a claim's outputs: derived/<task>/image-<id>/ (or subject-)."""
    target = f"image-{claim.image_id}" if claim.image_id is not None else (
        f"subject-{claim.subject_id}")
    return f"derived/{claim.task}/{target}/"


def output_key(claim: Claim, name: str) -> str:
    """Return the key of the output file `name` of a claim; ProvenanceError if unusable."""
    if "/" in name or name.endswith(".prov"):
        raise ProvenanceError(f"output name {name!r}: one path segment, not ending in .prov")
    key = derived_prefix(claim) + name
    problem = check_key(key)
    if problem:
        raise ProvenanceError(f"output name {name!r}: {problem}")
    return key


def _file_type(session: Session, designation: str) -> FileType:
    found = session.scalar(select(FileType).where(FileType.designation == designation))
    if found is None:
        found = FileType(designation=designation)
        session.add(found)
    return found


def _target_image_ids(session: Session, claim: Claim) -> set[int]:
    if claim.image_id is not None:
        return {claim.image_id}
    return set(session.scalars(select(Image.id).where(Image.subject_id == claim.subject_id,
                                                      Image.deleted_at.is_(None))))


def _parse_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def register_outputs(
    session: Session, storage: Storage, claim: Claim, record: Mapping[str, Any],
    outputs: Sequence[Mapping[str, Any]],
) -> list[PreprocessTaskFile]:
    """Add the derived-file rows of a claim's outputs and write their `.prov` objects.

    Each output is {"key", "file_type", "qc_value" (optional), "image_id" (optional; for subject
    claims, which of the subject's images the file derives from)}. Raises ProvenanceError when
    an output is not under the claim's prefix, is missing from storage, or differs from what the
    record says. Nothing is committed; the `.prov` objects are written last.
    """
    record = check_record(record)
    recorded = {item["key"]: item["sha256"] for item in record["outputs"]}
    given = [item["key"] for item in outputs]
    if sorted(given) != sorted(recorded) or len(set(given)) != len(given):
        raise ProvenanceError("the provenance record's outputs must be exactly the files "
                              f"completed: record {sorted(recorded)}, files {sorted(given)}")
    prefix = derived_prefix(claim)
    allowed_images = _target_image_ids(session, claim)
    module = record["module"] if isinstance(record["module"], Mapping) else {}
    started = _parse_time(record["start_time"])
    duration = record["duration"] if isinstance(record["duration"], int | float) else None
    task = PreprocessTask(
        module=str(module.get("name", claim.task)), version=str(module.get("version", "")),
        parameters=record["parameters"] if isinstance(record["parameters"], dict) else None,
        description=f"claim {claim.id} of task {claim.task}", started_at=started,
        finished_at=started + timedelta(seconds=duration) if started and duration else None)
    session.add(task)
    rows = []
    for item in outputs:
        key = item["key"]
        if not key.startswith(prefix):
            raise ProvenanceError(f"output {key}: outputs of claim {claim.id} live under "
                                  f"{prefix}")
        try:
            stored = storage.stat(key)
        except ObjectNotFound:
            raise ProvenanceError(f"output {key} is not in storage: upload it first") from None
        if stored.sha256 != recorded[key]:
            raise ProvenanceError(f"output {key}: stored SHA-256 {stored.sha256} is not the "
                                  f"record's {recorded[key]}")
        image_id = item.get("image_id") or claim.image_id
        if image_id not in allowed_images:
            raise ProvenanceError(f"output {key}: image_id must be one of the claim's images "
                                  f"{sorted(allowed_images)}")
        rows.append(PreprocessTaskFile(
            image_id=image_id, preprocess_task=task,
            file_type=_file_type(session, item["file_type"]), path=key,
            checksum=stored.sha256, file_size=stored.size, qc_value=item.get("qc_value"),
            provenance=record, provenance_id=record["id"]))
    session.add_all(rows)
    session.flush()
    write_prov_objects(storage, record)
    return rows
