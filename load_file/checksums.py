"""Image checksums: record the SHA-256 and size of each image's stored object(s) in the database.

`image.checksum` is filled whichever order the upload and the load ran in: `flask upload` passes
the digests it has just computed, and `flask load` (after a successful load) reads the digests
the stored objects carry in their metadata. `flask check-storage` compares the recorded
checksums with the objects'.

An image stored as one object gets that object's SHA-256. An image made of several files (a
DICOM series: `image_file` rows) gets each file's SHA-256 in its row, and the checksum of the
set (app/files/image_files.py) once every file's is known; its size is the sum of its files'.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.files.image_files import set_checksum_of
from app.models import Dataset, Image, ImageFile
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


@dataclass(frozen=True)
class StoredFile:
    """A file of a multi-file image (an image_file row) beside what storage holds."""

    row_id: int
    image_id: int
    key: str
    size: int | None
    sha256: str | None
    stored_size: int | None  # None: no object has the file's key


@dataclass
class DatasetObjects:
    """A dataset's live images beside storage: one-object images, and files of the others."""

    images: list[StoredImage]
    files: list[StoredFile]
    set_images: dict[int, tuple[str | None, int | None]]  # id: (checksum, file_size)


def _dataset_objects(session: Session, storage: Storage, designation: str, *,
                     only_stored: bool = False) -> DatasetObjects:
    """Every live image of the dataset with the size of its object or of each of its files
    (one storage listing); with `only_stored`, nothing when storage holds none of them."""
    empty = DatasetObjects([], [], {})
    dataset_id = session.scalar(select(Dataset.id).where(Dataset.designation == designation))
    if dataset_id is None:
        return empty
    prefix = Dataset.prefix_for(session, designation).strip("/")
    listing_prefix = validate_prefix(f"{prefix}/" if prefix else "")
    sizes = {info.key: info.size for info in storage.list(listing_prefix)}
    if only_stored and not sizes:  # a load before any upload: no image rows to read
        return empty
    live = (Image.dataset_id == dataset_id, Image.deleted_at.is_(None))
    files = [StoredFile(row.id, row.image_id, row.key, row.size, row.sha256, sizes.get(row.key))
             for row in session.execute(
                 select(ImageFile.id, ImageFile.image_id, ImageFile.key, ImageFile.size,
                        ImageFile.sha256).join(Image, Image.id == ImageFile.image_id)
                 .where(*live).order_by(ImageFile.key))]
    with_files = {file.image_id for file in files}
    rows = session.execute(select(Image.id, Image.path, Image.checksum, Image.file_size)
                           .where(*live).order_by(Image.path)).all()
    return DatasetObjects(
        [StoredImage(row.id, row.path, row.checksum, row.file_size, sizes.get(row.path))
         for row in rows if row.id not in with_files],
        files, {row.id: (row.checksum, row.file_size) for row in rows if row.id in with_files})


def _stored_images(session: Session, storage: Storage, designation: str, *,
                   only_stored: bool = False) -> list[StoredImage]:
    """Every live one-object image of the dataset, with the size of its object."""
    return _dataset_objects(session, storage, designation, only_stored=only_stored).images


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
    objects = _dataset_objects(session, storage, designation, only_stored=True)
    images = [image for image in objects.images if image.stored_size is not None]
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
    changes += _file_set_changes(session, storage, objects, known, workers)
    for start in range(0, len(changes), UPDATE_BATCH):
        session.execute(update(Image), changes[start:start + UPDATE_BATCH])
    log.info("%s: checksums recorded for %d of %d stored images", designation, len(changes),
             len(images) + len(objects.set_images))
    return len(changes)


def _file_set_changes(session: Session, storage: Storage, objects: DatasetObjects,
                      known: Mapping[str, tuple[int, str]], workers: int) -> list[dict]:
    """Record the SHA-256 of each stored file of the multi-file images (bulk), and return the
    image updates: the set's checksum and total size, for the images whose files are known."""
    stored = [file for file in objects.files if file.stored_size is not None]
    to_ask = [file.key for file in stored if file.key not in known and not (
        file.sha256 and file.size == file.stored_size)]
    asked = _digests(storage, to_ask, workers)
    digests: dict[int, dict[str, tuple[int | None, str | None]]] = {}
    file_changes = []
    for file in objects.files:
        size, sha256 = file.size, file.sha256
        if file.key in known:
            size, sha256 = known[file.key]
        elif asked.get(file.key) is not None:
            size, sha256 = file.stored_size, asked[file.key]
        elif file.stored_size is None or file.stored_size != file.size:
            sha256 = None  # gone or changed: its recorded digest no longer holds
        if (size, sha256) != (file.size, file.sha256):
            file_changes.append({"id": file.row_id, "size": size, "sha256": sha256})
        digests.setdefault(file.image_id, {})[file.key] = (size, sha256)
    for start in range(0, len(file_changes), UPDATE_BATCH):
        session.execute(update(ImageFile), file_changes[start:start + UPDATE_BATCH])
    changes = []
    for image_id, files in digests.items():
        checksum = set_checksum_of((key, sha256) for key, (_, sha256) in files.items())
        size = sum(size or 0 for size, _ in files.values()) if checksum else None
        old_checksum, old_size = objects.set_images[image_id]
        if checksum is not None and (old_checksum, old_size) != (checksum, size):
            changes.append({"id": image_id, "checksum": checksum, "file_size": size})
        elif checksum is None and old_checksum is not None:
            changes.append({"id": image_id, "checksum": None, "file_size": old_size})
    return changes


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
    objects = _dataset_objects(session, storage, designation)
    images = objects.images
    stored = [image for image in images if image.stored_size is not None]
    files = [file for file in objects.files if file.stored_size is not None]
    digests = _digests(storage, [image.path for image in stored] + [file.key for file in files],
                       workers)
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
    differences += _file_set_differences(objects, digests)
    return sorted(differences, key=lambda difference: (difference.key, difference.kind))


def _file_set_differences(objects: DatasetObjects,
                          digests: Mapping[str, str | None]) -> list[Difference]:
    """The differences of multi-file images: a file with no object, no recorded checksum, or
    a recorded checksum that the stored files' digests do not give."""
    differences = [Difference("unstored", file.key, f"file of image {file.image_id} has no "
                              "object in storage")
                   for file in objects.files if file.stored_size is None]
    incomplete = {file.image_id for file in objects.files if file.stored_size is None}
    by_image: dict[int, list[tuple[str, str | None]]] = {}
    for file in objects.files:
        by_image.setdefault(file.image_id, []).append((file.key, digests.get(file.key)))
    for image_id, (recorded, _) in sorted(objects.set_images.items()):
        files = by_image.get(image_id, [])
        if image_id in incomplete:
            continue  # reported above, file by file
        folder = files[0][0].rpartition("/")[0] if files else ""
        if not recorded:
            differences.append(Difference(
                "unrecorded", folder, f"image {image_id} has no checksum in the database: run "
                "flask upload or flask load"))
            continue
        actual = set_checksum_of(files)
        if actual is not None and actual != recorded:
            differences.append(Difference(
                "recorded", folder, f"image {image_id}: database sha256 {recorded}, storage "
                f"files give {actual}"))
    return differences
