"""The IBM Cloud Object Storage backend, which reaches any S3 service (AWS, MinIO, moto) too."""
from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from app.storage.base import (
    DEFAULT_MULTIPART_THRESHOLD,
    DEFAULT_URL_EXPIRY,
    Data,
    ObjectInfo,
    Storage,
    sha256_of,
)
from app.storage.errors import (
    ObjectNotFound,
    PresignNotSupported,
    StorageConfigError,
    StorageError,
    TransientStorageError,
)
from app.storage.keys import validate_key, validate_prefix

# S3 refuses multipart parts below 5 MiB (except the last), so chunks are never smaller.
MIN_PART_SIZE = 5 * 1024 * 1024
# The object metadata entry holding the content's SHA-256 (x-amz-meta-sha256).
SHA256_METADATA = "sha256"


def _is_transient_status(status: int | None, code: str) -> bool:
    return (status is not None and status >= 500) or code in {
        "SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "RequestTimeTooSkewed",
        "InternalError", "ServiceUnavailable",
    }


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
        sha256 = sha256 or sha256_of(data)
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
