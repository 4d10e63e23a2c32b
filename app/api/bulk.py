"""Many images at once: the URL list of a query (format=urls) and a streamed zip of files.

Both are logged in the audit log with the images they hand out. Neither holds more than one
batch of rows (URL list) or one chunk of a file (zip) in memory.
"""
from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from flask import Response, stream_with_context
from sqlalchemy import Select

from app.access.audit import datasets_named, record
from app.access.current import current_key_name, keeping_access
from app.api.query.parquet import ChunkSink
from app.extensions import db
from app.files.image_files import objects_by_image
from app.models import AuditAction
from app.storage import CHUNK_SIZE, ObjectNotFound, get_storage

URLS_FORMAT = "urls"
URL_BATCH_ROWS = 1000
URLS_CONTENT = {"text/uri-list": {"schema": {"type": "string"}}}
# Listed in the zip when some files could not be read from storage.
MISSING_LIST = "MISSING.txt"
# Images whose objects are looked up at once while a zip streams.
ZIP_BATCH_ROWS = 200


def _audit_after(action: AuditAction, key_name: str, rows: Sequence[Mapping[str, Any]]) -> None:
    record(action, key_name, datasets=datasets_named({row["dataset"] for row in rows}),
           image_ids=[row["id"] for row in rows])
    db.session.commit()


def url_list_response(
    statement: Select,
    add_urls: Callable[[list[Any]], list[dict[str, Any]]],
) -> Response:
    """Stream the download URL of every image row of `statement` as text/uri-list (RFC 2483).

    `add_urls` gives a batch of rows their `url`; what was sent is logged when the stream ends.
    """
    key_name = current_key_name()

    def lines() -> Iterator[str]:
        sent: list[dict[str, Any]] = []
        result = db.session.execute(statement.execution_options(yield_per=URL_BATCH_ROWS))
        try:
            for batch in result.mappings().partitions():
                rows = add_urls(list(batch))
                sent.extend({"id": row["id"], "dataset": row["dataset"]} for row in rows)
                yield "".join(f"{row['url']}\r\n" for row in rows)
        finally:
            result.close()
            if sent:
                _audit_after(AuditAction.DOWNLOAD_URLS, key_name, sent)

    return Response(stream_with_context(keeping_access(lines())), mimetype="text/uri-list")


def zip_chunks(files: Iterable[Mapping[str, Any]], on_end: Callable[[list], None]) -> Iterator[
        bytes]:
    """Yield a zip (stored, not recompressed: images are gzipped already) of the images
    `files` ({"id", "dataset", "path"}): a one-object image named by its key, the files of a
    multi-file image (a DICOM series) under its path.

    A file missing from storage (or outside its image's dataset) is left out and named in
    MISSING.txt at the end of the zip;
    `on_end(rows sent)` is called when the zip ends or the client stops reading.
    """
    storage = get_storage()
    sink = ChunkSink()
    sent: list[Mapping[str, Any]] = []
    missing: list[str] = []
    try:
        with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_STORED) as archive:
            for batch in _batches(files, ZIP_BATCH_ROWS):
                # Each image's own objects, checked to lie in its dataset (app/files).
                served = objects_by_image(db.session, [row["id"] for row in batch])
                for row in batch:
                    image = served.get(row["id"])
                    if image is None:
                        missing.append(row["path"])
                        continue
                    wrote = False
                    for item in image.objects:
                        name = f"{row['path']}/{item.name}" if image.is_set else row["path"]
                        try:
                            source = storage.open(item.key)
                        except ObjectNotFound:
                            missing.append(name)
                            continue
                        with source, archive.open(name, mode="w", force_zip64=True) as target:
                            while chunk := source.read(CHUNK_SIZE):
                                target.write(chunk)
                                yield sink.take()
                        wrote = True
                        yield sink.take()
                    if wrote:
                        sent.append(row)
            if missing:
                archive.writestr(MISSING_LIST, "".join(f"{path}\n" for path in missing))
        yield sink.take()
    finally:
        on_end(sent)


# A fixed time in every entry of a BIDS zip: the same export gives the same metadata entries.
ZIP_ENTRY_TIME = (1980, 1, 1, 0, 0, 0)


def _zip_entry(name: str) -> zipfile.ZipInfo:
    entry = zipfile.ZipInfo(name, date_time=ZIP_ENTRY_TIME)
    entry.external_attr = 0o644 << 16  # a readable file once unpacked
    return entry


def bids_zip_chunks(texts: Mapping[str, bytes], objects: Mapping[str, str],
                    on_end: Callable[[], None]) -> Iterator[bytes]:
    """Yield a zip (stored: images are gzipped already) of files given as bytes (`texts`,
    {name: bytes}) and stored objects (`objects`, {name: key}, copied a chunk at a time). An
    object missing from storage is left out and named in MISSING.txt at the end; `on_end()`
    runs when the zip ends or the client stops reading."""
    storage = get_storage()
    sink = ChunkSink()
    missing: list[str] = []
    try:
        with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_STORED) as archive:
            for name, data in sorted(texts.items()):
                archive.writestr(_zip_entry(name), data)
                yield sink.take()
            for name, key in sorted(objects.items()):
                try:
                    source = storage.open(key)
                except ObjectNotFound:
                    missing.append(name)
                    continue
                with source, archive.open(_zip_entry(name), mode="w",
                                          force_zip64=True) as target:
                    while chunk := source.read(CHUNK_SIZE):
                        target.write(chunk)
                        yield sink.take()
            if missing:
                archive.writestr(_zip_entry(MISSING_LIST),
                                 "".join(f"{name}\n" for name in missing))
        yield sink.take()
    finally:
        on_end()


def _batches(rows: Iterable[Mapping[str, Any]], size: int) -> Iterator[list[Mapping[str, Any]]]:
    batch: list[Mapping[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def zip_response(files: Sequence[Mapping[str, Any]], filename: str) -> Response:
    """Return a streamed zip of `files`, logged as a download of the images it held."""
    key_name = current_key_name()

    def log(sent: list) -> None:
        if sent:
            _audit_after(AuditAction.DOWNLOAD, key_name, sent)

    return Response(stream_with_context(keeping_access(zip_chunks(files, log))),
                    mimetype="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
