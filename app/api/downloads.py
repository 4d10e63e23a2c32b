"""GET /api/v1/images/{id}/download: an image's bytes, by redirect or streamed."""
from __future__ import annotations

import logging
import posixpath
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO
from urllib.parse import quote

from flask import Response, redirect, request, stream_with_context
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import fields
from werkzeug.exceptions import RequestedRangeNotSatisfiable, ServiceUnavailable

from app.access.audit import record_download
from app.access.auth import requires
from app.access.current import dataset_visible
from app.api.bulk import bids_zip_chunks
from app.api.dicom_zip import is_dicom_series, series_download, series_zip_name
from app.api.query.params import Blueprint, QueryArgs
from app.bids_export.dataset import with_sidecars
from app.extensions import db
from app.files.converted import converted_files
from app.files.image_files import OutsideDataset, served_objects
from app.models import Dataset, Image, Scope
from app.storage import (
    CHUNK_SIZE,
    InvalidKey,
    ObjectNotFound,
    StorageError,
    TransientStorageError,
    get_storage,
)

log = logging.getLogger(__name__)

blp = Blueprint("downloads", __name__, url_prefix="/api/v1/images",
                description="Image files from object storage")

# Long enough to start a large download on a slow link; short enough that a leaked URL dies.
URL_EXPIRY_SECONDS = 3600
# How long a client should wait before asking again when object storage is unreachable.
RETRY_AFTER_SECONDS = 30
# RFC 5987 attr-char: what may stay unescaped in a filename* value.
_ATTR_CHARS = "!#$&+-.^_`|~"
# What every answer of the route says of the file it serves (the redirect included), so that
# a client checks what it gets, not what the image row describes: a converted DICOM image is
# served as its NIfTI, whose key and SHA-256 are not the row's path and checksum.
CHECKSUM_HEADER = "X-Checksum-SHA256"  # of the one file, or the file-set checksum of a zip
KEY_HEADER = "X-Storage-Key"  # the storage key of the one file served


def content_disposition(filename: str) -> str:
    """Return an attachment header naming `filename` (RFC 6266).

    `filename*` carries the exact name, UTF-8 and percent-encoded; `filename` an ASCII fallback
    for old clients, with accents dropped and quotes, backslashes and percent signs replaced.
    """
    fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    fallback = "".join("_" if char in '"\\%' or not char.isprintable() else char
                       for char in fallback) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, _ATTR_CHARS)}"


@contextmanager
def storage_errors_as_http(what: str) -> Iterator[None]:
    """Turn a storage failure while serving `what` into a JSON error response.

    Absent object or a key storage refuses: 404. Unreachable or throttling storage: 503 with
    Retry-After. Any other storage failure: 502 (the fault is upstream, not the client's).
    """
    try:
        yield
    except (ObjectNotFound, InvalidKey):
        abort(404, message=f"the file of {what} is missing from storage")
    except TransientStorageError as exc:
        log.warning("storage unavailable for %s: %s", what, exc)
        raise ServiceUnavailable(f"object storage is unavailable: try {what} again later",
                                 retry_after=RETRY_AFTER_SECONDS) from exc
    except StorageError as exc:
        log.error("storage failed for %s: %s", what, exc)
        abort(502, message=f"object storage failed to serve the file of {what}")


def _requested_bytes(size: int) -> tuple[int, int]:
    """The byte range [start, end) of a file of `size` bytes the request asks for: the whole
    file without a Range header (or with several ranges, which are not served one by one), the
    one range otherwise, so that an interrupted download resumes where it stopped. A range
    that lies past the end is a 416 naming the size."""
    wanted = request.range
    if wanted is None or wanted.units != "bytes" or len(wanted.ranges) != 1:
        return 0, size
    bounds = wanted.range_for_length(size)
    if bounds is None:
        raise RequestedRangeNotSatisfiable(length=size)
    return bounds


def _described(response: Response, name: str, checksum: str | None,
               key: str | None = None) -> Response:
    """`response` naming the file it serves: its name, SHA-256 and storage key if known."""
    response.headers["Content-Disposition"] = content_disposition(name)
    if checksum:
        response.headers[CHECKSUM_HEADER] = checksum
    if key:
        response.headers[KEY_HEADER] = key
    return response


def _chunks(stream: IO[bytes], start: int = 0, length: int | None = None) -> Iterator[bytes]:
    """The bytes of `stream` from `start`, `length` of them (all without it), chunk by chunk."""
    try:
        if start:
            if stream.seekable():
                stream.seek(start)
            else:  # a stream that cannot seek is read up to the start
                skipped = 0
                while skipped < start:
                    chunk = stream.read(min(CHUNK_SIZE, start - skipped))
                    if not chunk:
                        return
                    skipped += len(chunk)
        left = length
        while left is None or left > 0:
            chunk = stream.read(CHUNK_SIZE if left is None else min(CHUNK_SIZE, left))
            if not chunk:
                return
            if left is not None:
                left -= len(chunk)
            yield chunk
    finally:
        stream.close()


class DownloadArgs(QueryArgs):
    sidecars = fields.Boolean(load_default=False, metadata={"description": (
        "With true, a NIfTI image comes as a zip of its file and its sidecars, named after "
        "it: the JSON sidecar (its BIDS sidecars merged as BIDS inheritance merges them; "
        "dcm2niix's for a converted DICOM image) and, for DWI, .bval and .bvec; streamed on "
        "every storage backend.")})


def _with_sidecars(image: Image, key: str, storage) -> Response | None:
    """The zip of a NIfTI image and its sidecars (None when its file is not NIfTI): for a
    converted DICOM image, dcm2niix's NIfTI, sidecar and .bval/.bvec."""
    dataset = db.session.get(Dataset, image.dataset_id)
    prefix = (dataset.storage_prefix or dataset.designation).strip("/")
    converted = converted_files(db.session, [image.id]).get(image.id)
    bundle = with_sidecars(key, prefix, storage, converted)
    if bundle is None:
        return None
    texts, objects = bundle
    name = posixpath.basename(key).removesuffix(".gz").removesuffix(".nii")
    response = Response(stream_with_context(bids_zip_chunks(texts, objects, lambda: None)),
                        mimetype="application/zip")
    response.headers["Content-Disposition"] = content_disposition(f"{name}.zip")
    return response


@blp.route("/<int(max=2147483647):image_id>/download")  # ids are INTEGER columns
class ImageDownload(MethodView):
    @requires(Scope.DOWNLOAD)
    @blp.arguments(DownloadArgs, location="query", as_kwargs=False)
    @blp.response(302, description="Redirect to a presigned object-storage URL (S3/COS).")
    @blp.alt_response(200, description="The file itself (local storage).",
                      content_type="application/octet-stream")
    @blp.alt_response(206, description="The bytes of the one range asked for (local storage, "
                      "with a Range header: an interrupted download resumes).",
                      content_type="application/octet-stream")
    @blp.alt_response(404, description="No such image, or its file is missing from storage.")
    @blp.alt_response(416, description="The range asked for lies past the end of the file.")
    @blp.alt_response(502, description="Object storage failed.")
    @blp.alt_response(503, description="Object storage is unreachable; see Retry-After.")
    def get(self, args: dict, image_id: int):
        """Download an image file.

        With S3/COS storage the answer is a redirect to a presigned URL valid for an hour; with
        local storage the file is streamed. A DICOM series (or one part of a folder: an echo,
        a phase image) comes as a zip of exactly its files, named `<last part of its
        path>.zip`, or with S3/COS as a JSON manifest of one presigned URL per file; once
        converted (`flask convert`) it comes as its NIfTI. With sidecars=true a NIfTI image
        comes as a zip with its JSON sidecar and, for DWI, its .bval/.bvec.

        Every answer (the redirect too) names what it serves: Content-Disposition its name,
        X-Checksum-SHA256 its SHA-256 (of a set of files: the file-set checksum) and, for one
        file, X-Storage-Key its storage key; a client checks the download against these.
        """
        return image_download(image_id, args["sidecars"])


def image_download(image_id: int, sidecars: bool = False) -> Response:
    """An image's file (streamed, or a redirect to a presigned URL), a DICOM series' zip or
    manifest, or with `sidecars` a NIfTI image's zip with its sidecars; logged in the audit
    log, and described by its headers (name, SHA-256, storage key). Shared by the API's route
    and the dashboard's download links."""
    image = db.session.get(Image, image_id)
    if image is None or image.deleted_at is not None or not dataset_visible(image.dataset_id):
        abort(404, message=f"image {image_id} not found")
    try:
        # The objects come from the image's rows, checked here to lie in its dataset.
        served = served_objects(db.session, image)
    except OutsideDataset:
        abort(404, message=f"the file of image {image_id} is missing from storage")
    storage = get_storage()
    if served.is_set:  # a set of files: a zip, or a manifest of URLs
        with storage_errors_as_http(f"image {image_id}"):
            try:
                response = series_download(storage, image, served.objects,
                                           URL_EXPIRY_SECONDS, served.checksum)
            except ObjectNotFound:
                abort(404, message=f"the files of image {image_id} are missing from storage")
        record_download(image)
        return _described(response, series_zip_name(image), served.checksum)
    # Loaded before file lists were recorded (and not converted): nothing to serve.
    if is_dicom_series(image) and not served.converted:
        abort(404, message=f"the files of image {image_id} are not recorded: load its "
                           "dataset again")
    key, name = served.objects[0].key, served.objects[0].name
    with storage_errors_as_http(f"image {image_id}"):
        # A presigned URL is signed offline, so check the object exists before handing it out.
        info = storage.stat(key, checksum=False)
        bundle = _with_sidecars(image, key, storage) if sidecars else None
        record_download(image)
        if bundle is not None:
            return bundle
        if storage.shareable_urls:
            return _described(redirect(storage.presigned_url(key, URL_EXPIRY_SECONDS),
                                       code=302), name, served.checksum, key)
        start, end = _requested_bytes(info.size)
        stream = storage.open(key)
    response = Response(stream_with_context(_chunks(stream, start, end - start)),
                        mimetype="application/octet-stream", direct_passthrough=True)
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["Content-Length"] = str(end - start)
    _described(response, name, served.checksum, key)
    if (start, end) != (0, info.size):
        response.status_code = 206
        response.headers["Content-Range"] = f"bytes {start}-{end - 1}/{info.size}"
    return response
