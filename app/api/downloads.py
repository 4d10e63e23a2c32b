"""GET /api/v1/images/{id}/download: an image's bytes, by redirect or streamed."""
from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from flask import Response, redirect, stream_with_context
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from app.api.dicom_zip import is_dicom_series, series_download
from app.extensions import db
from app.models import Image
from app.storage import CHUNK_SIZE, ObjectNotFound, get_storage

blp = Blueprint("downloads", __name__, url_prefix="/api/v1/images",
                description="Image files from object storage")

# Long enough to start a large download on a slow link; short enough that a leaked URL dies.
URL_EXPIRY_SECONDS = 3600


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    try:
        yield from iter(lambda: stream.read(CHUNK_SIZE), b"")
    finally:
        stream.close()


@blp.route("/<int(max=2147483647):image_id>/download")  # ids are INTEGER columns
class ImageDownload(MethodView):
    @blp.response(302, description="Redirect to a presigned object-storage URL (S3/COS).")
    @blp.alt_response(200, description="The file itself (local storage).",
                      content_type="application/octet-stream")
    @blp.alt_response(404, description="No such image, or its file is missing from storage.")
    def get(self, image_id: int):
        """Download an image file.

        With S3/COS storage the answer is a redirect to a presigned URL valid for an hour; with
        local storage the file is streamed. A DICOM series (a folder of files) comes as a zip,
        or with S3/COS as a JSON manifest of one presigned URL per file.
        """
        image = db.session.get(Image, image_id)
        if image is None or image.deleted_at is not None:
            abort(404, message=f"image {image_id} not found")
        storage = get_storage()
        if is_dicom_series(image):  # a folder of files: a zip, or a manifest of URLs
            response = series_download(storage, image, URL_EXPIRY_SECONDS)
            if response is None:
                abort(404, message=f"the files of image {image_id} are missing from storage")
            return response
        try:
            # A presigned URL is signed offline, so check the object exists before handing it out.
            info = storage.stat(image.path, checksum=False)
            if storage.shareable_urls:
                return redirect(storage.presigned_url(image.path, URL_EXPIRY_SECONDS), code=302)
            stream = storage.open(image.path)
        except ObjectNotFound:
            abort(404, message=f"the file of image {image_id} is missing from storage")
        filename = image.path.rsplit("/", 1)[-1]
        response = Response(stream_with_context(_chunks(stream)),
                            mimetype="application/octet-stream", direct_passthrough=True)
        response.headers["Content-Length"] = str(info.size)
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
