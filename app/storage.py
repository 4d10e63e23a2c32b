"""Object storage: one small interface, a local-directory backend and an IBM COS / S3 backend.

The database stores object keys, sizes and checksums; the bytes live here. The backend is chosen
by configuration (`STORAGE_BACKEND`): `local` keeps objects as files under `LOCAL_STORAGE_ROOT`,
`cos` talks to IBM Cloud Object Storage (or any S3 service: AWS, MinIO, moto) through ibm-cos-sdk.
This module knows no tables: callers pass keys.

Every `put` records the SHA-256 of the object in its metadata (`x-amz-meta-sha256` on S3), so an
upload can be resumed and verified without downloading anything.
"""
from __future__ import annotations

import hashlib
import io
import logging
import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

from flask import current_app

log = logging.getLogger(__name__)

BACKENDS = ("local", "cos")
CHUNK_SIZE = 1024 * 1024
# S3 refuses multipart parts below 5 MiB (except the last), so chunks are never smaller.
MIN_PART_SIZE = 5 * 1024 * 1024
DEFAULT_MULTIPART_THRESHOLD = 64 * 1024 * 1024
DEFAULT_URL_EXPIRY = 3600
MAX_KEY_LENGTH = 1024  # S3's limit, in UTF-8 bytes
SHA256_METADATA = "sha256"
# Files a LocalStorage put is writing (or left behind when killed); never listed as objects.
_LOCAL_TEMP_PREFIX = ".mbid-tmp-"
_APP_EXTENSION = "mbid_storage"

Data = bytes | bytearray | memoryview | Path | BinaryIO


class StorageError(Exception):
    """An object-storage operation failed."""


class InvalidKey(StorageError, ValueError):
    """A key that could escape its prefix or that object stores treat inconsistently."""


class ObjectNotFound(StorageError, KeyError):
    """No object has that key."""

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0]) if self.args else "object not found"


class TransientStorageError(StorageError):
    """A failure worth retrying: a connection problem, a timeout, throttling or a 5xx."""


class StorageConfigError(StorageError):
    """The storage settings cannot build a backend."""


class PresignNotSupported(StorageError):
    """The backend cannot make a URL that any HTTP client can fetch."""


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


def validate_key(key: str) -> str:
    """Return `key` if it is a safe object key, else raise InvalidKey.

    A key is a relative POSIX path: not empty, no leading "/", no backslash, no empty, "." or
    ".." segment, no control character, at most 1024 UTF-8 bytes. These rules keep a key inside
    its prefix on the local backend and mean the same object on every backend.
    """
    if not isinstance(key, str) or not key:
        raise InvalidKey(f"invalid object key {key!r}: it is empty")
    problem = None
    if key.startswith("/"):
        problem = "it is an absolute path"
    elif "\\" in key:
        problem = "it contains a backslash"
    elif any(ord(char) < 32 or ord(char) == 127 for char in key):
        problem = "it contains a control character"
    elif len(key.encode("utf-8")) > MAX_KEY_LENGTH:
        problem = f"it is longer than {MAX_KEY_LENGTH} bytes"
    else:
        for segment in key.split("/"):
            if segment in ("", ".", ".."):
                problem = f"it has an {'empty' if not segment else repr(segment)} path segment"
                break
    if problem:
        raise InvalidKey(f"invalid object key {key!r}: {problem}")
    return key


def validate_prefix(prefix: str) -> str:
    """Return `prefix` if it is "" or a valid key, optionally ending with "/"; else InvalidKey."""
    if prefix == "":
        return prefix
    validate_key(prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix


def join_key(prefix: str, relative: str) -> str:
    """Return the key of `relative` (a POSIX path) under `prefix`, validated."""
    prefix = prefix.strip("/")
    return validate_key(f"{prefix}/{relative}" if prefix else relative)


def _is_transient_status(status: int | None, code: str) -> bool:
    return (status is not None and status >= 500) or code in {
        "SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "RequestTimeTooSkewed",
        "InternalError", "ServiceUnavailable",
    }


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


def _sha256_of(data: Data) -> str:
    """Hex SHA-256 of bytes, a file path or a seekable binary file (rewound afterwards)."""
    digest = hashlib.sha256()
    if isinstance(data, (bytes, bytearray, memoryview)):
        digest.update(data)
        return digest.hexdigest()
    if isinstance(data, Path):
        with data.open("rb") as stream:
            return _sha256_of(stream)
    start = data.tell()
    for chunk in iter(lambda: data.read(CHUNK_SIZE), b""):
        digest.update(chunk)
    data.seek(start)
    return digest.hexdigest()


class LocalStorage(Storage):
    """Objects as files under a root directory; keys are their relative POSIX paths."""

    backend = "local"
    shareable_urls = False

    def __init__(self, root: str | Path) -> None:
        if not str(root):
            raise StorageConfigError("LOCAL_STORAGE_ROOT is empty")
        self.root = Path(root).resolve()

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*validate_key(key).split("/"))

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Yield every file whose key starts with `prefix`, in key order."""
        validate_prefix(prefix)
        # Walk only the deepest folder the prefix names, then filter: S3 prefix semantics.
        folder = prefix.rpartition("/")[0]
        base = self.root.joinpath(*folder.split("/")) if folder else self.root
        if not base.is_dir():
            return
        found = []
        for directory, _, names in os.walk(base):
            for name in names:
                if name.startswith(_LOCAL_TEMP_PREFIX):
                    continue
                path = Path(directory, name)
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    found.append(ObjectInfo(key=key, size=path.stat().st_size))
        yield from sorted(found, key=lambda info: info.key)

    def stat(self, key: str, *, checksum: bool = True) -> ObjectInfo:
        """Return the size and SHA-256 (computed by reading the file: no metadata is kept)."""
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(f"no object {key!r} in {self!r}")
        return ObjectInfo(key=key, size=path.stat().st_size,
                          sha256=_sha256_of(path) if checksum else None)

    def open(self, key: str) -> IO[bytes]:
        """Open the object's file for reading."""
        try:
            return self._path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise ObjectNotFound(f"no object {key!r} in {self!r}") from exc

    def put(self, key: str, data: Data, *, sha256: str | None = None,
            content_type: str | None = None) -> ObjectInfo:
        """Write the file through a temporary name, so a killed put leaves no partial object."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=_LOCAL_TEMP_PREFIX, dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as out:
                if isinstance(data, (bytes, bytearray, memoryview)):
                    out.write(data)
                elif isinstance(data, Path):
                    with data.open("rb") as source:
                        _copy(source, out)
                else:
                    _copy(data, out)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return ObjectInfo(key=key, size=path.stat().st_size, sha256=sha256)

    def presigned_url(self, key: str, expires_in: int = DEFAULT_URL_EXPIRY) -> str:
        """Return the object's file:// URI: readable on this machine only, and never expires."""
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(f"no object {key!r} in {self!r}")
        return path.as_uri()

    def delete(self, key: str) -> None:
        """Remove the object's file."""
        self._path(key).unlink(missing_ok=True)


def _copy(source: IO[bytes], out: IO[bytes]) -> None:
    for chunk in iter(lambda: source.read(CHUNK_SIZE), b""):
        out.write(chunk)


class CosStorage(Storage):
    """IBM Cloud Object Storage, or any S3 service, through ibm-cos-sdk (ibm_boto3).

    Authentication is IAM (an API key exchanged for tokens at `auth_endpoint`) or HMAC keys
    (S3 signature v4). HMAC is preferred when the credentials hold both, since only HMAC can sign
    presigned URLs; with IAM alone, `presigned_url` raises PresignNotSupported.
    """

    backend = "cos"

    def __init__(self, bucket: str, credentials: Mapping[str, Any], service_endpoint: str,
                 auth_endpoint: str = "", *, multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD,
                 max_attempts: int = 5, connect_timeout: float = 10, read_timeout: float = 60,
                 ) -> None:
        import ibm_boto3
        from ibm_botocore.client import Config

        if not bucket:
            raise StorageConfigError("BUCKET is empty")
        if not service_endpoint:
            raise StorageConfigError("SERVICE_ENDPOINT is empty: set the object-storage URL")
        self.bucket = bucket
        self.service_endpoint = service_endpoint
        self.multipart_threshold = multipart_threshold
        # "standard" retries back off on throttling, 5xx and connection errors per request.
        options: dict[str, Any] = {
            "retries": {"max_attempts": max_attempts, "mode": "standard"},
            "connect_timeout": connect_timeout, "read_timeout": read_timeout,
            # Path-style addressing works on IBM COS, AWS, MinIO and IP-address endpoints alike.
            "s3": {"addressing_style": "path"},
        }
        hmac = credentials.get("cos_hmac_keys")
        if hmac:
            if not hmac.get("access_key_id") or not hmac.get("secret_access_key"):
                raise StorageConfigError(
                    "COS_CREDENTIALS cos_hmac_keys needs access_key_id and secret_access_key")
            self.auth = "hmac"
            self.client = ibm_boto3.client(
                "s3", aws_access_key_id=hmac["access_key_id"],
                aws_secret_access_key=hmac["secret_access_key"], endpoint_url=service_endpoint,
                config=Config(signature_version="s3v4", **options))
        elif credentials.get("apikey"):
            if not credentials.get("resource_instance_id"):
                raise StorageConfigError(
                    "COS_CREDENTIALS with an apikey needs resource_instance_id")
            if not auth_endpoint:
                raise StorageConfigError("AUTH_ENDPOINT is empty: IAM needs the token endpoint")
            self.auth = "iam"
            self.client = ibm_boto3.client(
                "s3", ibm_api_key_id=credentials["apikey"],
                ibm_service_instance_id=credentials["resource_instance_id"],
                ibm_auth_endpoint=auth_endpoint, endpoint_url=service_endpoint,
                config=Config(signature_version="oauth", **options))
        else:
            raise StorageConfigError(
                "COS_CREDENTIALS needs apikey + resource_instance_id (IAM) or cos_hmac_keys "
                "{access_key_id, secret_access_key} (HMAC)")
        self.shareable_urls = self.auth == "hmac"

    def __repr__(self) -> str:
        return f"CosStorage(bucket={self.bucket!r}, endpoint={self.service_endpoint!r})"

    def _error(self, exc: Exception, key: str) -> StorageError:
        """Translate an SDK exception into this module's errors."""
        from ibm_boto3.exceptions import S3UploadFailedError
        from ibm_botocore.exceptions import ClientError

        # upload_file re-raises a ClientError as S3UploadFailedError: classify the original.
        if isinstance(exc, S3UploadFailedError) and isinstance(exc.__context__, ClientError):
            exc = exc.__context__
        if isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in {"404", "NoSuchKey", "NotFound"}:
                return ObjectNotFound(f"no object {key!r} in {self!r}")
            if _is_transient_status(status, code):
                return TransientStorageError(f"{key}: {exc}")
            return StorageError(f"{key}: {exc}")
        return TransientStorageError(f"{key}: {exc}")

    def _sdk_errors(self) -> tuple[type[Exception], ...]:
        from ibm_boto3.exceptions import S3UploadFailedError
        from ibm_botocore.exceptions import ClientError, ConnectionError, HTTPClientError

        # ConnectionError covers refused connections and timeouts; HTTPClientError, broken ones;
        # S3UploadFailedError is how upload_file reports a ClientError.
        return ClientError, ConnectionError, HTTPClientError, S3UploadFailedError

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Yield every object whose key starts with `prefix`, in key order (pages of 1000)."""
        validate_prefix(prefix)
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield ObjectInfo(key=item["Key"], size=item["Size"],
                                     etag=item.get("ETag", "").strip('"') or None)
        except self._sdk_errors() as exc:
            raise self._error(exc, prefix) from exc

    def stat(self, key: str, *, checksum: bool = True) -> ObjectInfo:
        """HEAD the object: size, ETag and the SHA-256 recorded in its metadata (always cheap)."""
        validate_key(key)
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except self._sdk_errors() as exc:
            raise self._error(exc, key) from exc
        return ObjectInfo(key=key, size=head["ContentLength"], etag=head["ETag"].strip('"'),
                          sha256=head.get("Metadata", {}).get(SHA256_METADATA))

    def open(self, key: str) -> IO[bytes]:
        """GET the object and return its streaming body."""
        validate_key(key)
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except self._sdk_errors() as exc:
            raise self._error(exc, key) from exc

    def put(self, key: str, data: Data, *, sha256: str | None = None,
            content_type: str | None = None) -> ObjectInfo:
        """Upload the object, in parts when larger than `multipart_threshold`; HEAD it back."""
        from ibm_boto3.s3.transfer import TransferConfig

        validate_key(key)
        sha256 = sha256 or _sha256_of(data)
        extra: dict[str, Any] = {"Metadata": {SHA256_METADATA: sha256}}
        if content_type:
            extra["ContentType"] = content_type
        # Files are uploaded in parallel by the caller, so the parts of one file go one by one.
        transfer = TransferConfig(multipart_threshold=self.multipart_threshold,
                                  multipart_chunksize=max(self.multipart_threshold, MIN_PART_SIZE),
                                  max_concurrency=1, use_threads=False)
        try:
            if isinstance(data, (bytes, bytearray, memoryview)):
                self.client.upload_fileobj(io.BytesIO(bytes(data)), self.bucket, key,
                                           ExtraArgs=extra, Config=transfer)
            elif isinstance(data, Path):
                self.client.upload_file(str(data), self.bucket, key, ExtraArgs=extra,
                                        Config=transfer)
            else:
                self.client.upload_fileobj(data, self.bucket, key, ExtraArgs=extra,
                                           Config=transfer)
        except self._sdk_errors() as exc:
            raise self._error(exc, key) from exc
        return self.stat(key)

    def presigned_url(self, key: str, expires_in: int = DEFAULT_URL_EXPIRY) -> str:
        """Sign a GET URL locally (no request is made; the object may not exist)."""
        validate_key(key)
        if not self.shareable_urls:
            raise PresignNotSupported(
                "presigned URLs need HMAC keys: add cos_hmac_keys to COS_CREDENTIALS")
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in)

    def delete(self, key: str) -> None:
        """DELETE the object."""
        validate_key(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except self._sdk_errors() as exc:
            raise self._error(exc, key) from exc


def storage_from_config(config: Mapping[str, Any]) -> Storage:
    """Build the backend named by config["STORAGE_BACKEND"] from the other storage settings."""
    backend = config.get("STORAGE_BACKEND", "local")
    if backend == "local":
        return LocalStorage(config.get("LOCAL_STORAGE_ROOT", ""))
    if backend == "cos":
        return CosStorage(
            bucket=config.get("BUCKET", ""), credentials=config.get("COS_CREDENTIALS") or {},
            service_endpoint=config.get("SERVICE_ENDPOINT", ""),
            auth_endpoint=config.get("AUTH_ENDPOINT", ""),
            multipart_threshold=int(config.get("MULTIPART_THRESHOLD",
                                               DEFAULT_MULTIPART_THRESHOLD)))
    raise StorageConfigError(
        f"unknown STORAGE_BACKEND {backend!r}: choose one of {', '.join(BACKENDS)}")


def get_storage() -> Storage:
    """Return the current app's storage, built from its configuration on first use."""
    extensions = current_app.extensions
    if _APP_EXTENSION not in extensions:
        extensions[_APP_EXTENSION] = storage_from_config(current_app.config)
    return extensions[_APP_EXTENSION]


def presigned_urls(keys: Iterable[str], expires_in: int = DEFAULT_URL_EXPIRY,
                   storage: Storage | None = None) -> dict[str, str]:
    """Return {key: presigned GET URL} for a page of keys (signing is local: no requests).

    Uses the current app's storage unless `storage` is given. Check `storage.shareable_urls`
    first: on the local backend the URLs are file:// URIs, useful on the server's machine only.
    """
    storage = storage or get_storage()
    return {key: storage.presigned_url(key, expires_in) for key in keys}


class StorageTree:
    """A read-only tree of files under a prefix, for loaders (the `FileTree` protocol).

    The tree is listed once, on the first call to `files`; `read_text` reads only the files
    asked for, so a loader can read a dataset's metadata without copying its images.
    """

    def __init__(self, storage: Storage, prefix: str = "") -> None:
        self.storage = storage
        self.prefix = prefix.strip("/")
        if self.prefix:
            validate_key(self.prefix)
        self._files: list[tuple[str, int]] | None = None

    def __repr__(self) -> str:
        return f"StorageTree({self.storage!r}, {self.prefix!r})"

    def files(self) -> list[tuple[str, int]]:
        """Return (relative POSIX path, size) of every object under the prefix, in key order."""
        if self._files is None:
            start = len(self.prefix) + 1 if self.prefix else 0
            listing = self.storage.list(f"{self.prefix}/" if self.prefix else "")
            self._files = [(info.key[start:], info.size) for info in listing]
        return self._files

    def read_text(self, path: str) -> str:
        """Return the decoded content of the file at `path` (relative to the prefix)."""
        return self.storage.read_text(join_key(self.prefix, path))
