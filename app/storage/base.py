"""The storage interface every backend implements, and what it says about an object.

The database stores object keys, sizes and checksums; the bytes live in a backend. Every `put`
records the SHA-256 of the object (in its metadata on S3), so an upload can be resumed and
verified without downloading anything. Storage knows no tables and no loaders: callers pass keys.
"""
from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

from app.storage.errors import ObjectNotFound

CHUNK_SIZE = 1024 * 1024
DEFAULT_MULTIPART_THRESHOLD = 64 * 1024 * 1024
DEFAULT_URL_EXPIRY = 3600

Data = bytes | bytearray | memoryview | Path | BinaryIO


@dataclass(frozen=True)
class ObjectInfo:
    """What a backend knows about one object.

    `etag` is the S3 ETag without quotes (None on the local backend). `sha256` is the hex digest
    of the content: read from the object's metadata on S3 (None when the object was written by
    another tool, and always None in `list`, which does not fetch metadata), computed on the
    local backend by `stat`.
    """

    key: str
    size: int
    etag: str | None = None
    sha256: str | None = None


class Storage(ABC):
    """The storage interface: list, stat, open/read, put, presigned URLs."""

    backend: str
    #: True when presigned_url returns a URL any HTTP client can fetch (the download route
    #: then redirects); False when clients must get the bytes through the API.
    shareable_urls: bool = False
    #: Objects larger than this many bytes are sent in parts (backends without parts ignore it).
    multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD

    @abstractmethod
    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Yield every object whose key starts with `prefix`, in key order."""

    @abstractmethod
    def stat(self, key: str, *, checksum: bool = True) -> ObjectInfo:
        """Return the size, ETag and SHA-256 of one object; raise ObjectNotFound if absent.

        `checksum=False` leaves out a SHA-256 that would cost reading the whole object.
        """

    @abstractmethod
    def open(self, key: str) -> IO[bytes]:
        """Return a readable binary stream of the object; the caller closes it."""

    @abstractmethod
    def put(self, key: str, data: Data, *, sha256: str | None = None,
            content_type: str | None = None) -> ObjectInfo:
        """Store `data` (bytes, a Path or a binary file) as `key`, replacing any object there.

        `sha256` is the content's hex digest when the caller already knows it (it is computed
        otherwise). The object appears whole or not at all.
        """

    @abstractmethod
    def presigned_url(self, key: str, expires_in: int = DEFAULT_URL_EXPIRY) -> str:
        """Return a URL that reads the object without credentials for `expires_in` seconds."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove an object (absent objects are not an error)."""

    def exists(self, key: str) -> bool:
        """Return whether an object has this key."""
        try:
            self.stat(key, checksum=False)
        except ObjectNotFound:
            return False
        return True

    def read(self, key: str) -> bytes:
        """Return the whole content of an object (meant for small files)."""
        with self.open(key) as stream:
            return stream.read()

    def read_text(self, key: str, encoding: str = "utf-8") -> str:
        """Return the content of a text object, decoded."""
        return self.read(key).decode(encoding)


def sha256_of(data: Data) -> str:
    """Hex SHA-256 of bytes, a file path or a seekable binary file (rewound afterwards)."""
    digest = hashlib.sha256()
    if isinstance(data, (bytes, bytearray, memoryview)):
        digest.update(data)
        return digest.hexdigest()
    if isinstance(data, Path):
        with data.open("rb") as stream:
            return sha256_of(stream)
    start = data.tell()
    for chunk in iter(lambda: data.read(CHUNK_SIZE), b""):
        digest.update(chunk)
    data.seek(start)
    return digest.hexdigest()


def copy_stream(source: IO[bytes], out: IO[bytes]) -> None:
    """Copy `source` to `out` a chunk at a time."""
    for chunk in iter(lambda: source.read(CHUNK_SIZE), b""):
        out.write(chunk)
