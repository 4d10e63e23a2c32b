"""The objects an image is served from, and the one rule that they lie in its dataset's folder.

An image is stored either as one object, its `path` (a NIfTI file), or as the set of files it
was built from (a DICOM series or one part of it: `image_file` rows, wherever the files sit).
A DICOM image converted by dcm2niix is served as its NIfTI (app/files/converted.py).
Keys are taken from these rows as they are, never cut out of a text: a DICOM image's `path`
names the series (a folder, plus `#...` when the folder holds several) and is not a key.

Every object served (a download, a zip entry, a presigned URL, a preview) must lie under the
key prefix of the image's own dataset (`served_objects` checks it where the objects are
listed for serving), so a crafted or stale row never hands out another dataset's file.

The checksum of a file set (`file_set_checksum`) is the SHA-256 of its `sha256sum` listing:
one line `<file sha256>  <name>` per file, sorted by name, where the name is the file's path
in the image's zip (code-point order, as `LC_ALL=C sort`), so an unpacked download checks with
`find . -type f -printf '%P\n' | LC_ALL=C sort | xargs -d '\n' sha256sum | sha256sum`.
"""
from __future__ import annotations

import hashlib
import logging
import posixpath
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from app.files.converted import converted_niftis
from app.models import Dataset, Image, ImageFile
from app.storage import is_under

log = logging.getLogger(__name__)

# Rows per statement: big enough to be quick, small enough for any driver's parameter limits.
BATCH = 1000


class OutsideDataset(LookupError):
    """An image's row names an object outside its dataset's folder: it is never served."""


@dataclass(frozen=True)
class ServedObject:
    """One object of an image as it is served: its key, its name in a zip, its size and
    SHA-256 (when recorded)."""

    key: str
    name: str
    size: int | None
    sha256: str | None = None


@dataclass(frozen=True)
class ImageObjects:
    """What an image is served from: a set of files (`is_set`), or its one object.

    `checksum` is the SHA-256 of what is served, when known: of the one object (the image's
    own checksum, or the converted NIfTI's), or the file-set checksum of a set of files.
    """

    objects: list[ServedObject]
    is_set: bool
    # True when the one object is the NIfTI dcm2niix made of a DICOM image.
    converted: bool = False
    checksum: str | None = None


def entry_names(keys: Sequence[str]) -> dict[str, str]:
    """{key: its name in the image's zip}: the path below the folder all the keys share."""
    if not keys:
        return {}
    folders = [posixpath.dirname(key) for key in keys]
    common = posixpath.commonpath(folders) if all(folders) else ""
    start = len(common) + 1 if common else 0
    return {key: key[start:] for key in keys}


def file_set_checksum(files: Mapping[str, str]) -> str:
    """The SHA-256 of the `sha256sum` listing of {name: file sha256}, sorted by name."""
    listing = "".join(f"{sha256}  {name}\n" for name, sha256 in sorted(files.items()))
    return hashlib.sha256(listing.encode("utf-8")).hexdigest()


def set_checksum_of(rows: Iterable[tuple[str, str | None]]) -> str | None:
    """The file-set checksum of (key, sha256) rows; None while any file's sha256 is unknown."""
    rows = list(rows)
    if not rows or any(sha256 is None for _, sha256 in rows):
        return None
    names = entry_names([key for key, _ in rows])
    return file_set_checksum({names[key]: sha256 for key, sha256 in rows})


def served_objects(session: Session, image: Image) -> ImageObjects:
    """The objects to serve for `image`: its recorded files, or its one object at `path`.

    Raises OutsideDataset when any of them is not under the dataset's prefix.
    """
    objects = objects_by_image(session, [image.id])
    if image.id not in objects:
        raise OutsideDataset(f"image {image.id} names an object outside its dataset")
    return objects[image.id]


def objects_by_image(session: Session, image_ids: Iterable[int]) -> dict[int, ImageObjects]:
    """{image id: the objects to serve} for a batch of images (three queries).

    A converted DICOM image is served as its NIfTI, one object, like a NIfTI image.

    An image any of whose objects lies outside its dataset's prefix is left out (and logged):
    none of its objects is served. Unknown ids are left out too.
    """
    image_ids = list(image_ids)
    if not image_ids:
        return {}
    files: dict[int, list[tuple[str, int | None, str | None]]] = {}
    for start in range(0, len(image_ids), BATCH):
        for row in session.execute(select(ImageFile.image_id, ImageFile.key, ImageFile.size,
                                          ImageFile.sha256)
                                   .where(ImageFile.image_id.in_(image_ids[start:start + BATCH]))
                                   .order_by(ImageFile.image_id, ImageFile.key)):
            files.setdefault(row.image_id, []).append((row.key, row.size, row.sha256))
    niftis = converted_niftis(session, image_ids)
    served = {}
    for start in range(0, len(image_ids), BATCH):
        for row in session.execute(select(Image.id, Image.path, Image.file_size,
                                          Image.checksum, Dataset.storage_prefix,
                                          Dataset.designation)
                                   .join(Dataset, Dataset.id == Image.dataset_id)
                                   .where(Image.id.in_(image_ids[start:start + BATCH]))):
            checksum = row.checksum
            if row.id in niftis:
                key, size, checksum = niftis[row.id]
                objects = [ServedObject(key, posixpath.basename(key), size)]
            elif row.id in files:
                names = entry_names([key for key, _, _ in files[row.id]])
                objects = [ServedObject(key, names[key], size, sha256)
                           for key, size, sha256 in files[row.id]]
            else:
                objects = [ServedObject(row.path, posixpath.basename(row.path), row.file_size)]
            prefix = (row.storage_prefix or row.designation).strip("/")
            outside = [item.key for item in objects if not is_under(item.key, prefix)]
            if outside:
                log.error("image %s names %d object(s) outside its dataset's prefix %r, e.g. "
                          "%r: not served", row.id, len(outside), prefix, outside[0])
                continue
            served[row.id] = ImageObjects(objects, row.id in files and row.id not in niftis,
                                          row.id in niftis, checksum)
    return served


def single_object_keys(session: Session, image_ids: Iterable[int]) -> dict[int, str]:
    """{image id: key} of the images stored as one object under their dataset's prefix.

    The others are served by the API's download route only: sets of files, paths outside
    the dataset, and converted DICOM images (the route names the NIfTI and its checksum,
    which are not the image row's).
    """
    return {image_id: served.objects[0].key
            for image_id, served in objects_by_image(session, image_ids).items()
            if not served.is_set and not served.converted}


def record_image_files(session: Session, dataset_id: int,
                       files: Mapping[str, Sequence[tuple[str, int | None]]]) -> int:
    """Make the recorded files of the dataset's images at these paths exactly `files`.

    `files` maps an image's `path` to the (key, size) of each file it was built from. Rows no
    longer listed are removed, new ones inserted in bulk; a file whose size changed loses its
    sha256, and an image whose set changed loses its checksum (until the next upload or
    load finds the files' digests). Returns the number of images whose set changed. Never
    commits.
    """
    ids = _image_ids(session, dataset_id, files)
    wanted = {ids[path]: dict(entries) for path, entries in files.items() if path in ids}
    existing: dict[int, dict[str, tuple[int, int | None]]] = {}
    image_ids = list(wanted)
    for start in range(0, len(image_ids), BATCH):
        for row in session.execute(select(ImageFile.id, ImageFile.image_id, ImageFile.key,
                                          ImageFile.size)
                                   .where(ImageFile.image_id.in_(image_ids[start:start + BATCH]))):
            existing.setdefault(row.image_id, {})[row.key] = (row.id, row.size)
    gone, new, resized, changed = [], [], [], set()
    for image_id, entries in wanted.items():
        have = existing.get(image_id, {})
        image_gone = [row_id for key, (row_id, _) in have.items() if key not in entries]
        image_new = [{"image_id": image_id, "key": key, "size": size}
                     for key, size in entries.items() if key not in have]
        image_resized = [{"id": have[key][0], "size": size, "sha256": None}
                         for key, size in entries.items()
                         if key in have and have[key][1] != size]
        if image_gone or image_new or image_resized:
            changed.add(image_id)
        gone += image_gone
        new += image_new
        resized += image_resized
    for start in range(0, len(gone), BATCH):
        session.execute(delete(ImageFile).where(ImageFile.id.in_(gone[start:start + BATCH])))
    for start in range(0, len(new), BATCH):
        session.execute(insert(ImageFile), new[start:start + BATCH])
    for start in range(0, len(resized), BATCH):
        session.execute(update(ImageFile), resized[start:start + BATCH])
    stale = [{"id": image_id, "checksum": None} for image_id in sorted(changed)]
    for start in range(0, len(stale), BATCH):
        session.execute(update(Image), stale[start:start + BATCH])
    return len(changed)


def _image_ids(session: Session, dataset_id: int, files: Mapping[str, object]) -> dict[str, int]:
    """{path: id} of the dataset's images at these paths (one query, filtered here: a load
    may name more paths than an IN list takes)."""
    rows = session.execute(select(Image.path, Image.id).where(Image.dataset_id == dataset_id))
    return {path: image_id for path, image_id in rows if path in files}
