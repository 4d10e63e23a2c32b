"""Object storage: one small interface, a local-directory backend and an IBM COS / S3 backend.

The backend is chosen by configuration (`STORAGE_BACKEND`): `local` keeps objects as files under
`LOCAL_STORAGE_ROOT`, `cos` talks to IBM Cloud Object Storage (or any S3 service) through
ibm-cos-sdk. Modules: `errors`, `keys` (the one rule for what a key may be), `base` (the
interface), `local` and `cos` (the backends), `config` (the choice, and the Flask glue),
`sources` (which files of a folder on disk may be stored). The public names are re-exported here.
"""
from app.storage.base import (
    CHUNK_SIZE,
    DEFAULT_MULTIPART_THRESHOLD,
    DEFAULT_URL_EXPIRY,
    ObjectInfo,
    Storage,
    sha256_of,
)
from app.storage.config import (
    BACKENDS,
    get_storage,
    presigned_urls,
    set_storage,
    storage_from_config,
)
from app.storage.cos import CosStorage
from app.storage.errors import (
    InvalidKey,
    ObjectNotFound,
    PresignNotSupported,
    StorageConfigError,
    StorageError,
    TransientStorageError,
)
from app.storage.keys import (
    MAX_KEY_LENGTH,
    check_designation,
    check_key,
    is_under,
    join_key,
    validate_key,
    validate_prefix,
)
from app.storage.local import LocalStorage

__all__ = [
    "BACKENDS", "CHUNK_SIZE", "DEFAULT_MULTIPART_THRESHOLD", "DEFAULT_URL_EXPIRY",
    "MAX_KEY_LENGTH", "CosStorage", "InvalidKey", "LocalStorage", "ObjectInfo", "ObjectNotFound",
    "PresignNotSupported", "Storage", "StorageConfigError", "StorageError",
    "TransientStorageError", "check_designation", "check_key", "get_storage", "is_under",
    "join_key", "presigned_urls", "set_storage", "sha256_of", "storage_from_config",
    "validate_key", "validate_prefix",
]
