"""Downloads of an image made of several files (a DICOM series or part): a zip, or URLs.

The files are the image's recorded ones (app/files/image_files.py: exactly those it was built from,
checked to lie in its dataset's folder), never the listing of a folder: a folder may hold other
series, other parts of the same series, or the same series in another form.
"""
from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Iterator
from typing import Any

from flask import Response, jsonify, stream_with_context

from app.files.image_files import ServedObject
from app.models import Image
from app.storage import CHUNK_SIZE, ObjectNotFound, Storage

# Metadata keys only the DICOM adapter writes: what tells a series from a single file.
SERIES_MARKERS = ("SOPClassName", "NumberOfFiles")


def is_dicom_series(image: Image) -> bool:
    """True when the image is a DICOM series (a set of files), not one object."""
    metadata = image.metadata_json or {}
    return all(key in metadata for key in SERIES_MARKERS)


class _Sink(io.RawIOBase):
    """An unseekable file that hands out what was written to it: zipfile streams into it."""

    def __init__(self) -> None:
        self.pending: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # noqa: ANN001 - bytes-like, as io declares
        self.pending.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self.pending)
        self.pending.clear()
        return data


def _zip_chunks(storage: Storage, files: list[ServedObject]) -> Iterator[bytes]:
    sink = _Sink()
    # Stored, not deflated: DICOM pixels compress little and the client gets bytes at once.
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:
        for item in files:
            with storage.open(item.key) as source, \
                    archive.open(zipfile.ZipInfo(item.name), "w", force_zip64=True) as target:
                for chunk in iter(lambda source=source: source.read(CHUNK_SIZE), b""):
                    target.write(chunk)
                    yield sink.take()
            yield sink.take()
    yield sink.take()


def series_zip_name(image: Image) -> str:
    """The name of an image's zip: the last part of its path (`fmap#echo-1` for one part of
    a folder, so that two parts of one folder never share a name), plus `.zip`."""
    return f"{posixpath.basename(image.path.rstrip('/')) or f'image-{image.id}'}.zip"


def series_download(storage: Storage, image: Image, files: list[ServedObject],
                    url_expiry: int, checksum: str | None) -> Response:
    """The response for an image's `files`: a zip stream, or a JSON manifest of presigned URLs.

    `checksum` is the set's file-set checksum (app/files/image_files.py), given in the
    manifest beside each file's SHA-256. Every file is checked to exist first (one listing
    per folder), so that a missing one is a clean ObjectNotFound rather than a zip cut short.
    """
    _check_present(storage, files)
    if storage.shareable_urls:
        manifest: dict[str, Any] = {
            "image": image.id, "expires_in": url_expiry, "name": series_zip_name(image),
            "checksum": checksum,
            "files": [{"name": item.name, "size": item.size, "sha256": item.sha256,
                       "url": storage.presigned_url(item.key, url_expiry)} for item in files]}
        return jsonify(manifest)
    return Response(stream_with_context(_zip_chunks(storage, files)),
                    mimetype="application/zip", direct_passthrough=True)


def _check_present(storage: Storage, files: list[ServedObject]) -> None:
    """Raise ObjectNotFound naming the first of `files` that storage does not hold."""
    folders: dict[str, set[str]] = {}
    for item in files:
        folders.setdefault(item.key.rpartition("/")[0], set())
    for folder in folders:
        folders[folder] = {info.key for info in storage.list(f"{folder}/" if folder else "")}
    for item in files:
        if item.key not in folders[item.key.rpartition("/")[0]]:
            raise ObjectNotFound(f"no object {item.key!r}")
