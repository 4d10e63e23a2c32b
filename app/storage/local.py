"""The local backend: objects as files under a root directory (development, demos, tests)."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from app.storage.base import (
    DEFAULT_URL_EXPIRY,
    Data,
    ObjectInfo,
    Storage,
    copy_stream,
    sha256_of,
)
from app.storage.errors import ObjectNotFound, StorageConfigError, StorageError
from app.storage.keys import validate_key, validate_prefix

# Files a LocalStorage put is writing (or left behind when killed); never listed as objects.
TEMPORARY_PREFIX = ".mbid-tmp-"


class LocalStorage(Storage):
    """Objects as files under a root directory; keys are their relative POSIX paths.

    Only regular files whose real location is inside the root are objects: a symlink placed in
    the folder by hand that leads out of it (or anything that is not a file) is never listed,
    read or served.
    """

    backend = "local"
    shareable_urls = False

    def __init__(self, root: str | Path) -> None:
        if not str(root):
            raise StorageConfigError("LOCAL_STORAGE_ROOT is empty")
        self.root = Path(root).resolve()
        self._root_prefix = os.path.join(str(self.root), "")

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*validate_key(key).split("/"))

    def _is_object(self, path: str | Path) -> bool:
        """Whether `path` is a regular file whose real location is inside the root."""
        return os.path.realpath(path).startswith(self._root_prefix) and os.path.isfile(path)

    def _object_path(self, key: str) -> Path:
        """The file of the object `key`; ObjectNotFound when there is no such object."""
        path = self._path(key)
        if not self._is_object(path):
            raise ObjectNotFound(f"no object {key!r} in {self!r}")
        return path

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Yield every file whose key starts with `prefix`, in key order."""
        validate_prefix(prefix)
        # Walk only the deepest folder the prefix names, then filter: S3 prefix semantics.
        folder = prefix.rpartition("/")[0]
        base = self.root.joinpath(*folder.split("/")) if folder else self.root
        if not base.is_dir() or not self._is_inside(base):
            return
        found = []
        for directory, _, names in os.walk(base):
            for name in names:
                if name.startswith(TEMPORARY_PREFIX):
                    continue
                path = os.path.join(directory, name)
                key = Path(path).relative_to(self.root).as_posix()
                if key.startswith(prefix) and self._is_object(path):
                    found.append(ObjectInfo(key=key, size=os.stat(path).st_size))
        yield from sorted(found, key=lambda info: info.key)

    def _is_inside(self, folder: Path) -> bool:
        return os.path.join(os.path.realpath(folder), "").startswith(self._root_prefix)

    def stat(self, key: str, *, checksum: bool = True) -> ObjectInfo:
        """Return the size and SHA-256 (computed by reading the file: no metadata is kept)."""
        path = self._object_path(key)
        try:
            return ObjectInfo(key=key, size=path.stat().st_size,
                              sha256=sha256_of(path) if checksum else None)
        except OSError as exc:
            raise self._error(exc, key) from exc

    def open(self, key: str) -> IO[bytes]:
        """Open the object's file for reading."""
        try:
            return self._object_path(key).open("rb")
        except OSError as exc:
            raise self._error(exc, key) from exc

    def _error(self, exc: OSError, key: str) -> StorageError:
        """Translate a file-system error into this package's errors."""
        if isinstance(exc, (FileNotFoundError, IsADirectoryError, NotADirectoryError)):
            return ObjectNotFound(f"no object {key!r} in {self!r}")
        return StorageError(f"{key}: {exc.strerror or exc}")

    def put(self, key: str, data: Data, *, sha256: str | None = None,
            content_type: str | None = None) -> ObjectInfo:
        """Write the file through a temporary name, so a killed put leaves no partial object."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=TEMPORARY_PREFIX, dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as out:
                if isinstance(data, (bytes, bytearray, memoryview)):
                    out.write(data)
                elif isinstance(data, Path):
                    with data.open("rb") as source:
                        copy_stream(source, out)
                else:
                    copy_stream(data, out)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return ObjectInfo(key=key, size=path.stat().st_size, sha256=sha256)

    def presigned_url(self, key: str, expires_in: int = DEFAULT_URL_EXPIRY) -> str:
        """Return the object's file:// URI: readable on this machine only, and never expires."""
        return self._object_path(key).as_uri()

    def delete(self, key: str) -> None:
        """Remove the object's file."""
        self._path(key).unlink(missing_ok=True)
