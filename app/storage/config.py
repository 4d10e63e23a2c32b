"""The backend chosen by configuration, and the Flask glue that builds it once per app.

storage_from_config needs no Flask (the scripts build their storage with it); the glue imports
Flask only when called, so that importing app.storage loads no web framework.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from app.storage.base import DEFAULT_MULTIPART_THRESHOLD, DEFAULT_URL_EXPIRY, Storage
from app.storage.cos import CosStorage
from app.storage.errors import StorageConfigError
from app.storage.local import LocalStorage

if TYPE_CHECKING:
    from flask import Flask

BACKENDS = ("local", "cos")
_APP_EXTENSION = "mbid_storage"


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
    from flask import current_app

    extensions = current_app.extensions
    if _APP_EXTENSION not in extensions:
        extensions[_APP_EXTENSION] = storage_from_config(current_app.config)
    return extensions[_APP_EXTENSION]


def set_storage(app: Flask, storage: Storage) -> None:
    """Make `storage` the storage of `app` (one built by the caller rather than from settings)."""
    app.extensions[_APP_EXTENSION] = storage


def presigned_urls(keys: Iterable[str], expires_in: int = DEFAULT_URL_EXPIRY,
                   storage: Storage | None = None) -> dict[str, str]:
    """Return {key: presigned GET URL} for a page of keys (signing is local: no requests).

    Uses the current app's storage unless `storage` is given. Check `storage.shareable_urls`
    first: on the local backend the URLs are file:// URIs, useful on the server's machine only.
    """
    storage = storage or get_storage()
    return {key: storage.presigned_url(key, expires_in) for key in keys}
