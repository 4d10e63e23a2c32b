"""Image checksums: record the SHA-256 and size of each image's stored object in the database.

`image.checksum` is filled whichever order the upload and the load ran in: `flask upload` passes
the digests it has just computed, and `flask load` (after a successful load) reads the digests
the stored objects carry in their metadata. `flask check-storage` compares the recorded
checksums with the objects'.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import Dataset, Image
from app.storage import ObjectNotFound, Storage, StorageError, validate_prefix
from load_file.check import Difference

log = logging.getLogger(__name__)

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
DEFAULT_WORKERS = 8
# Rows per UPDATE statement: big enough to be quick, small enough for any driver's limits.
UPDATE_BATCH = 1000


@dataclass(frozen=True)
class StoredImage:
    """An image row of the database beside what storage holds under its path."""

    image_id: int
    path: str
    checksum: str | None
    file_size: int | None
    stored_size: int | None  # None: no object has the image's path


def _stored_images(session: Session, storage: Storage, designation: str, *,
                   only_stored: bool = False) -> list[StoredImage]:
    """Every live image of the dataset, with the size of its object (one storage listing);
    with `only_stored`, only the images whose object is there."""
    dataset_id = session.scalar(select(Dataset.id).where(Dataset.designation == designation))
    if dataset_id is None:
        return []
    prefix = Dataset.prefix_for(session, designation).strip("/")
    listing_prefix = validate_prefix(f"{prefix}/" if prefix else "")
    sizes = {info.key: info.size for info in storage.list(listing_prefix)}
    if only_stored and not sizes:  # a load before any upload: no image rows to read
        return []
    rows = session.execute(select(Image.id, Image.path, Image.checksum, Image.file_size)
                           .where(Image.dataset_id == dataset_id, Image.deleted_at.is_(None))
                           .order_by(Image.path))
    return [StoredImage(row.id, row.path, row.checksum, row.file_size, sizes.get(row.path))
            for row in rows]


def _digests(storage: Storage, keys: Iterable[str], workers: int) -> dict[str, str | None]:
    """{key: SHA-256 the storage knows} (None for an object written by another tool)."""
    def digest(key: str) -> tuple[str, str | None]:
        try:
            return key, storage.stat(key).sha256
        except ObjectNotFound:  # deleted since the listing
            return key, None

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return dict(pool.map(digest, keys))


def fill_image_checksums(session: Session, storage: Storage, designation: str, *,
                         known: Mapping[str, tuple[int, str]] | None = None,
                         workers: int = DEFAULT_WORKERS) -> int:
    """Record checksum and file size of every image of `designation` whose object is stored.

    Parameters
    ----------
    session : the database session; the caller commits.
    storage : where the dataset's objects are.
    designation : the dataset; an unknown one has no images (0 is returned).
    known : {key: (size, sha256)} the caller has just computed (an upload), trusted as is.
    workers : objects asked for their digest at once.

    Returns
    -------
    The number of images whose checksum or size changed. An image whose recorded checksum is
    a SHA-256 and whose size matches its object is left as it is without reading the object;
    one whose object is absent, or carries no SHA-256, is left untouched.
    """
    known = known or {}
    images = [image for image in _stored_images(session, storage, designation, only_stored=True)
              if image.stored_size is not None]
    to_ask = [image.path for image in images if image.path not in known and not (
        image.checksum and SHA256_HEX.match(image.checksum)
        and image.file_size == image.stored_size)]
    asked = _digests(storage, to_ask, workers)
    changes = []
    for image in images:
        if image.path in known:
            size, sha256 = known[image.path]
        elif image.path in asked and asked[image.path] is not None:
            size, sha256 = image.stored_size, asked[image.path]
        else:
            continue
        if (image.checksum, image.file_size) != (sha256, size):
            changes.append({"id": image.image_id, "checksum": sha256, "file_size": size})
    for start in range(0, len(changes), UPDATE_BATCH):
        session.execute(update(Image), changes[start:start + UPDATE_BATCH])
    log.info("%s: checksums recorded for %d of %d stored images", designation, len(changes),
             len(images))
    return len(changes)


def record_image_checksums(session: Session, storage: Storage, designation: str,
                           known: Mapping[str, tuple[int, str]] | None = None) -> int | None:
    """fill_image_checksums, then commit; None (logged) when storage cannot be read.

    Commands call it after an upload and after a load, so that the checksums are recorded
    whichever ran first; a storage failure here must not fail the upload or load that succeeded.
    """
    try:
        count = fill_image_checksums(session, storage, designation, known=known)
    except StorageError as exc:
        session.rollback()
        log.warning("image checksums of %s not recorded: %s", designation, exc)
        return None
    session.commit()
    return count


def compare_image_checksums(session: Session, storage: Storage, designation: str, *,
                            workers: int = DEFAULT_WORKERS) -> list[Difference]:
    """Compare each image's recorded checksum with the SHA-256 of its object, by key.

    Kinds: `unstored` (no object has the image's path), `unrecorded` (the database has no
    checksum for a stored image), `recorded` (the database and the object disagree).
    """
    images = _stored_images(session, storage, designation)
    stored = [image for image in images if image.stored_size is not None]
    digests = _digests(storage, [image.path for image in stored], workers)
    differences = [Difference("unstored", image.path, f"image {image.image_id} has no "
                                      "object in storage")
                   for image in images if image.stored_size is None]
    for image in stored:
        actual = digests[image.path]
        if not image.checksum:
            differences.append(Difference(
                "unrecorded", image.path, f"image {image.image_id} has no checksum in the "
                "database: run flask upload or flask load"))
        elif actual is not None and actual != image.checksum:
            differences.append(Difference(
                "recorded", image.path, f"database sha256 {image.checksum}, storage {actual}"))
    return sorted(differences, key=lambda difference: (difference.key, difference.kind))
