"""Downloads of DICOM series: a zip of the series folder's files, or a manifest of URLs.

A DICOM series is stored as one image whose path is its folder's key (with `#...` naming a
series or part of a folder that holds several); the files are the objects under that folder.
"""
from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

from flask import Response, jsonify, stream_with_context

from app.models import Image
from app.storage import CHUNK_SIZE, ObjectInfo, Storage

# Metadata keys only the DICOM adapter writes: what tells a series from a single file.
SERIES_MARKERS = ("SOPClassName", "NumberOfFiles")


def is_dicom_series(image: Image) -> bool:
    """True when the image is a DICOM series (a folder of files), not one object."""
    metadata = image.metadata_json or {}
    return all(key in metadata for key in SERIES_MARKERS)


def series_folder(image: Image) -> str:
    """The storage key of the folder holding the series' files."""
    return image.path.split("#", 1)[0].rstrip("/")


def series_files(storage: Storage, image: Image) -> list[ObjectInfo]:
    """The objects of the series folder (not of its subfolders), by key."""
    prefix = f"{series_folder(image)}/"
    return sorted((info for info in storage.list(prefix) if "/" not in info.key[len(prefix):]),
                  key=lambda info: info.key)


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


def _zip_chunks(storage: Storage, files: list[ObjectInfo], folder: str) -> Iterator[bytes]:
    sink = _Sink()
    # Stored, not deflated: DICOM pixels compress little and the client gets bytes at once.
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:
        for info in files:
            name = info.key[len(folder) + 1:]
            with storage.open(info.key) as source, \
                    archive.open(zipfile.ZipInfo(name), "w", force_zip64=True) as target:
                for chunk in iter(lambda source=source: source.read(CHUNK_SIZE), b""):
                    target.write(chunk)
                    yield sink.take()
            yield sink.take()
    yield sink.take()


def series_download(storage: Storage, image: Image, url_expiry: int) -> Response | None:
    """The response for a DICOM series: a zip stream, or a JSON manifest of presigned URLs.

    None when the folder holds no file (the caller answers 404).
    """
    files = series_files(storage, image)
    if not files:
        return None
    folder = series_folder(image)
    if storage.shareable_urls:
        manifest: dict[str, Any] = {
            "image": image.id, "expires_in": url_expiry,
            "files": [{"name": info.key[len(folder) + 1:], "size": info.size,
                       "url": storage.presigned_url(info.key, url_expiry)} for info in files]}
        return jsonify(manifest)
    name = folder.rsplit("/", 1)[-1] or f"image-{image.id}"
    response = Response(stream_with_context(_zip_chunks(storage, files, folder)),
                        mimetype="application/zip", direct_passthrough=True)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.zip"'
    return response
